"""The exceptions checksig raises besides the built-in ones.

A bad manifest *entry* (a mismatch, a missing file, ...) is a row status in a
:class:`~checksig.Report`, not an error; the exceptions here are for whole-run
failures. Engine status codes map to exceptions in ``_native.py``:

=====================  ==========================================
CHECKSIG_E_INVALID      ValueError
CHECKSIG_E_NOT_FOUND    FileNotFoundError
CHECKSIG_E_PERMISSION   PermissionError
CHECKSIG_E_IS_DIR       IsADirectoryError
CHECKSIG_E_NOT_REGULAR  NotRegularFileError (an OSError)
CHECKSIG_E_OS           OSError (errno picks the subclass)
CHECKSIG_E_MANIFEST     ManifestError (a ValueError)
CHECKSIG_E_CANCELLED    Cancelled
CHECKSIG_E_HANDLE       EngineError (a misuse of the ABI: a bug)
CHECKSIG_E_PANIC        EngineError (a bug in the engine)
=====================  ==========================================
"""

from __future__ import annotations

from ._words import REASONS

# No import of _report, not even for type checkers: errors are the bottom
# layer, and the Report (which raises SignatureError) sits above them. What a
# SignatureError's report is, type checkers learn from ReportLike below.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any, Protocol

    class ReportLike(Protocol):
        """checksig.Report as a type checker sees ``SignatureError.report``:
        the Report's public members, written out here because this module
        sits below _report (tests/test_layers.py holds the two to the same
        names). Types from the layers above (Row, Inference, numpy, pandas)
        are Any here."""

        warnings: list[tuple[int, str]]
        ignore_missing: bool
        elapsed: float | None
        bytes_hashed: int | None
        io: tuple[str, ...] | None
        problems: list[str]
        notes: list[str]
        inference: Any

        @property
        def root(self) -> Path | None: ...
        @property
        def manifest(self) -> Path | None: ...
        @property
        def columns(self) -> dict[str, Any]: ...
        @property
        def status(self) -> Any: ...
        @property
        def ok(self) -> bool: ...
        @property
        def failures(self) -> list[Any]: ...
        @property
        def throughput(self) -> float | None: ...
        @property
        def algorithm_warning(self) -> str | None: ...
        def __len__(self) -> int: ...
        def __getitem__(self, index: Any) -> Any: ...
        def __iter__(self) -> Iterator[Any]: ...
        def counts(self) -> Counter[str]: ...
        def summary_by(self, label: str) -> dict[str | None, Counter[str]]: ...
        def raise_if_failed(self) -> Any: ...
        def failure_lines(self) -> list[str]: ...
        def to_dict(self) -> dict[str, Any]: ...
        def to_json(self, *, indent: int | None = None) -> str: ...
        def to_pandas(self) -> Any: ...
        def _repr_html_(self, *, heading: str | None = None) -> str: ...


__all__ = [
    "Cancelled",
    "EngineError",
    "ManifestError",
    "NotRegularFileError",
    "SignatureError",
]


#: Failures an uncaught SignatureError lists in a notebook's traceback.
_TRACEBACK_FAILURES = 20


class SignatureError(ValueError):
    """Some manifest entries failed verification.

    Raised by :func:`checksig.check_signatures`. The message names every
    failing entry and why; :attr:`report` holds the full
    :class:`~checksig.Report`, failures and successes alike.
    """

    #: The full checksig.Report of the run.
    report: ReportLike

    def __init__(self, message: str, report: ReportLike) -> None:
        super().__init__(message)
        self.report = report

    def __reduce__(self):  # keep .report across pickling (multiprocessing)
        return (type(self), (self.args[0], self.report))

    def _repr_html_(self) -> str:
        """The notebook view: the report's, headed by the first line of the message."""
        return self.report._repr_html_(heading=f"SignatureError: {str(self).split(chr(10), 1)[0]}")

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for an uncaught SignatureError.

        In a Jupyter kernel the report is displayed as HTML (as
        ``_repr_html_``) above a traceback whose message lists at most 20
        failures, not a wall of text; elsewhere the usual traceback.
        """
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:  # pragma: no cover - IPython calls this only from a shell
            import traceback

            return traceback.format_exception(type(self), self, self.__traceback__)
        value: SignatureError = self
        if getattr(shell, "kernel", None) is not None:
            from IPython.display import HTML, display

            # IPython 9 may ask for the traceback more than once: show the
            # report once per exception.
            if not getattr(self, "_html_shown", False):
                self._html_shown = True
                display(HTML(self._repr_html_()))
            lines = str(self).split("\n")
            if len(lines) > _TRACEBACK_FAILURES + 1:
                more = len(lines) - 1 - _TRACEBACK_FAILURES
                short = lines[: _TRACEBACK_FAILURES + 1]
                short.append(f"  \u2026 and {more} more (err.report.failures lists them all)")
                value = SignatureError("\n".join(short), self.report)
        return shell.InteractiveTB.structured_traceback(type(self), value, self.__traceback__)


class ManifestError(ValueError):
    """A manifest cannot be used.

    Either a malformed line under ``strict=True`` or a manifest with no usable
    line at all. The message reads like a compiler's
    (``SHA256SUMS:12: expected 64 hex digits, found 63``).

    Attributes:
        path: the manifest's path (``str``), or ``None`` if unknown.
        line: the 1-based line number, or ``None`` when the error concerns the
            whole file.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    def __reduce__(self):
        return (type(self), (self.args[0], self.path, self.line))


class Cancelled(Exception):
    """A checksig job was cancelled before it finished.

    A Ctrl-C (``KeyboardInterrupt``) during a call cancels the engine's work
    and re-raises the ``KeyboardInterrupt`` itself; ``Cancelled`` is for jobs
    stopped any other way.
    """


class EngineError(RuntimeError):
    """An internal error in the checksig engine: a bug, please report it.

    The engine recovers its own panics and reports them instead of taking
    the Python process down; the message carries the Go panic text and stack.
    """


class NotRegularFileError(OSError):
    """A path names a FIFO, socket or device, which checksig never reads.

    An :class:`OSError` without an errno: ``filename`` names the path.
    """

    def __init__(self, filename: str | None) -> None:
        super().__init__("not a regular file")
        self.filename = filename
        self.strerror = REASONS["not_regular"]

    def __str__(self) -> str:
        reason = self.strerror or REASONS["not_regular"]
        if self.filename is None:
            return reason
        return f"{reason}: {self.filename!r}"

    def __reduce__(self):
        return (type(self), (self.filename,))
