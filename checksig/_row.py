"""Row: one report row as a named tuple, made on demand by Report."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Row"]


class Row(NamedTuple):
    """One report row: a manifest entry (or one path of a digest job).

    Attributes:
        path: the name as written in the manifest (``os.fsdecode``, so
            undecodable bytes survive as surrogate escapes).
        status: "ok", "mismatch", "missing", "unreadable", "not_regular",
            "outside_root", "extra", "changed", or "pending" for a row the
            engine never reached.
        size: bytes hashed (or the file's size), None if unknown.
        expected: the manifest's digest in lower-case hex, None if none.
        actual: the computed digest in lower-case hex, None if not hashed.
        algorithm: the hashlib name of the row's algorithm ("" if none).
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
        return _describe(self)


def _short(hexdigest: str | None) -> str:
    if not hexdigest:
        return "?"
    return hexdigest[:8] + "\u2026"


def _describe(row: Row) -> str:
    st = row.status
    if st == "ok":
        return "ok"
    if st == "mismatch":
        return f"mismatch (expected {_short(row.expected)}, got {_short(row.actual)})"
    if st == "missing":
        return f"missing ({row.reason or 'No such file or directory'})"
    if st == "unreadable":
        return f"unreadable ({row.reason or 'read error'})"
    if st == "not_regular":
        if row.reason:
            return f"not a regular file ({row.reason})"
        return "not a regular file (a FIFO, socket or device: never read)"
    if st == "outside_root":
        return "outside the root directory (not read)"
    if st == "extra":
        return "extra (not listed in the manifest)"
    if st == "changed":
        return "changed while it was read (its size changed)"
    if st == "pending":
        return "not checked (the job stopped first)"
    return st
