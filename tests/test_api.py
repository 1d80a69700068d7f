"""The public API: check_signatures, verify, file_digest, check_file,
digest_files, make_manifest, their arguments and every error they raise."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pydoc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import (
    TESTS,
    hexdigest,
    needs_root,
    run_json,
    run_python,
    write_manifest,
    write_tree,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checksig
from checksig import _api, _native

ALGS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
HEX_LEN = {alg: 2 * hashlib.new(alg).digest_size for alg in ALGS}


# --- check_signatures ----------------------------------------------------------


def test_check_signatures_all_ok_returns_report(tree: Path, workers: int) -> None:
    report = checksig.check_signatures(tree, workers=workers)
    assert isinstance(report, checksig.Report)
    assert report.ok
    assert len(report) == 4
    assert report.counts() == {"ok": 4}
    assert report.manifest == tree / "sha1sum.txt"
    assert report.root == tree


def test_check_signatures_names_every_failure(tmp_path: Path, workers: int) -> None:
    files = write_tree(tmp_path, {"data/a.bin": b"new", "c.txt": b"fine"})
    write_manifest(
        tmp_path / "sha1sum.txt",
        [("data/a.bin", b"old"), ("b.txt", b"gone"), ("c.txt", files["c.txt"])],
    )
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(tmp_path, workers=workers)
    exc = info.value
    assert isinstance(exc, ValueError)
    msg = str(exc)
    first = msg.splitlines()[0]
    assert first == f"2 of 3 files failed verification against {tmp_path / 'sha1sum.txt'}:"
    assert f"data/a.bin: mismatch (expected {hexdigest(b'old')[:8]}" in msg
    assert f"got {hexdigest(b'new')[:8]}" in msg
    assert "b.txt: missing (No such file or directory)" in msg
    assert "c.txt" not in msg
    assert exc.report.counts() == {"ok": 1, "mismatch": 1, "missing": 1}
    assert [r.path for r in exc.report.failures] == ["data/a.bin", "b.txt"]


def test_check_signatures_lists_all_of_many_failures(tmp_path: Path) -> None:
    names = [f"f{i:04d}" for i in range(300)]
    write_manifest(tmp_path / "sha1sum.txt", [(n, b"x") for n in names])
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(tmp_path)
    lines = str(info.value).splitlines()
    assert len(lines) == 301
    assert all(f"  {n}: missing" in text for n, text in zip(names, lines[1:]))


def test_missing_manifest_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        checksig.check_signatures(tmp_path)
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(tmp_path / "sha1sum.txt")
    assert "sha1sum.txt" in str(info.value)


def test_missing_root_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        checksig.verify(tmp_path / "nope")
    assert info.value.filename == str(tmp_path / "nope")


def test_root_that_is_a_file_is_oserror(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:
        checksig.verify(tmp_path / "f")
    assert info.value.errno == errno.ENOTDIR
    assert info.value.filename == str(tmp_path / "f")


def test_relative_manifest_is_relative_to_root(tree: Path, tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)  # not where the manifest is
    report = checksig.verify(tree, "sha1sum.txt")
    assert report.ok and report.manifest == tree / "sha1sum.txt"
    # A manifest in a subdirectory: its names are still relative to root_dir.
    shutil.copy(tree / "sha1sum.txt", tree / "data" / "copy.sha1")
    report = checksig.verify(tree, Path("data") / "copy.sha1")
    assert report.ok and report.manifest == tree / "data" / "copy.sha1"


def test_absolute_manifest_outside_root(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "MANIFEST.sha1"
    shutil.move(tree / "sha1sum.txt", outside)
    report = checksig.check_signatures(tree, outside)
    assert report.ok and report.manifest == outside


@pytest.mark.parametrize("kind", ["str", "bytes", "path"])
def test_path_types(tree: Path, kind: str) -> None:
    conv = {"str": str, "bytes": os.fsencode, "path": Path}[kind]
    report = checksig.verify(conv(tree), conv("sha1sum.txt"))
    assert report.ok
    assert checksig.file_digest(conv(tree / "a.txt")) == hexdigest(b"alpha\n")
    assert checksig.digest_files([conv(tree / "a.txt")]) == [hexdigest(b"alpha\n")]


@pytest.mark.parametrize(
    "call",
    [
        lambda p: checksig.verify(str(p) + "\0x"),
        lambda p: checksig.verify(p, "sha1\0sum.txt"),
        lambda p: checksig.check_signatures(os.fsencode(p) + b"\0"),
        lambda p: checksig.file_digest(str(p / "a.txt\0")),
        lambda p: checksig.check_file(str(p / "a\0"), "0" * 40),
        lambda p: checksig.digest_files([p / "a.txt", str(p) + "/\0"]),
        lambda p: checksig.make_manifest(str(p) + "\0"),
        lambda p: checksig.make_manifest(p, output="x\0y"),
    ],
)
def test_nul_in_path_is_value_error(tree: Path, call) -> None:
    with pytest.raises(ValueError, match="NUL"):
        call(tree)


def test_unknown_algorithm_lists_supported(tree: Path) -> None:
    for call in (
        lambda: checksig.verify(tree, algorithm="shake_128"),
        lambda: checksig.file_digest(tree / "a.txt", "crc32"),
        lambda: checksig.digest_files([tree / "a.txt"], "blake2b-12"),
        lambda: checksig.make_manifest(tree, "whirlpool"),
        lambda: checksig.check_file(tree / "a.txt", "0" * 40, "sha"),
        lambda: checksig.file_digest(tree / "a.txt", None),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert ", ".join(checksig.ALGORITHMS) in str(info.value)
        assert "blake2b-N" in str(info.value)


@pytest.mark.parametrize("name", ["SHA256", "Sha256", "sha256"])
def test_algorithm_is_case_insensitive(tree: Path, name: str) -> None:
    assert checksig.file_digest(tree / "a.txt", name) == hexdigest(b"alpha\n", "sha256")


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True, [1]])
def test_bad_workers_is_value_error(tree: Path, bad) -> None:
    with pytest.raises(ValueError, match="workers"):
        checksig.verify(tree, workers=bad)
    with pytest.raises(ValueError, match="workers"):
        checksig.digest_files([tree / "a.txt"], workers=bad)
    with pytest.raises(ValueError, match="workers"):
        checksig.make_manifest(tree, workers=bad)


@pytest.mark.parametrize("w", [None, 0, 1, 64])
def test_good_workers(tree: Path, w) -> None:
    assert checksig.verify(tree, workers=w).ok


# --- statuses --------------------------------------------------------------------


def test_mismatch_row(tmp_path: Path, workers: int) -> None:
    (tmp_path / "f").write_bytes(b"actual")
    write_manifest(tmp_path / "sha1sum.txt", [("f", b"expected")])
    (row,) = checksig.verify(tmp_path, workers=workers)
    assert row.status == "mismatch"
    assert row.expected == hexdigest(b"expected")
    assert row.actual == hexdigest(b"actual")
    assert row.size == 6 and row.line == 1 and row.reason is None
    assert row.algorithm == "sha1"


def test_missing_row(tmp_path: Path, workers: int) -> None:
    write_manifest(tmp_path / "sha1sum.txt", [("nope", b"")])
    report = checksig.verify(tmp_path, workers=workers)
    (row,) = report
    assert row.status == "missing"
    assert row.reason == os.strerror(errno.ENOENT)
    assert row.actual is None and row.expected == hexdigest(b"")
    assert not report.ok
    assert checksig.verify(tmp_path, ignore_missing=True, workers=workers).ok


def test_ignore_missing_does_not_hide_mismatch(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    write_manifest(tmp_path / "sha1sum.txt", [("f", b"y"), ("g", b"")])
    report = checksig.verify(tmp_path, ignore_missing=True)
    assert not report.ok
    assert [r.path for r in report.failures] == ["f"]


@needs_root
def test_unreadable_row_as_unprivileged_user(workers: int) -> None:
    # pytest's tmp_path is private to root: use a directory others can enter.
    d = Path(tempfile.mkdtemp(prefix="checksig-unreadable-"))
    try:
        d.chmod(0o755)
        (d / "secret").write_bytes(b"secret")
        (d / "secret").chmod(0o600)
        (d / "public").write_bytes(b"public")
        (d / "public").chmod(0o644)
        write_manifest(d / "sha1sum.txt", [("secret", b"secret"), ("public", b"public")])
        (d / "sha1sum.txt").chmod(0o644)
        rows = run_json(
            f"""
            import json, os, checksig
            from checksig import _native
            _native.lib()  # load while root: the library may be in a private checkout
            import mmap, numpy  # and these, which checksig imports on first use,
            checksig.Job, checksig.Report  # as it does the modules only jobs need
            os.setgroups([]); os.setgid(65534); os.setuid(65534)
            report = checksig.verify({str(d)!r}, workers={workers})
            print(json.dumps([list(r) for r in report]))
            """
        )
        by_path = {r[0]: r for r in rows}
        assert by_path["secret"][1] == "unreadable"
        assert by_path["secret"][7] == os.strerror(errno.EACCES)
        assert by_path["secret"][4] is None
        assert by_path["public"][1] == "ok"
    finally:
        shutil.rmtree(d)


@needs_root
def test_unreadable_manifest_is_permission_error() -> None:
    d = Path(tempfile.mkdtemp(prefix="checksig-perm-"))
    try:
        d.chmod(0o755)
        write_manifest(d / "sha1sum.txt", [("x", b"")])
        (d / "sha1sum.txt").chmod(0o600)
        (d / "f").write_bytes(b"f")
        (d / "f").chmod(0o600)
        out = run_json(
            f"""
            import json, os, checksig
            from checksig import _native
            _native.lib()
            import mmap, numpy  # imported on first use: do it while root
            checksig.Job, checksig.Report  # likewise the modules only jobs need
            os.setgroups([]); os.setgid(65534); os.setuid(65534)
            res = []
            for call in (lambda: checksig.verify({str(d)!r}),
                         lambda: checksig.file_digest({str(d / "f")!r}),
                         lambda: checksig.digest_files([{str(d / "f")!r}])):
                try:
                    call()
                    res.append(None)
                except PermissionError as e:
                    res.append([type(e).__name__, e.errno, e.filename])
            print(json.dumps(res))
            """
        )
        assert out == [
            ["PermissionError", errno.EACCES, str(d / "sha1sum.txt")],
            ["PermissionError", errno.EACCES, str(d / "f")],
            ["PermissionError", errno.EACCES, str(d / "f")],
        ]
    finally:
        shutil.rmtree(d)


def test_not_regular_directory_and_fifo_never_hang(tmp_path: Path, workers: int) -> None:
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "ok").write_bytes(b"ok")
    write_manifest(tmp_path / "sha1sum.txt", [("dir", b""), ("fifo", b""), ("ok", b"ok")])
    # In a subprocess with a timeout: opening a FIFO for reading blocks forever.
    rows = run_json(
        f"""
        import json, checksig
        print(json.dumps([list(r) for r in checksig.verify({str(tmp_path)!r}, workers={workers})]))
        """,
        timeout=60,
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("dir", "not_regular"),
        ("fifo", "not_regular"),
        ("ok", "ok"),
    ]
    assert rows[1][4] is None and rows[1][7] is None  # never hashed, no errno


def test_outside_root_rows(tmp_path: Path, workers: int) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "x").write_bytes(b"outside")
    (root / "in").write_bytes(b"inside")
    (root / "link-out").symlink_to(tmp_path / "x")
    (root / "link-in").symlink_to("in")
    entries = [
        ("../x", b"outside"),
        ("/etc/hostname", b""),
        ("link-out", b"outside"),
        ("sub/../../x", b"outside"),
        ("link-in", b"inside"),
    ]
    write_manifest(root / "sha1sum.txt", entries)
    report = checksig.verify(root, workers=workers)
    assert [(r.path, r.status) for r in report] == [
        ("../x", "outside_root"),
        ("/etc/hostname", "outside_root"),
        ("link-out", "outside_root"),
        ("sub/../../x", "outside_root"),
        ("link-in", "ok"),
    ]
    assert all(r.actual is None for r in report if r.status == "outside_root")
    with pytest.raises(checksig.SignatureError, match="outside the root"):
        checksig.check_signatures(root, workers=workers)


def test_duplicates_kept_in_order(tmp_path: Path, workers: int) -> None:
    write_tree(tmp_path, {"a": b"A", "b": b"B"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"A"), ("b", b"B"), ("a", b"A"), ("a", b"Z")])
    report = checksig.verify(tmp_path, workers=workers)
    assert [(r.path, r.status, r.line) for r in report] == [
        ("a", "ok", 1),
        ("b", "ok", 2),
        ("a", "ok", 3),
        ("a", "mismatch", 4),
    ]


def test_names_with_spaces_binary_mode_and_tags(tmp_path: Path, workers: int) -> None:
    files = write_tree(
        tmp_path,
        {" lead": b"1", "trail ": b"2", "in  side": b"3", "star": b"4", "tagged (x)": b"5"},
    )
    text = (
        "".join(f"{hexdigest(files[n])}  {n}\n" for n in (" lead", "trail ", "in  side"))
        + f"{hexdigest(files['star'])} *star\n"
        + f"SHA1 (tagged (x)) = {hexdigest(files['tagged (x)'])}\n"
    )
    (tmp_path / "sha1sum.txt").write_text(text)
    report = checksig.check_signatures(tmp_path, workers=workers)
    assert [r.path for r in report] == [" lead", "trail ", "in  side", "star", "tagged (x)"]


def test_escaped_name(tmp_path: Path) -> None:
    name = "new\nline\\back"
    (tmp_path / name).write_bytes(b"odd")
    (tmp_path / "sha1sum.txt").write_text(f"\\{hexdigest(b'odd')}  new\\nline\\\\back\n")
    (row,) = checksig.check_signatures(tmp_path)
    assert row.path == name and row.status == "ok"


def test_algorithm_inferred_and_forced(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    for alg in ALGS:
        write_manifest(tmp_path / "CHECKSUMS", [("f", b"data")], alg)
        (row,) = checksig.check_signatures(tmp_path, "CHECKSUMS")
        assert row.algorithm == alg and row.actual == hexdigest(b"data", alg)
    write_manifest(tmp_path / "CHECKSUMS", [("f", b"data")], "sha256")
    assert checksig.verify(tmp_path, "CHECKSUMS", algorithm="SHA256").ok
    # Forcing sha1 makes a 64-digit line malformed: no usable line at all.
    with pytest.raises(checksig.ManifestError):
        checksig.verify(tmp_path, "CHECKSUMS", algorithm="sha1")


def test_malformed_line_warns_or_raises_when_strict(tmp_path: Path, workers: int) -> None:
    (tmp_path / "f").write_bytes(b"x")
    good = f"{hexdigest(b'x', 'sha256')}  f\n"
    (tmp_path / "SHA256SUMS").write_text(good + f"{hexdigest(b'x', 'sha256')[:-1]}  f\n" + good)
    report = checksig.verify(tmp_path, "SHA256SUMS", workers=workers)
    assert report.ok and len(report) == 2
    assert [r.line for r in report] == [1, 3]
    assert len(report.warnings) == 1
    line, message = report.warnings[0]
    assert line == 2 and "64" in message
    assert checksig.check_signatures(tmp_path, "SHA256SUMS").ok  # warnings do not fail
    with pytest.raises(checksig.ManifestError) as info:
        checksig.verify(tmp_path, "SHA256SUMS", strict=True, workers=workers)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.line == 2
    assert exc.path == str(tmp_path / "SHA256SUMS")
    assert str(exc).startswith(f"{tmp_path / 'SHA256SUMS'}:2: ")
    assert re.search(r"expected 64 hex digits\b.*, found 63$", str(exc))


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "garbage line\nmore garbage\n"])
def test_manifest_without_usable_lines(tmp_path: Path, text: str) -> None:
    (tmp_path / "sha1sum.txt").write_text(text)
    with pytest.raises(checksig.ManifestError) as info:
        checksig.verify(tmp_path)
    assert info.value.path == str(tmp_path / "sha1sum.txt")
    assert info.value.line is None


# --- file_digest and check_file ------------------------------------------------------


def _vectors() -> list[dict]:
    # Every algorithm and length the engine has (issue 18), from hashlib, PyPI's
    # blake3 and git (tests/make_vectors.py; test_algorithms.py checks them).
    return json.loads((TESTS / "vectors.json").read_text(encoding="utf-8"))["vectors"]


def test_vectors_are_hashlibs() -> None:
    vectors = [v for v in _vectors() if v["algorithm"] in ALGS]
    for v in vectors:
        data = (v["pattern"] * v["repeat"]).encode()
        assert hashlib.new(v["algorithm"], data).hexdigest() == v["hex"], v["name"]
    assert {v["algorithm"] for v in vectors} == set(ALGS)


def test_file_digest_vectors(tmp_path: Path) -> None:
    assert {v["algorithm"] for v in _vectors()} == checksig.algorithms_available
    for v in _vectors():
        path = tmp_path / v["name"]
        if not path.exists():
            path.write_bytes((v["pattern"] * v["repeat"]).encode())
        alg, hexdigest = v["algorithm"], v["hex"]
        assert checksig.file_digest(path, alg) == hexdigest, (alg, v["name"])
        assert checksig.check_file(path, hexdigest.upper(), alg), (alg, v["name"])
        if alg in ALGS:  # the lengths' own algorithms (FORMATS.md B2.3)
            assert checksig.check_file(path, hexdigest)
        else:
            # Any other digest is refused, naming the algorithm to ask for.
            with pytest.raises(ValueError, match=f"algorithm='{alg}'"):
                checksig.check_file(path, hexdigest)


def test_file_digest_default_is_sha1(tree: Path) -> None:
    assert checksig.file_digest(tree / "a.txt") == hexdigest(b"alpha\n", "sha1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300_000), alg=st.sampled_from(ALGS))
def test_digest_matches_hashlib(data: bytes, alg: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f"
        path.write_bytes(data)
        want = hashlib.new(alg, data).hexdigest()
        assert checksig.file_digest(path, alg) == want
        assert checksig.check_file(path, want)
        assert checksig.check_file(path, want.upper(), alg)
        flipped = ("0" if want[0] != "0" else "1") + want[1:]
        assert not checksig.check_file(path, flipped)
        assert checksig.digest_files([path, path], alg) == [want, want]


def test_large_file_digest_goes_through_a_job(tmp_path: Path, monkeypatch) -> None:
    data = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(data)
    calls = []
    monkeypatch.setattr(_native, "file_digest", lambda *a: calls.append(a))
    monkeypatch.setattr(_api, "SYNC_DIGEST_LIMIT", 1 << 20)
    assert checksig.file_digest(tmp_path / "big", "sha256") == hexdigest(data, "sha256")
    assert calls == []


def test_sparse_64mib_file(tmp_path: Path) -> None:
    size = 64 << 20
    with open(tmp_path / "sparse", "wb") as f:
        f.truncate(size)
    want = hashlib.sha1(bytes(size)).hexdigest()
    assert checksig.file_digest(tmp_path / "sparse") == want


@pytest.mark.parametrize("limit", [None, 0])
def test_file_digest_errors(tmp_path: Path, monkeypatch, limit) -> None:
    if limit is not None:  # also through the job path
        monkeypatch.setattr(_api, "SYNC_DIGEST_LIMIT", limit)
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError) as info:
        checksig.file_digest(missing)
    assert info.value.errno == errno.ENOENT and info.value.filename == str(missing)
    assert info.value.strerror == os.strerror(errno.ENOENT)
    with pytest.raises(IsADirectoryError) as info2:
        checksig.file_digest(tmp_path)
    assert info2.value.filename == str(tmp_path)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info3:
        checksig.file_digest(tmp_path / "file" / "below")
    assert info3.value.filename == str(tmp_path / "file" / "below")


def test_file_digest_fifo_is_not_regular(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    out = run_json(
        f"""
        import json, checksig
        from checksig import _api
        res = []
        for limit in (_api.SYNC_DIGEST_LIMIT, 0):
            _api.SYNC_DIGEST_LIMIT = limit
            for call in (lambda: checksig.file_digest({str(tmp_path / "fifo")!r}),
                         lambda: checksig.digest_files([{str(tmp_path / "fifo")!r}])):
                try:
                    call()
                except OSError as e:
                    res.append([type(e).__mro__[1].__name__, str(e), e.filename, e.errno])
        print(json.dumps(res))
        """,
        timeout=60,
    )
    assert len(out) == 4
    for base, text, filename, errnum in out:
        assert base == "OSError"
        assert "not a regular file" in text and str(tmp_path / "fifo") in text
        assert filename == str(tmp_path / "fifo") and errnum is None


def test_check_file_inference_and_case(tree: Path) -> None:
    data = b"alpha\n"
    for alg in ALGS:
        want = hexdigest(data, alg)
        assert len(want) == HEX_LEN[alg]
        assert checksig.check_file(tree / "a.txt", want)
        assert checksig.check_file(tree / "a.txt", want.upper())
        assert checksig.check_file(tree / "a.txt", f"  {want}\n")
        assert not checksig.check_file(tree / "a.txt", hexdigest(b"other", alg))


@pytest.mark.parametrize(
    ("expected", "algorithm", "match"),
    [
        ("xyz" + "0" * 37, None, r"not hexadecimal: 'x' at position 0"),
        ("0" * 39 + "g", None, r"'g' at position 39"),
        ("0" * 33, None, r"33 hex digits, which fits no algorithm \(32 md5, 40 sha1"),
        ("", None, r"0 hex digits"),
        ("0" * 40, "sha256", r"sha256 digest must have 64 hex digits, got 40"),
    ],
)
def test_check_file_malformed_digest(tree: Path, expected, algorithm, match) -> None:
    with pytest.raises(ValueError, match=match):
        checksig.check_file(tree / "a.txt", expected, algorithm)


def test_check_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        checksig.check_file(tmp_path / "nope", "0" * 64)


# --- digest_files ---------------------------------------------------------------------


def test_digest_files_in_input_order(tmp_path: Path, workers: int) -> None:
    blobs = [os.urandom(n) for n in (0, 1, 1000, 300_000, 5, 70_000)]
    paths = []
    for i, b in enumerate(blobs):
        (tmp_path / f"f{i}").write_bytes(b)
        paths.append(tmp_path / f"f{i}")
    order = [3, 0, 5, 1, 1, 4, 2]
    for alg in ("md5", "sha512"):
        got = checksig.digest_files([paths[i] for i in order], alg, workers=workers)
        assert got == [hexdigest(blobs[i], alg) for i in order]
    assert checksig.digest_files(iter([paths[2]])) == [hexdigest(blobs[2])]
    assert checksig.digest_files([]) == []


def test_digest_files_errors_name_the_path(tmp_path: Path, workers: int) -> None:
    (tmp_path / "ok").write_bytes(b"ok")
    with pytest.raises(FileNotFoundError) as info:
        checksig.digest_files([tmp_path / "ok", tmp_path / "gone"], workers=workers)
    assert info.value.filename == str(tmp_path / "gone")
    assert info.value.errno == errno.ENOENT
    with pytest.raises(IsADirectoryError) as info2:
        checksig.digest_files([tmp_path, tmp_path / "gone"], workers=workers)
    assert info2.value.filename == str(tmp_path)  # the first failing path wins


def test_digest_files_rejects_a_single_path(tree: Path) -> None:
    with pytest.raises(TypeError):
        checksig.digest_files(str(tree / "a.txt"))


# --- make_manifest ---------------------------------------------------------------------


def test_make_manifest_default_and_verify_back(tree: Path, workers: int) -> None:
    (tree / "sha1sum.txt").unlink()
    out = checksig.make_manifest(tree, workers=workers)
    assert out == tree / "sha256sum.txt" and out.is_absolute()
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    files.remove("sha256sum.txt")
    want = "".join(
        f"{hexdigest((tree / n).read_bytes(), 'sha256')}  {n}\n"
        for n in sorted(files, key=os.fsencode)
    )
    assert out.read_text() == want
    assert checksig.check_signatures(tree, out.name, workers=workers).ok


def test_make_manifest_is_accepted_by_gnu(tree: Path) -> None:
    tool = shutil.which("sha256sum")
    if tool is None:
        pytest.skip("no sha256sum on PATH")
    out = checksig.make_manifest(tree)
    proc = subprocess.run([tool, "-c", "--strict", out.name], cwd=tree, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_manifest_tag_and_absolute_output(tree: Path, tmp_path: Path) -> None:
    out = checksig.make_manifest(tree, "MD5", tag=True)
    assert out == tree / "md5sum.txt"
    assert f"MD5 (a.txt) = {hexdigest(b'alpha' + bytes([10]), 'md5')}\n" in out.read_text()
    absolute = checksig.make_manifest(tree, "sha1", tmp_path / "outside.sha1")
    assert absolute == tmp_path / "outside.sha1"
    assert checksig.check_signatures(tree, absolute).ok


def test_make_manifest_relative_output(tree: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = checksig.make_manifest(Path(os.path.relpath(tree)), "sha1", "data/LIST.sha1")
    assert out.is_absolute() and out == tree / "data" / "LIST.sha1"
    assert "data/LIST.sha1" not in out.read_text()  # the manifest does not list itself


def test_make_manifest_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        checksig.make_manifest(tmp_path / "nope")


# --- progress ------------------------------------------------------------------------


def test_progress_callable(tree: Path, workers: int) -> None:
    seen: list[checksig.Progress] = []
    checksig.verify(tree, workers=workers, progress=seen.append)
    assert seen, "the callback was never called"
    assert all(isinstance(p, checksig.Progress) for p in seen)
    last = seen[-1]
    assert last.phase == "done"
    assert last.files_done == last.files_total == 4
    assert (
        last.bytes_done
        == last.bytes_total
        == sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and p.name != "sha1sum.txt")
    )
    assert last.eta == 0.0 and last.elapsed > 0
    # The 0.1 dict view still reads: p["key"] and p.get("key").
    assert last["bytes_done"] == last.bytes_done and last.get("files_total") == 4
    assert last["phase"] == "done" and last.get("nope", -7) == -7
    seen.clear()
    checksig.digest_files([tree / "a.txt"], progress=seen.append)
    assert seen[-1].files_done == 1
    seen.clear()
    checksig.make_manifest(tree, progress=seen.append)
    assert seen[-1].files_done == seen[-1].files_total


def test_progress_true_with_and_without_tqdm(tree: Path, capsys, monkeypatch) -> None:
    pytest.importorskip("tqdm")
    assert checksig.verify(tree, progress=True).ok
    assert "B" in capsys.readouterr().err  # a bar by bytes on stderr
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.warns(UserWarning, match="pip install tqdm"):
        assert checksig.verify(tree, progress=True).ok
    assert capsys.readouterr().err == ""


def test_progress_bad_value(tree: Path) -> None:
    with pytest.raises(TypeError, match="progress"):
        checksig.verify(tree, progress="yes")  # type: ignore[arg-type]


def test_exception_in_progress_callback_cancels_and_frees(tree: Path) -> None:
    def boom(p: dict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        checksig.verify(tree, progress=boom)
    counters = _native.debug_counters()
    assert counters["handles"] == 0 and counters["jobs"] == 0 and counters["open_files"] == 0


# --- package surface -------------------------------------------------------------------


def test_public_surface_has_docstrings() -> None:
    assert set(checksig.__all__) <= set(dir(checksig))
    for name in checksig.__all__:
        obj = getattr(checksig, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name
            assert pydoc.render_doc(obj)
    assert checksig.__version__ and checksig.__version__ != ""
    # Every algorithm of the engine's table, by its one name, in both views.
    engine = {name for name in _native.ALGORITHMS if name}
    assert checksig.algorithms_available == engine and len(engine) == 14 + 63
    assert set(checksig.ALGORITHMS) <= engine and len(set(checksig.ALGORITHMS)) == 14
    assert set(ALGS) < set(checksig.ALGORITHMS)
    assert engine - set(checksig.ALGORITHMS) == {f"blake2b-{n}" for n in range(8, 512, 8)}
    assert isinstance(checksig.algorithms_available, frozenset)


def test_keyword_only_options() -> None:
    import inspect

    for fn, positional in [
        (checksig.check_signatures, ["root_dir", "manifest"]),
        (checksig.verify, ["root_dir", "manifest"]),
        (checksig.digest_files, ["paths", "algorithm"]),
        (checksig.make_manifest, ["root_dir", "algorithm", "output"]),
        (checksig.file_digest, ["path", "algorithm"]),
        (checksig.check_file, ["path", "expected", "algorithm"]),
    ]:
        params = inspect.signature(fn).parameters.values()
        assert [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
        assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)


def test_a_plan_alone_decides_whether_the_engine_walks_for_extra_files(tmp_path: Path) -> None:
    # extra= means what a plan's kind says it means (a store's unused blobs,
    # a bag's payload), so Plan.extra, not the user's option, asks the engine
    # for its walk of unlisted files.
    import time

    from checksig import _options
    from checksig._plan import Plan

    (tmp_path / "listed").write_bytes(b"listed")
    (tmp_path / "unlisted").write_bytes(b"unlisted")

    def run(plan_extra: bool, option_extra: bool) -> set[tuple[str, str]]:
        plan = Plan(os.fsencode(tmp_path), title="test", extra=plan_extra)
        plan.add(b"listed", _native.ALGORITHMS.index("sha1"), hashlib.sha1(b"listed").digest())
        options = _options.VerifyOptions(extra=option_extra, progress=False)
        job = _api._start_plan(plan, options, check=False, kind="verify", started=time.monotonic())
        return {(r.path, r.status) for r in job.result(timeout=60)}

    listed = {("listed", "ok")}
    assert run(plan_extra=False, option_extra=True) == listed
    assert run(plan_extra=False, option_extra=False) == listed
    assert run(plan_extra=True, option_extra=False) == listed | {("unlisted", "extra")}


def test_every_verify_entry_point_takes_the_same_options() -> None:
    # The verify options are declared once (_options.FIELDS); every entry point
    # that verifies spells them out for help() and type checkers, in the same
    # order with the same defaults (progress= is False in the start_* forms,
    # which feed it only when observed), and hands them on whole.
    import inspect

    from checksig import _options

    names = [name for name, _ in _options.FIELDS]
    assert _api.VERIFY_ENTRY_POINTS
    for entry in _api.VERIFY_ENTRY_POINTS:
        assert entry in checksig.__all__, entry
        params = inspect.signature(getattr(checksig, entry)).parameters.values()
        options = [p for p in params if p.kind is p.KEYWORD_ONLY]
        # An entry point's own keywords (verify_bag's fast, verify_environment's
        # packages) come first; the verify options close the signature, in order.
        options = options[len(options) - len(names) :]
        assert [p.name for p in options] == names, entry
        for p, (name, default) in zip(options, _options.FIELDS):
            if name == "progress" and entry.startswith("start_"):
                default = _options.START_PROGRESS
            assert p.default is default, (entry, name)
    # Every public function that takes a verify-only option is a verify entry
    # point: a new one (verify_bag, ...) cannot take half of the options.
    verify_only = {"strict", "ignore_missing", "extra", "allow_outside_root"}
    for name in checksig.__all__:
        obj = getattr(checksig, name)
        if inspect.isfunction(obj) and verify_only & set(inspect.signature(obj).parameters):
            assert name in _api.VERIFY_ENTRY_POINTS, name
    # A call hands on exactly what it was given.
    seen = _options.VerifyOptions.of(
        {"algorithm": "SHA256", "workers": 3, "strict": True, "ignore_missing": True,
         "extra": True, "allow_outside_root": True, "progress": False, "root_dir": "x"}
    )  # fmt: skip
    assert seen.engine() == (
        _native.ALGORITHMS.index("sha256"),
        3,
        _native.F_STRICT | _native.F_EXTRA | _native.F_ALLOW_OUTSIDE,
    )
    with pytest.raises(TypeError, match="unknown verify option"):
        _options.VerifyOptions(stirct=True)


def test_the_kinds_table(tmp_path: Path) -> None:
    # Manifest kinds: one table, one detection order over exactly its kinds,
    # each kind a module naming itself; GNU's *sum files read anything, last.
    from checksig import _kinds

    assert sorted(_kinds.DETECTION_ORDER) == sorted(_kinds.KINDS)
    assert _kinds.DETECTION_ORDER[-1] == "gnu"
    for name in _kinds.KINDS:
        module = _kinds.kind(name)
        assert module.NAME == name and callable(module.detect)
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'0' * 64}  a\n")
    assert _kinds.detect(str(sums)).NAME == "gnu"
    with pytest.raises(ValueError, match="unknown manifest kind 'bagit'"):
        _kinds.kind("bagit")


def test_import_does_not_load_the_library() -> None:
    out = run_json(
        """
        import json, checksig
        maps = open("/proc/self/maps").read()
        before = [checksig._native._lib is None, "_checksig" in maps]
        checksig.ALGORITHMS, checksig.Report, checksig.__version__
        checksig.file_digest(__import__("sys").executable)
        after = [checksig._native._lib is None, "_checksig" in open("/proc/self/maps").read()]
        print(json.dumps(before + after))
        """
    )
    assert out == [True, False, False, True]


def test_python39_syntax() -> None:
    # The package supports 3.9: every module postpones annotations.
    pkg = Path(checksig.__file__).parent
    for path in pkg.glob("*.py"):
        assert "from __future__ import annotations" in path.read_text(), path.name
    run_python("import checksig")


def test_root_itself_named_in_manifest_is_not_regular(tmp_path: Path, workers: int) -> None:
    (tmp_path / "f").write_bytes(b"f")
    write_manifest(tmp_path / "sha1sum.txt", [(".", b""), ("f", b"f"), ("./.", b"")])
    report = checksig.verify(tmp_path, workers=workers)
    assert [(r.path, r.status) for r in report] == [
        (".", "not_regular"),
        ("f", "ok"),
        ("./.", "not_regular"),
    ]


def test_socket_is_not_regular(tmp_path: Path) -> None:
    import socket

    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        write_manifest(tmp_path / "sha1sum.txt", [("sock", b"")])
        assert [r.status for r in checksig.verify(tmp_path)] == ["not_regular"]
        with pytest.raises(OSError, match="not a regular file"):
            checksig.file_digest(tmp_path / "sock")
    finally:
        sock.close()


def test_extra_lists_unlisted_files(tmp_path: Path, workers: int) -> None:
    write_tree(tmp_path, {"a": b"a", "sub/b": b"b", "sub/new": b"new", "late.bin": b"x"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a"), ("./sub/b", b"b")])
    plain = checksig.verify(tmp_path, workers=workers)
    assert plain.ok and len(plain) == 2
    report = checksig.verify(tmp_path, workers=workers, extra=True)
    assert [(r.path, r.status) for r in report] == [
        ("a", "ok"),
        ("./sub/b", "ok"),
        ("late.bin", "extra"),
        ("sub/new", "extra"),
    ]
    assert not report.ok
    assert {r.path for r in report.failures} == {"late.bin", "sub/new"}
    with pytest.raises(checksig.SignatureError, match="sub/new: extra"):
        checksig.check_signatures(tmp_path, workers=workers, extra=True)


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux takes them")
def test_names_that_are_not_utf8_are_walked_like_any_other(tmp_path: Path) -> None:
    # A directory whose name is not UTF-8 made make_manifest and verify(extra=True)
    # fail outright ("invalid argument"); its files are listed like any others,
    # their names decoded as os.fsdecode does.
    bad = os.fsencode(tmp_path) + b"/d\xff"
    os.mkdir(bad)
    with open(bad + b"/f\xfe", "wb") as f:
        f.write(b"data")
    (tmp_path / "a").write_bytes(b"a")
    out = tmp_path / "sha1sum.txt"
    assert checksig.make_manifest(tmp_path, "sha1", out) == out
    assert out.read_bytes() == (
        f"{hashlib.sha1(b'a').hexdigest()}  a\n".encode()
        + f"{hashlib.sha1(b'data').hexdigest()}  ".encode()
        + b"d\xff/f\xfe\n"
    )
    assert checksig.verify(tmp_path, out, extra=True).ok
    write_manifest(out, [("a", b"a")])
    report = checksig.verify(tmp_path, out, extra=True)
    assert [(r.path, r.status) for r in report] == [
        ("a", "ok"),
        (os.fsdecode(b"d\xff/f\xfe"), "extra"),
    ]


def test_allow_outside_root(tmp_path: Path, workers: int) -> None:
    root = tmp_path / "root"
    write_tree(tmp_path, {"shared.txt": b"shared", "root/x": b"x"})
    entries = [("../shared.txt", b"shared"), (str(tmp_path / "shared.txt"), b"shared"), ("x", b"x")]
    write_manifest(root / "sha1sum.txt", entries)
    confined = checksig.verify(root, workers=workers)
    assert [r.status for r in confined] == ["outside_root", "outside_root", "ok"]
    trusted = checksig.verify(root, workers=workers, allow_outside_root=True)
    assert [r.status for r in trusted] == ["ok", "ok", "ok"]


def test_per_file_api_needs_no_numpy(tmp_path: Path) -> None:
    # `import checksig` and a per-file call stay cheap: numpy (tens of ms to
    # import) is imported only when a numpy column is asked for.
    (tmp_path / "f").write_bytes(b"data")
    out = run_json(
        f"""
        import json, sys, checksig
        digest = checksig.file_digest({str(tmp_path / "f")!r})
        before = "numpy" in sys.modules
        checksig.digest_files([{str(tmp_path / "f")!r}])
        print(json.dumps([digest, before, "numpy" in sys.modules]))
        """
    )
    assert out == [hexdigest(b"data"), False, False]


def test_batch_calls_need_no_numpy(tmp_path: Path) -> None:
    # Issue 7: `import numpy` costs 60-90 ms of a whole-process run of 0.3 s.
    # Batch calls read the engine's buffers directly; numpy is imported only
    # when a numpy-typed thing (report.status, report.columns) is touched.
    good, bad, fresh = tmp_path / "good", tmp_path / "bad", tmp_path / "fresh"
    files = write_tree(good, {"a": b"alpha", "sub/b": b"beta"})
    write_manifest(good / "sha1sum.txt", files)
    write_tree(bad, {"a": b"alpha", "b": b"changed"})
    write_manifest(bad / "sha1sum.txt", [("a", b"alpha"), ("b", b"beta"), ("gone", b"")])
    write_tree(fresh, {"x": b"x", "y/z": b"z"})
    out = run_json(
        f"""
        import json, sys, checksig
        numpy_after = {{}}
        report = checksig.check_signatures({str(good)!r})
        summary = [report.ok, len(report), dict(report.counts()), repr(report), str(report)]
        numpy_after["check_signatures"] = "numpy" in sys.modules
        try:
            checksig.check_signatures({str(bad)!r})
        except checksig.SignatureError as exc:
            err = exc
        failed = err.report
        rows = [list(r) for r in failed]
        seen = [str(err), failed.ok, [r.path for r in failed.failures], dict(failed.counts())]
        seen += [str(failed), failed._repr_html_(), err._repr_html_()]
        numpy_after["SignatureError"] = "numpy" in sys.modules
        verified = checksig.verify({str(bad)!r}, ignore_missing=True)
        ignoring = [verified.ok, [r.path for r in verified.failures]]
        numpy_after["verify"] = "numpy" in sys.modules
        digests = checksig.digest_files([{str(good / "a")!r}, {str(good / "sub/b")!r}])
        numpy_after["digest_files"] = "numpy" in sys.modules
        made = checksig.make_manifest({str(fresh)!r}, "md5")
        numpy_after["make_manifest"] = "numpy" in sys.modules
        status = failed.status  # a numpy-typed thing: numpy now
        numpy_after["report.status"] = "numpy" in sys.modules
        print(json.dumps(dict(
            numpy_after=numpy_after, summary=summary, rows=rows, seen=seen,
            ignoring=ignoring, digests=digests, made=str(made),
            status=[type(status).__module__, str(status.dtype), status.tolist()],
        )))
        """
    )
    assert out["numpy_after"] == {
        "check_signatures": False,
        "SignatureError": False,
        "verify": False,
        "digest_files": False,
        "make_manifest": False,
        "report.status": True,
    }
    ok, n, counts, text, long_text = out["summary"]
    assert (ok, n, counts) == (True, 2, {"ok": 2})
    assert text.endswith(": 2 entries, 2 ok>") and "all entries ok" in long_text
    sha = {name: hexdigest(data) for name, data in [("a", b"alpha"), ("b", b"beta")]}
    assert out["rows"] == [
        ["a", "ok", 5, sha["a"], sha["a"], "sha1", 1, None],
        ["b", "mismatch", 7, sha["b"], hexdigest(b"changed"), "sha1", 2, None],
        ["gone", "missing", None, hexdigest(b""), None, "sha1", 3, os.strerror(errno.ENOENT)],
    ]
    message, failed_ok, failed_paths, failed_counts, failed_text, html, err_html = out["seen"]
    assert message.splitlines() == [
        f"2 of 3 files failed verification against {bad / 'sha1sum.txt'}:",
        f"  b: mismatch (expected {sha['b'][:8]}\u2026, got {hexdigest(b'changed')[:8]}\u2026)",
        "  gone: missing (No such file or directory)",
    ]
    assert (failed_ok, failed_paths) == (False, ["b", "gone"])
    assert failed_counts == {"ok": 1, "mismatch": 1, "missing": 1}
    assert "2 failed:" in failed_text
    assert "\u2718 2 of 3 entries failed" in html and "SignatureError: 2 of 3" in err_html
    assert out["ignoring"] == [False, ["b"]]
    assert out["digests"] == [sha["a"], hexdigest(b"beta")]
    assert Path(out["made"]).read_text() == (
        f"{hexdigest(b'x', 'md5')}  x\n{hexdigest(b'z', 'md5')}  y/z\n"
    )
    assert out["status"] == ["numpy", "uint8", [1, 2, 3]]
