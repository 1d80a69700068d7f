"""checksig: verify files against checksum manifests, fast and in parallel.

The engine is Go, shipped as a shared library inside this package and loaded
on first use (``import checksig`` alone does not load it). The API::

    checksig.check_signatures(root_dir)        # raise SignatureError naming every failure
    checksig.verify(root_dir, "SHA256SUMS")    # a Report, never raising for bad entries
    checksig.make_manifest(root_dir)           # write root_dir/sha256sum.txt atomically
    checksig.file_digest(path, "sha256")       # one file's hex digest
    checksig.check_file(path, expected_hex)    # algorithm inferred from the length
    checksig.digest_files(paths, "md5")        # many files in parallel, in input order

Algorithms are hashlib's names: md5, sha1, sha224, sha256, sha384, sha512.
Ctrl-C cancels the engine's work promptly. The engine cannot be used in a
process forked from one that already used it: use multiprocessing's "spawn"
or "forkserver" start method.
"""

from __future__ import annotations

from ._api import (
    ALGORITHMS,
    check_file,
    check_signatures,
    digest_files,
    file_digest,
    make_manifest,
    verify,
)
from ._errors import Cancelled, EngineError, ManifestError, SignatureError
from ._report import STATUSES, Report, Row


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version("checksig")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

__all__ = [
    "ALGORITHMS",
    "STATUSES",
    "Cancelled",
    "EngineError",
    "ManifestError",
    "Report",
    "Row",
    "SignatureError",
    "__version__",
    "check_file",
    "check_signatures",
    "digest_files",
    "file_digest",
    "make_manifest",
    "verify",
]
