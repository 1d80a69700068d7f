"""One manifest verified across a Dask cluster: ``verify(..., client=client)`` (issue 17).

An optional integration in the manner of tqdm.contrib: this module imports
``distributed`` at its top, and the core imports it only when a ``client=``
is given, so ``import checksig`` pays nothing for it. The workers import it
to run their tasks (checksig must be installed on every worker, at the
client's version).

How a run goes. One thread per run on the client (:class:`ClusterRun`)
drives it through ordinary Dask futures; the workers run the same Go engine
as a local run, on parts of the work:

1. **Parse**, on the client, once: a parse-only engine job fills the result
   columns (names, algorithms, expected digests, lines) without opening any
   listed file. They become the Report's columns: results are written into
   them where their rows are, nothing is gathered and concatenated.
2. **Scan**, on the workers: the listed rows cut into contiguous shards
   (SHARDS_PER_THREAD per worker thread, SCAN_IN_FLIGHT_PER_THREAD of them
   sent at a time), each shipped as compact arrays (``_native.Entries``:
   ~37 bytes a row plus its name). A shard's engine job opens every file,
   confined as in a local run; files under DEFER_MIN bytes are hashed there
   and then, bigger ones only sized (F_DEFER). A shard's work is thus bounded
   by its rows times DEFER_MIN: cutting by rows balances it, and no small
   file is opened twice.
3. **Hash**, on the workers: the deferred files, whose sizes the scan found,
   cut by bytes (contiguous in manifest order, SHARDS_PER_THREAD per thread,
   at least HASH_MIN_BYTES each), the biggest shards first, so that one shard
   of huge files does not finish long after the rest.
4. **Walk** (``extra=True``), on the workers, beside the scan: one task lists
   the top of the tree (a level or two), then every part (a directory's own
   files, or a whole subtree) is walked by a task of its own against the
   listed names (shipped to the cluster once), F_EXTRA with walk_dir. The
   parts' extra rows, each sorted, are put in name order and appended.
5. Each result (status, errno, size and digest of its rows) is written into
   the columns as it arrives. There is one result per shard key: a shard Dask
   runs again because its worker died lands once, and none is lost.

Progress: a running shard publishes its engine's counters every
PROGRESS_SECONDS as a Dask structured event (``Worker.log_event``; the
scheduler pushes it to the client's ``subscribe_topic`` handler, batched,
nothing polls), and the client adds them up. The byte total is known once
every shard has been scanned, as in a local run once its scan is over.
Cancel: ``job.cancel()``, Ctrl-C and a kernel interrupt cancel the run's
futures (Dask's own cancel); a running task sees its key leave the executing
state on its worker within one 50 ms poll and cancels its engine job, so
every worker's Go work stops promptly and the worker's thread is free again.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import queue
import socket
import stat
import sys
import threading
import time
import uuid

import distributed
import numpy as np

from . import _lazy, _native
from ._errors import Cancelled

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ClusterRun"]

# Chosen for the reasons beside each: on the 2-core development machine their
# A/Bs (benchmarks/dask_run.py --shards-per-thread, --defer-min,
# --hash-min-bytes) were within its noise; rerun them on real clusters.

#: Shards per worker thread, for the scan and for the big files: enough that
#: the last shard to finish is a small part of the run, few enough that the
#: cost of a task (~5-20 ms here) stays small.
SHARDS_PER_THREAD = 4
#: Scan shards sent and not yet done, per worker thread: enough that no
#: thread waits for its next shard, few enough that the shards not started
#: (the scheduler holds them, with their arrays) stay few whatever the size
#: of the manifest.
SCAN_IN_FLIGHT_PER_THREAD = 2
#: A scan shard has at least this many rows...
SCAN_MIN_ROWS = 256
#: ...and ships at most about this many bytes (names and arrays), so that no
#: task's arguments make a big graph on the scheduler.
SCAN_MAX_BYTES = 8 << 20
#: The scan hashes files smaller than this and defers the others to be hashed
#: in shards cut by bytes (the engine's own queueing threshold).
DEFER_MIN = 1 << 20
#: A shard of deferred files closes with the file that fills its share of
#: them (SHARDS_PER_THREAD per thread), a share of at least HASH_MIN_BYTES
#: (a task's cost is ~40 MB of hashing) and at most HASH_MAX_BYTES (which
#: matters when a run starts on the first workers of an adaptive cluster).
HASH_MIN_BYTES = 64 << 20
HASH_MAX_BYTES = 64 << 30
#: How often a running shard publishes its counters.
PROGRESS_SECONDS = 0.25
#: The walk for extra=True: parts per worker thread, how deep the listing that
#: cuts the tree into parts may go, and how many parts at most.
WALK_PARTS_PER_THREAD = 2
WALK_MAX_DEPTH = 3
WALK_MAX_PARTS = 256
#: The Dask event topic the shards publish their progress under.
TOPIC = "checksig-progress"

_SCAN, _HASH, _WALK, _PLAN = "scan", "hash", "walk", "plan-walk"


# --- what the workers run -------------------------------------------------------------


class _Spec:
    """What every task of one run is told (small: it travels with each task)."""

    __slots__ = (
        "defer_min",
        "flags",
        "host_threads",
        "manifest",
        "probe",
        "root",
        "root_given",
        "run",
        "version",
        "workers",
    )

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_spec, (tuple(getattr(self, name) for name in self.__slots__),))


def _restore_spec(values: tuple[Any, ...]) -> _Spec:
    return _Spec(**dict(zip(_Spec.__slots__, values)))


def _version() -> tuple[int, str]:
    return _native.ABI_VERSION, _lazy.package_version()


def _where(worker: Any) -> str:
    return f"Dask worker {worker.address} (host {socket.gethostname()})"


_SHARED = (
    "every worker must see the root at the same path as the client "
    "(a shared file system mounted on every node)"
)


def _check_worker(spec: _Spec, worker: Any) -> None:
    """Refuse to work where the root is not what the client means: a worker
    without the shared file system would report every file missing."""
    if _version() != spec.version:
        abi, version = _version()
        raise RuntimeError(
            f"checksig {version} (ABI {abi}) on {_where(worker)}, but the client has "
            f"checksig {spec.version[1]} (ABI {spec.version[0]}): install the same "
            "checksig on every worker"
        )
    # The error names the root as the caller gave it (and the absolute path
    # the worker looked at, when that differs).
    root = spec.root_given
    there = "" if os.fsencode(root) == spec.root else f" ({os.fsdecode(spec.root)})"
    try:
        st = os.stat(spec.root)
    except OSError as exc:
        message = f"{exc.strerror}{there} on {_where(worker)}; {_SHARED}"
        raise type(exc)(exc.errno, message, root) from None
    if not stat.S_ISDIR(st.st_mode):
        message = f"Not a directory{there} on {_where(worker)}; {_SHARED}"
        raise NotADirectoryError(errno.ENOTDIR, message, root)
    if spec.probe is not None:
        # The manifest lies under the root: the worker must see it there as
        # the client read it, else its root is another directory.
        rel, size = spec.probe
        try:
            found: int | None = os.stat(os.path.join(spec.root, rel)).st_size
        except OSError:
            found = None
        if found != size:
            seen = "does not see it" if found is None else f"sees {found} bytes, not {size}"
            raise _native.PathOSError(
                f"{_where(worker)} has another directory at {os.fsdecode(spec.root)} "
                "than the client: "
                f"the client read the manifest {os.fsdecode(rel)} there, the worker "
                f"{seen} (is the shared file system mounted on that node?); {_SHARED}",
                root,
            )


def _wanted(worker: Any, key: Any) -> bool:
    """Whether the worker still means to run task key: Dask's cancel (and a
    client that went away) moves a running task out of its executing state."""
    try:
        ts = worker.state.tasks.get(key)
    except Exception:  # pragma: no cover - another distributed's internals
        return True
    return ts is not None and ts.state in ("executing", "long-running")


def _go_workers(spec: _Spec, worker: Any) -> int:
    """Engine workers for one task: this node's CPUs shared by the Dask threads
    of every worker on the node (as the client counted them: a LocalCluster
    of N one-thread workers on N cores gives each task one engine worker)."""
    try:
        cpus = len(os.sched_getaffinity(0))  # what a batch system's cgroup allows
    except AttributeError:  # pragma: no cover - macOS
        cpus = os.cpu_count() or 1
    host = distributed.comm.get_address_host(worker.address)
    threads = spec.host_threads.get(host, worker.state.nthreads)
    return max(1, cpus // max(threads, 1))


def _run_job(spec: _Spec, phase: str, index: int, **kwargs: Any) -> tuple[Any, tuple[int, ...]]:
    """Run one engine job for a task: its columns and final counters."""
    worker = distributed.get_worker()
    key = worker.get_current_task()
    _check_worker(spec, worker)
    job = _native._Job(
        _native.JOB_VERIFY,
        root=spec.root,
        workers=spec.workers or _go_workers(spec, worker),
        **kwargs,
    )
    with job:
        published = time.monotonic()
        sent: tuple[int, int] | None = None
        while True:
            counters = job.poll_counters(_native.POLL_MS)
            if counters[0] == _native.PH_DONE:
                break
            if not _wanted(worker, key):
                job.cancel()  # the next poll finds it done
                continue
            now = time.monotonic()
            if phase != _WALK and now - published >= PROGRESS_SECONDS:
                done = (counters[1], counters[3])
                if done != sent:
                    worker.log_event(TOPIC, [spec.run, phase, index, worker.address, *done])
                    sent = done
                published = now
        return job.result(), counters


def _scan(spec: _Spec, index: int, shard: _native.Entries) -> tuple[Any, ...]:
    """Task: scan a shard (small files hashed, big ones sized)."""
    columns, counters = _run_job(
        spec, _SCAN, index, entries=shard, flags=spec.flags, defer_min=spec.defer_min
    )
    return _outcome(columns, counters)


def _hash(spec: _Spec, index: int, shard: _native.Entries) -> tuple[Any, ...]:
    """Task: hash a shard of deferred files."""
    columns, counters = _run_job(spec, _HASH, index, entries=shard, flags=spec.flags)
    return _outcome(columns, counters)


def _outcome(columns: _native.Buffers, counters: tuple[int, ...]) -> tuple[Any, ...]:
    # Only what the client does not have already: ~13 bytes a row and a digest.
    a = columns.arrays()
    counts = (counters[_native.P_FILES_DONE], counters[_native.P_BYTES_DONE])
    counts += (counters[_native.P_BYTES_TOTAL], counters[_native.P_IO])
    return a["status"], a["errnum"], a["size"], a["actual"], counts


def _walk(
    spec: _Spec, index: int, names: _native.Entries, walk_dir: bytes, flat: bool
) -> tuple[Any, Any, Any]:
    """Task: the extra files of one part of the tree: (names, offsets, sizes), sorted."""
    flags = _native.F_PARSE_ONLY | _native.F_EXTRA | (_native.F_WALK_FLAT if flat else 0)
    columns, _ = _run_job(
        spec,
        _WALK,
        index,
        entries=names,
        manifest=spec.manifest,  # not an extra file, as in a local run
        algorithm=_native.ALGORITHMS.index("sha1"),  # names only: any will do
        flags=flags,
        walk_dir=walk_dir,
    )
    a = columns.arrays()
    listed = len(names)
    off = a["path_offsets"][listed:]
    return a["paths"][off[0] : off[-1]], off - off[0], a["size"][listed:]


def _plan_walk(spec: _Spec, index: int, target: int) -> list[tuple[bytes, bool]]:
    """Task: cut the tree into about target parts for the extra walk."""
    worker = distributed.get_worker()
    _check_worker(spec, worker)
    return _parts(spec.root, target)


def _open_dir(root_fd: int, rel: bytes) -> int:
    """Open directory rel beneath root_fd one name at a time, following no
    symlink: the listing stays inside the root even if the tree changes."""
    fd = root_fd
    try:
        for name in rel.split(b"/"):
            nfd = os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            if fd != root_fd:
                os.close(fd)
            fd = nfd
    except BaseException:
        if fd != root_fd:
            os.close(fd)
        raise
    return fd


def _subdirs(root_fd: int, rel: bytes) -> list[bytes]:
    """The directories in rel (not symlinks to one), as names relative to the root."""
    fd = _open_dir(root_fd, rel) if rel else root_fd
    try:
        with os.scandir(fd) as it:
            names = sorted(os.fsencode(e.name) for e in it if e.is_dir(follow_symlinks=False))
    finally:
        if fd != root_fd:
            os.close(fd)
    return [rel + b"/" + n if rel else n for n in names]


def _parts(root: bytes, target: int) -> list[tuple[bytes, bool]]:
    """Disjoint parts covering the tree beneath root: (directory, flat), a
    directory's own files when flat, else its whole subtree. Listed a level
    at a time while there are fewer than target parts. A directory is named
    by its bytes, UTF-8 or not: the engine walks any name (walkRoot in
    go/make.go) and takes any as a part (cleanRelative in go/shard.go)."""
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            level = _subdirs(root_fd, b"")
        except OSError:
            return [(b"", False)]  # one walk, which fails as a local one would
        flats = [b""]
        for _ in range(WALK_MAX_DEPTH - 1):
            if not level or len(level) >= target:
                break
            expanded, kept, deeper = [], [], []
            for d in level:
                try:
                    subs = _subdirs(root_fd, d)
                except OSError:
                    subs = None  # its walk meets the error, as a local one would
                if not subs:
                    kept.append(d)  # walked whole
                else:
                    expanded.append(d)
                    deeper += subs
            parts = len(flats) + len(expanded) + len(kept) + len(deeper)
            if not expanded or parts > WALK_MAX_PARTS:
                break
            flats += expanded
            level = kept + deeper
        return [(d, True) for d in flats] + [(d, False) for d in level]
    finally:
        os.close(root_fd)


# --- the client --------------------------------------------------------------------


def connect(address: str) -> distributed.Client:
    """A Client of the Dask scheduler at address (``checksig check --scheduler``)."""
    try:
        return distributed.Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


def _on_event(event: tuple[float, Any]) -> None:
    """The client's handler of the progress topic (in the client's event loop)."""
    msg = event[1]
    run = _RUNS.get(msg[0])
    if run is not None:
        run._live(msg)


_RUNS: dict[str, ClusterRun] = {}


class RunStats:
    """What a run shipped, counted as it went (tests and benchmarks read it)."""

    __slots__ = ("bytes_back", "bytes_out", "shards")

    def __init__(self) -> None:
        self.shards = dict.fromkeys((_SCAN, _HASH, _WALK), 0)
        self.bytes_out = 0  # arrays sent to the cluster (shards, the walk's names)
        self.bytes_back = 0  # arrays received from it


def _nbytes(value: Any) -> int:
    if isinstance(value, distributed.Future):
        return 0  # data already on the cluster
    if isinstance(value, _native.Entries):
        arrays = (value.names, value.offsets, value.digests, value.algorithms, value.lines)
        return sum(a.nbytes for a in arrays if a is not None)
    if isinstance(value, (tuple, list)):
        return sum(map(_nbytes, value))
    return getattr(value, "nbytes", 0)


class ClusterRun:
    """A verify run spread over a Dask cluster, shaped like ``_native._Job``
    (poll_counters, cancel, result, warnings, free) so that a
    :class:`checksig.Job` drives it as it drives an engine job: progress=,
    result(), cancel(), await, Ctrl-C.

    ``root`` and ``manifest`` are made absolute here: the workers resolve
    them on their own file systems, from their own working directories.
    """

    def __init__(
        self,
        client: Any,
        *,
        algorithm: int,
        workers: int,
        flags: int,
        root: bytes,
        manifest: bytes,
        family: int = _native.FAMILY_NONE,
    ) -> None:
        if not isinstance(client, distributed.Client):
            raise TypeError(
                f"client must be a distributed.Client, got {type(client).__name__}: "
                "client = distributed.Client(address) connects to a running scheduler"
            )
        if client.asynchronous:
            raise ValueError(
                "client= needs a Client that is not asynchronous; "
                "averify(..., client=) polls it from its own thread"
            )
        self._client = client
        self._flags = flags
        self._token = uuid.uuid4().hex
        self._root_given = os.fsdecode(root)
        self._root = os.path.abspath(root)
        self._manifest = os.path.abspath(manifest)
        self._workers = workers
        self.stats = RunStats()
        #: The worker each shard last reported from: {(phase, index): address}.
        self.shard_workers: dict[tuple[str, int], str] = {}

        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._wake: queue.Queue[Any] = queue.Queue()
        self._cancelled = False
        self._freed = False
        self._columns: _native.Buffers | None = None
        self._error: BaseException | None = None
        self._warnings: list[tuple[int, str]] = []
        # Counters: shards finished (summed) and running (latest report each).
        self._finished: set[tuple[str, int]] = set()
        self._done_files = self._done_bytes = 0
        self._io = 0
        self._running: dict[tuple[str, int], tuple[int, int]] = {}
        self._scan_totals: list[int] = []
        self._bytes_total = -1
        self._progress: tuple[int, ...] = _native.INITIAL_COUNTERS
        #: time.monotonic() when the shards were sent (the job's "attached").
        self.attached_at: float | None = None

        client.subscribe_topic(TOPIC, _on_event)  # raises if the client is closed
        # The parse starts now, as a local job's does: a bad argument raises here.
        self._parse_inference: dict[str, Any] | None = None
        self._parse = _native._Job(
            _native.JOB_VERIFY,
            algorithm=algorithm,
            family=family,
            flags=_native.F_PARSE_ONLY | (flags & _native.F_STRICT),
            manifest=manifest,
        )
        _RUNS[self._token] = self
        self._thread = threading.Thread(
            target=self._drive, name=f"checksig-dask-{self._token[:8]}", daemon=True
        )
        self._thread.start()

    # -- what checksig.Job uses

    def poll_counters(self, timeout_ms: int = 0) -> tuple[int, ...]:
        """The run's counters (CHECKSIG_P_* order), after waiting up to
        timeout_ms for its end."""
        if timeout_ms > 0:
            self._ended.wait(timeout_ms / 1000)
        with self._lock:
            p = list(self._progress)
            if p[0] != _native.PH_DONE:
                p[1] = self._done_files + sum(f for f, _ in self._running.values())
                p[3] = self._done_bytes + sum(b for _, b in self._running.values())
                p[4] = self._bytes_total
            p[_native.P_IO] = self._io
            self._progress = tuple(p)
            return self._progress

    def cancel(self) -> None:
        """Ask the run to stop; returns at once (the run's thread cancels the
        futures, and with them the engine jobs on the workers)."""
        self._cancelled = True
        self._wake.put(None)

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled

    def done(self) -> bool:
        return self._ended.is_set()

    def result(self) -> _native.Buffers:
        """The Report's columns, or the exception the run ended with."""
        if not self._ended.is_set():
            raise ValueError("the checksig cluster run has not finished")
        if self._error is not None:
            if isinstance(self._error, Cancelled):
                current = sys.exc_info()[1]
                if isinstance(current, KeyboardInterrupt):
                    raise current
            raise self._error
        assert self._columns is not None
        return self._columns

    def warnings(self) -> list[tuple[int, str]]:
        return list(self._warnings)

    def inference(self) -> dict[str, Any]:
        """As ``_native._Job.inference()``, for the whole run: the parse says
        which algorithm untagged lines were read as and why; the ok and
        mismatch counts are those of the rows of that algorithm once every
        shard is in. No row is probed with the other algorithms of its length
        (``probed`` -1): the file lives on the workers' file system."""
        d = dict(self._parse_inference or {})
        if not d or self._columns is None or not d.get("rows"):
            return d
        a = self._columns.arrays()
        status = a["status"][a["algorithm"] == _native.ALGORITHMS.index(d["algorithm"])]
        d["ok"] = int(np.count_nonzero(status == _native.ST_OK))
        d["mismatch"] = int(np.count_nonzero(status == _native.ST_MISMATCH))
        d["probed"], d["match"] = -1, ""
        return d

    def free(self) -> None:
        """Cancel if still running and wait (a few seconds at most) until the
        run's futures are cancelled on the cluster."""
        self._freed = True
        if not self._ended.is_set():
            self.cancel()
        self._thread.join(timeout=10)
        self._parse.free()

    @property
    def freed(self) -> bool:
        return self._freed

    def shards_running(self) -> dict[tuple[str, int], tuple[str, int, int]]:
        """The shards that reported progress and have not finished:
        {(phase, shard): (worker address, files done, bytes done)}."""
        with self._lock:
            return {k: (self.shard_workers[k], *v) for k, v in self._running.items()}

    # -- progress, from the client's event loop

    def _live(self, msg: list[Any]) -> None:
        key = (msg[1], msg[2])
        with self._lock:
            if key not in self._finished:
                self._running[key] = (msg[4], msg[5])
                self.shard_workers[key] = msg[3]

    def _finish(self, key: tuple[str, int], files: int, nbytes: int) -> None:
        with self._lock:
            self._finished.add(key)
            self._running.pop(key, None)
            self._done_files += files
            self._done_bytes += nbytes

    def _set(self, **fields: int) -> None:
        with self._lock:
            p = list(self._progress)
            for name, value in fields.items():
                p[_native.PROGRESS_FIELDS.index(name)] = value
            self._progress = tuple(p)

    # -- the run

    def _drive(self) -> None:
        futures: dict[Any, tuple[Any, str, int, Any]] = {}
        try:
            self._columns = self._run(futures)
        except BaseException as exc:
            self._error = exc
        finally:
            if futures:
                try:
                    self._client.cancel([f for f, *_ in futures.values()], force=True)
                except Exception:  # pragma: no cover - the client is closing
                    pass
            futures.clear()
            _RUNS.pop(self._token, None)
            self._set(phase=_native.PH_DONE)
            self._ended.set()

    def _wait_parse(self) -> _native.Buffers:
        parse = self._parse
        while parse.poll_counters(_native.POLL_MS)[0] != _native.PH_DONE:
            if self._cancelled:
                parse.cancel()
        columns = parse.result()  # ManifestError, FileNotFoundError, Cancelled, ...
        self._warnings = parse.warnings()
        self._parse_inference = parse.inference()
        parse.free()
        return columns

    def _next(self, futures: dict[Any, tuple[Any, str, int, Any]]) -> tuple[Any, str, int, Any]:
        """The next finished future's result, kind, index and what it covers."""
        while True:
            if self._cancelled:
                raise Cancelled("the checksig verify job was cancelled")
            try:
                future = self._wake.get(timeout=0.1)
            except queue.Empty:
                continue
            if future is None or future.key not in futures:
                continue
            _, kind, index, rows = futures.pop(future.key)
            if future.status == "cancelled":  # by someone else: the user, a restart
                raise Cancelled(
                    f"the checksig verify job was cancelled: its {kind} task {index} "
                    "was cancelled on the cluster"
                )
            value = future.result()  # or the task's exception, raised here
            self.stats.bytes_back += _nbytes(value)
            return value, kind, index, rows

    def _submit(
        self,
        futures: dict[Any, tuple[Any, str, int, Any]],
        func: Any,
        kind: str,
        index: int,
        *args: Any,
        rows: Any = None,
        priority: int = 0,
    ) -> None:
        key = (f"checksig-{kind}-{self._token}", index)
        future = self._client.submit(func, self._spec, index, *args, key=key, priority=priority)
        futures[future.key] = (future, kind, index, rows)
        future.add_done_callback(self._wake.put)
        self.stats.bytes_out += _nbytes(args)
        if kind in self.stats.shards:
            self.stats.shards[kind] += 1

    def _run(self, futures: dict[Any, tuple[Any, str, int, Any]]) -> _native.Buffers:
        columns = self._wait_parse()
        a = columns.arrays()
        n = columns.rows
        threads, host_threads = self._threads()
        self._spec = _Spec(
            run=self._token,
            root=self._root,
            root_given=self._root_given,
            manifest=self._manifest,
            probe=self._probe(),
            flags=self._flags & _native.F_ALLOW_OUTSIDE,
            workers=self._workers,
            host_threads=host_threads,
            defer_min=DEFER_MIN,
            version=_version(),
        )
        self._set(
            phase=_native.PH_RUNNING,
            files_total=n,
            rows=n,
            digest_width=columns.width,
            paths_len=columns.paths_len,
            warnings=len(self._warnings),
        )
        self.attached_at = time.monotonic()
        extra = bool(self._flags & _native.F_EXTRA)
        if extra:
            target = max(WALK_PARTS_PER_THREAD * threads, 2)
            self._submit(futures, _plan_walk, _PLAN, 0, target)
        scans = _scan_cuts(a["path_offsets"], n, columns.width, threads)
        waiting = iter(enumerate(scans))
        for i, (lo, hi) in itertools.islice(waiting, SCAN_IN_FLIGHT_PER_THREAD * threads):
            self._submit(
                futures, _scan, _SCAN, i, _native.Entries.from_columns(a, lo, hi), rows=(lo, hi)
            )
        scanning, deferred, parts = len(scans), [], {}
        while futures:
            value, kind, index, rows = self._next(futures)
            if kind == _PLAN:
                self._submit_walk(futures, a, value)
                continue
            if kind == _WALK:
                parts[rows] = value
                continue
            status, errnum, size, actual, (files, nbytes, total, io) = value
            self._io |= io  # how the workers read their big files (Report.io)
            if kind == _SCAN:
                lo, hi = rows
                a["status"][lo:hi], a["errnum"][lo:hi], a["size"][lo:hi] = status, errnum, size
                a["actual"][lo:hi] = actual
                deferred.append(lo + np.flatnonzero(status == _native.ST_PENDING))
                self._scan_totals.append(total)
                scanning -= 1
                for i, (lo, hi) in itertools.islice(waiting, 1):  # the next, if any
                    shard = _native.Entries.from_columns(a, lo, hi)
                    self._submit(futures, _scan, _SCAN, i, shard, rows=(lo, hi))
            else:
                a["status"][rows], a["errnum"][rows], a["size"][rows] = status, errnum, size
                a["actual"][rows] = actual
            self._finish((kind, index), files, nbytes)
            if kind == _SCAN and not scanning:
                with self._lock:
                    self._bytes_total = sum(self._scan_totals)
                # In manifest order (the scans end in any order): neighbours
                # in a manifest are often neighbours on disk. Cut for the
                # workers there are now (an adaptive cluster grows).
                rows = np.sort(np.concatenate(deferred))
                self._submit_hash(futures, a, rows, self._threads()[0])
        left = int(np.count_nonzero(a["status"] == _native.ST_PENDING))
        if left:  # pragma: no cover - a bug: every shard's rows came back
            raise _native.EngineError(f"checksig: {left} rows of the cluster run got no result")
        if extra:
            columns = _with_extra(columns, _extra_in_order(parts))
        self._set(
            files_done=self._done_files,
            bytes_done=self._done_bytes,
            bytes_total=self._bytes_total,
            rows=columns.rows,
            paths_len=columns.paths_len,
            io=self._io,
        )
        return columns

    def _threads(self) -> tuple[int, dict[str, int]]:
        """The cluster's worker threads (at least 1), and their number by host."""
        nthreads = self._client.nthreads()
        by_host: dict[str, int] = {}
        for address, count in nthreads.items():
            host = distributed.comm.get_address_host(address)
            by_host[host] = by_host.get(host, 0) + count
        return max(sum(nthreads.values()), 1), by_host

    def _probe(self) -> tuple[bytes, int] | None:
        """The manifest's name under the root and its size, if it lies there."""
        rel = os.path.relpath(self._manifest, self._root)
        up = os.fsencode(os.pardir)
        if rel == up or rel.startswith(up + os.fsencode(os.sep)):
            return None
        try:
            return rel, os.stat(self._manifest).st_size
        except OSError:
            return None

    def _submit_hash(self, futures: dict, a: dict[str, Any], rows: Any, threads: int) -> None:
        shards = _hash_cuts(a["size"][rows], threads)
        # The biggest first: Dask runs higher priorities first.
        order = sorted(range(len(shards)), key=lambda k: -shards[k][2])
        for rank, k in enumerate(order):
            lo, hi, _ = shards[k]
            part = rows[lo:hi]
            self._submit(
                futures, _hash, _HASH, k, _gather(a, part), rows=part, priority=len(order) - rank
            )

    def _submit_walk(self, futures: dict, a: dict[str, Any], parts: list) -> None:
        # The listed names go to the cluster once (broadcast: a worker that
        # dies takes no only copy with it); every part's task reads them there.
        names = _native.Entries(a["paths"], a["path_offsets"])
        self.stats.bytes_out += _nbytes(names)
        shared = self._client.scatter(names, broadcast=True, hash=False)
        for j, (walk_dir, flat) in enumerate(parts):
            self._submit(futures, _walk, _WALK, j, shared, walk_dir, flat, rows=(walk_dir, flat))


