"""Rows: a report's rows read straight from the engine's result columns.

Everything that shows a report (``str()``, the notebook view, JSON, the
command line's GNU lines) reads it through a :class:`Rows`, which turns the
flat columns of a ``_native.Buffers`` into Python values without numpy and
without a Python object per row until one is asked for: statuses are
scanned as bytes, and rows are turned into values a batch at a time, so a
million-row report never holds a million of anything.

Above ``_native`` (whose tables of statuses, algorithms and digest sizes
mirror checksig.h) and ``_words`` (why a row failed); below the Report,
which holds one, and everything that renders one.
"""

from __future__ import annotations

import os

from . import _algorithms, _words
from ._native import (
    ALGORITHMS,
    ST_EXTRA,
    ST_MISMATCH,
    ST_MISSING,
    ST_NOT_CHECKED,
    ST_OK,
    STATUSES,
    digest_hex,
    status_name,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator
    from typing import Any, Callable

    from ._native import Buffers
    from ._row import LabelledRow, Row

__all__ = ["HASHED", "PASSING", "Rows"]

#: Rows turned into Python values at a time by :meth:`Rows.raw` and
#: :meth:`Rows.entries`.
BATCH = 1 << 16

#: Statuses whose actual digest was computed.
HASHED = (ST_OK, ST_MISMATCH)
#: Statuses that never make a report fail: ok, and not_checked (a row listed
#: without a digest: a RECORD's own line, a .pyc cache; FORMATS.md I).
PASSING = (ST_OK, ST_NOT_CHECKED)
# Status byte -> 1 for a failing row, else 0 (bytes.translate tables).
_FAILING = bytes(int(code not in PASSING) for code in range(256))
_FAILING_IGNORE_MISSING = bytes(int(code not in (*PASSING, ST_MISSING)) for code in range(256))

#: (Row, LabelledRow), from _row, imported when the first row is made and
#: then kept here: looking one up through a lazy proxy cost 1.3 us per row,
#: half again what making the row costs.
_ROW_CLASSES: tuple[type[Row], type[LabelledRow]] | None = None


def _row_classes() -> tuple[type[Row], type[LabelledRow]]:
    global _ROW_CLASSES
    if _ROW_CLASSES is None:
        from ._row import LabelledRow, Row

        _ROW_CLASSES = (Row, LabelledRow)
    return _ROW_CLASSES


class Rows:
    """The rows of a report, read from its columns (a ``_native.Buffers``).

    Args:
        columns: the engine-filled (or wrapped) columns.
        has_expected: whether the rows carry expected digests (a verify
            job's do, a digest job's do not).
        labels: extra per-row columns by name (a conda environment's
            ``package``, a model cache's ``repo`` and ``revision``): one
            value, a str or None, per row. Every view shows them.
    """

    __slots__ = ("columns", "has_expected", "labels")

    def __init__(
        self,
        columns: Buffers,
        *,
        has_expected: bool = True,
        labels: dict[str, list[str | None]] | None = None,
    ) -> None:
        self.columns = columns
        self.has_expected = has_expected
        self.labels = labels or {}

    def __len__(self) -> int:
        return self.columns.rows

    # -- statuses, as bytes

    def statuses(self) -> bytes:
        """The status column as bytes: one CHECKSIG_ST_* code per row."""
        return self.columns["status"].tobytes()

    def marked(self, table: bytes) -> list[int]:
        """The rows whose status code ``table`` (256 bytes) maps to 1, in order."""
        marks = self.statuses().translate(table)
        rows = []
        i = marks.find(1)
        while i >= 0:
            rows.append(i)
            i = marks.find(1, i + 1)
        return rows

    def where(self, wanted: Callable[[int], bool]) -> list[int]:
        """The rows whose status code is ``wanted``, in order."""
        return self.marked(bytes(int(wanted(code)) for code in range(256)))

    def failing(self, ignore_missing: bool = False) -> list[int]:
        """The rows that fail: not ok nor not_checked ("missing" allowed with
        ignore_missing), in order."""
        return self.marked(_FAILING_IGNORE_MISSING if ignore_missing else _FAILING)

    def all_ok(self, ignore_missing: bool = False) -> bool:
        """Whether no row fails: each is ok or not_checked ("missing" allowed
        with ignore_missing)."""
        st = self.statuses()
        good = st.count(ST_OK) + st.count(ST_NOT_CHECKED)
        good += st.count(ST_MISSING) if ignore_missing else 0
        return good == len(st)

    def counts(self) -> Counter[str]:
        """How many rows have each status, in the order of ``STATUSES`` (only
        those that occur; codes this version does not know as ``unknown(N)``)."""
        st = self.statuses()
        from collections import Counter  # here: collections costs a first call ~2 ms

        counts = Counter({name: n for code, name in enumerate(STATUSES) if (n := st.count(code))})
        if sum(counts.values()) != len(st):  # codes this version does not know
            for code in sorted(set(st.translate(None, bytes(range(len(STATUSES)))))):
                counts[f"unknown({code})"] = st.count(code)
        return counts

    # -- one row

    def raw_path(self, i: int) -> bytes:
        """Row i's name as written in the manifest."""
        c = self.columns
        off = c["path_offsets"]
        return c["paths"][off[i] : off[i + 1]].tobytes()

    def row_labels(self, i: int) -> dict[str, str | None]:
        """Row i's labels by name ({} for a report without label columns)."""
        return {name: values[i] for name, values in self.labels.items()}

    def shown_path(self, i: int) -> str:
        """Row i's name as the text views show it: safe to print, after its
        labels (``[package=numpy] lib/x.py``)."""
        return _words.labelled(
            _words.display_name(os.fsdecode(self.raw_path(i))), self.row_labels(i)
        )

    def row(self, i: int) -> Row:
        """Row i as a :class:`checksig.Row`."""
        c = self.columns
        st = c["status"][i]
        alg = c["algorithm"][i]
        size = c["size"][i]
        line = c["line"][i]
        errnum = c["errnum"][i]
        width = c.width
        expected = None
        if self.has_expected and st != ST_EXTRA:
            expected = digest_hex(c["expected"], i, width, alg) or None
        actual = None
        if st in HASHED:
            actual = digest_hex(c["actual"], i, width, alg) or None
        fields = (
            os.fsdecode(self.raw_path(i)),
            status_name(st),
            size if size >= 0 else None,
            expected,
            actual,
            _algorithms.name(alg),
            line or None,
            os.strerror(errnum) if errnum else None,
        )
        row, labelled = _ROW_CLASSES or _row_classes()
        if self.labels:
            return labelled(*fields, labels=self.row_labels(i))
        return row(*fields)

    # -- many rows, a batch at a time

    def raw(
        self, index: list[int] | None = None
    ) -> Iterator[tuple[int, bytes, str, int, int, int, int]]:
        """(i, raw name, status, errnum, line, algorithm code, size) for the rows
        in ``index`` (ascending row numbers; every row by default), in order,
        without Row objects: the columns become Python values BATCH rows at a
        time.
        """
        c = self.columns
        paths, offsets = c["paths"], c["path_offsets"]
        cols = (c["status"], c["errnum"], c["line"], c["algorithm"], c["size"])
        total = c.rows if index is None else len(index)
        for lo in range(0, total, BATCH):
            hi = min(lo + BATCH, total)
            if index is None:
                numbers: Any = range(lo, hi)
                bounds = offsets[lo : hi + 1].tolist()
                starts, ends = bounds[:-1], bounds[1:]
                codes, errnums, lines, algs, sizes = (col[lo:hi].tolist() for col in cols)
            else:
                numbers = index[lo:hi]
                starts = [offsets[i] for i in numbers]
                ends = [offsets[i + 1] for i in numbers]
                codes, errnums, lines, algs, sizes = ([col[i] for i in numbers] for col in cols)
            for k, i in enumerate(numbers):
                raw = paths[starts[k] : ends[k]].tobytes()
                yield i, raw, status_name(codes[k]), errnums[k], lines[k], algs[k], sizes[k]

    def entries(self, index: list[int] | None = None) -> Iterator[dict[str, Any]]:
        """The ``checksig.report/1`` entries (FORMATS.md E12), one dict per row
        in order (of the rows in ``index``, as :meth:`raw`): what
        ``Report.to_dict`` lists and ``checksig check --json`` writes as it goes."""
        c = self.columns
        stride = c.width
        expected, actual = c["expected"], c["actual"]
        has_expected, reason, labels = self.has_expected, _words.reason, self.labels
        for i, raw, status, errnum, line, alg, size in self.raw(index):
            try:
                entry: dict[str, Any] = {"path": raw.decode("utf-8")}
            except UnicodeDecodeError:
                entry = {"path": raw.decode("utf-8", "replace"), "path_bytes": raw.hex()}
            hashed = status in ("ok", "mismatch")
            entry.update(
                line=line or None,
                status=status,
                algorithm=ALGORITHMS[alg] if 0 < alg < len(ALGORITHMS) and stride else None,
                expected=digest_hex(expected, i, stride, alg) or None
                if has_expected and status != "extra"
                else None,
                actual=digest_hex(actual, i, stride, alg) or None if hashed else None,
                size=size if size >= 0 else None,
                reason=reason(status, errnum),
            )
            if labels:
                entry["labels"] = {name: values[i] for name, values in labels.items()}
            yield entry
