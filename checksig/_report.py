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

import os

from . import _algorithms, _words
from ._lazy import _LazyModule, np
from ._native import (
    ALGORITHMS,
    DIGEST_SIZES,
    ST_EXTRA,
    STATUSES,
    Buffers,
    status_name,
)
from ._rows import HASHED, Rows

# No typing or pathlib at run time: a blocking call's report is made in every
# CLI run and script, and those modules cost a fresh process ~10 ms each (see
# tests/test_startup.py). Row, a typing.NamedTuple, lives in _row, imported
# when the first row is made (by _rows).
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator, Sequence
    from pathlib import Path
    from typing import Any, overload

    import pandas

    from ._row import Row

__all__ = ["Report", "STATUSES"]

#: The notebook view, imported on first use: a batch call that prints
#: nothing never needs it (nor the html module it imports).
_html = _LazyModule("checksig._html")
_pathlib = _LazyModule("pathlib")

#: How many failures str() lists before "... and N more".
STR_MAX_FAILURES = 100

#: The to_json()/to_dict() schema; ``checksig check --json`` writes the same.
JSON_SCHEMA = "checksig.report/1"


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

    ``Report(columns, ..., labels={"package": [...]})`` adds label columns:
    one value (a str or None) per row, shown after the line number in the
    HTML, before the name in ``str()``, as ``labels`` in each JSON entry, as
    columns of :meth:`to_pandas` and as each :class:`Row`'s ``labels`` (a
    dict beside its 8 fields). ``str()`` and the HTML also sum the
    rows up by the first label column (:meth:`summary_by`): which packages
    failed, and how.

    A report of a manifest read with an algorithm nothing named (no tag, no
    ``algorithm=``: the digests' length or the manifest's name chose it)
    carries :attr:`inference`, and when every such line failed in a way that
    suggests the wrong algorithm (a b3sum manifest read as sha256),
    :attr:`algorithm_warning` says so, in ``str()``, the HTML, JSON and a
    SignatureError's message too.

    A report of something other than one manifest file (a BagIt bag, an
    environment) may carry ``title`` (what was verified, for display),
    ``problems`` (whole-run failures that are no row: a bag's bad
    ``bagit.txt``, a Payload-Oxum that does not add up; each makes
    :attr:`ok` false) and ``notes`` (what is worth knowing and is no
    failure: distributions without a RECORD, files still to be fetched).

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
            "readahead" (read on one core while another hashed),
            "mapahead" (mapped, each window's pages made present on another
            core ahead of the hash), "openssl"
            (hashed by the OpenSSL that hashlib loaded, where faster) and
            "calibrating" (the first big files of the process, timed both
            ways to choose between read and mmap; ``CHECKSIG_IO`` forces
            one); empty when no file was big; None when not known.
        problems: whole-run failures that are no row (a list of str).
        notes: remarks that are no failure (a list of str).
        inference: how the algorithm of the lines no tag and no
            ``algorithm=`` decided was chosen, and how they fared (a
            ``checksig._algorithms.Inference``: ``algorithm``, ``source``
            "length" or "name", ``rows``, ``ok``, ``mismatch``, ``probed``,
            ``match``; FORMATS.md B5), or None.
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
        "_labels",
        "_title",
        "problems",
        "notes",
        "inference",
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
        labels: dict[str, Sequence[str | None]] | None = None,
        title: str | os.PathLike[str] | None = None,
        problems: Sequence[str] = (),
        notes: Sequence[str] = (),
        io: tuple[str, ...] | None = None,
        inference: _algorithms.Inference | None = None,
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
        self._labels = _labels(labels, len(self))
        self._title = None if title is None else os.fsdecode(title)
        self.problems = list(problems)
        self.notes = list(notes)
        self.inference = inference

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

    @property
    def _rows(self) -> Rows:
        """The rows read from the columns without numpy (see _rows.py): how
        every view of a report (str, HTML, JSON, the CLI's lines) reads it."""
        return Rows(self._raw_columns(), has_expected=self._has_expected, labels=self._labels)

    def __len__(self) -> int:
        return self._raw_columns().rows

    if TYPE_CHECKING:  # typing.overload, for type checkers only

        @overload
        def __getitem__(self, index: int) -> Row: ...

        @overload
        def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        """Row ``index`` (negative counts from the end), or a list for a slice."""
        rows = self._rows
        numbers = range(len(rows))  # its indexing: slices, negatives, __index__, bounds
        if isinstance(index, slice):
            return [rows.row(i) for i in numbers[index]]
        try:
            i = numbers[index]
        except IndexError:
            raise IndexError(f"report row {index} out of range ({len(rows)} rows)") from None
        return rows.row(i)

    def __iter__(self) -> Iterator[Row]:
        rows = self._rows
        for i in range(len(rows)):
            yield rows.row(i)

    # -- summaries

    @property
    def ok(self) -> bool:
        """True when no row fails (each is ok or not_checked; "missing" allowed
        with ignore_missing) and there is no whole-run :attr:`problems`."""
        return not self.problems and self._rows.all_ok(self.ignore_missing)

    @property
    def failures(self) -> list[Row]:
        """The rows that make :attr:`ok` false, in manifest order (whole-run
        failures are in :attr:`problems`)."""
        rows = self._rows
        return [rows.row(i) for i in rows.failing(self.ignore_missing)]

    def counts(self) -> Counter[str]:
        """How many rows have each status: a Counter (a dict; absent statuses are 0).

        Only statuses that occur are keys, in the order of ``STATUSES``.
        """
        return self._rows.counts()

    def summary_by(self, label: str) -> dict[str | None, Counter[str]]:
        """How many rows of each label value have each status: for a label
        column such as ``package``, ``{"numpy 2.1.0": Counter({"ok": 880,
        "mismatch": 1}), ...}``, in order of first appearance. Rows without
        a value (an extra file) are counted under None. KeyError, naming the
        report's label columns, for a label it does not have."""
        try:
            values = self._labels[label]
        except KeyError:
            known = ", ".join(self._labels) or "none"
            raise KeyError(f"no label column {label!r} (label columns: {known})") from None
        from collections import Counter

        groups: dict[str | None, Counter[str]] = {}
        statuses = self._rows.statuses()
        for value, code in zip(values, statuses):
            counter = groups.get(value)
            if counter is None:
                counter = groups[value] = Counter()
            counter[status_name(code)] += 1
        return groups

    def _failing_groups(self) -> tuple[str, list[tuple[str, dict[str, int]]], int]:
        """(label, [(value, counts of its failing statuses)], groups without a
        failure) by the first label column; ("", [], 0) without labels."""
        if not self._labels:
            return "", [], 0
        label = next(iter(self._labels))
        rows = self._rows
        values = self._labels[label]
        bad = rows.failing(self.ignore_missing)
        failing: dict[str | None, dict[str, int]] = {}
        statuses = rows.statuses()
        for i in bad:
            counts = failing.setdefault(values[i], {})
            name = status_name(statuses[i])
            counts[name] = counts.get(name, 0) + 1
        groups = len(set(values))
        order = {name: k for k, name in enumerate(STATUSES)}  # the usual order of statuses
        shown = [
            (
                v if v is not None else "(none)",
                dict(sorted(c.items(), key=lambda kv: order.get(kv[0], 99))),
            )
            for v, c in failing.items()
        ]
        return label, shown, groups - len(failing)

    def _name(self) -> str:
        if self._title is not None:
            return _words.display_name(self._title)
        if self._manifest is not None:
            return _words.display_name(os.path.basename(self._manifest))
        return "digest"

    def _heading(self) -> str:
        """The manifest's whole path (or the title, or the job's name), safe to print."""
        if self._title is not None:
            return _words.display_name(self._title)
        if self._manifest is not None:
            return _words.display_name(self._manifest)
        return self._name()

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
        text = f"in {_words.human_seconds(self.elapsed)}"
        if self.bytes_hashed is not None:
            text = f"{_words.human_bytes(self.bytes_hashed)} hashed {text}"
            rate = self.throughput
            details = [f"{_words.human_bytes(rate)}/s"] if rate is not None else []
            details += list(self.io or ())
            if details:
                text += f" ({', '.join(details)})"
        return text

    def __repr__(self) -> str:
        return f"<Report {self._name()}: {_words.summary(len(self), self.counts())}>"

    @property
    def algorithm_warning(self) -> str | None:
        """Why the failures may come from reading the manifest with the wrong
        algorithm, or None: every line whose algorithm was assumed (from the
        digests' length, or from a manifest name no GNU tool writes) failed,
        and it says which algorithm was assumed and from where, which others
        make digests of that length, and which of them gives a failing file
        its listed digest, if one does (FORMATS.md B5)."""
        inference = self.inference
        return None if inference is None else inference.warning(_quoted, _as_argument)

    def raise_if_failed(self) -> Report:
        """Return this report if :attr:`ok`, else raise :class:`SignatureError`
        naming every problem and failing row (the report rides on it), as
        :func:`checksig.check_signatures` does: ``verify_bag(p).raise_if_failed()``."""
        return raise_if_failed(self)

    def failure_lines(self) -> list[str]:
        """One line per whole-run problem, then the :attr:`algorithm_warning`
        if any, then one ``path: what went wrong`` line per failing row."""
        rows = self._rows
        warning = self.algorithm_warning
        said = [f"warning: {warning}"] if warning else []
        return (
            [_words.display_name(p) for p in self.problems]
            + said
            + [
                f"{rows.shown_path(i)}: {rows.row(i).describe()}"
                for i in rows.failing(self.ignore_missing)
            ]
        )

    def __str__(self) -> str:
        rows = self._rows
        timing = self._timing()
        display_name = _words.display_name
        summary = _words.summary(len(rows), rows.counts())
        lines = [f"{self._heading()}: {summary}" + (f"; {timing}" if timing else "")]
        for problem in self.problems:
            lines.append(f"problem: {display_name(problem)}")
        warning = self.algorithm_warning
        if warning:
            lines.append(f"warning: {warning}")
        label, failing, passing = self._failing_groups()
        if failing:
            lines.append(f"by {label}: {passing:,} without a failure, {len(failing):,} with:")
            for value, counts in failing[:STR_MAX_FAILURES]:
                said = ", ".join(f"{k} {name}" for name, k in counts.items())
                lines.append(f"  {display_name(value)}: {said}")
            if len(failing) > STR_MAX_FAILURES:
                lines.append(f"  \u2026 and {len(failing) - STR_MAX_FAILURES} more")
        if rows.all_ok(self.ignore_missing):
            ignored = " (missing files ignored)" if self.counts()["missing"] else ""
            if not self.problems:
                lines.append("all entries ok" + ignored)
        else:
            bad = rows.failing(self.ignore_missing)
            lines.append(f"{len(bad)} failed:")
            for i in bad[:STR_MAX_FAILURES]:
                lines.append(f"  {rows.shown_path(i)}: {rows.row(i).describe()}")
            if len(bad) > STR_MAX_FAILURES:
                lines.append(
                    f"  \u2026 and {len(bad) - STR_MAX_FAILURES} more "
                    "(report.failures lists them all)"
                )
        for note in self.notes:
            lines.append(f"note: {display_name(note)}")
        if self.warnings:
            lines.append(f"{len(self.warnings)} malformed manifest line(s) skipped:")
            shown = self.warnings[:STR_MAX_FAILURES]
            lines += [f"  line {line}: {display_name(msg)}" for line, msg in shown]
            if len(self.warnings) > len(shown):
                lines.append(f"  \u2026 and {len(self.warnings) - len(shown)} more")
        return "\n".join(lines)

    def _repr_html_(self, *, heading: str | None = None) -> str:
        """The notebook view: a summary table, then the failures (at most 50).

        ``heading`` (text) replaces the verdict line: a SignatureError shows
        its message there.
        """
        return _html.report_html(self, self._rows, title=self._heading(), heading=heading)

    # -- conversions

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
              "warnings": [{"line": int, "message": str}],
              "title": str,               # only in a report given a title (a bag, an environment)
              "problems": [str],          # only when there are whole-run problems
              "notes": [str],             # only when there are notes
              "inference": {              # only when lines' algorithm was assumed (B5)
                "algorithm": str, "source": "length" | "name",
                "rows": int, "ok": int, "mismatch": int,
                "same_length": [str],     # the other algorithms of that digest length
                "probed": str | null,     # the failing file hashed again with those
                "match": str | null,      # the one that gave it its listed digest
                "warning": str | null,    # Report.algorithm_warning
              },
            }

        The CLI adds ``summary.exit_status`` and computes ``passed`` with
        GNU's rules, which differ from :attr:`ok` in corner cases (GNU fails
        a run in which no file was verified, even when every entry was a
        missing file it was told to ignore).
        """
        counts = {name: 0 for name in STATUSES}
        counts.update(self.counts())
        ignored = counts["missing"] if self.ignore_missing else 0
        read = counts["ok"] + counts["mismatch"] + counts["extra"] + counts["not_checked"]
        doc: dict[str, Any] = {
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
            "entries": list(self._rows.entries()),
            "warnings": [{"line": line, "message": msg} for line, msg in self.warnings],
        }
        # Compatible additions (FORMATS.md E12): only in reports that have them.
        if self._title is not None:
            doc["title"] = self._title
        if self.problems:
            doc["problems"] = list(self.problems)
        if self.notes:
            doc["notes"] = list(self.notes)
        if self.inference is not None:
            doc["inference"] = self.inference.to_dict(_quoted, _as_argument)
        return doc

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
        actual_len = np.where(has_digest & np.isin(st, HASHED), lengths[alg], 0)
        reason = np.full(n, None, dtype=object)
        errnum = c["errnum"]
        for e in np.unique(errnum[errnum != 0]).tolist():
            reason[errnum == e] = os.strerror(e)
        codes = np.where(st < len(STATUSES), st, -1)
        alg_names = np.array(
            [*ALGORITHMS, *(f"unknown({i})" for i in range(len(ALGORITHMS), 256))], dtype=object
        )
        labels = {name: pd.Series(values, dtype=object) for name, values in self._labels.items()}
        return pd.DataFrame(
            {
                "path": self._paths(),
                **labels,
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


def _labels(labels: dict[str, Sequence[str | None]] | None, rows: int) -> dict[str, list]:
    """Report(labels=...) checked: each a name and one value (str or None) per row."""
    checked = {}
    for name, values in (labels or {}).items():
        values = list(values)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a label column's name must be an identifier, got {name!r}")
        if len(values) != rows:
            raise ValueError(f"label column {name!r} has {len(values)} values for {rows} rows")
        checked[name] = values
    return checked


def raise_if_failed(report: Report) -> Report:
    """report, or a SignatureError naming each failure if it is not ok."""
    if report.ok:
        return report
    from ._errors import SignatureError

    lines = report.failure_lines()
    failed = len(report._rows.failing(report.ignore_missing))
    heading = _words.failure_heading(failed, len(report), report._heading(), len(report.problems))
    raise SignatureError("\n  ".join([heading, *lines]), report)


def _quoted(raw: bytes) -> str:
    """A file's name in an algorithm warning: quoted, safe to print."""
    return "'" + _words.display_name(os.fsdecode(raw)) + "'"


def _as_argument(alg: str) -> str:
    """How the API names an algorithm, in an algorithm warning."""
    return f'algorithm="{alg}"'


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
