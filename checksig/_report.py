"""Report: the result of a verify (or digest) job, column by column.

A Report holds the columns the engine filled and creates Python row
objects only when asked (indexing, iteration, ``failures``), so a
million-entry manifest costs a few arrays, not a million objects. The
columns are engine-filled buffers (``_native.Buffers``); the public numpy
arrays (``columns``, ``status``) are views of them made on first access,
and everything a batch call needs on its own (``ok``, ``failures``,
``counts()``, ``str()``) reads the buffers directly, without numpy.
"""

from __future__ import annotations

import errno
import os

from ._feedback import human_bytes, human_seconds
from ._lazy import _LazyModule, np
from ._native import (
    ALGORITHMS,
    DIGEST_SIZES,
    ST_EXTRA,
    ST_MISMATCH,
    ST_MISSING,
    ST_OK,
    STATUSES,
    Buffers,
    digest_hex,
    status_name,
)

# No typing or pathlib at run time: a blocking call's report is made in every
# CLI run and script, and those modules cost a fresh process ~10 ms each (see
# tests/test_startup.py). Row, a typing.NamedTuple, lives in _row, imported
# when the first row is made.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any, overload

    import pandas

    from ._row import Row

__all__ = ["Report", "STATUSES"]

#: The HTML view and display_name, imported on first use: they pull in html
#: and re, which a batch call that prints nothing never needs.
_html = _LazyModule("checksig._html")
_pathlib = _LazyModule("pathlib")

#: Row, from _row, imported when the first row is made and then kept here:
#: looking it up through a lazy proxy cost 1.3 us per row, half again what
#: making the row costs.
_Row: type[Row] | None = None


def _row_class() -> type[Row]:
    global _Row
    if _Row is None:
        from ._row import Row

        _Row = Row
    return _Row


# Statuses whose actual digest was computed.
_HASHED = (ST_OK, ST_MISMATCH)
# Status byte -> 1 for a failing row, else 0 (bytes.translate tables).
_FAILING = bytes(int(code != ST_OK) for code in range(256))
_FAILING_IGNORE_MISSING = bytes(int(code not in (ST_OK, ST_MISSING)) for code in range(256))

#: How many failures str() lists before "... and N more".
STR_MAX_FAILURES = 100

#: The to_json()/to_dict() schema; ``checksig check --json`` writes the same.
JSON_SCHEMA = "checksig.report/1"

#: Rows turned into Python values at a time by _entries (a million-row report
#: never has a Python object per row at once).
_BATCH = 1 << 16

#: A failed row's reason when no OS error explains it (FORMATS.md E3): what
#: to_json(), ``checksig check --json`` and the CLI's messages say.
_REASONS = {
    "missing": os.strerror(errno.ENOENT),
    "not_regular": "not a regular file (never read)",
    "outside_root": "refusing a name that leads outside the root directory (not read)",
    "extra": "not listed in the manifest",
    "changed": "file changed as we read it",
    "pending": "not checked (the run was interrupted)",
}


