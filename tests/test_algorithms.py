"""The engine's newer algorithms (issue 18), through _native: every algorithm and
length against independent implementations, and manifests against the tools
that write and check them (b2sum, cksum, b3sum, git) where they are installed.

This module drives the engine through _native (file_digest, jobs, the inference
of a verify job); tests/test_algorithms_exposed.py holds the public API and the
command line to the same tools.

GNU coreutils 9.1 (this machine's) has `cksum -a blake2b -l N` but neither
`-a sha3` (9.7) nor `--base64` (9.2) nor untagged base64 checks (9.9): those
tests run against the cksum named by $CHECKSIG_CKSUM (a newer GNU build) and
are skipped, saying so, without one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import TESTS, oracle_digest, tool_or_skip

import checksig
from checksig import _native

ALG = {name: i for i, name in enumerate(_native.ALGORITHMS) if name}
NAMES = [
    b"plain.txt",
    b"sp ace",
    b"back\\slash",
    b"new\nline",
    b"uni\xc3\xa9",
    b"*star",
    b"(p) = x",
]


def _tree(root: Path) -> list[bytes]:
    for i, name in enumerate(NAMES):
        (root / os.fsdecode(name)).write_bytes(b"content %d\n" % i * (i + 1))
    return NAMES


def _data(root: Path, name: bytes) -> bytes:
    return (root / os.fsdecode(name)).read_bytes()


def _run_job(kind: int, **kw) -> tuple[dict, dict | None]:
    with _native._Job(kind, **kw) as job:
        job.wait()
        cols = job.result().arrays()
        inference = job.inference() if kind == _native.JOB_VERIFY else None
    return cols, inference


def _verify(
    root: Path, manifest: Path, alg: str | None = None
) -> tuple[list[str], list[str], dict]:
    cols, inf = _run_job(
        _native.JOB_VERIFY,
        root=os.fsencode(root),
        manifest=os.fsencode(manifest),
        algorithm=ALG[alg] if alg else 0,
    )
    statuses = [_native.STATUSES[s] for s in cols["status"].tolist()]
    algs = [_native.ALGORITHMS[a] for a in cols["algorithm"].tolist()]
    return statuses, algs, inf


def _make(root: Path, out: Path, alg: str, *, tag: bool = False, b64: bool = False) -> bytes:
    flags = (_native.F_TAG if tag else 0) | (_native.F_BASE64 if b64 else 0)
    _run_job(
        _native.JOB_MAKE,
        root=os.fsencode(root),
        manifest=os.fsencode(out),
        algorithm=ALG[alg],
        flags=flags,
    )
    return out.read_bytes()


def _new_cksum() -> str:
    """A cksum with -a sha3 and --base64 (GNU 9.7+), or skip saying why."""
    for cand in (os.environ.get("CHECKSIG_CKSUM"), shutil.which("cksum")):
        if (
            cand
            and subprocess.run(
                [cand, "-a", "sha3", "-l", "256", os.devnull], capture_output=True
            ).returncode
            == 0
        ):
            return cand
    pytest.skip(
        "no cksum with -a sha3 and --base64 (GNU coreutils 9.7+; this machine's is older): "
        "set CHECKSIG_CKSUM to one (.ci/build-gnu-cksum builds one)"
    )


def _tool_output(argv: list[str], cwd: Path, names: list[bytes]) -> bytes:
    return subprocess.run([*argv, "--", *names], cwd=cwd, check=True, capture_output=True).stdout


# --- every algorithm and length against independent implementations ---------


def test_vectors_of_every_algorithm(tmp_path: Path) -> None:
    doc = json.loads((TESTS / "vectors.json").read_text(encoding="utf-8"))
    seen = set()
    for v in doc["vectors"]:
        data = (v["pattern"] * v["repeat"]).encode()
        assert oracle_digest(v["algorithm"], data).hex() == v["hex"], (v["algorithm"], v["name"])
        path = tmp_path / v["name"]
        if not path.exists():
            path.write_bytes(data)
        digest, n = _native.file_digest(os.fsencode(path), ALG[v["algorithm"]])
        assert (digest.hex(), n) == (v["hex"], len(data)), (v["algorithm"], v["name"])
        seen.add(v["algorithm"])
    assert seen == set(ALG), "vectors.json lacks an algorithm the engine has"


@pytest.mark.parametrize("length", [1, 16, 31, 32, 33, 64, 65, 131, 1000])
def test_blake3_extended_output(tmp_path: Path, length: int) -> None:
    blake3 = pytest.importorskip("blake3", reason="pip install blake3: the BLAKE3 oracle")
    data = bytes(range(251)) * 4000  # a tree of many chunks
    path = tmp_path / "f"
    path.write_bytes(data)
    digest, _ = _native.file_digest(os.fsencode(path), _native.ALG_BLAKE3, length)
    assert digest == blake3.blake3(data).digest(length=length)
    if shutil.which("b3sum"):
        out = subprocess.run(
            ["b3sum", "--no-names", "-l", str(length), str(path)], capture_output=True, check=True
        )
        assert digest.hex() == out.stdout.decode().strip()


def test_longer_outputs_are_blake3s_only(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="only blake3 makes other lengths"):
        _native.file_digest(os.fsencode(tmp_path / "f"), _native.ALG_SHA256, 64)
    with pytest.raises(ValueError):
        _native.file_digest(os.fsencode(tmp_path / "f"), _native.ALG_BLAKE3, -1)


def test_git_sha1_is_git_hash_object(tmp_path: Path) -> None:
    git = tool_or_skip("git")
    for i, data in enumerate([b"", b"hello\n", os.urandom(100_000)]):
        path = tmp_path / f"f{i}"
        path.write_bytes(data)
        want = subprocess.run(
            [git, "hash-object", str(path)], capture_output=True, check=True, text=True
        )
        digest, _ = _native.file_digest(os.fsencode(path), _native.ALG_GIT_SHA1)
        assert digest.hex() == want.stdout.strip()


# --- manifests the tools write, verified by the engine ------------------------


@pytest.mark.parametrize(
    "argv,manifest",
    [
        (["b2sum"], "B2SUMS"),
        (["b2sum", "--tag"], "B2SUMS"),
        (["b2sum", "-l", "256"], "B2SUMS"),
        (["b2sum", "-l", "8"], "b2sums.txt"),
        (["b2sum", "-l", "128", "--tag"], "list.txt"),
        (["cksum", "-a", "blake2b", "-l", "160"], "list.txt"),
        (["cksum", "-a", "blake2b", "-l", "384", "--untagged"], "B2SUMS"),
        (["b3sum"], "b3sums.txt"),
        (["b3sum", "--tag"], "list.txt"),
    ],
    ids=lambda x: " ".join(x) if isinstance(x, list) else x,
)
def test_tool_manifests_verify(tmp_path: Path, argv: list[str], manifest: str) -> None:
    tool_or_skip(argv[0])
    names = _tree(tmp_path)
    (tmp_path / manifest).write_bytes(_tool_output(argv, tmp_path, names))
    statuses, algs, inf = _verify(tmp_path, tmp_path / manifest)
    assert statuses == ["ok"] * len(names)
    family = "blake3" if argv[0] == "b3sum" else "blake2b"
    assert all(a.startswith(family) for a in algs), algs


@pytest.mark.parametrize(
    "alg,argv",
    [
        ("blake2b", ["b2sum"]),
        ("blake2b-256", ["b2sum", "-l", "256"]),
        ("blake2b-8", ["b2sum", "-l", "8"]),
        ("blake2b-504", ["cksum", "-a", "blake2b", "-l", "504", "--untagged"]),
        ("blake3", ["b3sum"]),
    ],
)
@pytest.mark.parametrize("tag", [False, True], ids=["untagged", "tagged"])
def test_engine_writes_what_the_tool_writes(
    tmp_path: Path, alg: str, argv: list[str], tag: bool
) -> None:
    tool_or_skip(argv[0])
    if tag:
        argv = [x for x in argv if x != "--untagged"] + ([] if argv[0] == "cksum" else ["--tag"])
    elif argv[0] == "cksum" and "--untagged" not in argv:
        argv = [*argv, "--untagged"]
    root = tmp_path / "root"
    root.mkdir()
    names = sorted(_tree(root))
    ours = _make(root, tmp_path / "out", alg, tag=tag)
    assert ours == _tool_output(argv, root, names)


def test_tools_check_what_the_engine_writes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _tree(root)
    for alg, check in [
        ("blake2b", ["b2sum", "-c"]),
        ("blake2b-96", ["b2sum", "-c"]),
        ("blake3", ["b3sum", "--check"]),
    ]:
        if shutil.which(check[0]) is None:
            continue
        for tag in (False, True):
            if check[0] == "b3sum" and tag:
                continue  # b3sum --check reads only its untagged form
            out = tmp_path / f"{alg}-{tag}.txt"
            _make(root, out, alg, tag=tag)
            r = subprocess.run([*check, str(out)], cwd=root, capture_output=True)
            assert r.returncode == 0, (alg, tag, r.stdout, r.stderr)


# --- SHA-3, SHA2-N and base64: a GNU cksum of 9.7 or newer ---------------------


@pytest.mark.parametrize(
    "alg,args",
    [
        ("sha3_224", ["-a", "sha3", "-l", "224"]),
        ("sha3_256", ["-a", "sha3", "-l", "256"]),
        ("sha3_384", ["-a", "sha3", "-l", "384"]),
        ("sha3_512", ["-a", "sha3", "-l", "512"]),
        ("sha384", ["-a", "sha2", "-l", "384"]),
        ("blake2b-248", ["-a", "blake2b", "-l", "248"]),
        ("md5", ["-a", "md5"]),
    ],
)
@pytest.mark.parametrize("style", ["tag", "untagged", "tag-base64", "untagged-base64"])
def test_new_cksum_both_ways(tmp_path: Path, alg: str, args: list[str], style: str) -> None:
    cksum = _new_cksum()
    root = tmp_path / "root"
    root.mkdir()
    names = sorted(_tree(root))
    tag, b64 = style.startswith("tag"), style.endswith("base64")
    argv = [cksum, *args, *([] if tag else ["--untagged"]), *(["--base64"] if b64 else [])]
    theirs = _tool_output(argv, root, names)
    # The engine writes what cksum writes, byte for byte...
    assert _make(root, tmp_path / "ours", alg, tag=tag, b64=b64) == theirs
    # ...reads it (untagged lines with the algorithm given, as cksum needs -a)...
    (tmp_path / "theirs").write_bytes(theirs)
    statuses, algs, _ = _verify(root, tmp_path / "theirs", None if tag else alg)
    assert statuses == ["ok"] * len(names) and set(algs) == {alg}
    # ...and cksum -c reads the engine's.
    check = [cksum, "-c", *([] if tag else args[:2]), str(tmp_path / "ours")]
    r = subprocess.run(check, cwd=root, capture_output=True)
    assert r.returncode == 0, (r.stdout, r.stderr)


@pytest.mark.parametrize(
    "family,spelling,lengths",
    [
        (_native.FAMILY_SHA2, "sha2", [224, 384, 512]),
        (_native.FAMILY_SHA3, "sha3", [256, 512]),
        (_native.FAMILY_BLAKE2B, "blake2b", [8, 160, 512]),
    ],
)
def test_new_cksum_families_without_a_length(
    tmp_path: Path, family: int, spelling: str, lengths: list[int]
) -> None:
    # `cksum -a sha3 -c` without -l reads untagged lines of every length of the
    # family (hex and base64); so does a verify job given the family.
    cksum = _new_cksum()
    (tmp_path / "f").write_bytes(b"family")
    text = b"".join(
        _tool_output(
            [cksum, "-a", spelling, "-l", str(n), "--untagged", *(["--base64"] if i % 2 else [])],
            tmp_path,
            [b"f"],
        )
        for i, n in enumerate(lengths)
    )
    (tmp_path / "list").write_bytes(text)
    r = subprocess.run([cksum, "-a", spelling, "-c", "list"], cwd=tmp_path, capture_output=True)
    assert r.returncode == 0, (r.stdout, r.stderr)
    cols, _ = _run_job(
        _native.JOB_VERIFY,
        root=os.fsencode(tmp_path),
        manifest=os.fsencode(tmp_path / "list"),
        family=family,
    )
    assert cols["status"].tolist() == [_native.ST_OK] * len(lengths)
    assert [_native.DIGEST_SIZES[a] * 8 for a in cols["algorithm"].tolist()] == lengths


def test_new_cksum_reads_sha2_tags_as_we_do(tmp_path: Path) -> None:
    cksum = _new_cksum()
    root = tmp_path
    (root / "f").write_bytes(b"f")
    d = hashlib.sha256(b"f").hexdigest()
    (root / "m").write_text(f"SHA2-256 (f) = {d}\n")
    assert subprocess.run([cksum, "-c", "m"], cwd=root, capture_output=True).returncode == 0
    assert _verify(root, root / "m")[0] == ["ok"]


# --- the hazard, the ambiguity error, base64 lines through the public API -----


def test_b3sum_manifest_read_as_sha256_is_named(tmp_path: Path) -> None:
    """Issue 18's hazard: untagged 64-digit lines from b3sum, under a name that
    says nothing, are read as sha256 and every file fails; the engine reports
    what it assumed and which algorithm the files match."""
    names = _tree(tmp_path)
    lines = b"".join(
        b"%s  %s\n" % (oracle_digest("blake3", _data(tmp_path, n)).hex().encode(), n)
        for n in names
        if b"\n" not in n and b"\\" not in n
    )
    (tmp_path / "checksums.txt").write_bytes(lines)
    statuses, algs, inf = _verify(tmp_path, tmp_path / "checksums.txt")
    assert set(statuses) == {"mismatch"} and set(algs) == {"sha256"}
    assert inf["algorithm"] == "sha256" and inf["source"] == "length"
    assert inf["rows"] == inf["mismatch"] == len(statuses) and inf["ok"] == 0
    assert inf["probed"] >= 0 and inf["match"] == "blake3"
    # Named as b3sum users name it, it verifies.
    (tmp_path / "b3sums.txt").write_bytes(lines)
    report = checksig.verify(tmp_path, "b3sums.txt")
    assert report.ok and {r.algorithm for r in report} == {"blake3"}
    statuses, _, inf = _verify(tmp_path, tmp_path / "b3sums.txt")
    assert inf["source"] == "name" and inf["ok"] == len(statuses) and inf["probed"] == -1


def test_ambiguous_length_names_every_algorithm_that_fits(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    (tmp_path / "list.txt").write_text(hashlib.blake2b(b"f", digest_size=24).hexdigest() + "  f\n")
    with pytest.raises(
        checksig.ManifestError, match="blake2b-192 makes 48: name the algorithm"
    ) as info:
        checksig.verify(tmp_path, "list.txt", strict=True)
    assert info.value.line == 1


def test_base64_tagged_lines(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    lines = "".join(
        f"{tag} (f) = {base64.b64encode(hashlib.new(alg, b'data').digest()).decode()}\n"
        for tag, alg in [
            ("MD5", "md5"),
            ("SHA1", "sha1"),
            ("SHA256", "sha256"),
            ("SHA3-512", "sha3_512"),
        ]
    )
    (tmp_path / "list.txt").write_text(lines)
    report = checksig.verify(tmp_path, "list.txt")
    assert report.ok and [r.algorithm for r in report] == ["md5", "sha1", "sha256", "sha3_512"]
