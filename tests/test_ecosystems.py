"""Installed environments: verify_environment over real venvs that pip made
(RECORD, FORMATS.md part I) and hand-made conda prefixes (conda-meta, part J),
and verify() reading a RECORD or a paths.json; hostile records.

The wheels are built here (a zip with its dist-info, no network) and
installed by the venv's own pip (--no-index), so the RECORD files are the
ones pip writes, scripts in ../../../bin included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import checksig


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(directory: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A pure-Python wheel with a console script ``NAME-tool``."""
    dist = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    contents[f"{dist}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    contents[f"{dist}/entry_points.txt"] = (
        f"[console_scripts]\n{name}-tool = {name}:main\n".encode()
    )
    record = [f"{path},sha256={b64(data)},{len(data)}" for path, data in contents.items()]
    record.append(f"{dist}/RECORD,,")
    contents[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in contents.items():
            z.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv into which pip installed two small wheels (and compiled their .pyc)."""
    base = tmp_path_factory.mktemp("env")
    prefix = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True, timeout=300)
    wheels = [
        build_wheel(base, "alpha", "1.0", {"alpha/__init__.py": b"def main():\n    return 0\n"}),
        build_wheel(
            base,
            "beta_pkg",
            "2.5",
            {"beta_pkg/__init__.py": b"X = 1\n", "beta_pkg/data.bin": bytes(range(256)) * 64},
        ),
    ]
    subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
        + [str(w) for w in wheels],
        check=True,
        timeout=300,
    )
    return prefix


def site(prefix: Path) -> Path:
    return next(prefix.glob("lib/python*/site-packages"))


def test_a_fresh_venv_is_ok(venv: Path, workers: int) -> None:
    report = checksig.verify_environment(venv, workers=workers, progress=False)
    assert report.ok, str(report)
    counts = report.counts()
    assert counts["ok"] > 100 and counts["not_checked"] > 0  # pip's own RECORD lists .pyc
    rows = {r.path: r for r in report}
    sp = site(venv).relative_to(venv).as_posix()
    # pip's script, listed as ../../../bin/alpha-tool, is checked in the prefix.
    assert rows["bin/alpha-tool"].status == "ok"
    assert rows[f"{sp}/alpha/__init__.py"].status == "ok"
    assert rows[f"{sp}/alpha-1.0.dist-info/RECORD"].status == "not_checked"
    assert any(p.endswith(".pyc") and r.status == "not_checked" for p, r in rows.items())
    packages = report.summary_by("package")
    assert "alpha 1.0" in packages and "beta_pkg 2.5" in packages
    df = report.to_pandas()
    assert set(df["package"]) >= {"alpha 1.0", "beta_pkg 2.5"}


def test_one_changed_byte_is_found_and_named(venv: Path, tmp_path: Path) -> None:
    target = site(venv) / "beta_pkg" / "data.bin"
    original = target.read_bytes()
    try:
        target.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
        report = checksig.verify_environment(venv, progress=False)
        assert not report.ok
        (bad,) = report.failures
        assert bad.path.endswith("beta_pkg/data.bin") and bad.status == "mismatch"
        assert bad.expected == hashlib.sha256(original).hexdigest()
        text = str(report)
        assert "by package: " in text and "beta_pkg 2.5: 1 mismatch" in text
        assert "[package=beta_pkg 2.5]" in text
        html = report._repr_html_()
        assert "checksig-groups" in html and "beta_pkg 2.5" in html
        doc = json.loads(report.to_json())
        (entry,) = [e for e in doc["entries"] if e["status"] == "mismatch"]
        assert entry["labels"] == {"package": "beta_pkg 2.5"}
        only = checksig.verify_environment(venv, packages=["Alpha"], progress=False)
        assert only.ok and set(only.summary_by("package")) == {"alpha 1.0"}
    finally:
        target.write_bytes(original)


def test_packages_not_installed(venv: Path) -> None:
    with pytest.raises(ValueError, match="not installed in .*: nope"):
        checksig.verify_environment(venv, packages=["alpha", "nope"])
    with pytest.raises(TypeError):
        checksig.verify_environment(venv, packages="alpha")


def test_verify_reads_a_record(venv: Path) -> None:
    sp = site(venv)
    report = checksig.verify(sp, "alpha-1.0.dist-info/RECORD", progress=False)
    rows = {r.path: r.status for r in report}
    # Names as written, relative to root_dir: the script is outside it.
    assert rows["../../../bin/alpha-tool"] == "outside_root"
    assert rows["alpha/__init__.py"] == "ok"
    assert rows["alpha-1.0.dist-info/RECORD"] == "not_checked"
    from checksig import _kinds

    assert _kinds.detect(str(sp / "alpha-1.0.dist-info" / "RECORD")).NAME == "record"


# --- hostile RECORDs -----------------------------------------------------------------------


def fake_env(tmp_path: Path, record: str, files: dict[str, bytes] | None = None) -> Path:
    prefix = tmp_path / "prefix"
    sp = prefix / "lib" / "python3.99" / "site-packages"
    dist = sp / "evil-6.6.dist-info"
    dist.mkdir(parents=True)
    for name, data in (files or {}).items():
        path = sp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (dist / "RECORD").write_text(record)
    return prefix


def test_hostile_record(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("secret")
    data = b"fine"
    record = "\n".join(
        [
            f"ok.txt,sha256={b64(data)},4",
            f"/etc/passwd,sha256={b64(b'x')},1",
            f"../../../../secret,sha256={b64(b'secret')},6",
            f"../../../../../../../../etc/passwd,sha256={b64(b'x')},1",
            f"fifo,sha256={b64(b'x')},1",
            f"huge.txt,sha256={b64(data)},{'9' * 400}",
            "badb64.txt,sha256=not*base64!,4",
            f"short.txt,sha256={b64(data)[:-2]},4",
            "noalg.txt,=abc,4",
            "twofields.txt,x",
            f"weird.txt,sha3_999={b64(data)},4",
            "nul\0name,,",
            "",
        ]
    )
    prefix = fake_env(tmp_path, record, {"ok.txt": data, "huge.txt": data})
    os.mkfifo(site(prefix) / "fifo")
    report = checksig.verify_environment(prefix, progress=False)
    rows = {r.path: r.status for r in report}
    sp = "lib/python3.99/site-packages"
    assert rows[f"{sp}/ok.txt"] == "ok"
    assert rows[f"{sp}/huge.txt"] == "ok"  # a huge size field is read, never trusted
    assert rows["/etc/passwd"] == "outside_root"
    assert rows["../secret"] == "outside_root"
    assert rows["../../../../../etc/passwd"] == "outside_root"
    assert rows[f"{sp}/fifo"] == "not_regular"
    assert rows[f"{sp}/weird.txt"] == "not_checked"
    assert any("sha3_999" in n for n in report.notes)
    record_name = f"{sp}/evil-6.6.dist-info/RECORD"
    warned = {line: msg for line, msg in report.warnings}
    assert warned[7].startswith(f"{record_name}: expected a sha256 digest in URL-safe base64")
    assert "found 'not*base64!'" in warned[7]
    assert 8 in warned and 9 in warned and 10 in warned and 12 in warned
    assert "expected 3 fields" in warned[10] and "NUL" in warned[12]
    with pytest.raises(checksig.ManifestError) as caught:
        checksig.verify_environment(prefix, strict=True)
    assert caught.value.line == 7 and caught.value.path == record_name
    assert str(caught.value).startswith(f"{record_name}:7: expected a sha256 digest")


def test_no_environment(tmp_path: Path) -> None:
    with pytest.raises(checksig.ManifestError, match="no installed distribution"):
        checksig.verify_environment(tmp_path)
    with pytest.raises(FileNotFoundError):
        checksig.verify_environment(tmp_path / "missing")


# --- conda: hand-made prefixes of the documented format -----------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def conda_prefix(tmp_path: Path) -> Path:
    """A conda environment as conda leaves it (conda-meta/NAME-VERSION-BUILD.json)."""
    prefix = tmp_path / "conda"
    files = {
        "lib/libz.so.1.3": b"\x7fELF zlib",
        "bin/tool": b"#!/opt/conda/bin/python\nprint('hi')\n",  # rewritten at install
        "bin/old": b"#!/opt/conda/bin/sh\n",  # rewritten, no sha256_in_prefix recorded
        "share/doc/readme": b"read me",
    }
    for name, data in files.items():
        (prefix / name).parent.mkdir(parents=True, exist_ok=True)
        (prefix / name).write_bytes(data)
    (prefix / "lib" / "libz.so").symlink_to("libz.so.1.3")
    (prefix / "share" / "empty").mkdir(parents=True)
    packaged_tool = b"#!/opt/anaconda1anaconda2anaconda3/bin/python\nprint('hi')\n"
    placeholder = "/opt/anaconda1anaconda2anaconda3"
    libz = sha(files["lib/libz.so.1.3"])
    pyc = "lib/python3.12/site-packages/z/__pycache__/a.cpython-312.pyc"
    paths = [
        {"_path": "lib/libz.so.1.3", "path_type": "hardlink", "sha256": libz,
         "sha256_in_prefix": libz, "size_in_bytes": 9},
        {"_path": "lib/libz.so", "path_type": "softlink", "sha256": libz, "size_in_bytes": 9},
        {"_path": "bin/tool", "path_type": "hardlink", "sha256": sha(packaged_tool),
         "sha256_in_prefix": sha(files["bin/tool"]), "prefix_placeholder": placeholder,
         "file_mode": "text", "size_in_bytes": len(packaged_tool)},
        {"_path": "bin/old", "path_type": "hardlink", "sha256": sha(b"packaged"),
         "prefix_placeholder": placeholder, "file_mode": "text"},
        {"_path": "share/doc/readme", "sha256": sha(files["share/doc/readme"]), "size_in_bytes": 7},
        {"_path": "share/empty", "path_type": "directory"},
        {"_path": pyc, "path_type": "pyc_file"},
    ]  # fmt: skip
    meta = prefix / "conda-meta"
    meta.mkdir()
    record = {
        "name": "zlib",
        "version": "1.3",
        "build": "h0_0",
        "files": [p["_path"] for p in paths],
        "paths_data": {"paths_version": 1, "paths": paths},
    }
    (meta / "zlib-1.3-h0_0.json").write_text(json.dumps(record, indent=2))
    (meta / "history").write_text("")
    return prefix


def test_conda_environment(tmp_path: Path, workers: int) -> None:
    prefix = conda_prefix(tmp_path)
    report = checksig.verify_environment(prefix, workers=workers, progress=False)
    assert report.ok, str(report)
    rows = {r.path: r.status for r in report}
    assert rows == {
        "lib/libz.so.1.3": "ok",
        "lib/libz.so": "ok",  # a link, followed inside the prefix: its target's digest
        "bin/tool": "ok",  # by sha256_in_prefix: the file as installed
        "bin/old": "not_checked",  # rewritten, and no digest of the result recorded
        "share/doc/readme": "ok",
        "share/empty": "ok",  # a directory, checked as one
        "lib/python3.12/site-packages/z/__pycache__/a.cpython-312.pyc": "not_checked",
    }
    assert set(report.summary_by("package")) == {"zlib 1.3"}
    assert any("prefix_placeholder" in n for n in report.notes)
    # Break each kind of entry.
    (prefix / "share" / "doc" / "readme").write_bytes(b"READ me")
    (prefix / "lib" / "libz.so.1.3").unlink()
    (prefix / "share" / "empty").rmdir()
    (prefix / "share" / "empty").write_text("not a directory any more")
    report = checksig.verify_environment(prefix, progress=False)
    got = {(r.path, r.status, r.reason) for r in report.failures}
    assert got == {
        ("share/doc/readme", "mismatch", None),
        ("lib/libz.so.1.3", "missing", "No such file or directory"),
        ("lib/libz.so", "missing", "No such file or directory"),
        ("share/empty", "unreadable", "Not a directory"),
    }
    assert "zlib 1.3: 1 mismatch, 2 missing, 1 unreadable" in str(report)


def test_environment_extra_lists_the_files_no_record_names(tmp_path: Path) -> None:
    prefix = conda_prefix(tmp_path)
    (prefix / "bin" / "dropped-in").write_bytes(b"not installed by anyone")
    assert checksig.verify_environment(prefix, progress=False).ok
    report = checksig.verify_environment(prefix, extra=True, progress=False)
    extra = {r.path for r in report if r.status == "extra"}
    # conda's own bookkeeping is unlisted too: extra=True is the whole prefix.
    assert "bin/dropped-in" in extra and not report.ok
    assert not any(r.path in ("bin/tool", "share/doc/readme") for r in report.failures)


def test_conda_owned_distributions_are_checked_by_conda(tmp_path: Path) -> None:
    # A distribution conda installed has a RECORD written at build time in
    # another prefix: its conda-meta record is what is checked.
    prefix = conda_prefix(tmp_path)
    dist = prefix / "lib" / "python3.12" / "site-packages" / "z-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "RECORD").write_text(f"z/x.py,sha256={b64(b'built elsewhere')},15\n")
    meta = prefix / "conda-meta" / "zlib-1.3-h0_0.json"
    record = json.loads(meta.read_text())
    record["files"].append("lib/python3.12/site-packages/z-1.0.dist-info/RECORD")
    meta.write_text(json.dumps(record))
    report = checksig.verify_environment(prefix, progress=False)
    assert report.ok and "z 1.0" not in report.summary_by("package")


def test_hostile_conda_records(tmp_path: Path) -> None:
    prefix = tmp_path / "conda"
    (prefix / "conda-meta").mkdir(parents=True)
    os.mkfifo(prefix / "fifo")
    good = b"ok"
    (prefix / "ok").write_bytes(good)
    paths = [
        {"_path": "ok", "sha256": sha(good), "size_in_bytes": 2},
        {"_path": "/etc/passwd", "sha256": sha(b"x")},
        {"_path": "../../../etc/passwd", "sha256": sha(b"x")},
        {"_path": "fifo", "sha256": sha(b"x")},
        {"_path": "huge", "sha256": sha(b"x"), "size_in_bytes": 10**400},
        {"_path": "badhex", "sha256": "zz" * 32},
        {"_path": "neg", "sha256": sha(b"x"), "size_in_bytes": -1},
        {"_path": "../escape-dir", "path_type": "directory"},
        "not an object",
        {"_path": 5},
    ]
    record = {"name": "evil", "version": "6", "paths_data": {"paths_version": 1, "paths": paths}}
    (prefix / "conda-meta" / "evil-6-0.json").write_text(json.dumps(record))
    (prefix / "conda-meta" / "broken-1-0.json").write_text("{not json")
    report = checksig.verify_environment(prefix, progress=False)
    rows = {r.path: r.status for r in report}
    assert rows["ok"] == "ok"
    assert rows["/etc/passwd"] == rows["../../../etc/passwd"] == "outside_root"
    assert rows["../escape-dir"] == "outside_root"
    assert rows["fifo"] == "not_regular"
    assert rows["huge"] == "missing"  # a huge size is read, never used
    assert "badhex" not in rows and "neg" not in rows
    messages = [m for _, m in report.warnings]
    assert any("paths_data.paths[5]: expected a sha256 digest" in m for m in messages)
    assert any("paths_data.paths[6]: size_in_bytes" in m for m in messages)
    assert any("paths_data.paths[8]: expected an object" in m for m in messages)
    assert any("paths_data.paths[9]._path: expected a path" in m for m in messages)
    assert any("broken-1-0.json: not a JSON document" in p for p in report.problems)
    assert not report.ok


def test_verify_reads_paths_json(tmp_path: Path) -> None:
    # An extracted package: info/paths.json's digests are the packaged files'.
    pkg = tmp_path / "pkg"
    (pkg / "info").mkdir(parents=True)
    (pkg / "bin").mkdir()
    (pkg / "bin" / "tool").write_bytes(b"#!/opt/anaconda1anaconda2anaconda3/bin/sh\n")
    tool = sha((pkg / "bin" / "tool").read_bytes())
    paths = {
        "paths_version": 1,
        "paths": [
            {"_path": "bin/tool", "path_type": "hardlink", "sha256": tool,
             "prefix_placeholder": "/opt/anaconda1anaconda2anaconda3", "file_mode": "text"},
        ],
    }  # fmt: skip
    (pkg / "info" / "paths.json").write_text(json.dumps(paths))
    report = checksig.verify(pkg, "info/paths.json", progress=False)
    assert report.ok and [r.status for r in report] == ["ok"]
    (pkg / "bin" / "tool").write_bytes(b"changed")
    assert [r.status for r in checksig.verify(pkg, "info/paths.json")] == ["mismatch"]


def test_cli_env(venv: Path, tmp_path: Path) -> None:
    from checksig._cli import main

    assert main(["env", str(venv), "--quiet", "--no-progress"]) == 0
    assert main(["env", str(tmp_path / "missing"), "--no-progress"]) == 1
    out = subprocess.run(
        [sys.executable, "-m", "checksig", "env", str(venv), "-p", "alpha", "--json"],
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["summary"]["passed"] and doc["title"] == f"environment {venv}"
    assert {e["labels"]["package"] for e in doc["entries"]} == {"alpha 1.0"}
