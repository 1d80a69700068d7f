"""Property tests: arbitrary file names survive make -> parse -> verify, and
no manifest bytes make the parser (or the command line) do anything but
return a report or raise ManifestError.

Names are bytes: anything but NUL and '/', and not "." or "..". Example
counts stay moderate so the suite stays fast.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from gnu_trees import run_checksig
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import checksig
from checksig import _algorithms, _gnu

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

# Bytes that make names awkward, weighted up so that they appear often.
_AWKWARD = [
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\\",
    b"*",
    b"(",
    b")",
    b" = ",
    b"#",
    b"\xff",
    b"\xc3\xa9",
    b"\x1b",
    b"'",
    b":",
    b"\x7f",
    b"\xc2\x9b",
]

names = (
    st.lists(
        st.one_of(
            st.sampled_from(_AWKWARD),
            st.binary(min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
    .map(b"".join)
    .map(lambda b: b.replace(b"\0", b"_").replace(b"/", b"_")[:200])
    .filter(lambda b: b not in (b"", b".", b".."))
)


def _write(root: bytes, name: bytes, data: bytes) -> None:
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)


def _raw_paths(report: checksig.Report) -> list[bytes]:
    off = report.columns["path_offsets"]
    paths = report.columns["paths"].tobytes()
    return [paths[off[i] : off[i + 1]] for i in range(len(report))]


@SETTINGS
@given(
    st.lists(names, min_size=1, max_size=6, unique=True),
    st.sampled_from(_algorithms.NAMES),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), names),
)
def test_make_parse_verify_round_trip(
    file_names: list[bytes], algorithm: str, tag: bool, b64: bool, subdir: bytes | None
) -> None:
    # Every algorithm (issue 18), hex or base64, tagged or not. "manifest" says
    # no algorithm: untagged lines of an algorithm no length implies, and
    # untagged base64 lines (A13), are read as the request names them. The
    # files may lie in a directory whose name is as awkward (not UTF-8 too).
    assume(not (tag and algorithm == "git-sha1"))  # no tag form (D1)
    by_length = algorithm in _algorithms.LENGTH_DEFAULTS and not b64
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(os.fsencode(tmp), b"root")
        os.mkdir(root)
        if subdir is not None:
            os.mkdir(os.path.join(root, subdir))
            file_names = [subdir + b"/" + n for n in file_names]
        for name in file_names:
            _write(root, name, name * 3)
        out = os.path.join(os.fsencode(tmp), b"manifest")
        checksig.make_manifest(root, algorithm, out, tag=tag, base64=b64, workers=2)
        asked = None if tag or by_length else algorithm
        report = checksig.verify(root, out, algorithm=asked, workers=2)
        assert report.ok and not report.warnings, str(report)
        assert sorted(_raw_paths(report)) == sorted(file_names)
        assert _raw_paths(report) == sorted(file_names)  # make sorts by bytes
        assert {r.algorithm for r in report} == {algorithm}


@SETTINGS
@given(
    st.lists(names, min_size=1, max_size=6, unique=True), st.sampled_from(ALGORITHMS), st.booleans()
)
def test_digest_lines_are_read_back(file_names: list[bytes], algorithm: str, tag: bool) -> None:
    # What `checksig digest` prints (GNU's form, escapes included) is a manifest checksig reads.
    with tempfile.TemporaryDirectory() as tmp:
        root = os.fsencode(tmp)
        text = b""
        for name in file_names:
            _write(root, name, name)
            digest = hashlib.new(algorithm, name).hexdigest()
            text += _gnu.manifest_line(name, digest, algorithm, tag=tag, safe=False)
        out = os.path.join(root, b"list")
        with open(out, "wb") as f:
            f.write(text)
        report = checksig.verify(root, out, algorithm=algorithm)
        assert report.ok and not report.warnings, str(report)
        assert _raw_paths(report) == file_names


_FRAGMENTS = [
    b"d41d8cd98f00b204e9800998ecf8427e",  # md5 of b""
    b"da39a3ee5e6b4b0d3255bfef95601890afd80709",  # sha1 of b""
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256 of b""
    b"0" * 56,
    b"F" * 96,
    b"a" * 128,
    b"abc",
    b"  ",
    b" ",
    b" *",
    b"\t",
    b"\\",
    b"\\\\",
    b"\\n",
    b"\\r",
    b"\\x",
    b"SHA256 (",
    b"MD5 (",
    b"SHA1 (",
    b"BLAKE2b (",
    b"sha256 (",
    b") = ",
    b")",
    b"(",
    b" = ",
    b"empty",
    b"../empty",
    b"/etc/passwd",
    b"sub/empty",
    b".",
    b"..",
    b"#",
    b"\r",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3\xa9",
]

manifests = st.one_of(
    st.binary(max_size=600),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=6)), max_size=40).map(
        b"".join
    ),
)


@SETTINGS
@given(manifests, st.sampled_from((None,) + ALGORITHMS), st.booleans())
def test_parser_never_crashes(text: bytes, algorithm: str | None, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(os.fsencode(tmp), b"root")
        os.makedirs(os.path.join(root, b"sub"))
        _write(root, b"empty", b"")
        _write(os.path.join(root, b"sub"), b"empty", b"")
        manifest = os.path.join(os.fsencode(tmp), b"manifest.txt")
        with open(manifest, "wb") as f:
            f.write(text)
        try:
            report = checksig.verify(root, manifest, algorithm=algorithm, strict=strict)
        except checksig.ManifestError as exc:
            assert str(exc)
            return
        assert len(report) >= 1
        for row in report:
            assert row.status in checksig.STATUSES and row.status != "pending"
            if row.status in ("ok", "mismatch"):
                # Nothing outside the root is ever read.
                path = os.path.normpath(os.path.join(root, os.fsencode(row.path)))
                assert path.startswith(root + b"/"), row


@SETTINGS
@given(
    manifests,
    st.lists(
        st.sampled_from(
            ["--quiet", "--status", "--warn", "--strict", "--ignore-missing", "--json"]
        ),
        max_size=3,
    ),
)
def test_command_line_never_crashes(text: bytes, options: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.fsencode(tmp)
        _write(root, b"empty", b"")
        with open(os.path.join(root, b"sha1sum.txt"), "wb") as f:
            f.write(text)
        result = run_checksig(["check", *options], tmp)
        assert result.status in (0, 1), result
        assert all(line.startswith(b"checksig: ") for line in result.stderr.splitlines())
        if "--json" not in options:
            for line in result.stdout.splitlines():
                assert line.endswith((b": OK", b": FAILED", b": FAILED open or read")), line


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_displayed_names_cannot_drive_a_terminal(raw: bytes) -> None:
    assume(b"\0" not in raw)

    def safe(shown: bytes) -> bool:
        text = shown.decode("utf-8", "surrogateescape")
        return not any(
            (ord(c) < 0x20 and c != "\t")
            or ord(c) == 0x7F
            or 0x80 <= ord(c) <= 0x9F
            or 0xDC80 <= ord(c) <= 0xDC9F
            for c in text
        )

    shown, escaped = _gnu.display_name(raw)
    assert safe(shown) and b"\n" not in shown
    assert escaped or shown == raw
    quoted = _gnu.quotef(raw)
    assert all(c == 0x09 or 0x20 <= c != 0x7F for c in quoted if c < 0x80)
    assert safe(quoted.replace(b"\t", b" ")) and b"\t" not in quoted
