"""Plan: the rows of a verify job made in Python, for manifests the engine
does not parse itself (a BagIt bag's manifests, a distribution's RECORD, a
conda record), and what goes with them.

A kind module (``_bagit``, ``_record``, ``_conda``) reads its files into a
Plan: one row per listed file (a name relative to the job's root, the
engine's algorithm code, the expected digest as raw bytes, a line number,
label values such as the package), plus what is no row: warnings about
lines it skipped, whole-run problems, notes. ``_api`` hands the rows to the
engine as :class:`_native.Entries` (ABI 2's ``F_ENTRIES``: no temporary
manifest is ever written), so they get the same confinement, statuses,
columns, progress and cancel as a manifest's. A row added without a digest
(:meth:`Plan.add` with ``alg=0``) is listed but never opened: status
``not_checked``. :attr:`Plan.finishers` run on the filled columns before the
Report is made (a bag keeps only its payload's extra files and checks its
Payload-Oxum; an environment settles its directory entries).

Names are bytes; digests raw bytes (each kind decodes its own text form
and says which file and line a bad one is on).
"""

from __future__ import annotations

from itertools import accumulate

from . import _algorithms, _native
from ._errors import ManifestError
from ._lazy import np

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

    #: A finisher: the job's columns in, the Report's columns out (the same
    #: object, changed in place, or new numpy arrays).
    Finisher = Callable[[Any, "Plan"], Any]

__all__ = ["Plan", "select_rows"]


class Plan:
    """A verify job's rows made in Python, and what is no row.

    Attributes:
        root: the directory the names are relative to (bytes).
        title: what is verified, for display ("bag /x", "environment /y").
        manifest: the one manifest file read, if there is one (str), else None.
        names, algorithms, digests, lines: the rows, in order.
        labels: label columns by name (one value per row, str or None).
        warnings: (line, message) for each skipped line (messages name the file).
        problems: whole-run failures that are no row (the Report's ``problems``).
        notes: remarks that are no failure (the Report's ``notes``).
        extra: whether the engine also walks the root and lists the files no
            row names (status "extra", F_EXTRA). The plan alone decides it:
            the user's ``extra=`` means what its kind says (a bag lists its
            payload's extra files always, a store its unused blobs), so each
            kind sets this from the options itself.
        strict: whether a skipped line is an error (:meth:`skip` raises).
        finishers: callables run on the filled columns, in order.
    """

    def __init__(
        self,
        root: bytes,
        *,
        title: str,
        manifest: str | None = None,
        labels: tuple[str, ...] = (),
        strict: bool = False,
        extra: bool = False,
    ) -> None:
        self.root = root
        self.title = title
        self.manifest = manifest
        self.names: list[bytes] = []
        self.algorithms = bytearray()
        self.digests: list[bytes] = []
        self.lines: list[int] = []
        self.labels: dict[str, list[str | None]] = {name: [] for name in labels}
        self.warnings: list[tuple[int, str]] = []
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.extra = extra
        self.strict = strict
        self.finishers: list[Finisher] = []

    @classmethod
    def of_manifest(cls, root: bytes, manifest: str, options: Any) -> Plan:
        """An empty plan for one manifest file a kind reads in Python (a RECORD,
        a conda record): titled by it, a ``package`` label column, the user's
        ``strict=`` and ``extra=`` (``options``: a VerifyOptions)."""
        return cls(
            root,
            title=manifest,
            manifest=manifest,
            labels=("package",),
            strict=options.strict,
            extra=options.extra,
        )

    def __len__(self) -> int:
        return len(self.names)

    def add(self, name: bytes, alg: int, digest: bytes = b"", line: int = 0, **labels: Any) -> int:
        """Add a row; return its index. ``alg`` 0 (no digest): listed, not checked."""
        if len(digest) != _algorithms.size(alg):
            raise ValueError(f"a {_algorithms.name(alg)} digest of {len(digest)} bytes")
        self.names.append(name)
        self.algorithms.append(alg)
        self.digests.append(digest)
        self.lines.append(line)
        for key, values in self.labels.items():
            values.append(labels.get(key))
        return len(self.names) - 1

    def extend(
        self,
        names: list[bytes],
        algorithms: bytes,
        digests: list[bytes],
        lines: list[int],
        **labels: Any,
    ) -> None:
        """Add many rows at once, all with the same labels (one package's):
        :meth:`add` without a call per row. The caller checked each digest's
        size against its algorithm."""
        self.names += names
        self.algorithms += algorithms
        self.digests += digests
        self.lines += lines
        for key, values in self.labels.items():
            values += [labels.get(key)] * len(names)

    def skip(self, path: str, line: int, message: str) -> None:
        """A line of ``path`` that gives no row: a warning, or with
        ``strict`` a ManifestError naming the file and line."""
        if self.strict:
            raise ManifestError(f"{path}:{line}: {message}", path=path, line=line or None)
        self.warnings.append((line, f"{path}: {message}"))

    def entries(self) -> _native.Entries:
        """The rows as the engine's entries: compact arrays, one copy each."""
        n = len(self.names)
        width = max(map(len, self.digests), default=0)
        blob = b"".join(self.names)
        offsets = np.fromiter(accumulate(map(len, self.names), initial=0), np.int64, n + 1)
        if width:
            cells = b"".join(d.ljust(width, b"\0") for d in self.digests)
        else:
            cells = b""
        digests = np.frombuffer(cells, dtype=np.uint8).reshape(n, width)
        algorithms = np.frombuffer(bytes(self.algorithms), dtype=np.uint8)
        lines = np.fromiter(self.lines, np.int64, n)
        return _native.Entries(blob, offsets, digests, algorithms=algorithms, lines=lines)

    def finish(self, columns: Any) -> Any:
        """Run the finishers over the filled columns; the Report's columns."""
        for finisher in self.finishers:
            columns = finisher(columns, self)
        return columns

    def labels_for(self, rows: int) -> dict[str, list[str | None]]:
        """The label columns for a report of ``rows`` rows: rows the engine
        added after the plan's (extra files) have no label."""
        return {k: (v + [None] * (rows - len(v)))[:rows] for k, v in self.labels.items()}


def select_rows(columns: Any, keep: Any) -> dict[str, Any]:
    """New numpy columns holding only the rows ``keep`` (ascending row
    numbers), path blob and offsets rebuilt: a finisher that drops rows."""
    arrays = columns.arrays() if isinstance(columns, _native.Buffers) else dict(columns)
    keep = np.asarray(keep, dtype=np.int64)
    off = arrays["path_offsets"]
    starts = off[keep]
    lengths = off[keep + 1] - starts
    new_off = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_off[1:])
    # Every kept byte's position in the old blob: its row's start plus its
    # place within the row.
    within = np.arange(new_off[-1], dtype=np.int64) - np.repeat(new_off[:-1], lengths)
    picked = arrays["paths"][np.repeat(starts, lengths) + within]
    out = {name: arrays[name][keep] for name in arrays if name not in ("paths", "path_offsets")}
    out["paths"] = np.ascontiguousarray(picked, dtype=np.uint8)
    out["path_offsets"] = new_off
    return out
