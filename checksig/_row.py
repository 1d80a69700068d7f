"""Row: one report row as a named tuple, made on demand by Report.

A report with label columns (a package, a repo and revision) makes its rows
as :class:`LabelledRow`, a Row that also carries ``labels``. Row stays the
8-field tuple it always was (``path, status, ... = row`` unpacks 8 values,
``_fields``, ``_asdict()`` and equality are the fields'); a field cannot be
added without breaking that, so the labels ride beside the fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import _words

__all__ = ["LabelledRow", "Row"]


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

    Not a field: :attr:`labels`, the row's label columns by name (``{}``
    for a report without any).
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

    @property
    def labels(self) -> dict[str, str | None]:
        """The row's label columns by name (``{"package": "numpy 2.1.0"}``,
        ``{"repo": ..., "revision": ...}``); ``{}`` for a report without
        label columns. Not one of the tuple's fields."""
        return {}


class LabelledRow(Row):
    """A :class:`Row` of a report with label columns: :attr:`labels` holds
    the row's values. Equal to, and unpacked as, the Row of its 8 fields."""

    # No __slots__: a tuple subclass cannot have non-empty ones, so the
    # labels live in the instance's __dict__ (only labelled rows pay for one).

    def __new__(cls, *fields: Any, labels: dict[str, str | None], **named: Any) -> LabelledRow:
        row = super().__new__(cls, *fields, **named)
        row.__dict__["_labels"] = labels
        return row

    @property
    def labels(self) -> dict[str, str | None]:
        """The row's label columns by name (a copy)."""
        return dict(self.__dict__["_labels"])

    def _replace(self, **changes: Any) -> LabelledRow:
        return LabelledRow(*Row._replace(self, **changes), labels=self.__dict__["_labels"])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_labelled, (tuple(self), self.__dict__["_labels"]))

    def __repr__(self) -> str:
        return f"{Row.__repr__(self)[:-1]}, labels={self.__dict__['_labels']!r})"


def _labelled(fields: tuple[Any, ...], labels: dict[str, str | None]) -> LabelledRow:
    """Unpickle a LabelledRow."""
    return LabelledRow(*fields, labels=labels)
