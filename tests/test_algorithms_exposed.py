"""Every algorithm through the public API and the command line (issue 18's second
step, issue 15 items 4-5): names in every spelling, make -> verify round trips,
what b2sum, b3sum and GNU's cksum write and check against what checksig writes
and answers, -a/-l as GNU spells them, the ambiguity of check_file, BLAKE3's
longer outputs, and the warning for a manifest read with the wrong algorithm
(a b3sum manifest read as sha256).

Oracles: hashlib, PyPI's blake3, git, and the tools themselves where installed:
b2sum and cksum (GNU coreutils 9.1 here), b3sum, and for what GNU added later
(-a sha2/sha3, --base64, untagged base64 checks: 9.7-9.9) the cksum named by
$CHECKSIG_CKSUM; those cases skip, saying why, without one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import oracle_digest, tool_or_skip
from gnu_trees import TIMEOUT, Result, content, make_tree, run_checksig, run_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checksig
from checksig import _algorithms, _gnu, _native

NAMES = (
    b"plain.txt",
    b"sp ace",
    b"back\\slash",
    b"new\nline",
    b"uni\xc3\xa9",
    b"*star",
    b"(p) = x",
    b"sub/nested",
)

#: What each main algorithm is called on the command line, as GNU's tools spell it.
GNU_SPELLING = {
    "sha3_224": ["-a", "sha3", "-l", "224"],
    "sha3_256": ["-a", "sha3", "-l", "256"],
    "sha3_384": ["-a", "sha3", "-l", "384"],
    "sha3_512": ["-a", "sha3", "-l", "512"],
    "sha384": ["-a", "sha2", "-l", "384"],
    "blake2b-256": ["-a", "blake2b", "-l", "256"],
    "blake2b-8": ["-a", "blake2b", "-l", "8"],
    "blake2b": ["-a", "blake2b"],
}


def _new_cksum() -> str:
    """A GNU cksum with -a sha2/sha3, --base64 and untagged base64 checks (9.9+)."""
    for cand in (os.environ.get("CHECKSIG_CKSUM"), shutil.which("cksum")):
        if not cand:
            continue
        out = subprocess.run([cand, "--version"], capture_output=True, timeout=TIMEOUT).stdout
        m = re.search(rb"\(GNU coreutils\) (\d+)\.(\d+)", out)
        if m and (int(m.group(1)), int(m.group(2))) >= (9, 9):
            return cand
    pytest.skip(
        "no GNU cksum 9.9+ (-a sha3, --base64, untagged base64 checks; this machine's is "
        "older): set CHECKSIG_CKSUM to one (.ci/build-gnu-cksum builds one)"
    )


def _tree(root: Path, names: tuple[bytes, ...] = NAMES) -> list[bytes]:
    make_tree(root, names)
    return sorted(names)


# --- names in every spelling --------------------------------------------------------------------


def _respell(name: str, flips: list[bool], dash: bool) -> str:
    """name with the case of some letters flipped and '-'/'_' swapped as asked."""
    sep = "-" if dash else "_"
    text = name.replace("-", sep).replace("_", sep)
    return "".join(c.swapcase() if flips[i % len(flips)] else c for i, c in enumerate(text))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_algorithms.NAMES), st.lists(st.booleans(), min_size=1), st.booleans())
def test_every_spelling_of_every_name(name: str, flips: list[bool], dash: bool) -> None:
    # hashlib's names and GNU's tags, in any case, '-' or '_' between the parts:
    # one algorithm (the engine's ParseAlgorithm rules, go/algorithm.go).
    code = _native.ALGORITHMS.index(name)
    assert _algorithms.code(_respell(name, flips, dash)) == code
    tag = _algorithms.tag(name)
    if tag:
        assert _algorithms.code(_respell(tag, flips, dash)) == code


@pytest.mark.parametrize(
    "spelling,name",
    [
        ("SHA3-256", "sha3_256"),
        ("sha3-256", "sha3_256"),
        ("SHA2-256", "sha256"),
        ("sha2_512", "sha512"),
        ("BLAKE2b", "blake2b"),
        ("BLAKE2b-512", "blake2b"),
        ("BLAKE2B-512", "blake2b"),
        ("blake2b_256", "blake2b-256"),
        ("BLAKE2b-8", "blake2b-8"),
        ("BLAKE2s-256", "blake2s"),
        ("BLAKE3", "blake3"),
        ("GIT_SHA1", "git-sha1"),
    ],
)
def test_gnu_and_openssl_spellings(tmp_path: Path, spelling: str, name: str) -> None:
    (tmp_path / "f").write_bytes(b"spelled")
    assert checksig.file_digest(tmp_path / "f", spelling) == oracle_digest(name, b"spelled").hex()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=14))
def test_anything_else_is_refused_naming_what_is_supported(text: str) -> None:
    key = text.lower()
    if key in _algorithms.SPELLINGS:
        return
    with pytest.raises(ValueError) as info:
        _algorithms.code(text)
    message = str(info.value)
    if key in ("sha2", "sha3"):
        assert "names a family" in message
    else:
        assert ", ".join(checksig.ALGORITHMS) in message and "blake2b-N" in message


def test_every_tag_is_the_engines(tmp_path: Path) -> None:
    # The tag make --tag writes for each algorithm is one the engine reads as it.
    (tmp_path / "f").write_bytes(b"tagged")
    lines = [
        f"{_algorithms.tag(alg)} (f) = {oracle_digest(alg, b'tagged').hex()}\n"
        for alg in _algorithms.NAMES
        if _algorithms.tag(alg)
    ]
    (tmp_path / "list").write_text("".join(lines))
    report = checksig.verify(tmp_path, "list")
    assert report.ok and len(report) == len(_algorithms.NAMES) - 1
    assert [r.algorithm for r in report] == [a for a in _algorithms.NAMES if a != "git-sha1"]


# --- file_digest, digest_files, check_file ------------------------------------------------------


@pytest.mark.parametrize("alg", _algorithms.NAMES)
def test_file_digest_and_digest_files(tmp_path: Path, alg: str, workers: int) -> None:
    data = [b"", b"abc", bytes(range(256)) * 700]
    paths = []
    for i, d in enumerate(data):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(d)
    want = [oracle_digest(alg, d).hex() for d in data]
    assert [checksig.file_digest(p, alg) for p in paths] == want
    assert checksig.digest_files(paths, alg, workers=workers) == want


@pytest.mark.parametrize("length", [1, 16, 31, 32, 33, 64, 100, 1000])
def test_blake3_longer_outputs(tmp_path: Path, length: int) -> None:
    blake3 = pytest.importorskip("blake3", reason="pip install blake3: the BLAKE3 oracle")
    data = bytes(range(251)) * 5000  # many chunks: a tree
    path = tmp_path / "f"
    path.write_bytes(data)
    got = checksig.file_digest(path, "BLAKE3", length=length)
    assert got == blake3.blake3(data).digest(length=length).hex()
    if shutil.which("b3sum"):
        out = subprocess.run(
            ["b3sum", "--no-names", "-l", str(length), str(path)],
            capture_output=True,
            check=True,
            timeout=TIMEOUT,
        )
        assert got == out.stdout.decode().strip()


def test_blake3_longer_output_of_a_file_past_the_job_limit(tmp_path: Path) -> None:
    # Files from SYNC_DIGEST_LIMIT on go through a job; a length within 32
    # bytes is a prefix of that job's digest, a longer one the engine's own.
    blake3 = pytest.importorskip("blake3", reason="pip install blake3: the BLAKE3 oracle")
    path = tmp_path / "big"
    data = os.urandom(1 << 20) * (checksig._api.SYNC_DIGEST_LIMIT // (1 << 20) + 1)
    path.write_bytes(data)
    for length in (8, 32, 48):
        got = checksig.file_digest(path, "blake3", length=length)
        assert got == blake3.blake3(data).digest(length=length).hex()


@pytest.mark.parametrize(
    "alg,length,match",
    [
        ("sha256", 64, "length= is for blake3's extendable output"),
        ("blake2b", 32, "name it: 'blake2b-256'"),
        ("blake3", 0, "positive number of bytes"),
        ("blake3", -1, "positive number of bytes"),
        ("blake3", True, "positive number of bytes"),
        ("blake3", 2.0, "positive number of bytes"),
    ],
)
def test_bad_lengths(tmp_path: Path, alg: str, length: object, match: str) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match=match):
        checksig.file_digest(tmp_path / "f", alg, length=length)  # type: ignore[arg-type]


def test_check_file_names_the_algorithm_a_digest_is_of(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"weights")
    fits = "sha256, sha3_256, blake2s, blake3 and blake2b-256"
    for alg in ("sha3_256", "blake2s", "blake3", "blake2b-256"):
        digest = oracle_digest(alg, b"weights").hex()
        # Read as sha256 (the length's own algorithm) it does not match, and
        # the answer is no True or False but the algorithm to name.
        with pytest.raises(ValueError, match=f"algorithm='{alg}'") as info:
            checksig.check_file(path, digest)
        assert fits in str(info.value) and "not its sha256 digest" in str(info.value)
        assert checksig.check_file(path, digest, algorithm=alg)
        assert checksig.check_file(path, digest.upper(), algorithm=alg.upper())
    assert checksig.check_file(path, hashlib.sha256(b"weights").hexdigest())
    # A digest no algorithm of its length gives the file: False.
    assert not checksig.check_file(path, hashlib.sha256(b"other").hexdigest())
    assert not checksig.check_file(path, oracle_digest("blake3", b"other").hex())
    # A length only a BLAKE2b length has: named, never assumed.
    with pytest.raises(ValueError, match="as blake2b-192 digests have.*algorithm='blake2b-192'"):
        checksig.check_file(path, oracle_digest("blake2b-192", b"weights").hex())
    with pytest.raises(ValueError, match="fits no algorithm"):
        checksig.check_file(path, "abc")


# --- make_manifest and verify: every algorithm, both ways ----------------------------------------

STYLES = ["untagged", "tag", "base64", "tag-base64"]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("alg", _algorithms.NAMES)
def test_make_then_verify_every_algorithm(tmp_path: Path, alg: str, style: str) -> None:
    # make_manifest's default name says the algorithm, so verify() reads it
    # back without being told (FORMATS.md B2.2, D3); hex or base64, tagged or not.
    root = tmp_path / "root"
    names = _tree(root)
    tag, b64 = style.startswith("tag"), style.endswith("base64")
    if tag and alg == "git-sha1":
        with pytest.raises(ValueError, match="git-sha1 has no tag form"):
            checksig.make_manifest(root, alg, tag=True)
        return
    path = checksig.make_manifest(root, alg, tag=tag, base64=b64)
    assert path.name == f"{alg}sum.txt"
    report = checksig.verify(root, path.name)
    assert report.ok and {r.algorithm for r in report} == {alg}, report
    assert report.inference is None or report.inference.source == "name"
    # Every line is the digest the oracle gives, in the form asked for.
    text = path.read_bytes()
    for name in names:
        digest = oracle_digest(alg, content(name))
        shown = base64.b64encode(digest) if b64 else digest.hex().encode()
        assert shown in text


@pytest.mark.parametrize(
    "args,alg",
    [
        (["-a", "sha3", "-l", "256"], "sha3_256"),
        (["-a", "SHA3-512"], "sha3_512"),
        (["-a", "sha2", "-l", "224"], "sha224"),
        (["-a", "blake2b", "-l", "256"], "blake2b-256"),
        (["-a", "blake2b", "-l", "0"], "blake2b"),
        (["-a", "blake2b"], "blake2b"),
        (["-a", "blake2s"], "blake2s"),
        (["-a", "blake3"], "blake3"),
        (["-a", "git-sha1"], "git-sha1"),
    ],
)
@pytest.mark.parametrize("style", [[], ["--tag"], ["--base64"], ["--tag", "--base64", "-j", "1"]])
def test_cli_make_then_check(tmp_path: Path, args: list[str], alg: str, style: list[str]) -> None:
    root = tmp_path / "root"
    names = _tree(root)
    r = run_checksig(["make", "root", *args, *style], tmp_path)
    if "--tag" in style and alg == "git-sha1":
        assert r.status == 2 and b"git-sha1 has no tag form" in r.stderr
        return
    assert (r.stdout, r.stderr, r.status) == (b"", b"", 0)
    manifest = f"root/{alg}sum.txt"
    r = run_checksig(["check", "root", "-m", manifest], tmp_path)
    shown = [_gnu.check_name(n) for n in names]
    assert (r.stdout, r.stderr, r.status) == (b"".join(n + b": OK\n" for n in shown), b"", 0)
    r = run_checksig(["check", "--json", "root", "-m", manifest], tmp_path)
    doc = json.loads(r.stdout)
    assert {e["algorithm"] for e in doc["entries"]} == {alg} and doc["summary"]["passed"]


# --- what the tools write, byte for byte -------------------------------------------------------


def _ours(args: list[str], cwd: Path, names: list[bytes]) -> bytes:
    r = run_checksig(["digest", *args, "--", *map(os.fsdecode, names)], cwd)
    assert (r.stderr, r.status) == (b"", 0)
    return r.stdout


@pytest.mark.parametrize(
    "tool,ours",
    [
        (["b2sum"], ["-a", "blake2b"]),
        (["b2sum", "--tag"], ["-a", "blake2b", "--tag"]),
        (["b2sum", "-l", "256"], ["-a", "blake2b", "-l", "256"]),
        (["b2sum", "-l", "8", "--tag"], ["-a", "BLAKE2b-8", "--tag"]),
        (["b2sum", "-l", "512"], ["-a", "blake2b", "-l", "512"]),
        (["cksum", "-a", "blake2b", "-l", "160"], ["-a", "blake2b", "-l", "160", "--tag"]),
        (["cksum", "-a", "blake2b", "--untagged"], ["-a", "blake2b", "--tag", "--untagged"]),
        (["cksum", "-a", "sha512"], ["-a", "sha512", "--tag"]),
        (["b3sum"], ["-a", "blake3"]),
        (["b3sum", "--tag"], ["-a", "blake3", "--tag"]),
    ],
    ids=" ".join,
)
def test_digest_writes_what_the_tool_writes(
    tmp_path: Path, tool: list[str], ours: list[str]
) -> None:
    path = tool_or_skip(tool[0])
    root = tmp_path / "root"
    names = _tree(root)
    theirs = run_tool([path, *tool[1:], "--", *map(os.fsdecode, names)], root)
    assert theirs.status == 0, theirs
    assert _ours(ours, root, names) == theirs.stdout
    # make writes the same lines (sorted, as names are here), and the tool checks them.
    r = run_checksig(["make", ".", *ours, "-o", "../m"], root)
    assert r.status == 0, r
    assert (tmp_path / "m").read_bytes() == theirs.stdout
    if tool[0] == "b3sum" and "--tag" in ours:
        return  # b3sum --check reads only its untagged lines
    how = {"b3sum": ["--check"], "cksum": [*tool[1:3], "-c"]}.get(tool[0], ["-c"])
    check = [path, *how, str(tmp_path / "m")]
    assert run_tool(check, root).status == 0


@pytest.mark.parametrize("alg", ["sha3_224", "sha3_256", "sha3_384", "sha3_512", "sha384", "md5"])
@pytest.mark.parametrize("style", [[], ["--untagged"], ["--base64"], ["--untagged", "--base64"]])
def test_digest_writes_what_new_cksum_writes(tmp_path: Path, alg: str, style: list[str]) -> None:
    cksum = _new_cksum()
    names = _tree(tmp_path)
    gnu = GNU_SPELLING.get(alg, ["-a", alg])
    theirs = run_tool([cksum, *gnu, *style, "--", *map(os.fsdecode, names)], tmp_path)
    assert theirs.status == 0, theirs
    # cksum writes tags by default; checksig digest writes sha256sum's lines.
    ours = _ours([*gnu, *style, *([] if "--untagged" in style else ["--tag"])], tmp_path, names)
    assert ours == theirs.stdout


def test_stdin_digest_of_every_algorithm(tmp_path: Path) -> None:
    data = b"from a pipe\n" * 1000
    for alg in _algorithms.ALGORITHMS:
        r = run_checksig(["digest", "-a", alg], tmp_path, stdin=data)
        assert (r.stdout, r.stderr, r.status) == (
            oracle_digest(alg, data).hex().encode() + b"  -\n",
            b"",
            0,
        )
    if shutil.which("git"):
        git = subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
        )
        r = run_checksig(["digest", "-a", "git-sha1"], tmp_path, stdin=data)
        assert r.stdout == git.stdout.strip() + b"  -\n"
    assert list(tmp_path.iterdir()) == []  # standard input leaves nothing behind


# --- checking as GNU's cksum and b2sum check ----------------------------------------------------


def _junk(text: bytes) -> bytes:
    return text + b"this is no checksum line\n"


def _compare(theirs: Result, ours: Result) -> None:
    assert ours.stdout.split(b"\n") == theirs.stdout.split(b"\n"), "stdout differs"
    assert ours.stderr.split(b"\n") == theirs.stderr.split(b"\n"), "stderr differs"
    assert ours.status == theirs.status, "exit status differs"


@pytest.mark.parametrize(
    "family,lengths,check",
    [
        ("sha3", ["224", "512", "256"], ["-a", "sha3"]),
        ("sha3", ["384", "256"], ["-a", "sha3", "-l", "256"]),
        ("sha2", ["224", "384", "512"], ["-a", "sha2"]),
        ("sha2", ["256", "512"], ["-a", "sha2", "-l", "512"]),
        ("blake2b", ["8", "256", "512"], ["-a", "blake2b"]),
        ("blake2b", ["160", "512"], ["-a", "blake2b", "-l", "160"]),
        ("sha2", ["256"], ["-a", "sha256"]),
    ],
)
@pytest.mark.parametrize("mode", [["--warn"], ["--quiet"], ["--strict", "--warn"]])
def test_check_families_as_new_cksum(
    tmp_path: Path, family: str, lengths: list[str], check: list[str], mode: list[str]
) -> None:
    # `cksum -a sha3 [-l N] -c`: every length of the family, hex or base64,
    # GNU's --warn word (SHA3, SHA2, BLAKE2b); one file damaged.
    cksum = _new_cksum()
    names = _tree(tmp_path, (b"a", b"b c", b"d"))
    text = b""
    for i, bits in enumerate(lengths):
        args = ["-a", family, "-l", bits, "--untagged", *(["--base64"] if i % 2 else [])]
        text += run_tool([cksum, *args, "--", *map(os.fsdecode, names)], tmp_path).stdout
    (tmp_path / "d").write_bytes(b"damaged")
    (tmp_path / "SUMS").write_bytes(_junk(text))
    theirs = run_tool([cksum, *check, "-c", *mode, "SUMS"], tmp_path)
    _compare(theirs, run_checksig(["check", *check, *mode, "SUMS"], tmp_path))
    # --untagged, which cksum -c takes and ignores, changes nothing either.
    _compare(theirs, run_checksig(["check", *check, *mode, "--untagged", "SUMS"], tmp_path))


@pytest.mark.parametrize("manifest", ["B2SUMS", "b2sums.txt", "list"])
@pytest.mark.parametrize("lengths", [[None], [None, "256"], ["8", "128"]])
def test_check_b2sum_manifests_as_b2sum(tmp_path: Path, manifest: str, lengths: list) -> None:
    # b2sum -c reads every length; so does checksig, named -a blake2b or by a
    # B2SUMS-like name, with b2sum's --warn word.
    b2sum = tool_or_skip("b2sum")
    names = _tree(tmp_path, (b"a", b"b c", b"d"))
    text = b"".join(
        run_tool(
            [b2sum, *(["-l", n] if n else []), "--", *map(os.fsdecode, names)], tmp_path
        ).stdout
        for n in lengths
    )
    (tmp_path / "d").write_bytes(b"damaged")
    (tmp_path / manifest).write_bytes(_junk(text))
    theirs = run_tool([b2sum, "-c", "--warn", manifest], tmp_path)
    named = [] if manifest != "list" else ["-a", "blake2b"]
    _compare(theirs, run_checksig(["check", *named, "--warn", manifest], tmp_path))


def test_check_b3sum_manifests(tmp_path: Path) -> None:
    b3sum = tool_or_skip("b3sum")
    names = _tree(tmp_path)
    text = run_tool([b3sum, "--", *map(os.fsdecode, names)], tmp_path).stdout
    for manifest, args in [("b3sums.txt", []), ("B3SUMS", []), ("list", ["-a", "BLAKE3"])]:
        (tmp_path / manifest).write_bytes(text)
        r = run_checksig(["check", *args, manifest], tmp_path)
        shown = [_gnu.check_name(n) for n in names]
        assert (r.stdout, r.stderr, r.status) == (b"".join(n + b": OK\n" for n in shown), b"", 0)


# --- the manifest's name, word for word as the engine reads it ----------------------------------

NAME_WORDS = [
    "sha1", "sha256", "SHA512", "md5", "sha3", "SHA3", "256", "384", "sha2", "b2", "B3",
    "blake2b", "BLAKE2b", "blake2", "blake2s", "blake3", "git", "sha", "sum", "sums", "SUMS",
    "txt", "manifest", "list", "part", "x", "1", "512",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(NAME_WORDS), st.sampled_from(["", "sum", "sums", "SUMS"])),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.sampled_from(["-", "_", ".", " ", "/", "+"]), min_size=4, max_size=4),
)
def test_manifest_name_words_mirror_the_engine(words: list, seps: list[str]) -> None:
    # _gnu.algorithm_from_name (the --warn word) says of a name what the engine's
    # AlgorithmFromName does: the engine reads one untagged line of a length the
    # prediction fits under that name, and tells what chose its algorithm.
    name = "".join(w + s + sep for (w, s), sep in zip(words, seps)).rstrip("/") or "x"
    predicted = _gnu.algorithm_from_name(name)
    if predicted in (None, "sha2", "blake2b"):
        alg, hex_digits = ("sha256", 64) if predicted != "blake2b" else ("blake2b-256", 64)
    elif predicted == "sha3":
        alg, hex_digits = "sha3_384", 96
    else:
        alg, hex_digits = predicted, 2 * _algorithms.SIZES[predicted]
    with _native._Job(
        _native.JOB_VERIFY,
        manifest=name.encode(),
        manifest_data=b"0" * hex_digits + b"  f\n",
        flags=_native.F_PARSE_ONLY,
    ) as job:
        job.wait()
        columns = job.result().arrays()
        inference = job.inference()
    assert _native.ALGORITHMS[columns["algorithm"][0]] == alg, name
    assert inference["source"] == ("length" if predicted is None else "name"), name


@pytest.mark.parametrize(
    "name,said,word",
    [
        ("SHA256SUMS", "sha256", "SHA256"),
        ("sha1sum.txt", "sha1", "SHA1"),
        ("b3sums.txt", "blake3", "BLAKE3"),
        ("list.b3", "blake3", "BLAKE3"),
        ("part-b3.txt", None, ""),
        ("SHA3-256SUMS", "sha3_256", "SHA3"),
        ("sha3_512sums", "sha3_512", "SHA3"),
        ("SHA3SUMS", "sha3", "SHA3"),
        ("sha2sums", "sha2", "SHA2"),
        ("B2SUMS", "blake2b", "BLAKE2b"),
        ("blake2b-256sums", "blake2b-256", "BLAKE2b"),
        ("blake2s.sums", "blake2s", "BLAKE2s"),
        ("git-sha1sum.txt", "git-sha1", ""),
        ("MD5SUMS.sha1", None, ""),
        ("b3sums.sha256", None, ""),
        ("checksums.txt", None, ""),
    ],
)
def test_manifest_names_and_warn_words(name: str, said: str | None, word: str) -> None:
    # The word is GNU's: cksum -a sha3 -l 256 -c says SHA3, b2sum -l 256 -c BLAKE2b.
    assert _gnu.algorithm_from_name(name) == said
    assert _algorithms.warn_word(said) == word


# --- the wrong algorithm, said so (issue 18's hazard, FORMATS.md B5) -----------------------------


def _b3sum_manifest(root: Path, name: str = "checksums.txt") -> list[bytes]:
    """A real b3sum manifest under a name that says nothing of its algorithm."""
    b3sum = tool_or_skip("b3sum")
    files = {b"model.bin": os.urandom(1 << 16), b"config.json": b"{}\n", b"tok en.txt": b"a b c\n"}
    for file, data in files.items():
        (root / os.fsdecode(file)).write_bytes(data)
    names = sorted(files)
    text = run_tool([b3sum, "--", *map(os.fsdecode, names)], root).stdout
    (root / name).write_bytes(text)
    return names


def test_b3sum_manifest_read_as_sha256_is_named_by_the_api(tmp_path: Path, workers: int) -> None:
    _b3sum_manifest(tmp_path)
    report = checksig.verify(tmp_path, "checksums.txt", workers=workers)
    assert report.counts() == {"mismatch": 3}
    inf = report.inference
    assert (inf.algorithm, inf.source, inf.rows, inf.ok, inf.mismatch) == (
        "sha256",
        "length",
        3,
        0,
        3,
    )
    assert inf.match == "blake3" and inf.probed == b"config.json"  # the smallest file
    warning = report.algorithm_warning
    assert warning == (
        "all 3 untagged lines were read as sha256 (assumed from the digests' length) and none "
        "matched, but blake3 gives 'config.json' its listed digest: this looks like a blake3 "
        'manifest; check it with algorithm="blake3"'
    )
    assert f"warning: {warning}" in str(report).split("\n")[:3]
    assert "this looks like a blake3 manifest" in report._repr_html_()
    doc = report.to_dict()["inference"]
    assert doc == {
        "algorithm": "sha256",
        "source": "length",
        "rows": 3,
        "ok": 0,
        "mismatch": 3,
        "same_length": ["sha3_256", "blake2s", "blake3", "blake2b-256"],
        "probed": "config.json",
        "match": "blake3",
        "warning": warning,
    }
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(tmp_path, "checksums.txt", workers=workers)
    assert str(info.value).split("\n")[1] == f"  warning: {warning}"
    assert str(info.value).startswith("3 of 3 files failed verification")
    # The warning rides along wherever the report goes (multiprocessing pickles it).
    again = pickle.loads(pickle.dumps(info.value))
    assert again.report.algorithm_warning == warning and again.report.inference == inf
    # Named, it verifies.
    assert checksig.verify(tmp_path, "checksums.txt", algorithm="blake3").ok


def test_b3sum_manifest_read_as_sha256_is_named_by_the_cli(tmp_path: Path) -> None:
    names = _b3sum_manifest(tmp_path)
    failed = b"".join(n + b": FAILED\n" for n in names)
    warning = (
        b"checksig: checksums.txt: all 3 untagged lines were read as sha256 (assumed from the "
        b"digests' length) and none matched, but blake3 gives config.json its listed digest: "
        b"this looks like a blake3 manifest; check it with -a blake3\n"
    )
    summary = b"checksig: WARNING: 3 computed checksums did NOT match\n"
    assert run_checksig(["check", "checksums.txt"], tmp_path) == Result(
        failed, summary + warning, 1
    )
    stdin = (tmp_path / "checksums.txt").read_bytes()
    r = run_checksig(["check", "-"], tmp_path, stdin)
    assert r == Result(failed, summary + warning.replace(b"checksums.txt", b"'standard input'"), 1)
    assert run_checksig(["check", "--status", "checksums.txt"], tmp_path) == Result(b"", b"", 1)
    r = run_checksig(["check", "--json", "checksums.txt"], tmp_path)
    doc = json.loads(r.stdout)
    assert doc["inference"]["match"] == "blake3" and "-a blake3" in doc["inference"]["warning"]
    ok = b"".join(n + b": OK\n" for n in names)
    assert run_checksig(["check", "-a", "blake3", "checksums.txt"], tmp_path) == Result(ok, b"", 0)


def test_no_warning_where_the_algorithm_is_not_in_doubt(tmp_path: Path) -> None:
    names = _b3sum_manifest(tmp_path)
    # Named by b3sum's own manifest name, or by the request: no guess, no warning.
    (tmp_path / "b3sums.txt").write_bytes((tmp_path / "checksums.txt").read_bytes())
    report = checksig.verify(tmp_path, "b3sums.txt")
    assert report.ok and report.algorithm_warning is None
    report = checksig.verify(tmp_path, "checksums.txt", algorithm="sha256")
    assert report.counts() == {"mismatch": 3} and report.inference is None
    assert report.algorithm_warning is None and "\nwarning: " not in str(report)
    # A SHA256SUMS whose every file is damaged: its name says sha256, as
    # sha256sum's users name it, and nothing suggests another algorithm.
    sub = tmp_path / "sub"
    _tree(sub, tuple(names))
    checksig.make_manifest(sub, "sha256", output="SHA256SUMS")
    for name in names:
        (sub / os.fsdecode(name)).write_bytes(b"damaged")
    report = checksig.verify(sub, "SHA256SUMS")
    assert report.counts() == {"mismatch": 3} and report.inference.source == "name"
    assert report.algorithm_warning is None
    r = run_checksig(["check", "SHA256SUMS"], sub)
    assert r.stderr == b"checksig: WARNING: 3 computed checksums did NOT match\n"


def test_damaged_files_under_a_name_that_says_nothing(tmp_path: Path) -> None:
    # Every sha256 line fails and no other algorithm of that length gives the
    # probed file its digest: the warning says so (the files differ indeed).
    _tree(tmp_path, (b"a", b"b"))
    lines = "".join(
        f"{hashlib.sha256(b'old ' + n).hexdigest()}  {n.decode()}\n" for n in (b"a", b"b")
    )
    (tmp_path / "checksums.txt").write_text(lines)
    report = checksig.verify(tmp_path, "checksums.txt")
    assert report.algorithm_warning == (
        "all 2 untagged lines were read as sha256 (assumed from the digests' length) and none "
        "matched; sha3_256, blake2s, blake3 and blake2b-256 make digests of that length too, "
        "and none gives 'a' its listed digest either"
    )


def test_a_name_that_says_b3sum_over_sha256_lines(tmp_path: Path) -> None:
    # b3sums.txt holding sha256sum's lines: read as blake3 (the name says so),
    # every line fails, and sha256 is named.
    _tree(tmp_path, (b"a", b"b"))
    lines = "".join(
        f"{hashlib.sha256(content(n)).hexdigest()}  {n.decode()}\n" for n in (b"a", b"b")
    )
    (tmp_path / "b3sums.txt").write_text(lines)
    report = checksig.verify(tmp_path, "b3sums.txt")
    assert report.inference.source == "name" and report.inference.match == "sha256"
    assert "as blake3 (as the manifest's name says)" in report.algorithm_warning
    assert 'check it with algorithm="sha256"' in report.algorithm_warning