def _scan_cuts(offsets: Any, n: int, width: int, threads: int) -> list[tuple[int, int]]:
    """Contiguous row ranges for the scan: SHARDS_PER_THREAD per thread, of
    SCAN_MIN_ROWS rows at least and about SCAN_MAX_BYTES at most."""
    if n == 0:
        return []
    payload = int(offsets[n] - offsets[0]) + n * (8 + width + 1 + 8)
    count = max(SHARDS_PER_THREAD * threads, math.ceil(payload / SCAN_MAX_BYTES))
    step = max(math.ceil(n / count), SCAN_MIN_ROWS)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _hash_cuts(sizes: Any, threads: int) -> list[tuple[int, int, int]]:
    """(lo, hi, bytes) ranges of the deferred files, cut by bytes: each closes
    once it holds its share (a single bigger file is a shard of its own)."""
    if len(sizes) == 0:
        return []
    cum = np.cumsum(sizes)
    total = int(cum[-1])
    target = max(min(total // (SHARDS_PER_THREAD * threads), HASH_MAX_BYTES), HASH_MIN_BYTES, 1)
    marks = np.arange(1, total // target + 1, dtype=np.int64) * target
    ends = np.unique(np.searchsorted(cum, marks, side="left") + 1)
    bounds = [0, *(int(e) for e in ends if e < len(sizes)), len(sizes)]
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        out.append((lo, hi, int(cum[hi - 1] - (cum[lo - 1] if lo else 0))))
    return out


def _gather(a: dict[str, Any], rows: Any) -> _native.Entries:
    """The entries of some rows (not contiguous) of the parse's columns."""
    off = a["path_offsets"]
    starts, lens = off[rows], off[rows + 1] - off[rows]
    new = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=new[1:])
    index = np.repeat(starts - new[:-1], lens) + np.arange(new[-1], dtype=np.int64)
    return _native.Entries(
        a["paths"][index],
        new,
        a["expected"][rows],
        algorithms=a["algorithm"][rows],
        lines=a["line"][rows],
    )


def _name(names: Any, offsets: Any, i: int) -> bytes:
    return names[offsets[i] : offsets[i + 1]].tobytes()


def _extra_in_order(parts: dict[tuple[bytes, bool], tuple[Any, Any, Any]]) -> list[tuple]:
    """The parts' extra rows as (names, offsets, sizes) pieces in name order.

    Each part's rows are sorted. The rows of a part that is a subtree (or a
    directory's own files and those of its own parts) all start with
    ``"dir/"``, and no file of the parent shares that prefix: so they are one
    block, which goes where ``"dir/"`` sorts among the parent's own files.
    """
    children: dict[bytes, list[bytes]] = {}
    for d, _flat in parts:
        if d:
            children.setdefault(d.rpartition(b"/")[0], []).append(d)

    def emit(d: bytes, out: list[tuple]) -> None:
        if (d, True) not in parts:  # a subtree walked whole
            names, offsets, sizes = parts[(d, False)]
            out.append((names, offsets, sizes, 0, len(sizes)))
            return
        names, offsets, sizes = parts[(d, True)]
        start = 0
        for key in sorted({child + b"/" for child in children.get(d, ())}):
            child = key[:-1]
            lo, hi = start, len(sizes)
            while lo < hi:  # bisect over the part's sorted names, made one at a time
                mid = (lo + hi) // 2
                if _name(names, offsets, mid) < key:
                    lo = mid + 1
                else:
                    hi = mid
            out.append((names, offsets, sizes, start, lo))
            emit(child, out)
            start = lo
        out.append((names, offsets, sizes, start, len(sizes)))

    out: list[tuple] = []
    if parts:
        emit(b"", out)
    return [p for p in out if p[4] > p[3]]


def _with_extra(columns: _native.Buffers, pieces: list[tuple]) -> _native.Buffers:
    """columns with the extra rows appended (status EXTRA, the walk's size,
    nothing else), as a local run's walk adds them."""
    count = sum(hi - lo for *_, lo, hi in pieces)
    if not count:
        return columns
    n, width, paths_len = columns.rows, columns.width, columns.paths_len
    extra_len = sum(int(off[hi] - off[lo]) for _, off, _, lo, hi in pieces)
    out = _native.Buffers.allocate(n + count, width, paths_len + extra_len)
    a, b = columns.arrays(), out.arrays()
    for name in ("status", "algorithm", "errnum", "size", "line", "expected", "actual"):
        b[name][:n] = a[name]
    b["path_offsets"][: n + 1] = a["path_offsets"]
    b["paths"][:paths_len] = a["paths"]
    row, pos = n, paths_len
    for names, off, sizes, lo, hi in pieces:
        k, blob = hi - lo, names[off[lo] : off[hi]]
        b["status"][row : row + k] = _native.ST_EXTRA
        b["size"][row : row + k] = sizes[lo:hi]
        b["path_offsets"][row + 1 : row + k + 1] = off[lo + 1 : hi + 1] - off[lo] + pos
        b["paths"][pos : pos + len(blob)] = blob
        row, pos = row + k, pos + len(blob)
    return out
