"""Job: a running engine job, seen from Python.

Who drives a job
----------------
The engine runs by itself, in Go: once started, a job enumerates its work
(reads the manifest or walks the tree), stops in PH_READY until Python hands
it the result columns, then hashes on its own goroutines until PH_DONE.
Python never runs in between except to look.

Two kinds of Python code look at a job:

* The **watcher**: one daemon thread for the whole process (started with
  the first ``start_*`` job). Every few milliseconds it polls each job
  without waiting, hands the engine its columns the moment it finds it in
  PH_READY, and forgets jobs once they are attached, ended or freed. It
  never runs user code and never raises. It exists so that a started job
  makes progress even when nobody polls it. Jobs of the blocking calls
  (``verify``, ...) are never given to it: their ``result()`` attaches them
  (see :func:`blocking`).
* **Observers**: ``progress``, ``done()``, ``result()`` and ``await``. Each
  polls the counters (``result()`` in 50 ms slices so Ctrl-C is noticed
  within 50 ms, the others without waiting), feeds the ``progress=``
  callable or bar, and, the first time one of them sees PH_DONE, collects
  the outcome and releases the engine's handle. Whichever of watcher and
  observer sees PH_READY first attaches the columns; the other finds them
  attached (``_native._Job`` serialises this).

A job's engine resources (its handle, open files, goroutines) are released
when its outcome is collected, by :meth:`Job.close` (also on ``with`` exit),
when ``result()`` is interrupted, or when the Job is garbage collected.
"""

from __future__ import annotations

import _thread
import os
import time
from types import GenericAlias

from . import _native
from ._errors import Cancelled
from ._feedback import Reporter, Snapshot
from ._lazy import _LazyModule
from ._words import human_bytes

# No typing at run time: it costs a fresh process ~10 ms, and a blocking call
# on a small folder should not pay for annotations (see tests/test_startup.py).
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    import threading
    from typing import Any, Callable, Generic, TypeVar

    from ._options import ProgressArg
    from ._progress import Progress

    T = TypeVar("T")

    class _Generic(Generic[T]):
        pass
else:

    class _Generic:
        # Job[Report] in annotations evaluated at run time, as Generic allows.
        __class_getitem__ = classmethod(GenericAlias)

    # threading (with functools and collections: ~5 ms of a fresh process)
    # only for start_* jobs, whose watcher is a thread: blocking calls lock
    # with _thread.
    threading = _LazyModule("threading")


__all__ = ["Job", "RunInfo"]

#: How often the watcher looks at jobs still enumerating (a job it finds in
#: PH_READY is attached at once), and at running ones (to note their end).
#: Keep the second slow: every look is a call into Go from a thread Go does
#: not own, which must take a P from the hashing workers; at 50 looks a
#: second that cost a quarter of the throughput on big files (measured with
#: benchmarks/run.py, huge dataset). Observers (result(), progress) note the
#: end exactly anyway.
WATCH_ENUM_SECONDS = 0.005
WATCH_RUN_SECONDS = 0.25  # only while a job found READY waits to be attached

#: The asyncio form sleeps this long between zero-timeout polls.
ASYNC_POLL_SECONDS = _native.POLL_MS / 1000


class RunInfo:
    """What a finished job tells its result builder besides the columns."""

    __slots__ = ("elapsed", "bytes_done", "warnings_total", "io")

    def __init__(self, elapsed: float, bytes_done: int, warnings_total: int, io: int = 0) -> None:
        self.elapsed = elapsed
        self.bytes_done = bytes_done
        self.warnings_total = warnings_total
        self.io = io  # CHECKSIG_IO_* bits: how the big files were read


class _Stamps:
    """Times the watcher shares with the Job (no reference back to the Job)."""

    __slots__ = ("ended",)

    def __init__(self) -> None:
        self.ended: float | None = None


