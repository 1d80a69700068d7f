"""The conda package's install test: verify small manifests with the installed checksig.

Run by conda-build's test phase (recipe/meta.yaml, test/commands) in a fresh
environment holding only the package and its run requirements, and by
tests/test_recipe.py against the staged prefix. It exercises the Go library through
the public API: a good tree passes, a tampered file fails naming the file, and the
original promise holds (check_signatures(root_dir) reads sha1sum.txt in root_dir).
"""

import hashlib
import sys
import tempfile
from pathlib import Path

import checksig

FILES = {
    "a.txt": b"checksig\n",
    "sub dir/b.bin": bytes(range(256)) * 257,
    "empty": b"",
}


def write_tree(root: Path, algorithm: str, manifest: str) -> Path:
    lines = []
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        lines.append(f"{hashlib.new(algorithm, data).hexdigest()}  {name}\n")
    (root / manifest).write_text("".join(lines))
    return root / manifest


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "sha256")
        root.mkdir()
        manifest = write_tree(root, "sha256", "SHA256SUMS")
        checksig.check_signatures(root, manifest)
        report = checksig.verify(root, manifest)
        assert report.ok and len(report) == len(FILES), report

        (root / "a.txt").write_bytes(b"tampered\n")
        try:
            checksig.check_signatures(root, manifest)
        except checksig.SignatureError as e:
            assert isinstance(e, ValueError)
            assert "a.txt" in str(e), str(e)
        else:
            raise AssertionError("a tampered file passed verification")

        legacy = Path(tmp, "sha1")
        legacy.mkdir()
        write_tree(legacy, "sha1", "sha1sum.txt")
        checksig.check_signatures(legacy)

    print(f"verify_manifest: ok ({checksig.__file__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
