"""Regenerate tests/vectors.json: digests computed by Python's hashlib.

The Go tests (go/vectors_test.go) and the pytest suite both read the file, so
the engine is checked against an independent implementation of every
algorithm. Run from the repository root: python tests/make_vectors.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ALGORITHMS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
# name, pattern, repeat: the data is pattern * repeat, UTF-8 encoded.
INPUTS = [
    ("empty", "", 0),
    ("abc", "abc", 1),
    ("unicode", "päth ✓\n", 3),
    ("one-block-edge", "x", 64),
    ("1MiB-pattern", "0123456789abcdef", 65536),
    ("odd-size", "checksig", 40000 + 7),
]


def main() -> None:
    vectors = []
    for name, pattern, repeat in INPUTS:
        data = (pattern * repeat).encode()
        for alg in ALGORITHMS:
            vectors.append(
                {
                    "name": name,
                    "algorithm": alg,
                    "pattern": pattern,
                    "repeat": repeat,
                    "hex": hashlib.new(alg, data).hexdigest(),
                }
            )
    out = Path(__file__).with_name("vectors.json")
    doc = {"generator": "tests/make_vectors.py", "vectors": vectors}
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