class Report:
    """The outcome of verifying a manifest: one row per entry, in manifest order.

    Python ``Row`` objects are made only on demand: ``len(report)``,
    ``report[i]``, iteration, ``failures``. The raw numpy columns are in
    :attr:`columns` (and :attr:`status`) for vectorised work, e.g. the
    sizes of every mismatching file::

        c = report.columns
        c["size"][c["status"] == checksig.STATUSES.index("mismatch")]

    Displays: ``repr()`` is a one-line count, ``str()`` a summary then one
    line per failure (at most 100), and in Jupyter ``_repr_html_`` renders
    a summary table (entries, each status, bytes hashed, elapsed time,
    throughput) and a table of failures (path, status, reason, expected
    and actual digests; at most 50 rows, html-escaped).

    Conversions: :meth:`to_pandas` (a DataFrame, one row per entry),
    :meth:`to_dict` and :meth:`to_json` (the ``checksig.report/1`` document
    described in :meth:`to_dict`, shared with ``checksig check --json``).

    Attributes:
        root: the directory entries are relative to (a Path).
        manifest: the manifest read (a Path), or None for a digest job.
        warnings: malformed manifest lines that were skipped, as a list of
            (line, message); the engine keeps the first 1000.
        columns: dict of the engine-filled numpy arrays, one entry per row:
            ``status`` (uint8, an index into ``checksig.STATUSES``),
            ``algorithm`` (uint8, an index into ``("",) + ALGORITHMS``),
            ``errnum`` (int32, the OS errno behind a failure, else 0),
            ``size`` (int64, bytes hashed or the file's size, -1 unknown),
            ``line`` (int64, 1-based manifest line, 0 none), ``expected``
            and ``actual`` (uint8, shape (rows, digest_width): raw digest
            bytes, left-aligned, zero padded; ``actual`` is zero where
            nothing was hashed), ``path_offsets`` (int64, rows+1) and
            ``paths`` (uint8: row i's name is
            ``paths[path_offsets[i]:path_offsets[i+1]]``, as written in the
            manifest).
        ignore_missing: whether "missing" rows count as ok for :attr:`ok`
            and :attr:`failures`.
        elapsed: seconds the run took (measured in Python around the
            engine job), or None.
        bytes_hashed: bytes the engine read and hashed, or None.
        io: how the engine read and hashed the big files (512 KiB and more):
            a tuple of "read" (read(2) into a buffer), "mmap" (memory mapped),
            "readahead" (read on one core while another hashed), "openssl"
            (hashed by the OpenSSL that hashlib loaded, where faster) and
            "calibrating" (the first big files of the process, timed both
            ways to choose between read and mmap; ``CHECKSIG_IO`` forces
            one); empty when no file was big; None when not known.
    """

    __slots__ = (
        "_columns",
        "_raw",
        "_root",
        "_manifest",
        "warnings",
        "ignore_missing",
        "elapsed",
        "bytes_hashed",
        "io",
        "_has_expected",
    )

    def __init__(
        self,
        columns: dict[str, np.ndarray] | Buffers,
        *,
        root: str | os.PathLike[str] | None = None,
        manifest: str | os.PathLike[str] | None = None,
        warnings: list[tuple[int, str]] | None = None,
        ignore_missing: bool = False,
        has_expected: bool = True,
        elapsed: float | None = None,
        bytes_hashed: int | None = None,
        io: tuple[str, ...] | None = None,
    ) -> None:
        self._raw: Buffers | None = None
        self._columns: dict[str, np.ndarray] | None = None
        if isinstance(columns, Buffers):  # from the engine: numpy views on first access
            self._raw = columns
        else:
            self._columns = columns
        self.root = root
        self.manifest = manifest
        self.warnings = list(warnings or [])
        self.ignore_missing = ignore_missing
        self.elapsed = elapsed
        self.bytes_hashed = bytes_hashed
        self.io = io
        self._has_expected = has_expected

    # root and manifest are kept as strings and handed out as Paths: a
    # blocking call's report would otherwise import pathlib (and with it re,
    # urllib.parse, ...) in every CLI run and script. No docstrings: the
    # class docstring documents them, as when they were plain slots.
    @property
    def root(self) -> Path | None:
        return None if self._root is None else _pathlib.Path(self._root)

    @root.setter
    def root(self, root: str | os.PathLike[str] | None) -> None:
        self._root = None if root is None else os.fsdecode(root)

    @property
    def manifest(self) -> Path | None:
        return None if self._manifest is None else _pathlib.Path(self._manifest)

    @manifest.setter
    def manifest(self, manifest: str | os.PathLike[str] | None) -> None:
        self._manifest = None if manifest is None else os.fsdecode(manifest)

    # -- columns

    # No docstring: the class docstring documents the attribute, and help()
    # shows it as before (it was a plain slot).
    @property
    def columns(self) -> dict[str, np.ndarray]:
        columns = self._columns
        if columns is None:
            # Zero-copy numpy views of the engine's buffers, made on first
            # access: a batch call that never asks does not import numpy.
            columns = self._columns = self._raw.arrays()
        return columns

    @columns.setter
    def columns(self, columns: dict[str, np.ndarray]) -> None:
        self._columns = columns
        self._raw = None

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # Pickle the columns once: the numpy arrays if they were made (the
        # buffers are remade from them on load), else the engine's buffers.
        state = {name: getattr(self, name) for name in self.__slots__ if hasattr(self, name)}
        if state.get("_columns") is not None:
            state["_raw"] = None
        return None, state

    def _raw_columns(self) -> Buffers:
        """The columns as flat memoryviews (``Buffers``), for numpy-free reading.

        The engine's buffers, unless :attr:`columns` was given as numpy
        arrays or has been changed since: then buffers over those arrays.
        """
        raw, columns = self._raw, self._columns
        if raw is None or (columns is not None and not raw.is_view_of(columns)):
            raw = self._raw = Buffers.wrap(columns)
        return raw

    @property
    def status(self) -> np.ndarray:
        """The status column: uint8 codes, names in ``checksig.STATUSES``."""
        return self.columns["status"]

    def __len__(self) -> int:
        return self._raw_columns().rows

    def _path(self, i: int, c: Buffers | None = None) -> str:
        if c is None:
            c = self._raw_columns()
        off = c["path_offsets"]
        return os.fsdecode(c["paths"][off[i] : off[i + 1]].tobytes())

    def _row(self, i: int, c: Buffers | None = None) -> Row:
        if c is None:
            c = self._raw_columns()
        st = c["status"][i]
        alg = c["algorithm"][i]
        size = c["size"][i]
        line = c["line"][i]
        errnum = c["errnum"][i]
        width = c.width
        expected = None
        if self._has_expected and st != ST_EXTRA:
            expected = digest_hex(c["expected"], i, width, alg) or None
        actual = None
        if st in _HASHED:
            actual = digest_hex(c["actual"], i, width, alg) or None
        return (_Row or _row_class())(
            path=self._path(i, c),
            status=status_name(st),
            size=size if size >= 0 else None,
            expected=expected,
            actual=actual,
            algorithm=ALGORITHMS[alg] if alg < len(ALGORITHMS) else f"unknown({alg})",
            line=line or None,
            reason=os.strerror(errnum) if errnum else None,
        )

    if TYPE_CHECKING:  # typing.overload, for type checkers only

        @overload
        def __getitem__(self, index: int) -> Row: ...

        @overload
        def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        """Row ``index`` (negative counts from the end), or a list for a slice."""
        c = self._raw_columns()
        rows = range(c.rows)  # its indexing: slices, negatives, __index__, bounds
        if isinstance(index, slice):
            return [self._row(i, c) for i in rows[index]]
        try:
            i = rows[index]
        except IndexError:
            raise IndexError(f"report row {index} out of range ({c.rows} rows)") from None
        return self._row(i, c)

    def __iter__(self) -> Iterator[Row]:
        c = self._raw_columns()
        for i in range(c.rows):
            yield self._row(i, c)

    # -- summaries

    def _failing_rows(self) -> list[int]:
        """The indices of the rows that make :attr:`ok` false, in order."""
        return self._rows_marked(_FAILING_IGNORE_MISSING if self.ignore_missing else _FAILING)

    def _rows_marked(self, table: bytes) -> list[int]:
        """The indices of the rows whose status code table (256 bytes) maps to
        1, in order. Read from the status bytes: no Python object per other
        row, no numpy."""
        marks = self._raw_columns()["status"].tobytes().translate(table)
        rows = []
        i = marks.find(1)
        while i >= 0:
            rows.append(i)
            i = marks.find(1, i + 1)
        return rows

    @property
    def ok(self) -> bool:
        """True when every row is ok ("missing" allowed with ignore_missing)."""
        st = self._raw_columns()["status"].tobytes()
        good = st.count(ST_OK) + (st.count(ST_MISSING) if self.ignore_missing else 0)
        return good == len(st)

    @property
    def failures(self) -> list[Row]:
        """The rows that make :attr:`ok` false, in manifest order."""
        c = self._raw_columns()
        return [self._row(i, c) for i in self._failing_rows()]

    def counts(self) -> Counter[str]:
        """How many rows have each status: a Counter (a dict; absent statuses are 0).

        Only statuses that occur are keys, in the order of ``STATUSES``.
        """
        st = self._raw_columns()["status"].tobytes()
        from collections import Counter  # here: collections costs a first call ~2 ms

        counts = Counter({name: n for code, name in enumerate(STATUSES) if (n := st.count(code))})
        if sum(counts.values()) != len(st):  # codes this version does not know
            for code in sorted(set(st.translate(None, bytes(range(len(STATUSES)))))):
                counts[f"unknown({code})"] = st.count(code)
        return counts

    def _name(self) -> str:
        if self._manifest is not None:
            return _html.display_name(os.path.basename(self._manifest))
        return "digest"

    def _title(self) -> str:
        """The manifest's whole path (or the job's name), safe to print."""
        if self._manifest is not None:
            return _html.display_name(self._manifest)
        return self._name()

    def _summary(self) -> str:
        parts = [f"{len(self)} entr{'y' if len(self) == 1 else 'ies'}"]
        parts += [f"{n} {name}" for name, n in self.counts().items()]
        return ", ".join(parts)

    @property
    def throughput(self) -> float | None:
        """Bytes hashed per second over the whole run, or None if unknown."""
        if self.bytes_hashed is None or not self.elapsed:
            return None
        return self.bytes_hashed / self.elapsed

    def _timing(self) -> str:
        """``"12.0 MiB hashed in 35 ms (342.9 MiB/s, mmap)"``, or "" if not measured."""
        if self.elapsed is None:
            return ""
        text = f"in {human_seconds(self.elapsed)}"
        if self.bytes_hashed is not None:
            text = f"{human_bytes(self.bytes_hashed)} hashed {text}"
            rate = self.throughput
            details = ([f"{human_bytes(rate)}/s"] if rate is not None else []) + list(self.io or ())
            if details:
                text += f" ({', '.join(details)})"
        return text

    def __repr__(self) -> str:
        return f"<Report {self._name()}: {self._summary()}>"

    def failure_lines(self) -> list[str]:
        """One ``path: what went wrong`` line per failure (with the manifest line)."""
        display_name = _html.display_name  # once: a lazy module costs ~1 us a lookup
        return [f"{display_name(r.path)}: {r.describe()}" for r in self.failures]

    def __str__(self) -> str:
        head = self._title()
        timing = self._timing()
        display_name = _html.display_name  # once: a lazy module costs ~1 us a lookup
        lines = [f"{head}: {self._summary()}" + (f"; {timing}" if timing else "")]
        if self.ok:
            ignored = " (missing files ignored)" if self.counts()["missing"] else ""
            lines.append("all entries ok" + ignored)
        else:
            bad, c = self._failing_rows(), self._raw_columns()
            lines.append(f"{len(bad)} failed:")
            for i in bad[:STR_MAX_FAILURES]:
                r = self._row(i, c)
                lines.append(f"  {display_name(r.path)}: {r.describe()}")
            if len(bad) > STR_MAX_FAILURES:
                lines.append(
                    f"  \u2026 and {len(bad) - STR_MAX_FAILURES} more "
                    "(report.failures lists them all)"
                )
        if self.warnings:
            lines.append(f"{len(self.warnings)} malformed manifest line(s) skipped:")
            shown = self.warnings[:STR_MAX_FAILURES]
            lines += [f"  line {line}: {display_name(msg)}" for line, msg in shown]
            if len(self.warnings) > len(shown):
                lines.append(f"  \u2026 and {len(self.warnings) - len(shown)} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The notebook view: a summary table, then the failures (at most 50)."""
        return _html.report_html(self)

    # -- conversions

    @staticmethod
    def _reason(errnum: int, status: str) -> str | None:
        if status in ("ok", "mismatch"):
            return None
        if errnum:
            return os.strerror(errnum)
        return _REASONS.get(status, status)

    def to_dict(self) -> dict[str, Any]:
        """The report as a ``checksig.report/1`` document (JSON-ready dict).

        The schema is the one ``checksig check --json`` writes (FORMATS.md,
        rule E12), with three keys of its own in ``summary``::

            {
              "schema": "checksig.report/1",
              "root": str | null,         # the directory names are relative to
              "manifest": str | null,     # the manifest read
              "summary": {
                "entries": int,           # rows
                "counts": {status: int},  # every status of checksig.STATUSES, 0 included
                "improperly_formatted": int,  # malformed manifest lines skipped
                "could_not_be_read": int,     # failed rows other than mismatch and extra
                "ignored_missing": int,       # missing rows forgiven by ignore_missing
                "passed": bool,               # Report.ok
                "bytes_hashed": int | null,   # library only
                "elapsed_seconds": float | null,  # library only
                "io": [str] | null,           # library only: Report.io
              },
              "entries": [                # one per row, in manifest order
                {"path": str,             # UTF-8 name (U+FFFD for undecodable bytes)
                 "path_bytes": str,       # only when the name is not UTF-8: its bytes in hex
                 "line": int | null, "status": str, "algorithm": str | null,
                 "expected": hex | null, "actual": hex | null,
                 "size": int | null, "reason": str | null}
              ],
              "warnings": [{"line": int, "message": str}]
            }

        The CLI adds ``summary.exit_status`` and computes ``passed`` with
        GNU's rules, which differ from :attr:`ok` in corner cases (GNU fails
        a run in which no file was verified, even when every entry was a
        missing file it was told to ignore).
        """
        counts = {name: 0 for name in STATUSES}
        counts.update(self.counts())
        ignored = counts["missing"] if self.ignore_missing else 0
        read = counts["ok"] + counts["mismatch"] + counts["extra"]
        return {
            "schema": JSON_SCHEMA,
            "root": self._root,
            "manifest": self._manifest,
            "summary": {
                "entries": len(self),
                "counts": counts,
                "improperly_formatted": len(self.warnings),
                "could_not_be_read": len(self) - read - ignored,
                "ignored_missing": ignored,
                "passed": self.ok,
                "bytes_hashed": self.bytes_hashed,
                "elapsed_seconds": self.elapsed,
                "io": None if self.io is None else list(self.io),
            },
            "entries": list(self._entries()),
            "warnings": [{"line": line, "message": msg} for line, msg in self.warnings],
        }

    def _raw_rows(
        self, index: list[int] | None = None
    ) -> Iterator[tuple[int, bytes, str, int, int, int, int]]:
        """(i, raw name, status, errnum, line, algorithm code, size) for the rows
        in ``index`` (ascending row numbers; every row by default), in manifest
        order, without Row objects and without numpy: the columns are turned
        into Python values a batch of _BATCH rows at a time, so a million-row
        report never has a Python object per row at once.
        """
        c = self._raw_columns()
        paths, offsets = c["paths"], c["path_offsets"]
        cols = (c["status"], c["errnum"], c["line"], c["algorithm"], c["size"])
        total = c.rows if index is None else len(index)
        for lo in range(0, total, _BATCH):
            hi = min(lo + _BATCH, total)
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

    def _entries(self) -> Iterator[dict[str, Any]]:
        """The ``checksig.report/1`` entries (see :meth:`to_dict`), one dict per
        row in manifest order: what ``to_dict`` lists and ``checksig check
        --json`` writes as it goes (from :meth:`_raw_rows`: no numpy, no Row).
        """
        c = self._raw_columns()
        stride = c.width
        expected, actual = c["expected"], c["actual"]
        has_expected, reason = self._has_expected, self._reason
        for i, raw, status, errnum, line, alg, size in self._raw_rows():
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
                reason=reason(errnum, status),
            )
            yield entry

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as ``checksig.report/1`` JSON text (see :meth:`to_dict`).

        The text is ASCII (other characters as ``\\uXXXX`` escapes), as the
        CLI's. Names that are not valid UTF-8 appear with U+FFFD
        replacements in ``path`` and exactly, in hex, in ``path_bytes``.
        """
        import json

        return json.dumps(self.to_dict(), indent=indent)

    def to_pandas(self) -> pandas.DataFrame:
        """The report as a pandas DataFrame, one row per entry.

        Columns: path, status (categorical), size, expected, actual,
        algorithm, line, reason; missing values are None/<NA>. Needs pandas
        (``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Report.to_pandas() needs pandas: pip install pandas "
                '(or pip install "checksig[pandas]")'
            ) from exc
        c = self.columns
        n = len(self)
        st, alg = c["status"], c["algorithm"]
        # Built from the columns: no Row per entry, one Python object per cell
        # that pandas keeps anyway (names and hex digests), lookups for the rest.
        known = alg < len(ALGORITHMS)
        lengths = np.zeros(256, dtype=np.int64)
        lengths[: len(DIGEST_SIZES)] = DIGEST_SIZES
        has_digest = known & (alg != 0)
        expected_len = np.where(has_digest & (st != ST_EXTRA), lengths[alg], 0)
        if not self._has_expected:
            expected_len[:] = 0
        actual_len = np.where(has_digest & np.isin(st, _HASHED), lengths[alg], 0)
        reason = np.full(n, None, dtype=object)
        errnum = c["errnum"]
        for e in np.unique(errnum[errnum != 0]).tolist():
            reason[errnum == e] = os.strerror(e)
        codes = np.where(st < len(STATUSES), st, -1)
        alg_names = np.array(
            [*ALGORITHMS, *(f"unknown({i})" for i in range(len(ALGORITHMS), 256))], dtype=object
        )
        return pd.DataFrame(
            {
                "path": self._paths(),
                "status": pd.Categorical.from_codes(codes, categories=list(STATUSES)),
                "size": pd.Series(c["size"], dtype="Int64").mask(c["size"] < 0),
                "expected": _hex_column(c["expected"], expected_len),
                "actual": _hex_column(c["actual"], actual_len),
                "algorithm": alg_names[alg],
                "line": pd.Series(c["line"], dtype="Int64").mask(c["line"] <= 0),
                "reason": reason,
            }
        )

    def _paths(self) -> list[str]:
        """Every row's name, as _path gives it."""
        blob = self.columns["paths"].tobytes()
        offsets = self.columns["path_offsets"].tolist()
        if blob.isascii():  # the common case: byte offsets are character offsets
            text = blob.decode("ascii")
            return [text[a:b] for a, b in zip(offsets, offsets[1:])]
        return [os.fsdecode(blob[a:b]) for a, b in zip(offsets, offsets[1:])]


def _hex_column(digests: np.ndarray, lengths: np.ndarray) -> list[str | None]:
    """Row i's first lengths[i] bytes of digests in hex, None where lengths[i] is 0."""
    width = digests.shape[1]
    if not width:
        return [None] * len(lengths)
    blob = digests.tobytes()
    return [
        blob[i : i + k].hex() if k else None
        for i, k in zip(range(0, len(blob), width), lengths.tolist())
    ]
