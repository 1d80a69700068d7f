"""The inputs of a verify job besides a manifest file, at the binding level
(``_native._Job``): manifest text in memory, a stream of it in chunks
(``checksig._chunks``), parse-only jobs, and entries in memory, whole and in
shards. Each must give what the manifest file gives (go/inputs_test.go
holds the engine to the same, with fault injection for ``changed``)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import run_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checksig import _native
from checksig._chunks import manifest_chunks

ALG = {name: i for i, name in enumerate(_native.ALGORITHMS)}
NAMES = ("status", "algorithm", "errnum", "size", "line", "expected", "actual", "path_offsets")


def line(name: bytes, data: bytes, algorithm: str = "sha1", *, tag: bool = False) -> bytes:
    digest = hashlib.new(algorithm, data).hexdigest().encode()
    if tag:
        return b"%s (%s) = %s\n" % (algorithm.upper().encode(), name, digest)
    return digest + b"  " + name + b"\n"


def run(**kwargs) -> tuple[dict, list, tuple[int, int]]:
    """Run a verify job; (its columns as arrays, its warnings, its parse state)."""
    with _native._Job(_native.JOB_VERIFY, **kwargs) as job:
        job.wait()
        columns = job.result().arrays()
        return columns, job.warnings(), job.parse_state()


def rows(columns: dict, start: int = 0, stop: int | None = None) -> dict:
    """Rows start..stop of columns, with their own path column."""
    stop = len(columns["status"]) if stop is None else stop
    off = columns["path_offsets"][start : stop + 1]
    out = {name: columns[name][start:stop] for name in NAMES[:-1]}
    out["path_offsets"] = off - off[0]
    out["paths"] = columns["paths"][off[0] : off[-1]]
    return out


def merge(parts: list[dict]) -> dict:
    """Consecutive shards or chunks merged in order, digest cells padded to the widest."""
    width = max(p["expected"].shape[1] for p in parts)
    out = {}
    for name in NAMES[:-1]:
        arrays = [p[name] for p in parts]
        if name in ("expected", "actual"):
            arrays = [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays]
        out[name] = np.concatenate(arrays)
    base = np.cumsum([0] + [len(p["paths"]) for p in parts[:-1]])
    out["path_offsets"] = np.concatenate(
        [[0]] + [p["path_offsets"][1:] + b for p, b in zip(parts, base)]
    )
    out["paths"] = np.concatenate([p["paths"] for p in parts])
    return out


def assert_same(got: dict, want: dict, what: str) -> None:
    for name in (*NAMES, "paths"):
        assert np.array_equal(got[name], want[name]), (what, name, got[name], want[name])
        assert got[name].shape == want[name].shape, (what, name)


def paths(columns: dict) -> list[bytes]:
    off, blob = columns["path_offsets"], columns["paths"].tobytes()
    return [blob[off[i] : off[i + 1]] for i in range(len(off) - 1)]


@pytest.fixture
def status_tree(tmp_path: Path) -> tuple[bytes, bytes]:
    """(root, manifest text) giving every status Python can make without
    faults: ok, mismatch, missing, unreadable, not_regular, outside_root,
    extra; mixed algorithms, a name that is not UTF-8, comments, a
    malformed line."""
    root = tmp_path / "root"
    (root / "sub dir").mkdir(parents=True)
    (root / "dir").mkdir()
    (tmp_path / "secret").write_bytes(b"secret")
    files = {
        b"ok.txt": b"fine",
        b"sub dir/ok 2.bin": b"also fine",
        b"caf\xe9.txt": b"latin-1 name",
        b"bad.txt": b"changed",
        b"unlisted": b"extra",
    }
    for name, data in files.items():
        (root / os.fsdecode(name)).write_bytes(data)
    os.symlink(tmp_path / "secret", root / "link-out")
    text = b"".join(
        [
            b"# every status\n",
            line(b"ok.txt", b"fine"),
            line(b"sub dir/ok 2.bin", b"also fine", "md5", tag=True),
            line(b"caf\xe9.txt", b"latin-1 name", "sha256"),
            b"not a checksum line\n",
            line(b"bad.txt", b"original", "sha512", tag=True),
            line(b"gone.txt", b"x"),
            line(b"dir", b"x"),
            line(b"../secret", b"secret"),
            line(os.fsencode(tmp_path / "secret"), b"secret"),
            line(b"link-out", b"secret"),
            b"\n",
            line(b"ok.txt/below", b"x", "sha224"),
        ]
    )
    return os.fsencode(root), text


WANT = (
    "ok ok ok mismatch missing not_regular outside_root outside_root outside_root unreadable extra"
)


def test_every_input_agrees_with_the_manifest_file(
    status_tree: tuple[bytes, bytes], tmp_path: Path, workers: int
) -> None:
    root, text = status_tree
    manifest = tmp_path / "SUMS"  # outside the root: the walk sees the same files for all
    manifest.write_bytes(text)
    flags = _native.F_EXTRA
    want, want_warnings, _ = run(
        root=root, manifest=os.fsencode(manifest), workers=workers, flags=flags
    )
    assert " ".join(_native.STATUSES[s] for s in want["status"]) == WANT
    assert want_warnings == [(5, 'expected "HEX  name", "HEX *name" or "ALGO (name) = HEX"')]
    listed = len(want["status"]) - 1

    got, warnings, state = run(
        root=root, manifest=b"SUMS", manifest_data=text, workers=workers, flags=flags
    )
    assert_same(got, want, "manifest text")
    assert warnings == want_warnings and state == (14, _native.FORM_STANDARD)

    parsed, warnings, _ = run(manifest=os.fsencode(manifest), flags=_native.F_PARSE_ONLY)
    assert warnings == want_warnings
    entries = _native.Entries.from_columns(parsed)
    got, _, _ = run(root=root, entries=entries, workers=workers, flags=flags)
    assert_same(got, want, "entries")

    # Shards, as the Dask feature will cut them: each travels pickled and is
    # verified apart; the merge in order plus the parse's extra rows is the whole.
    extra, _, _ = run(root=root, manifest_data=text, flags=_native.F_PARSE_ONLY | flags)
    shards = []
    for start, stop in ((0, 4), (4, 5), (5, listed)):
        shard = pickle.loads(pickle.dumps(_native.Entries.from_columns(parsed, start, stop)))
        assert len(shard) == stop - start
        shards.append(run(root=root, entries=shard, workers=workers)[0])
    assert_same(merge([*shards, rows(extra, listed)]), want, "shards")

    # The stream in chunks (down to a few bytes a read: a chunk per line).
    for size in (3, 40, 100, 1 << 20):
        parts, warnings = [], []
        first, form = 1, _native.FORM_UNDECIDED
        for chunk in manifest_chunks(io.BytesIO(text).read, size):
            cols, warns, (first, form) = run(
                root=root,
                manifest=b"standard input",
                manifest_data=chunk,
                first_line=first,
                form=form,
                workers=workers,
                flags=_native.F_ALLOW_EMPTY,
            )
            parts.append(cols)
            warnings += warns
        assert_same(merge(parts), rows(want, 0, listed), f"chunks of {size}")
        assert warnings == want_warnings


def test_chunks_carry_the_one_space_form(tmp_path: Path) -> None:
    # "HEX a" decides the one-space form: four chunks later, "HEX  b" names " b".
    text = b"".join(
        [
            hashlib.sha1(b"a").hexdigest().encode() + b" a\n",
            b"# c\n\njunk\n",
            hashlib.sha1(b"b").hexdigest().encode() + b"  b\n",
            hashlib.sha1(b"c").hexdigest().encode() + b" *c\n",
        ]
    )
    whole, whole_warnings, whole_state = run(manifest_data=text, flags=_native.F_PARSE_ONLY)
    assert paths(whole) == [b"a", b" b", b"*c"] and whole_state == (7, _native.FORM_ONE_SPACE)
    parts, warnings = [], []
    first, form = 1, _native.FORM_UNDECIDED
    for chunk in text.splitlines(keepends=True):
        cols, warns, (first, form) = run(
            manifest_data=chunk,
            first_line=first,
            form=form,
            flags=_native.F_PARSE_ONLY | _native.F_ALLOW_EMPTY,
        )
        parts.append(cols)
        warnings += warns
    assert_same(merge(parts), whole, "a line a chunk")
    assert (
        warnings
        == whole_warnings
        == [(4, 'expected "HEX  name", "HEX *name" or "ALGO (name) = HEX"')]
    )
    assert (first, form) == whole_state


_hex = st.sampled_from(["sha1", "md5", "sha256"]).map(lambda a: hashlib.new(a, b"x").hexdigest())
_name = st.binary(min_size=1, max_size=8).filter(lambda b: b"\n" not in b and b"\0" not in b)
_line = st.one_of(
    st.tuples(_hex, st.sampled_from([" ", "  ", " *"]), _name).map(
        lambda t: t[0].encode() + t[1].encode() + t[2]
    ),
    st.sampled_from([b"", b"# comment", b"junk", b" ", b"abc x"]),
    st.tuples(_name, _hex).map(lambda t: b"SHA1 (" + t[0] + b") = " + t[1].encode()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.tuples(_line, st.sampled_from([b"\n", b"\r\n"])), max_size=12),
    last=st.booleans(),
    size=st.integers(1, 120),
)
def test_any_stream_in_chunks_parses_as_a_whole(lines: list, last: bool, size: int) -> None:
    text = b"".join(a + b for a, b in lines)
    if last and lines:
        text = text[: -len(lines[-1][1])]  # the last line without its newline
    flags = _native.F_PARSE_ONLY | _native.F_ALLOW_EMPTY
    whole, whole_warnings, whole_state = run(manifest_data=text, flags=flags)
    parts, warnings = [], []
    first, form = 1, _native.FORM_UNDECIDED
    for chunk in manifest_chunks(io.BytesIO(text).read, size):
        assert len(chunk) <= size + _native.MAX_LINE_LEN + 1
        cols, warns, (first, form) = run(
            manifest_data=chunk, first_line=first, form=form, flags=flags
        )
        parts.append(cols)
        warnings += warns
    if parts:
        assert_same(merge(parts), whole, f"chunks of {size}")
    else:
        assert len(whole["status"]) == 0
    assert warnings == whole_warnings
    assert (first, form) == whole_state


def test_over_long_lines_cost_no_memory_and_read_as_whole() -> None:
    big = _native.MAX_LINE_LEN * 4
    text = b"".join(
        [
            line(b"a", b"a"),
            b"x" * big + b"\n",  # malformed: too long
            b"#" + b"y" * big + b"\n",  # a comment, however long
            b"z" * (_native.MAX_LINE_LEN - 1) + b"\n",  # fits: malformed otherwise
            line(b"b", b"b"),
            b"w" * big,  # too long, and no newline at the end
        ]
    )
    flags = _native.F_PARSE_ONLY | _native.F_ALLOW_EMPTY
    whole, whole_warnings, whole_state = run(manifest_data=text, flags=flags)
    assert [w[0] for w in whole_warnings] == [2, 4, 6]
    for size in (1000, 4096, 100_000):
        chunks = list(manifest_chunks(io.BytesIO(text).read, size))
        assert max(map(len, chunks)) <= size + _native.MAX_LINE_LEN + 1
        parts, warnings = [], []
        first, form = 1, _native.FORM_UNDECIDED
        for chunk in chunks:
            cols, warns, (first, form) = run(
                manifest_data=chunk, first_line=first, form=form, flags=flags
            )
            parts.append(cols)
            warnings += warns
        assert_same(merge(parts), whole, f"chunks of {size}")
        assert warnings == whole_warnings and (first, form) == whole_state


def test_an_endless_line_is_read_in_bounded_memory() -> None:
    # 200 MB of one line, never held: what `checksig check -m - < /dev/zero` meets.
    block = b"\0" * (1 << 20)
    left = [200]

    def read(n: int) -> bytes:
        if left[0] == 0:
            return b""
        left[0] -= 1
        return block[:n] if left[0] else b"\n" + line(b"a", b"a")

    chunks = list(manifest_chunks(read, 1 << 20))
    assert [len(c) for c in chunks] == [_native.MAX_LINE_LEN + 1, len(line(b"a", b"a"))]
    assert left[0] == 0


def test_entries_errors_name_the_entry(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    d1 = hashlib.sha1(b"a").digest()
    d256 = hashlib.sha256(b"a").digest()
    sha1, sha256 = ALG["sha1"], ALG["sha256"]
    cases = [
        (
            dict(names=b"a\0b", offsets=[0, 3], digests=d1, width=20),
            sha1,
            r"entries\[0\]: name contains a NUL byte",
        ),
        (
            dict(names=b"ab", offsets=[0, 2, 1], digests=d1 * 2, width=20),
            sha1,
            r"entries\[1\]: name offsets 2\.\.1",
        ),
        (
            dict(names=b"ab", offsets=[0, 5], digests=d1, width=20),
            sha1,
            r"entries\[0\]: .* outside the 2 bytes of names",
        ),
        (
            dict(names=b"a", offsets=[0, 1], digests=d1, width=20),
            sha256,
            r"entries\[0\]: a sha256 digest is 32 bytes, the digest width only 20",
        ),
        (
            dict(names=b"a", offsets=[0, 1], digests=d256, width=32),
            sha1,
            r"entries\[0\]: the 12 bytes after its 20-byte sha1 digest are not zero",
        ),
        (
            dict(names=b"a", offsets=[0, 1], digests=d1, width=20, algorithms=[40]),
            0,
            r"entries\[0\]: unknown algorithm 40",
        ),
        (
            dict(names=b"a", offsets=[0, 1], digests=d1, width=20, lines=[-2]),
            sha1,
            r"entries\[0\]: negative line number -2",
        ),
        (dict(names=b"a", offsets=[0, 1], digests=d1, width=20), 0, "need the request's algorithm"),
    ]
    for kwargs, alg, message in cases:
        entries = _native.Entries(**kwargs)
        with pytest.raises(ValueError, match=message):
            _native._Job(_native.JOB_VERIFY, root=root, algorithm=alg, entries=entries)
    # What the engine cannot check, because it reads as many elements as
    # offsets says, is refused before the call.
    for kwargs, message in [
        (
            dict(names=b"ab", offsets=[0, 1, 2], digests=d1, width=20),
            "20 digest bytes for 2 entries of width 20",
        ),
        (dict(names=b"a", offsets=[0, 1], digests=d1), "flat digests need width="),
        (
            dict(names=b"a", offsets=[0, 1], digests=np.zeros((1, 20), np.uint8), width=32),
            "20 bytes wide, width=32",
        ),
        (
            dict(names=b"a", offsets=[0, 1], digests=d1, width=20, algorithms=[2, 2]),
            "2 algorithms for 1 entries",
        ),
        (dict(names=b"a", offsets=[0, 1], digests=d1, width=20, lines=[]), "0 lines for 1 entries"),
        (
            dict(names=b"a", offsets=[0, 1], digests=d1, width=20, algorithms=[300]),
            "algorithms out of range",
        ),
        (dict(names=b"a", offsets=[0.0, 1.0], digests=d1, width=20), "offsets must be integers"),
    ]:
        with pytest.raises(ValueError, match=message):
            _native.Entries(**kwargs)
    assert _native.debug_counters()["handles"] == 0


def test_entries_in_memory_without_a_manifest(tmp_path: Path, workers: int) -> None:
    # A content-addressed store: every blob named by its own digest, the
    # arrays built directly, one algorithm for all; a name a manifest would
    # have to escape needs nothing here.
    blobs = [b"one", b"two", b"three\n", b""]
    names = []
    for data in blobs:
        name = hashlib.sha256(data).hexdigest().encode()
        (tmp_path / os.fsdecode(name)).write_bytes(data)
        names.append(name)
    (tmp_path / "new\nline").write_bytes(b"nl")
    names.append(b"new\nline")
    (tmp_path / names[1].decode()).write_bytes(b"corrupted")
    digests = np.frombuffer(b"".join(hashlib.sha256(b).digest() for b in [*blobs, b"nl"]), np.uint8)
    offsets = np.cumsum([0] + [len(n) for n in names])
    entries = _native.Entries(b"".join(names), offsets, digests.reshape(-1, 32))
    cols, _, state = run(
        root=os.fsencode(tmp_path), algorithm=ALG["sha256"], entries=entries, workers=workers
    )
    assert [_native.STATUSES[s] for s in cols["status"]] == ["ok", "mismatch", "ok", "ok", "ok"]
    assert paths(cols) == names and list(cols["line"]) == [0] * 5 and state == (1, 0)
    assert list(cols["size"]) == [3, 9, 6, 0, 2]
    assert (cols["algorithm"] == ALG["sha256"]).all()


def test_parse_only_opens_no_listed_file(tmp_path: Path) -> None:
    # A FIFO listed, no root given: a parse-only job must not touch it (in a
    # subprocess, so a bug that opened it fails instead of hanging).
    os.mkfifo(tmp_path / "fifo")
    out = run_json(
        """
        import hashlib, json
        from checksig import _native
        text = hashlib.sha1(b"x").hexdigest().encode() + b"  fifo\\n"
        with _native._Job(_native.JOB_VERIFY, manifest=b"m", manifest_data=text,
                          flags=_native.F_PARSE_ONLY) as job:
            job.wait()
            cols = job.result().arrays()
            counters = job.progress()
        print(json.dumps([cols["status"].tolist(), cols["size"].tolist(), counters["files_total"],
                          counters["bytes_total"], _native.debug_counters()["open_files"]]))
        """,
        cwd=tmp_path,
    )
    assert out == [[_native.ST_PENDING], [-1], 0, 0, 0]


def test_names_only_list_the_extra_files_of_a_stream(status_tree: tuple[bytes, bytes]) -> None:
    # After a stream verified in chunks, one parse-only job over the names
    # it listed (no digests) finds the files it did not list.
    root, text = status_tree
    names = paths(run(manifest_data=text, flags=_native.F_PARSE_ONLY)[0])
    entries = _native.Entries(b"".join(names), np.cumsum([0] + [len(n) for n in names]))
    cols, _, _ = run(
        root=root,
        algorithm=ALG["sha1"],
        entries=entries,
        flags=_native.F_PARSE_ONLY | _native.F_EXTRA,
    )
    extra = [p for p, s in zip(paths(cols), cols["status"]) if s == _native.ST_EXTRA]
    assert extra == [b"unlisted"] and cols["expected"].shape == (len(names) + 1, 0)


def test_empty_chunks_and_strict_chunks_name_the_stream() -> None:
    junk = b"# only a comment\njunk\n"
    cols, warnings, state = run(
        manifest=b"standard input",
        manifest_data=junk,
        first_line=7,
        form=_native.FORM_ONE_SPACE,
        flags=_native.F_PARSE_ONLY | _native.F_ALLOW_EMPTY,
    )
    assert len(cols["status"]) == 0 and [w[0] for w in warnings] == [8]
    assert state == (9, _native.FORM_ONE_SPACE)
    for data, message in ((junk, "no properly formatted"), (b"", "the manifest is empty")):
        with pytest.raises(_native.ManifestError, match=message) as info:
            run(manifest=b"standard input", manifest_data=data, flags=_native.F_PARSE_ONLY)
        assert info.value.path == "standard input"
    with pytest.raises(_native.ManifestError) as info:
        run(
            manifest=b"standard input",
            manifest_data=junk,
            first_line=7,
            flags=_native.F_PARSE_ONLY | _native.F_STRICT,
        )
    assert (info.value.path, info.value.line) == ("standard input", 8)


def test_requests_that_do_not_go_together_are_refused(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    entries = _native.Entries(b"a", [0, 1], hashlib.sha1(b"a").digest(), width=20)
    for kwargs, message in [
        (dict(flags=0x8000, manifest_data=b""), "unknown request flags 0x8000"),
        (dict(entries=entries, manifest_data=b"", algorithm=ALG["sha1"]), "not both"),
        (
            dict(entries=entries, first_line=3, algorithm=ALG["sha1"]),
            "a parse state continues a manifest",
        ),
        (dict(manifest_data=b"", form=5), "unknown line form 5"),
        (dict(manifest_data=b"", first_line=-1), "first line -1"),
        (dict(manifest_data=b"", root=b""), "empty root directory"),
    ]:
        kwargs.setdefault("root", root)
        with pytest.raises(ValueError, match=message):
            _native._Job(_native.JOB_VERIFY, **kwargs)
    with pytest.raises(ValueError, match="for verify jobs"):
        _native._Job(_native.JOB_DIGEST, algorithm=ALG["sha1"], manifest_data=b"")
    assert _native.debug_counters()["handles"] == 0


def test_manifest_data_takes_any_buffer_without_a_copy(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    text = line(b"a", b"a")
    for data in (text, bytearray(text), memoryview(text), np.frombuffer(text, np.uint8)):
        cols, _, _ = run(root=os.fsencode(tmp_path), manifest=b"sha1sum.txt", manifest_data=data)
        assert list(cols["status"]) == [_native.ST_OK]


def test_a_run_in_parts_agrees_with_the_whole(
    status_tree: tuple[bytes, bytes], tmp_path: Path, workers: int
) -> None:
    # ABI 3, as checksig._dask drives it: a parse, scan passes over shards
    # (small files hashed, the others left pending with their size), the
    # deferred rows as entries of their own, and the extra walk in parts
    # (the root's own files, each top directory's subtree), give the whole.
    root, text = status_tree
    manifest = tmp_path / "SUMS"
    manifest.write_bytes(text)
    want, _, _ = run(
        root=root, manifest=os.fsencode(manifest), workers=workers, flags=_native.F_EXTRA
    )
    parsed, _, _ = run(manifest=os.fsencode(manifest), flags=_native.F_PARSE_ONLY)
    listed = len(parsed["status"])
    got = {name: parsed[name].copy() for name in (*NAMES, "paths")}
    deferred = []
    for start, stop in ((0, 3), (3, listed)):
        shard = _native.Entries.from_columns(parsed, start, stop)
        cols, _, _ = run(root=root, entries=shard, workers=workers, defer_min=6)
        pending = cols["status"] == _native.ST_PENDING
        assert (cols["size"][pending] >= 6).all()  # "fine" (4 bytes) was hashed at once
        done = np.flatnonzero(~pending)
        for name in ("status", "errnum", "size", "actual"):
            got[name][start + done] = cols[name][done]
        deferred += list(start + np.flatnonzero(pending))
    assert [paths(parsed)[i] for i in deferred] == [
        b"sub dir/ok 2.bin",
        b"caf\xe9.txt",
        b"bad.txt",
    ]
    names = b"".join(paths(parsed)[i] for i in deferred)
    big = _native.Entries(
        names,
        np.cumsum([0] + [len(paths(parsed)[i]) for i in deferred]),
        parsed["expected"][deferred],
        algorithms=parsed["algorithm"][deferred],
        lines=parsed["line"][deferred],
    )
    cols, _, _ = run(root=root, entries=big, workers=workers)
    for name in ("status", "errnum", "size", "actual"):
        got[name][deferred] = cols[name]
    assert_same(got, rows(want, 0, listed), "scan passes and deferred files")

    # The walk: (walk_dir, flat) parts that cover the tree, on the names alone.
    names_only = _native.Entries(parsed["paths"], parsed["path_offsets"])
    extra = []
    for walk_dir, flags in ((b"", _native.F_WALK_FLAT), (b"sub dir", 0), (b"dir", 0)):
        cols, _, _ = run(
            root=root,
            manifest=os.fsencode(manifest),
            algorithm=ALG["sha1"],
            entries=names_only,
            walk_dir=walk_dir,
            flags=_native.F_PARSE_ONLY | _native.F_EXTRA | flags,
        )
        extra.append(rows(cols, listed))
    assert_same(merge([got, *extra]), want, "and the walk in parts")
    with pytest.raises(ValueError, match="walk directory"):
        _native._Job(
            _native.JOB_VERIFY,
            root=root,
            algorithm=ALG["sha1"],
            entries=names_only,
            walk_dir=b"../x",
            flags=_native.F_PARSE_ONLY | _native.F_EXTRA,
        )


def test_walk_parts_named_by_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    # walk_dir goes through the C ABI as bytes and is walked as it is: parts
    # whose names are not UTF-8, flat or whole, at two depths, give together
    # the whole walk's extra rows, and their listed names are not extra.
    root = tmp_path / "root"
    for name in (
        b"a",
        b"d\xff/listed",
        b"d\xff/new\xfe",
        b"d\xff/e\xfe/1",
        b"d\xff/e\xfe/f/2",
        b"ok",
    ):
        path = os.fsencode(root) + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(name)
    manifest = os.fsencode(root) + b"/SUMS"
    with open(manifest, "wb") as f:
        f.write(line(b"a", b"a") + line(b"d\xff/listed", b"d\xff/listed"))
    parsed, _, _ = run(manifest=manifest, flags=_native.F_PARSE_ONLY)
    listed = len(parsed["status"])
    names = _native.Entries(parsed["paths"], parsed["path_offsets"])
    walk = {"root": os.fsencode(root), "manifest": manifest, "algorithm": ALG["sha1"]}
    whole, _, _ = run(**walk, flags=_native.F_PARSE_ONLY | _native.F_EXTRA)
    assert paths(rows(whole, listed)) == [
        b"d\xff/e\xfe/1",
        b"d\xff/e\xfe/f/2",
        b"d\xff/new\xfe",
        b"ok",
    ]
    for parts in (
        [(b"", True), (b"d\xff", False)],
        [(b"", True), (b"d\xff", True), (b"d\xff/e\xfe", False)],
        [(b"", True), (b"d\xff", True), (b"d\xff/e\xfe", True), (b"d\xff/e\xfe/f", False)],
    ):
        extra = []
        for walk_dir, flat in parts:
            flags = _native.F_PARSE_ONLY | _native.F_EXTRA | (_native.F_WALK_FLAT if flat else 0)
            cols, _, _ = run(**walk, entries=names, walk_dir=walk_dir, flags=flags)
            extra.append(rows(cols, listed))
        got = sorted((p, int(n)) for c in extra for p, n in zip(paths(c), c["size"]))
        want = rows(whole, listed)
        assert got == [(p, int(n)) for p, n in zip(paths(want), want["size"])], parts
