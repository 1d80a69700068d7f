"""Report: the result of a verify (or digest) job, column by column.

A Report holds the numpy columns the engine filled and creates Python row
objects only when asked (indexing, iteration, ``failures``), so a
million-entry manifest costs a few arrays, not a million objects.
"""

from __future__ import annotations

import html
import operator
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np

from ._native import ALGORITHMS, DIGEST_SIZES, STATUSES

if TYPE_CHECKING:
    import pandas

__all__ = ["Report", "Row", "STATUSES"]

_ST_OK = STATUSES.index("ok")
_ST_MISSING = STATUSES.index("missing")
# Statuses whose actual digest was computed.
_HASHED = (STATUSES.index("ok"), STATUSES.index("mismatch"))

#: How many failures the HTML view lists before "... and N more".
HTML_MAX_FAILURES = 200


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


def _hex(cell: np.ndarray, alg: int) -> str:
    return cell[: DIGEST_SIZES[alg]].tobytes().hex()


class Report:
    """The outcome of verifying a manifest: one row per entry, in manifest order.

    Python ``Row`` objects are made only on demand: ``len(report)``,
    ``report[i]``, iteration, ``failures``. The raw numpy columns are in
    :attr:`columns` (and :attr:`status`) for vectorised work.

    Attributes:
        root: the directory entries are relative to (a Path).
        manifest: the manifest read (a Path), or None for a digest job.
        warnings: malformed manifest lines that were skipped, as a list of
            (line, message).
        columns: dict of the engine-filled numpy arrays: ``status`` (uint8),
            ``algorithm`` (uint8), ``errnum`` (int32), ``size`` (int64, -1
            unknown), ``line`` (int64, 0 none), ``expected`` and ``actual``
            (uint8, shape (rows, digest_width)), ``path_offsets`` (int64,
            rows+1) and ``paths`` (uint8: row i's name is
            ``paths[path_offsets[i]:path_offsets[i+1]]``).
        ignore_missing: whether "missing" rows count as ok for :attr:`ok`
            and :attr:`failures`.
    """

    __slots__ = ("columns", "root", "manifest", "warnings", "ignore_missing", "_has_expected")

    def __init__(
        self,
        columns: dict[str, np.ndarray],
        *,
        root: Path | None = None,
        manifest: Path | None = None,
        warnings: list[tuple[int, str]] | None = None,
        ignore_missing: bool = False,
        has_expected: bool = True,
    ) -> None:
        self.columns = columns
        self.root = root
        self.manifest = manifest
        self.warnings = list(warnings or [])
        self.ignore_missing = ignore_missing
        self._has_expected = has_expected

    # -- columns

    @property
    def status(self) -> np.ndarray:
        """The status column: uint8 codes, names in ``checksig.STATUSES``."""
        return self.columns["status"]

    def __len__(self) -> int:
        return int(self.columns["status"].shape[0])

    def _path(self, i: int) -> str:
        off = self.columns["path_offsets"]
        raw = self.columns["paths"][off[i] : off[i + 1]].tobytes()
        return os.fsdecode(raw)

    def _row(self, i: int) -> Row:
        c = self.columns
        st = int(c["status"][i])
        alg = int(c["algorithm"][i])
        size = int(c["size"][i])
        line = int(c["line"][i])
        errnum = int(c["errnum"][i])
        expected = None
        if self._has_expected and alg and c["expected"].shape[1]:
            expected = _hex(c["expected"][i], alg)
        actual = None
        if st in _HASHED and alg and c["actual"].shape[1]:
            actual = _hex(c["actual"][i], alg)
        return Row(
            path=self._path(i),
            status=STATUSES[st] if st < len(STATUSES) else f"unknown({st})",
            size=size if size >= 0 else None,
            expected=expected,
            actual=actual,
            algorithm=ALGORITHMS[alg] if alg < len(ALGORITHMS) else f"unknown({alg})",
            line=line or None,
            reason=os.strerror(errnum) if errnum else None,
        )

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        """Row ``index`` (negative counts from the end), or a list for a slice."""
        n = len(self)
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(n))]
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"report row {index} out of range ({n} rows)")
        return self._row(i)

    def __iter__(self) -> Iterator[Row]:
        for i in range(len(self)):
            yield self._row(i)

    # -- summaries

    def _failing_mask(self) -> np.ndarray:
        st = self.columns["status"]
        bad = st != _ST_OK
        if self.ignore_missing:
            bad &= st != _ST_MISSING
        return bad

    @property
    def ok(self) -> bool:
        """True when every row is ok ("missing" allowed with ignore_missing)."""
        return not bool(self._failing_mask().any())

    @property
    def failures(self) -> list[Row]:
        """The rows that make :attr:`ok` false, in manifest order."""
        return [self._row(int(i)) for i in np.flatnonzero(self._failing_mask())]

    def counts(self) -> Counter[str]:
        """How many rows have each status: a Counter (a dict; absent statuses are 0).

        Only statuses that occur are keys, in the order of ``STATUSES``.
        """
        bins = np.bincount(self.columns["status"], minlength=len(STATUSES))
        names = list(STATUSES) + [f"unknown({i})" for i in range(len(STATUSES), len(bins))]
        return Counter({name: int(n) for name, n in zip(names, bins) if n})

    def _name(self) -> str:
        if self.manifest is not None:
            return self.manifest.name
        return "digest"

    def _summary(self) -> str:
        parts = [f"{len(self)} entr{'y' if len(self) == 1 else 'ies'}"]
        parts += [f"{n} {name}" for name, n in self.counts().items()]
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<Report {self._name()}: {self._summary()}>"

    def failure_lines(self) -> list[str]:
        """One ``path: what went wrong`` line per failure (with the manifest line)."""
        return [f"{r.path}: {r.describe()}" for r in self.failures]

    def __str__(self) -> str:
        head = str(self.manifest) if self.manifest is not None else self._name()
        lines = [f"{head}: {self._summary()}"]
        if self.ok:
            ignored = " (missing files ignored)" if self.counts()["missing"] else ""
            lines.append("all entries ok" + ignored)
        else:
            lines.append(f"{int(self._failing_mask().sum())} failed:")
            lines += [f"  {text}" for text in self.failure_lines()]
        if self.warnings:
            lines.append(f"{len(self.warnings)} malformed manifest line(s) skipped:")
            lines += [f"  line {line}: {msg}" for line, msg in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        counts = self.counts()
        title = e(str(self.manifest) if self.manifest is not None else self._name())
        if self.ok:
            verdict = "<span style='color:green'>all ok</span>"
        else:
            verdict = "<span style='color:#c00'>failures</span>"
        parts = [
            "<div class='checksig-report'>",
            f"<p><strong>{title}</strong>: {len(self)} entries, {verdict}</p>",
            "<table><thead><tr><th>status</th><th>count</th></tr></thead><tbody>",
        ]
        parts += [f"<tr><td>{e(name)}</td><td>{n}</td></tr>" for name, n in counts.items()]
        parts.append("</tbody></table>")
        bad = np.flatnonzero(self._failing_mask())
        if len(bad):
            parts.append(
                "<table><thead><tr><th>line</th><th>path</th><th>status</th></tr></thead><tbody>"
            )
            for i in bad[:HTML_MAX_FAILURES]:
                r = self._row(int(i))
                parts.append(
                    f"<tr><td>{r.line or ''}</td><td><code>{e(r.path)}</code></td>"
                    f"<td>{e(r.describe())}</td></tr>"
                )
            parts.append("</tbody></table>")
            if len(bad) > HTML_MAX_FAILURES:
                parts.append(f"<p>\u2026 and {len(bad) - HTML_MAX_FAILURES} more failures</p>")
        if self.warnings:
            parts.append(f"<p>{len(self.warnings)} malformed manifest line(s) skipped</p><ul>")
            parts += [
                f"<li>line {line}: {e(msg)}</li>" for line, msg in self.warnings[:HTML_MAX_FAILURES]
            ]
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)

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
        rows_hex: dict[str, list[Any]] = {"expected": [], "actual": [], "path": [], "reason": []}
        for i in range(n):
            r = self._row(i)
            rows_hex["path"].append(r.path)
            rows_hex["expected"].append(r.expected)
            rows_hex["actual"].append(r.actual)
            rows_hex["reason"].append(r.reason)
        status_names = np.array(STATUSES, dtype=object)
        alg_names = np.array(ALGORITHMS, dtype=object)
        return pd.DataFrame(
            {
                "path": rows_hex["path"],
                "status": pd.Categorical(status_names[c["status"]], categories=list(STATUSES)),
                "size": pd.Series(c["size"], dtype="Int64").mask(c["size"] < 0),
                "expected": rows_hex["expected"],
                "actual": rows_hex["actual"],
                "algorithm": alg_names[c["algorithm"]],
                "line": pd.Series(c["line"], dtype="Int64").mask(c["line"] <= 0),
                "reason": rows_hex["reason"],
            }
        )