class _Watcher:
    """One daemon thread, shared by every job of the process.

    It polls each registered job without waiting (``timeout 0``), attaches
    the columns of a job it finds in PH_READY, and forgets jobs once they
    are attached, ended or freed (the end is noted by whoever observes the
    job: ``result()``, ``progress``, ``done()``). It sleeps
    WATCH_ENUM_SECONDS between rounds while some job is still enumerating,
    WATCH_RUN_SECONDS while all are hashing, and on a condition variable
    when there is none. It never runs user code and never raises.

    One long-lived thread rather than one per job: a thread that has called
    into Go holds a Go runtime M (and counts in runtime.NumGoroutine) for
    as long as it lives, so short-lived threads would churn the runtime and
    blur the engine's debug counters; and no thread waits inside Go, where
    a waiting poll can oversleep (see _native._Job.poll_counters).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[_native._Job, _Stamps] = {}
        self._thread: threading.Thread | None = None

    def add(self, job: _native._Job, stamps: _Stamps) -> None:
        with self._cond:
            self._jobs[job] = stamps
            if self._thread is None or not self._thread.is_alive():
                entered = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(entered,), name="checksig-watcher", daemon=True
                )
                self._thread.start()
                entered.wait(5)
            self._cond.notify()

    def _run(self, entered: threading.Event) -> None:
        # Enter Go once, before the first job's start() returns: a thread
        # that has called into Go counts as one goroutine in the engine's
        # debug counters for as long as it lives. Doing it now makes that +1
        # part of any baseline taken after the first job, instead of
        # appearing whenever the watcher first happens to find a job alive.
        try:
            _native.lib().checksig_abi_version()
        except BaseException:  # pragma: no cover - the job that started us loaded it
            pass
        entered.set()
        cond = self._cond
        while True:
            with cond:
                while not self._jobs:
                    cond.wait()
                jobs = list(self._jobs.items())
            enumerating = False
            for job, stamps in jobs:
                try:
                    phase = job.poll_counters(0)[_native.P_PHASE]
                except BaseException:
                    phase = _native.PH_DONE  # freed (closed, Ctrl-C) or refused: forget it
                else:
                    if phase == _native.PH_DONE:
                        stamps.ended = time.monotonic()
                    elif job.attached_at is None:
                        enumerating = True
                # Once attached, a job runs by itself: stop looking at it.
                # Every look is a call into Go from a thread Go does not own,
                # and even a few a second while the workers hash cost a
                # fifth of the throughput on big files (benchmarks/run.py,
                # huge). Observers note the end themselves.
                if phase == _native.PH_DONE or job.attached_at is not None:
                    with cond:
                        self._jobs.pop(job, None)
            jobs = job = stamps = None  # hold no job while asleep
            time.sleep(WATCH_ENUM_SECONDS if enumerating else WATCH_RUN_SECONDS)


# Made by the first job that is watched, and threading with it: blocking calls
# never need either.
_watcher: _Watcher | None = None
_watcher_lock = _thread.allocate_lock()


def _watch(job: _native._Job, stamps: _Stamps) -> None:
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _watcher = _Watcher()
    _watcher.add(job, stamps)


def _after_fork_in_child() -> None:
    # The watcher's thread does not exist in a child, and the engine refuses
    # to run there; a lock held at the fork would stay held.
    global _watcher, _watcher_lock
    _watcher, _watcher_lock = None, _thread.allocate_lock()


# Jobs made inside `with blocking():` are not given to the watcher: the
# blocking API calls result() at once, which attaches and observes the job
# itself. Measured: with the watcher also looking at it, verify() on four
# 512 MiB files took 0.69 s instead of 0.55-0.59 s (benchmarks/run.py, huge),
# for reasons not pinned down yet (see README, Performance).
_blocking = _thread._local()


class blocking:
    """``with blocking():`` makes the jobs started in the block unwatched (see above)."""

    def __enter__(self) -> None:
        _blocking.on = True

    def __exit__(self, *exc_info: object) -> None:
        _blocking.on = False


def run(start: Callable[..., Job[T]], *args: Any, **kwargs: Any) -> T:
    """``start(*args, **kwargs)``'s job, started unwatched (see :class:`blocking`),
    waited for: its result. The body of every blocking call."""
    with blocking():
        job = start(*args, **kwargs)
    return job.result()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_MISSING = object()


class Job(_Generic["T"]):  # "T": a name type checkers know, never evaluated at run time
    """A checksig engine job running in the background.

    Made by :func:`checksig.start_verify`, :func:`checksig.start_check_signatures`,
    :func:`checksig.start_make_manifest` and :func:`checksig.start_digest_files`;
    the blocking functions (``verify`` ...) are ``start_...(...).result()``.
    The work runs in the Go engine on its own threads, whether or not Python
    looks at it; the GIL is never held while it works.

    Use:

    * :attr:`progress`: a :class:`checksig.Progress` snapshot (phase, files
      and bytes done and total, elapsed time, rate, ETA). Reading it polls
      the engine without waiting.
    * :meth:`done`: whether it finished (successfully or not).
    * :meth:`result`: wait for it and return its value (a Report, a Path or
      a list of digests), or raise what went wrong.
    * :meth:`cancel`: ask it to stop; :meth:`result` then raises
      :class:`checksig.Cancelled`.
    * ``with checksig.start_verify(...) as job:`` cancels the job if it is
      still running at the end of the block, and releases it.
    * ``await job``: the asyncio form of :meth:`result` (it polls every
      50 ms without blocking the event loop; cancelling the awaiting task
      cancels the job).

    A started job needs no one to poll it: a daemon thread (the "watcher",
    one per process) hands the engine its result buffers within 5 ms of the
    moment it has listed the work, so it hashes at full speed even if you
    only come back for :meth:`result` much later. The ``progress=`` callable or bar of a
    started job is fed whenever the job is observed (``progress``,
    ``done()``, ``result()``, ``await``), in the observing thread.

    Interrupting :meth:`result` (Ctrl-C, or the kernel's interrupt in
    Jupyter) cancels the job, waits until the engine has stopped and closed
    every file it opened, and re-raises the KeyboardInterrupt.
    """

    def __init__(
        self,
        native: _native._Job,
        build: Callable[[_native.Buffers, list[tuple[int, str]], RunInfo], T],
        *,
        kind: str,
        desc: str,
        progress: ProgressArg = False,
        started: float | None = None,
    ) -> None:
        self._native = native
        self._build = build
        self.kind = kind
        self._desc = desc
        self._started = started if started is not None else time.monotonic()
        self._reporter = Reporter(progress, desc)
        self._lock = _thread.RLock()
        self._outcome: Any = _MISSING  # then (True, value) or (False, exception)
        self._last = Snapshot(native._progress, elapsed=0.0, hashing=None)
        self._pid = os.getpid()
        self._closing = False
        self._stamps = _Stamps()
        if not getattr(_blocking, "on", False):
            _watch(native, self._stamps)

    # -- observing

    def _snapshot(self, counters: tuple[int, ...], now: float) -> Snapshot:
        done = counters[_native.P_PHASE] == _native.PH_DONE
        # An observer notes the end when it first sees PH_DONE (the watcher
        # only does so for jobs that end before they are attached).
        end = min(self._stamps.ended or now, now) if done else now
        attached = self._native.attached_at
        hashing = end - attached if attached is not None else None
        return Snapshot(counters, elapsed=end - self._started, hashing=hashing)

    def _observe(self, timeout_ms: int, *, report: bool = True) -> Snapshot:
        """Poll once (waiting up to timeout_ms), feed progress=, settle at DONE."""
        with self._lock:
            if self._outcome is _MISSING:
                try:
                    counters = self._native.poll_counters(timeout_ms)
                except Exception:
                    if not self._closing:
                        raise
                    # close() freed the job while we waited in the engine.
                    counters = _native.with_phase(self._last.counters, _native.PH_DONE)
                snap = self._snapshot(counters, time.monotonic())
                self._last = snap
                if snap.phase == "done":
                    self._settle(snap)
            snap = self._last
        if report and self._reporter.active:
            self._reporter(snap)
            if self._outcome is not _MISSING:
                self._reporter.close()
        return snap

    def _settle(self, snap: Snapshot) -> None:
        """Collect the outcome of a job the engine finished, then free it (under _lock)."""
        native = self._native
        try:
            columns = native.result()
            warnings = native.warnings()
            info = RunInfo(
                snap.elapsed, snap.get("bytes_done"), snap.get("warnings"), snap.get("io")
            )
            self._outcome = (True, self._build(columns, warnings, info))
        except Exception as exc:
            # A job freed by close() in another thread was cancelled.
            self._outcome = (False, self._cancelled_error() if self._closing else exc)
        finally:
            if self._outcome is not _MISSING:
                native.free()

    def _value(self) -> T:
        ok, value = self._outcome
        if ok:
            return value
        raise value

    @property
    def progress(self) -> Progress:
        """A :class:`checksig.Progress` snapshot, polled now (never waits)."""
        return self._observe(0).progress()

    def done(self) -> bool:
        """Whether the job has finished: succeeded, failed or was cancelled. Never waits."""
        if self._outcome is _MISSING:
            self._observe(0)
        return self._outcome is not _MISSING

    def cancelled(self) -> bool:
        """Whether the job ended because it was cancelled. Never waits."""
        if not self.done():
            return False
        ok, value = self._outcome
        return not ok and isinstance(value, Cancelled)

    def result(self, timeout: float | None = None) -> T:
        """Wait for the job and return its value, or raise why it failed.

        Args:
            timeout: seconds to wait; ``None`` waits as long as it takes.

        Raises:
            TimeoutError: the job is still running after ``timeout`` seconds
                (it goes on running; call again, or :meth:`cancel`).
            Cancelled: the job was cancelled.
            KeyboardInterrupt: Ctrl-C while waiting: the job is cancelled
                and released first.
            Exception: what the operation raises (SignatureError,
                FileNotFoundError, ManifestError, ...).
        """
        if self._outcome is _MISSING:
            deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
            try:
                while True:
                    wait_ms = _native.POLL_MS
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        wait_ms = max(0, min(wait_ms, int(left * 1000)))
                    self._observe(wait_ms)
                    if self._outcome is not _MISSING:
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError(
                            f"the checksig {self.kind} job is still running after "
                            f"{timeout} s (it goes on; cancel() stops it)"
                        )
            except TimeoutError:
                raise
            except BaseException:
                # Ctrl-C, or a progress callable that raised: stop the engine
                # and wait until it has let go of every file, then re-raise.
                self.close()
                raise
        return self._value()

    def cancel(self) -> bool:
        """Ask the job to stop; returns at once.

        Returns False if the job had already finished, else True: then
        :meth:`result` raises :class:`checksig.Cancelled` (unless the job
        finished in the meantime). The engine stops within milliseconds,
        between two 256 KiB reads.
        """
        if self._outcome is not _MISSING:
            return False
        self._native.cancel()
        return True

    def close(self) -> None:
        """Cancel the job if it still runs and release its engine resources.

        Waits until the engine has stopped: every file it opened is closed
        and none of its goroutines works any more. Idempotent. A job closed
        before it finished reports :class:`checksig.Cancelled`.
        """
        native = self._native
        self._closing = True
        native.cancel()
        # free() first, without the lock: an observer may hold it while it
        # waits in the engine, and free() ends that wait.
        native.free()
        with self._lock:
            if self._outcome is _MISSING:
                self._outcome = (False, self._cancelled_error())
        self._reporter.close()

    def _cancelled_error(self) -> Cancelled:
        return Cancelled(f"the checksig {self.kind} job was cancelled")

    def __enter__(self) -> Job[T]:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if os.getpid() == self._pid and not self._native.freed:
                self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # -- asyncio

    async def _wait_async(self) -> T:
        import asyncio  # here: `import checksig` stays light for the CLI

        try:
            while self._outcome is _MISSING:
                self._observe(0)
                if self._outcome is _MISSING:
                    await asyncio.sleep(ASYNC_POLL_SECONDS)
        except BaseException:
            # asyncio.CancelledError (the task was cancelled), Ctrl-C, ...
            self.close()
            raise
        return self._value()

    def __await__(self):
        """``await job``: :meth:`result` for asyncio, polling every 50 ms."""
        return self._wait_async().__await__()

    # -- display

    def __repr__(self) -> str:
        try:
            p = self._observe(0, report=False).progress()
        except Exception:
            p = self._last.progress()
        if self._outcome is not _MISSING:
            ok, value = self._outcome
            if ok:
                state = "done"
            elif isinstance(value, Cancelled):
                state = "cancelled"
            else:
                state = f"failed ({type(value).__name__})"
        else:
            state = p.phase
        parts = [state]
        if p.files_total is not None:
            parts.append(f"{p.files_done}/{p.files_total} files")
        if p.bytes_total is not None:
            parts.append(f"{human_bytes(p.bytes_done)}/{human_bytes(p.bytes_total)}")
        parts.append(f"{p.elapsed:.1f} s")
        return f"<checksig.Job {self.kind} {self._desc}: {', '.join(parts)}>"
