"""Row: one report row as a named tuple, made on demand by Report."""

from __future__ import annotations

from typing import NamedTuple

from . import _words

__all__ = ["Row"]


class Row(NamedTuple):
    """One report row: a manifest entry (or one path of a digest job).

    Attributes:
        path: the name as written in the manifest (``os.fsdecode``, so
            undecodable bytes survive as surrogate escapes).
        status: "ok", "mismatch", "missing", "unreadable", "not_regular",
            "outside_root", "extra", "changed", "not_checked" for a row
            listed without a digest (not a failure), or "pending" for a row
            the engine never reached.
        size: bytes hashed (or the file's size), None if unknown.
        expected: the manifest's digest in lower-case hex, None if none.
        actual: the computed digest in lower-case hex, None if not hashed.
        algorithm: the name of the row's algorithm (hashlib's where hashlib
            has it: "sha256", "sha3_256", "blake2b"; else "blake2b-256",
            "blake3", "git-sha1"; "" if none).
        line: 1-based manifest line, None if the row has no line.
        reason: ``os.strerror`` of the OS error behind the status, or None.
    """

    path: str
    status: str
    size: int | None
    expected: str | None
    actual: str | None
    algorithm: str
    line: int | None
    reason: str | None

    def describe(self) -> str:
        """The row's status in words, e.g. ``mismatch (expected 3f2a..., got 9b1c...)``."""
        return _words.describe(self.status, self.reason, self.expected, self.actual)
