"""What ``progress=`` draws or calls, fed from the job's counters.

The engine updates its counters atomically while it works (files and bytes
done; the file total once the manifest is read, the byte total once every
file has been opened); Python reads them whenever it polls the job. Nothing
calls back from Go: a ``progress=`` callable or bar is fed by whoever
observes the job (a blocking call polls every 50 ms, an ``await`` every
50 ms, a started job whenever its ``progress``, ``done()`` or ``result()``
is used).

A poll makes a :class:`Snapshot`, not a :class:`checksig.Progress`: the
public snapshot is a dataclass, and ``dataclasses`` imports ``inspect``
(~25 ms of a fresh process here, more than the rest of a first call on a
small folder). A blocking call nobody watches never needs one; a callable,
a bar that is drawn, or ``job.progress`` builds it on demand.
"""

from __future__ import annotations

import _thread
import sys
import warnings

from . import _native
from ._options import check_progress_arg

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._options import ProgressArg
    from ._progress import Progress

__all__ = ["Listener", "Reporter", "Snapshot"]

#: With progress=None a bar appears only after the run has lasted this many
#: seconds, so quick calls in a notebook leave no widget behind.
AUTO_DELAY = 0.5


#: A counter's place in a poll's counters tuple, by its 0.1 dict key.
_FIELD = {name: i for i, name in enumerate(_native.PROGRESS_FIELDS)}


class Snapshot:
    """One poll of a job: its CHECKSIG_P_* counters and times, as read.

    Attributes:
        counters: the counters tuple (phase as a number first).
        phase: the phase's name ("enumerating", "running", "done", ...).
        elapsed: seconds since the job started (until it ended, once done).
        hashing: seconds spent hashing so far, or None before hashing began.
    """

    __slots__ = ("_progress", "counters", "elapsed", "hashing", "phase")

    def __init__(self, counters: tuple[int, ...], *, elapsed: float, hashing: float | None) -> None:
        self.counters = counters
        self.phase = _native.phase_name(counters[_native.P_PHASE])
        self.elapsed = elapsed
        self.hashing = hashing
        self._progress: Progress | None = None

    def get(self, key: str, default: Any = None) -> Any:
        """As ``Progress.get``: the checksig 0.1 progress dict's value for key."""
        if key == "phase":
            return self.phase
        i = _FIELD.get(key)
        return default if i is None else self.counters[i]

    def progress(self) -> Progress:
        """This poll as the public :class:`checksig.Progress` (made once)."""
        if self._progress is None:
            from ._progress import Progress

            self._progress = Progress._from_counters(
                self.counters, elapsed=self.elapsed, hashing=self.hashing
            )
        return self._progress


class Listener:
    """Base of checksig's own progress= callables (the CLI's): a Reporter
    calls them with the poll's :class:`Snapshot` itself (its ``get`` reads
    like the 0.1 dict), so that a run never makes a Progress nobody asked
    for."""

    def __call__(self, snap: Snapshot) -> None:
        raise NotImplementedError


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


class Reporter:
    """Turns progress= into something fed with every :class:`Snapshot`.

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
        # Called with a Progress, or with the Snapshot itself for a Listener.
        self._callback: Callable[[Any], Any] | None = None
        self._wants_snapshots = False
        self._tqdm: Any = None
        self._bar: Any = None
        self._delay = 0.0
        self._desc = desc
        self._lock = _thread.allocate_lock()  # observers may feed it from several threads
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
            self._wants_snapshots = isinstance(progress, Listener)

    @property
    def active(self) -> bool:
        return self._callback is not None or self._tqdm is not None

    def __call__(self, snap: Snapshot) -> None:
        if self._callback is not None:
            self._callback(snap if self._wants_snapshots else snap.progress())
        elif self._tqdm is not None:
            with self._lock:
                self._update_bar(snap)

    def _update_bar(self, snap: Snapshot) -> None:
        bar = self._bar
        if bar is None:
            if snap.phase == "enumerating":
                return  # still reading the manifest or walking the tree
            if snap.elapsed < self._delay:
                return  # auto: a run this short needs no bar (and leaves none)
        p = snap.progress()
        if bar is None:
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
