"""Progress: a snapshot of a job's counters, and what ``progress=`` draws.

The engine updates its counters atomically while it works (files and bytes
done; the file total once the manifest is read, the byte total once every
file has been opened); Python
reads them whenever it polls the job. Nothing calls back from Go: a
``progress=`` callable or bar is fed by whoever observes the job (a blocking
call polls every 50 ms, an ``await`` every 50 ms, a started job whenever its
``progress``, ``done()`` or ``result()`` is used).
"""

from __future__ import annotations

import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from . import _native

__all__ = ["Progress", "ProgressArg", "human_bytes", "human_seconds"]

#: progress=: None (auto), True (always a bar), False (never) or a callable
#: given each :class:`Progress` snapshot.
ProgressArg = Union[bool, None, Callable[["Progress"], Any]]

#: With progress=None a bar appears only after the run has lasted this many
#: seconds, so quick calls in a notebook leave no widget behind.
AUTO_DELAY = 0.5

_LEGACY_KEYS = _native.PROGRESS_FIELDS


@dataclass(frozen=True)
class Progress:
    """A snapshot of a job's progress: immutable, taken when the job was polled.

    Attributes:
        phase: "enumerating" (reading the manifest or walking the tree),
            "running" (hashing) or "done". ("ready", between
            the two, is passed through at once.)
        files_done: files finished so far (hashed, or found missing, ...).
        files_total: files to check, or None while enumerating.
        bytes_done: bytes hashed so far.
        bytes_total: bytes to hash, or None until the engine has opened every
            file (it hashes small files as it meets them and queues big ones,
            largest first: a manifest of many small files is mostly done by
            then). ``make_manifest``'s walk sizes the files as it goes.
        elapsed: seconds since the job started (until it ended, once done).
        rate: bytes hashed per second since hashing started, or None.
        eta: estimated seconds left (``(bytes_total - bytes_done) / rate``;
            before the byte total is known, from the files done so far), or
            None when unknown; 0.0 once done.
        warnings: malformed manifest lines skipped so far.

    For code written against checksig 0.1, whose callables received a
    dict, ``p["bytes_done"]`` and ``p.get("files_total")`` still work and
    return that dict's values (-1 for an unknown total).
    """

    phase: str
    files_done: int
    files_total: int | None
    bytes_done: int
    bytes_total: int | None
    elapsed: float
    rate: float | None
    eta: float | None
    warnings: int = 0
    _counters: tuple = field(default=(), repr=False, compare=False)

    @classmethod
    def _from_counters(
        cls, counters: tuple[int, ...], *, elapsed: float, hashing: float | None
    ) -> Progress:
        """Build a snapshot from CHECKSIG_P_* counters; hashing: seconds spent hashing."""
        phase = _native.PHASES.get(counters[0], str(counters[0]))
        files_done, files_total = counters[1], counters[2]
        bytes_done, bytes_total = counters[3], counters[4]
        ftotal = files_total if files_total >= 0 and phase != "enumerating" else None
        btotal = bytes_total if bytes_total >= 0 else None
        rate = bytes_done / hashing if hashing and hashing > 0 else None
        eta: float | None = None
        if phase == "done":
            eta = 0.0
        elif rate and btotal is not None:
            eta = max(btotal - bytes_done, 0) / rate
        elif hashing and ftotal and files_done > 0:
            # Before the byte total is known the engine is scanning the list in
            # order, hashing small files as it meets them: go by files.
            eta = hashing * max(ftotal - files_done, 0) / files_done
        return cls(
            phase=phase,
            files_done=files_done,
            files_total=ftotal,
            bytes_done=bytes_done,
            bytes_total=btotal,
            elapsed=elapsed,
            rate=rate,
            eta=eta,
            warnings=counters[8],
            _counters=tuple(counters),
        )

    @property
    def fraction(self) -> float | None:
        """bytes_done / bytes_total (0.0 to 1.0), or None while the total is unknown."""
        if self.bytes_total is None:
            return None
        if self.bytes_total == 0:
            return 1.0 if self.phase == "done" else 0.0
        return min(self.bytes_done / self.bytes_total, 1.0)

    # -- the 0.1 dict view

    def _legacy(self) -> dict[str, Any]:
        counters = self._counters or (0,) * len(_LEGACY_KEYS)
        d: dict[str, Any] = dict(zip(_LEGACY_KEYS, counters))
        d["phase"] = self.phase
        return d

    def __getitem__(self, key: str) -> Any:
        """``p["bytes_done"]``: the checksig 0.1 progress dict's value for key."""
        return self._legacy()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``p.get("bytes_total", -1)``: as ``dict.get`` on the 0.1 progress dict."""
        return self._legacy().get(key, default)


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``: binary units, one decimal above bytes."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.0f} {units[i]}" if i == 0 else f"{n:.1f} {units[i]}"


def human_seconds(s: float) -> str:
    """``0.0123`` -> ``"12 ms"``, ``75`` -> ``"1 min 15 s"``."""
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    minutes, seconds = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def in_jupyter_kernel() -> bool:
    """Whether this code runs in a Jupyter (IPython) kernel."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _stderr_is_a_terminal() -> bool:
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def auto_bar() -> bool:
    """The progress=None rule: a bar when stderr is a terminal or in a Jupyter kernel."""
    return _stderr_is_a_terminal() or in_jupyter_kernel()


