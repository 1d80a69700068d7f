"""Regenerate tests/vectors.json: digests computed by implementations independent
of the engine's.

The Go tests (go/vectors_test.go) and the pytest suite both read the file, so
the engine is checked against an independent implementation of every
algorithm: Python's hashlib for md5, the SHA-2 and SHA-3 families, BLAKE2b at
every length b2sum -l accepts and BLAKE2s; the `blake3` package from PyPI (the
Rust reference implementation's bindings) for BLAKE3; hashlib's SHA-1 over
git's "blob SIZE\\0" header for git-sha1 (what `git hash-object` prints; the
pytest suite also checks those against git itself). Run from the repository
root: python tests/make_vectors.py (needs `pip install blake3`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import blake3  # PyPI: pip install blake3

CLASSIC = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
# Issue 18: the algorithms today's tools write besides the classic ones.
MORE = ["sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2s", "blake3", "git-sha1"]
MORE += [f"blake2b-{bits}" for bits in range(8, 512, 8)] + ["blake2b"]
# name, pattern, repeat: the data is pattern * repeat, UTF-8 encoded.
INPUTS = [
    ("empty", "", 0),
    ("abc", "abc", 1),
    ("unicode", "päth ✓\n", 3),
    ("one-block-edge", "x", 64),
    ("1MiB-pattern", "0123456789abcdef", 65536),
    ("odd-size", "checksig", 40000 + 7),
]


def digest(alg: str, data: bytes) -> str:
    if alg == "blake3":
        return blake3.blake3(data).hexdigest()
    if alg == "git-sha1":
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    if alg.startswith("blake2b-"):
        return hashlib.blake2b(data, digest_size=int(alg[8:]) // 8).hexdigest()
    return hashlib.new(alg, data).hexdigest()


def main() -> None:
    vectors = []
    for name, pattern, repeat in INPUTS:
        data = (pattern * repeat).encode()
        for alg in CLASSIC + MORE:
            vectors.append(
                {
                    "name": name,
                    "algorithm": alg,
                    "pattern": pattern,
                    "repeat": repeat,
                    "hex": digest(alg, data),
                }
            )
    out = Path(__file__).with_name("vectors.json")
    doc = {"generator": "tests/make_vectors.py", "vectors": vectors}
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