def check_progress_arg(progress: Any) -> None:
    """Raise TypeError for a progress= value that is none of the accepted kinds."""
    if progress is None or isinstance(progress, bool) or callable(progress):
        return
    raise TypeError(
        f"progress must be None (auto), True, False or a callable taking a "
        f"checksig.Progress, got {progress!r}"
    )


class Reporter:
    """Turns progress= into something fed with every :class:`Progress` snapshot.

    * ``None``: a bar if :func:`auto_bar` says so, made only once the run
      has lasted AUTO_DELAY seconds (a quicker run leaves no bar behind).
    * ``True``: a bar (tqdm.auto: a widget in Jupyter, text on stderr), or a
      warning once if tqdm is not installed.
    * ``False``: nothing.
    * a callable: called with each snapshot, in the thread that polled.

    The bar counts bytes (rate and ETA are tqdm's), and shows files done in
    its postfix. It appears once the manifest is read: a byte counter while
    the engine scans the list (hashing small files as it goes), a bar with a
    percentage from the moment the byte total is known.
    """

    def __init__(self, progress: ProgressArg, desc: str) -> None:
        check_progress_arg(progress)
        self._callback: Callable[[Progress], Any] | None = None
        self._tqdm: Any = None
        self._bar: Any = None
        self._delay = 0.0
        self._desc = desc
        self._lock = threading.Lock()  # observers may feed it from several threads
        if progress is None:
            if not auto_bar():
                return
            self._delay = AUTO_DELAY
            progress = True
        if progress is True:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                warnings.warn(
                    "progress=True needs tqdm for its progress bar: pip install tqdm "
                    '(or pip install "checksig[progress]"); continuing without one',
                    stacklevel=4,
                )
                return
            self._tqdm = tqdm
        elif callable(progress):
            self._callback = progress

    @property
    def active(self) -> bool:
        return self._callback is not None or self._tqdm is not None

    def __call__(self, p: Progress) -> None:
        if self._callback is not None:
            self._callback(p)
        elif self._tqdm is not None:
            with self._lock:
                self._update_bar(p)

    def _update_bar(self, p: Progress) -> None:
        bar = self._bar
        if bar is None:
            if p.phase == "enumerating":
                return  # still reading the manifest or walking the tree
            if p.elapsed < self._delay:
                return  # auto: a run this short needs no bar (and leaves none)
            with warnings.catch_warnings():
                # tqdm.auto warns when ipywidgets is missing and falls back to text.
                warnings.simplefilter("ignore")
                bar = self._bar = self._tqdm(
                    total=p.bytes_total,
                    initial=p.bytes_done,
                    desc=self._desc,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    leave=True,
                )
        if p.bytes_total is not None and bar.total != p.bytes_total:
            if bar.total is None:
                # The total arrives once the engine has opened every file (small
                # ones are hashed on the way): from a counter to a bar.
                bar.reset(total=p.bytes_total)
            else:
                bar.total = p.bytes_total
        if p.files_total is not None:
            bar.set_postfix_str(f"{p.files_done}/{p.files_total} files", refresh=False)
        delta = p.bytes_done - bar.n
        if delta > 0:
            bar.update(delta)
        elif p.phase == "done":
            bar.refresh()

    def close(self) -> None:
        """End the bar, leaving it on screen (a notebook widget that did not
        reach its total turns red: tqdm's "danger" style)."""
        with self._lock:
            bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()
