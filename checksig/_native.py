"""The C boundary: the only module that touches ctypes.

Everything the Go engine exports is declared here, mirroring
``go/capi/checksig.h`` (keep in sync with it; CHECKSIG_ABI_VERSION below must
equal the header's). The rules this module keeps:

* The library ``_checksig{EXT_SUFFIX}`` beside this file is loaded lazily, on
  the first call that needs it, never at ``import checksig``.
* Every function gets ``argtypes`` and ``restype``. ctypes' CDLL releases the
  GIL for the duration of each call, so Go's work never holds it.
* Memory Go allocates (error messages and paths, the warnings blob) is typed
  ``c_void_p``, never ``c_char_p`` (which would copy the bytes and lose the
  pointer), read with ``ctypes.string_at`` and released with
  ``checksig_error_clear`` / ``checksig_free``.
* Result columns are :class:`Buffers` Python allocates with the sizes the
  job reports in PH_READY (one anonymous mmap, no numpy); the engine writes
  into them. They stay referenced by the :class:`_Job` until
  ``checksig_job_free`` has returned, which waits until no engine goroutine
  touches them any more. The Report's numpy columns are views of that
  memory, made on first access.
* fork(): a Go runtime does not survive fork() (its threads are gone in the
  child, its locks may be held forever). A child of a process that loaded the
  library refuses every call with RuntimeError instead of deadlocking or
  crashing; use multiprocessing's "spawn" or "forkserver" start method.
"""

from __future__ import annotations

import _thread
import ctypes
import errno as _errno
import os
import sys
import time
from ctypes import POINTER, c_int32, c_int64, c_uint8, c_uint32, c_uint64, c_void_p

from ._errors import Cancelled, EngineError, ManifestError, NotRegularFileError
from ._lazy import np

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

# --- constants: keep in sync with go/capi/checksig.h -----------------------

ABI_VERSION = 6

OK = 0
E_INVALID = 1
E_NOT_FOUND = 2
E_PERMISSION = 3
E_IS_DIR = 4
E_NOT_REGULAR = 5
E_OS = 6
E_MANIFEST = 7
E_CANCELLED = 8
E_HANDLE = 9
E_PANIC = 10

ALG_NONE = 0
ALG_MD5, ALG_SHA1, ALG_SHA224, ALG_SHA256, ALG_SHA384, ALG_SHA512 = 1, 2, 3, 4, 5, 6
ALG_SHA3_224, ALG_SHA3_256, ALG_SHA3_384, ALG_SHA3_512 = 7, 8, 9, 10
ALG_BLAKE2S, ALG_BLAKE3, ALG_GIT_SHA1 = 11, 12, 13
#: BLAKE2b with an N-bit digest is ALG_BLAKE2B_BASE + N // 8 (N = 8, 16, ..., 512).
ALG_BLAKE2B_BASE = 63
ALG_BLAKE2B = 127  # BLAKE2b-512, hashlib's blake2b
ALG_COUNT = 128


def _algorithm_table() -> tuple[tuple[str, ...], tuple[int, ...]]:
    names = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
    names += ["sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2s", "blake3", "git-sha1"]
    sizes = [16, 20, 28, 32, 48, 64, 28, 32, 48, 64, 32, 32, 20]
    table = [("", 0)] + list(zip(names, sizes))
    table += [("", 0)] * (ALG_BLAKE2B_BASE + 1 - len(table))  # 14..63: unused
    table += [(f"blake2b-{8 * n}", n) for n in range(1, 64)] + [("blake2b", 64)]
    return tuple(n for n, _ in table), tuple(s for _, s in table)


#: Algorithm names by CHECKSIG_ALG_* index: hashlib's where hashlib has one
#: ("sha3_256", "blake2b", "blake2s"), else "blake2b-N", "blake3", "git-sha1";
#: "" for index 0 and for the unused indices 14 to 63.
#: DIGEST_SIZES: the digest size in bytes by the same index (0: none).
ALGORITHMS, DIGEST_SIZES = _algorithm_table()

#: Families of algorithms told apart by digest length (Request.family, verify only).
FAMILY_NONE, FAMILY_SHA2, FAMILY_SHA3, FAMILY_BLAKE2B = 0, 1, 2, 3

#: What decided a manifest line's algorithm, by CHECKSIG_SRC_* index.
SOURCES = ("", "tag", "request", "name", "length")
SRC_NONE, SRC_TAG, SRC_REQUEST, SRC_NAME, SRC_LENGTH = 0, 1, 2, 3, 4

#: Row status names by CHECKSIG_ST_* index.
STATUSES = (
    "pending",
    "ok",
    "mismatch",
    "missing",
    "unreadable",
    "not_regular",
    "outside_root",
    "extra",
    "changed",
    "not_checked",
)
ST_PENDING, ST_OK, ST_MISMATCH, ST_MISSING, ST_UNREADABLE = 0, 1, 2, 3, 4
ST_NOT_REGULAR, ST_OUTSIDE_ROOT, ST_EXTRA, ST_CHANGED, ST_NOT_CHECKED = 5, 6, 7, 8, 9


def status_name(code: int) -> str:
    """A status code's name; ``unknown(N)`` for a code this version does not know."""
    return STATUSES[code] if code < len(STATUSES) else f"unknown({code})"


def digest_hex(column: Any, i: int, stride: int, alg: int) -> str:
    """Row i's digest in hex, from a flat digest column (row i starts at i * stride):
    as many bytes as algorithm ``alg`` makes, none (``""``) for no or an unknown
    algorithm."""
    n = DIGEST_SIZES[alg] if alg < len(DIGEST_SIZES) else 0
    start = i * stride
    return column[start : start + min(n, stride)].hex()


JOB_VERIFY = 1
JOB_DIGEST = 2
JOB_MAKE = 3

F_STRICT = 0x1
F_TAG = 0x2
F_EXTRA = 0x4
F_ALLOW_OUTSIDE = 0x8
F_ENTRIES = 0x10  # set by _Job for entries=
F_TEXT = 0x20  # set by _Job for manifest_data=
F_PARSE_ONLY = 0x40
F_ALLOW_EMPTY = 0x80
F_BASE64 = 0x100
F_DEFER = 0x200  # set by _Job for defer_min=
F_WALK_FLAT = 0x400

#: Untagged line forms (checksig_job_parse_state; _Job(form=...)).
FORM_UNDECIDED = 0
FORM_STANDARD = 1
FORM_ONE_SPACE = 2

#: The longest manifest line (with its ending) the engine reads; a longer
#: one may be passed on as its first MAX_LINE_LEN bytes and a newline
#: (see checksig._chunks).
MAX_LINE_LEN = 65536

PH_ENUMERATING = 1
PH_READY = 2
PH_RUNNING = 3
PH_DONE = 4
PHASES = {PH_ENUMERATING: "enumerating", PH_READY: "ready", PH_RUNNING: "running", PH_DONE: "done"}


def phase_name(code: int) -> str:
    """A CHECKSIG_PH_* code's name ("enumerating", ...); the number as text if unknown."""
    return PHASES.get(code, str(code))


#: Names of the CHECKSIG_P_* counters, in index order: checksig.h's table
#: (CHECKSIG_P_FILES_DONE is "files_done"), which the engine fills by name.
#: Code reads a counter by its index constant below, never by a number.
PROGRESS_FIELDS = (
    "phase",
    "files_done",
    "files_total",
    "bytes_done",
    "bytes_total",
    "rows",
    "digest_width",
    "paths_len",
    "warnings",
    "io",
)
(
    P_PHASE,
    P_FILES_DONE,
    P_FILES_TOTAL,
    P_BYTES_DONE,
    P_BYTES_TOTAL,
    P_ROWS,
    P_DIGEST_WIDTH,
    P_PATHS_LEN,
    P_WARNINGS,
    P_IO,
) = range(len(PROGRESS_FIELDS))
P_LEN = len(PROGRESS_FIELDS)

#: Bits of the "io" counter: how a job read and hashed its big files (CHECKSIG_IO_*).
IO_READ, IO_MMAP, IO_READAHEAD, IO_CALIBRATE, IO_OPENSSL = 0x1, 0x2, 0x4, 0x8, 0x10
IO_MAPAHEAD = 0x20
_IO_NAMES = (
    (IO_READ, "read"),
    (IO_MMAP, "mmap"),
    (IO_READAHEAD, "readahead"),
    (IO_MAPAHEAD, "mapahead"),
    (IO_OPENSSL, "openssl"),
)
#: The values CHECKSIG_IO may take (read by the engine when it loads).
IO_MODES = ("auto", "read", "mmap")


def io_paths(bits: int) -> tuple[str, ...]:
    """The names of the ways a job read and hashed its big files, from its "io"
    counter: "read", "mmap", "readahead" (read on one core, hashed on another),
    "mapahead" (mapped, the pages made present on another core ahead of the
    hash), "openssl" (hashed by the OpenSSL the process had loaded for hashlib), then
    "calibrating" when some of its windows were timed to choose between read
    and mmap. Empty when the job read no big file."""
    names = tuple(name for bit, name in _IO_NAMES if bits & bit)
    return names + ("calibrating",) if bits & IO_CALIBRATE else names


def with_phase(counters: tuple[int, ...], phase: int) -> tuple[int, ...]:
    """counters with the P_PHASE counter set to phase."""
    return counters[:P_PHASE] + (phase,) + counters[P_PHASE + 1 :]


#: A job's counters before its first poll: enumerating, totals unknown (-1).
INITIAL_COUNTERS = tuple(
    {P_PHASE: PH_ENUMERATING, P_FILES_TOTAL: -1, P_BYTES_TOTAL: -1}.get(i, 0) for i in range(P_LEN)
)

#: Names of the CHECKSIG_I_* values checksig_job_inference fills, in index order.
INFERENCE_FIELDS = ("algorithm", "source", "rows", "ok", "mismatch", "probed", "match")
I_LEN = len(INFERENCE_FIELDS)

#: The largest digest of any algorithm (BLAKE3's longer outputs aside), in bytes.
MAX_DIGEST_SIZE = 64

#: How long one checksig_job_poll may block. Python handles signals (Ctrl-C)
#: only between polls, so this bounds how late an interrupt is noticed.
POLL_MS = 50


# --- struct mirrors: exactly the header's field order and C types ----------

_u8p = POINTER(c_uint8)
_i32p = POINTER(c_int32)
_i64p = POINTER(c_int64)


class Error(ctypes.Structure):
    """checksig_error. ``message`` and ``path`` are malloc'd by Go."""

    _fields_ = [
        ("code", c_int32),
        ("errnum", c_int32),
        ("line", c_int64),
        ("message", c_void_p),  # char*, Go-owned until checksig_error_clear
        ("path", c_void_p),  # char*, Go-owned, path_len bytes, may be NULL
        ("path_len", c_int64),
    ]


class Request(ctypes.Structure):
    """checksig_request. Go reads (and copies what it keeps of) every buffer
    during checksig_job_start: none needs to outlive the call."""

    _fields_ = [
        ("kind", c_int32),
        ("workers", c_int32),
        ("flags", c_uint32),
        ("algorithm", c_int32),
        ("family", c_int32),
        ("root", _u8p),
        ("root_len", c_int64),
        ("manifest", _u8p),
        ("manifest_len", c_int64),
        ("paths", _u8p),
        ("paths_len", c_int64),
        ("offsets", _i64p),
        ("n_paths", c_int64),
        ("manifest_text", _u8p),
        ("manifest_text_len", c_int64),
        ("first_line", c_int64),
        ("form", c_int32),
        ("entry_width", c_int32),
        ("entry_algorithms", _u8p),
        ("entry_digests", _u8p),
        ("entry_lines", _i64p),
        ("defer_min", c_int64),
        ("walk_dir", _u8p),
        ("walk_dir_len", c_int64),
    ]


class Columns(ctypes.Structure):
    """checksig_columns: caller-owned result buffers (a :class:`Buffers` here)."""

    _fields_ = [
        ("rows", c_int64),
        ("digest_width", c_int64),
        ("paths_len", c_int64),
        ("status", _u8p),
        ("algorithm", _u8p),
        ("errnum", _i32p),
        ("size", _i64p),
        ("line", _i64p),
        ("expected", _u8p),
        ("actual", _u8p),
        ("path_offsets", _i64p),
        ("paths", _u8p),
    ]


# (name, restype, argtypes) for every export of checksig.h.
_SIGNATURES: list[tuple[str, Any, list[Any]]] = [
    ("checksig_abi_version", c_int32, []),
    ("checksig_free", None, [c_void_p]),
    ("checksig_error_clear", None, [POINTER(Error)]),
    (
        "checksig_file_digest",
        c_int32,
        # The path goes in as c_char_p: ctypes passes the bytes object's own
        # buffer (read-only use, no copy), which matters on the per-file hot path.
        [
            ctypes.c_char_p,
            c_int64,
            c_int32,
            c_int64,
            ctypes.c_char_p,
            c_int64,
            _i64p,
            POINTER(Error),
        ],
    ),
    ("checksig_job_start", c_int32, [POINTER(Request), POINTER(c_uint64), POINTER(Error)]),
    ("checksig_job_poll", c_int32, [c_uint64, c_int32, _i64p, c_int64, POINTER(Error)]),
    ("checksig_job_attach", c_int32, [c_uint64, POINTER(Columns), POINTER(Error)]),
    ("checksig_job_cancel", c_int32, [c_uint64]),
    ("checksig_job_result", c_int32, [c_uint64, POINTER(Error)]),
    ("checksig_job_inference", c_int32, [c_uint64, _i64p, c_int64, POINTER(Error)]),
    (
        "checksig_job_warnings",
        c_int32,
        [c_uint64, POINTER(c_void_p), POINTER(c_int64), POINTER(Error)],
    ),
    (
        "checksig_job_parse_state",
        c_int32,
        [c_uint64, _i64p, _i32p, POINTER(Error)],
    ),
    ("checksig_job_free", c_int32, [c_uint64]),
    ("checksig_engine_info", c_int32, [POINTER(c_void_p), POINTER(c_int64), POINTER(Error)]),
    ("checksig_debug_counters", c_int32, [_i64p, c_int64]),
]


# --- loading ----------------------------------------------------------------

_lib: ctypes.CDLL | None = None
_lib_pid: int | None = None
_forked_after_load = False
_load_lock = _thread.allocate_lock()


def library_path() -> str:
    """The path the engine library is loaded from (it may not exist)."""
    # The build names it with sysconfig's EXT_SUFFIX, which CPython lists
    # first among the suffixes its importer tries. Read from there: sysconfig
    # and pathlib would add ~5 ms to every first call.
    from importlib.machinery import EXTENSION_SUFFIXES

    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.join(here, "_checksig" + EXTENSION_SUFFIXES[0])


def _after_fork_in_child() -> None:
    global _forked_after_load, _load_lock
    if _lib is not None:
        _forked_after_load = True
    # A lock held by another thread at fork time would stay held forever.
    _load_lock = _thread.allocate_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_FORK_MESSAGE = (
    "checksig cannot be used in a child process created by fork() from a process "
    "that had already loaded the checksig engine: the engine's Go runtime cannot "
    "survive fork() (its threads do not exist in the child). Use multiprocessing's "
    '"spawn" or "forkserver" start method (multiprocessing.get_context("spawn")), '
    "or make the first checksig call in the children only."
)


def lib() -> ctypes.CDLL:
    """Return the loaded engine, loading and checking it on first use.

    Raises ImportError if the library is missing or has another ABI version,
    and RuntimeError in a forked child of a process that had loaded it.
    """
    global _lib, _lib_pid
    if _forked_after_load or (_lib is not None and _lib_pid != os.getpid()):
        raise RuntimeError(_FORK_MESSAGE)
    if _lib is not None:
        return _lib
    with _load_lock:
        if _lib is None:
            loaded = _load()
            _lib_pid = os.getpid()
            _lib = loaded
    return _lib


def _load() -> ctypes.CDLL:
    path = library_path()
    if not os.path.exists(path):
        raise ImportError(
            f"checksig's engine library is missing: looked for {path}. It is built "
            "from the Go sources when the package is installed; rebuild it with "
            "`pip install -e .` (from a checkout) or `pip install --force-reinstall .`",
            name="checksig._checksig",
            path=path,
        )
    try:
        cdll = ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(
            f"cannot load checksig's engine library {path}: {exc}. Rebuild it with "
            "`pip install -e .` or `pip install --force-reinstall .`",
            name="checksig._checksig",
            path=path,
        ) from exc
    for name, restype, argtypes in _SIGNATURES:
        try:
            fn = getattr(cdll, name)
        except AttributeError as exc:
            raise ImportError(
                f"checksig's engine library {path} does not export {name}: it was built "
                "from other sources than this Python package. Rebuild it with "
                "`pip install --force-reinstall .`",
                name="checksig._checksig",
                path=path,
            ) from exc
        fn.restype = restype
        fn.argtypes = argtypes
    version = cdll.checksig_abi_version()
    if version != ABI_VERSION:
        raise ImportError(
            f"checksig's engine library {path} has ABI version {version}, but this "
            f"Python package needs version {ABI_VERSION}: the two come from different "
            "builds. Reinstall with `pip install --force-reinstall .`",
            name="checksig._checksig",
            path=path,
        )
    mode = os.environ.get("CHECKSIG_IO")
    if mode and mode not in IO_MODES:
        import warnings

        warnings.warn(
            f"CHECKSIG_IO={mode!r} is not one of {', '.join(IO_MODES)}: checksig uses auto",
            RuntimeWarning,
            stacklevel=3,
        )
    return cdll


def is_loaded() -> bool:
    """Whether the engine library has been loaded in this process."""
    return _lib is not None


# --- errors -----------------------------------------------------------------


def _strerror(errnum: int, fallback: str) -> str:
    if errnum:
        try:
            return os.strerror(errnum)
        except ValueError:
            pass
    return fallback


class PathOSError(OSError):
    """An OSError with no errno but a reason and a path: ``str()`` shows both.

    Setting ``filename`` on a plain ``OSError(message)`` would make its
    ``str()`` read ``[Errno None] None: 'path'`` and lose the reason.
    """

    def __init__(self, reason: str, filename: str | None) -> None:
        super().__init__(reason)
        self.strerror = reason
        self.filename = filename

    def __str__(self) -> str:
        if self.filename is None:
            return str(self.strerror)
        return f"{self.strerror}: {self.filename!r}"

    def __reduce__(self):
        return (type(self), (self.strerror, self.filename))


def error_to_exception(err: Error) -> BaseException:
    """Build the Python exception for a filled checksig_error (not cleared)."""
    code = err.code
    message = ctypes.string_at(err.message).decode("utf-8", "replace") if err.message else ""
    path: str | None = None
    if err.path:
        path = os.fsdecode(ctypes.string_at(err.path, err.path_len))
    errnum = err.errnum
    line = err.line or None

    if code == E_INVALID:
        return ValueError(message)
    if code == E_NOT_FOUND:
        return FileNotFoundError(
            errnum or _errno.ENOENT, _strerror(errnum or _errno.ENOENT, message), path
        )
    if code == E_PERMISSION:
        return PermissionError(
            errnum or _errno.EACCES, _strerror(errnum or _errno.EACCES, message), path
        )
    if code == E_IS_DIR:
        return IsADirectoryError(
            errnum or _errno.EISDIR, _strerror(errnum or _errno.EISDIR, message), path
        )
    if code == E_NOT_REGULAR:
        return NotRegularFileError(path)
    if code == E_OS:
        if errnum:
            # OSError(errno, ...) picks the subclass (NotADirectoryError, ...).
            return OSError(errnum, _strerror(errnum, message), path)
        return PathOSError(message, path)
    if code == E_MANIFEST:
        return ManifestError(message, path=path, line=line)
    if code == E_CANCELLED:
        return Cancelled(message or "the checksig job was cancelled")
    if code == E_PANIC:
        prefix = "checksig: internal error (please report): "
        if message.startswith(prefix):
            message = message[len(prefix) :]
        return EngineError(
            f"internal error in the checksig engine: {message}\n"
            "This is a bug in checksig; please report it with this message at "
            "https://github.com/checksig/checksig/issues"
        )
    if code == E_HANDLE:
        return EngineError(f"checksig engine refused a job call (a bug in checksig): {message}")
    return EngineError(f"checksig engine returned unknown status {code}: {message}")


def raise_error(code: int, err: Error) -> None:
    """Raise the exception for a failed call and release Go's memory."""
    if err.code == OK:  # a status without a filled error: cancel, free
        err.code = code
    try:
        exc = error_to_exception(err)
    finally:
        lib().checksig_error_clear(ctypes.byref(err))
    if isinstance(exc, Cancelled):
        # Ctrl-C cancelled the job: let the KeyboardInterrupt be what propagates.
        current = sys.exc_info()[1]
        if isinstance(current, KeyboardInterrupt):
            raise current
    raise exc


# --- buffers ----------------------------------------------------------------


def _as_u8p(buf: Any) -> Any:
    """A uint8_t* to the data of a ctypes char buffer."""
    return ctypes.cast(buf, _u8p)


def _c_bytes(data: bytes) -> ctypes.Array:
    # create_string_buffer adds a NUL; the engine uses the explicit length.
    return ctypes.create_string_buffer(data, len(data) + 1)


#: The result columns in checksig_columns order: (name, struct format). The
#: order is also that of ``Report.columns``.
COLUMN_FORMATS = (
    ("status", "B"),
    ("algorithm", "B"),
    ("errnum", "i"),
    ("size", "q"),
    ("line", "q"),
    ("expected", "B"),
    ("actual", "B"),
    ("path_offsets", "q"),
    ("paths", "B"),
)
_CTYPES = {"B": c_uint8, "i": c_int32, "q": c_int64}
_DTYPES = {"B": "uint8", "i": "int32", "q": "int64"}
_ALIGN = 64


class Buffers:
    """One job's result columns: memory the engine fills, numpy views on request.

    :meth:`allocate` puts every column in one anonymous private mmap: the
    kernel provides its zeroed pages only when they are first written, so
    a report costs the memory the engine writes, not what it reserved (as
    with ``np.zeros``). Not a ctypes array nor ``bytearray(n)``: on Python
    3.11 both zero-fill, touching every page (190 MiB of RSS for a 200 MB
    array). Allocating needs no numpy: ``import numpy`` costs tens of
    milliseconds, a fifth of a whole run over 50,000 small files.

    ``buffers[name]`` is a flat memoryview of a column (``expected`` and
    ``actual`` are ``rows * width`` bytes, row-major) for code that must
    not import numpy. :meth:`arrays` makes the public numpy columns
    (``Report.columns``), zero-copy views of the same memory, on first use.
    :meth:`wrap` turns numpy columns into Buffers, without copying them
    when they are C-contiguous and of the right dtype.
    """

    __slots__ = ("rows", "width", "paths_len", "_views", "_arrays", "_address", "_offsets")

    def __init__(
        self,
        rows: int,
        width: int,
        paths_len: int,
        views: dict[str, memoryview],
        arrays: dict[str, Any] | None = None,
        address: int | None = None,
        offsets: dict[str, int] | None = None,
    ) -> None:
        self.rows = rows
        self.width = width
        self.paths_len = paths_len
        self._views = views
        self._arrays = arrays
        self._address = address
        self._offsets = offsets

    @staticmethod
    def _lengths(rows: int, width: int, paths_len: int) -> dict[str, int]:
        n = {"expected": rows * width, "actual": rows * width, "path_offsets": rows + 1}
        n["paths"] = paths_len
        return {name: n.get(name, rows) for name, _ in COLUMN_FORMATS}

    @classmethod
    def allocate(cls, rows: int, width: int, paths_len: int) -> Buffers:
        """Zeroed columns for rows entries, in one mmap (checksig_job_attach
        then writes every row's size, line, algorithm, path and expected digest)."""
        import mmap  # here, not at the top: `import checksig` stays light

        lengths = cls._lengths(rows, width, paths_len)
        nbytes = {name: lengths[name] * ctypes.sizeof(_CTYPES[fmt]) for name, fmt in COLUMN_FORMATS}
        offsets: dict[str, int] = {}
        end = 0
        for name, _ in COLUMN_FORMATS:
            offsets[name] = end = -(-end // _ALIGN) * _ALIGN
            end += nbytes[name]
        mm = mmap.mmap(-1, end, flags=mmap.MAP_PRIVATE)  # end > 0: path_offsets has rows+1
        whole = memoryview(mm)  # the views keep the mapping alive; it is never closed
        views = {
            name: whole[offsets[name] : offsets[name] + nbytes[name]].cast(fmt)
            for name, fmt in COLUMN_FORMATS
        }
        address = ctypes.addressof(ctypes.c_char.from_buffer(mm))
        return cls(rows, width, paths_len, views, address=address, offsets=offsets)

    @classmethod
    def wrap(cls, columns: Any) -> Buffers:
        """Buffers over numpy columns (a Report made from a dict of arrays)."""
        arrays = dict(columns)
        views = {}
        for name, fmt in COLUMN_FORMATS:
            a = np.ascontiguousarray(arrays[name], dtype=_DTYPES[fmt])
            views[name] = memoryview(a.reshape(-1))
        expected = arrays["expected"]
        rows = len(views["status"])
        width = int(expected.shape[1]) if getattr(expected, "ndim", 1) == 2 else 0
        return cls(rows, width, len(views["paths"]), views, arrays=arrays)

    def pointer(self, name: str) -> Any:
        """A typed pointer to column name, for checksig_columns (allocated Buffers only)."""
        if self._address is None or self._offsets is None:
            raise ValueError("these buffers do not belong to an engine job")
        ctype = _CTYPES[dict(COLUMN_FORMATS)[name]]
        return ctypes.cast(self._address + self._offsets[name], POINTER(ctype))

    def __getitem__(self, name: str) -> memoryview:
        return self._views[name]

    def arrays(self) -> dict[str, Any]:
        """The columns as numpy arrays (a new dict of the same arrays each call)."""
        arrays = self._arrays
        if arrays is None:
            arrays = {
                name: np.frombuffer(self._views[name], dtype=_DTYPES[fmt])
                for name, fmt in COLUMN_FORMATS
            }
            for name in ("expected", "actual"):
                arrays[name] = arrays[name].reshape(self.rows, self.width)
            self._arrays = arrays
        return dict(arrays)

    def is_view_of(self, columns: Any) -> bool:
        """Whether columns holds exactly the arrays these buffers are (or wrap)."""
        arrays = self._arrays
        if arrays is None or len(columns) != len(arrays):
            return False
        return all(columns.get(name) is a for name, a in arrays.items())

    def __reduce__(self) -> tuple[Any, ...]:
        data = b"".join(self._views[name].tobytes() for name, _ in COLUMN_FORMATS)
        return (_restore_buffers, (self.rows, self.width, self.paths_len, data))


def _restore_buffers(rows: int, width: int, paths_len: int, data: bytes) -> Buffers:
    """Unpickle :class:`Buffers` (into new engine-style buffers)."""
    buffers = Buffers.allocate(rows, width, paths_len)
    pos = 0
    for name, _ in COLUMN_FORMATS:
        view = buffers[name]
        if view.nbytes:
            view.cast("B")[:] = data[pos : pos + view.nbytes]
        pos += view.nbytes
    return buffers


def _readable_pointer(data: Any) -> tuple[Any, int, Any]:
    """(uint8_t* to data's bytes, their number, what must stay referenced
    until the call returns), without copying bytes or a writable buffer."""
    if isinstance(data, bytes):
        # c_char_p points into the bytes object itself (read-only use).
        keep = ctypes.c_char_p(data)
        return ctypes.cast(keep, _u8p), len(data), keep
    view = memoryview(data).cast("B")
    if view.readonly:
        return _readable_pointer(view.tobytes())
    keep = (ctypes.c_char * view.nbytes).from_buffer(view)
    return ctypes.cast(keep, _u8p), view.nbytes, keep


class Entries:
    """A verify job's rows given in memory (``_Job(..., entries=...)``,
    CHECKSIG_F_ENTRIES): compact arrays, no Python object per row.

    Row i is named ``names[offsets[i]:offsets[i + 1]]`` (bytes, relative to
    the root; ``offsets[0]`` need not be 0), has algorithm ``algorithms[i]``
    (a CHECKSIG_ALG_* number; ``None``: the job's ``algorithm=`` for every
    row), expects the first digest-size bytes of ``digests[i]`` (a row of
    ``width`` bytes, zero past the digest) and carries ``lines[i]`` into the
    line column (``None``: 0). The engine checks every row and refuses the
    job (ValueError naming ``entries[i]``) for a NUL or empty name, an
    unknown algorithm, a digest that does not fit ``width`` or bytes past it
    that are not zero; this class checks what the engine cannot: that the
    arrays are as long as ``offsets`` says, since the engine reads exactly
    that many elements of each.

    ``names`` and ``digests`` take bytes or uint8 arrays (``digests`` flat
    with ``width=``, or 2-D ``(n, width)``); ``offsets`` and ``lines`` int64
    arrays, ``algorithms`` uint8 (other integer arrays are converted, which
    copies them). The engine copies every array once when the job starts.
    Picklable (numpy arrays): a shard travels as these arrays.
    """

    __slots__ = ("algorithms", "digests", "lines", "names", "offsets", "width")

    def __init__(
        self,
        names: Any,
        offsets: Any,
        digests: Any = None,
        *,
        width: int | None = None,
        algorithms: Any = None,
        lines: Any = None,
    ) -> None:
        self.names = np.frombuffer(names, dtype=np.uint8) if isinstance(names, bytes) else names
        self.names = np.ascontiguousarray(self.names, dtype=np.uint8).reshape(-1)
        self.offsets = _int_array(offsets, np.int64, "offsets")
        n = max(len(self.offsets) - 1, 0)
        if digests is None:
            digests = np.zeros((n, 0), dtype=np.uint8)
        d = np.frombuffer(digests, dtype=np.uint8) if isinstance(digests, bytes) else digests
        d = np.ascontiguousarray(d, dtype=np.uint8)
        if d.ndim == 2:
            if width is not None and width != d.shape[1]:
                raise ValueError(f"digests are {d.shape[1]} bytes wide, width={width} given")
            width = d.shape[1]
        elif width is None:
            raise ValueError("flat digests need width=")
        if width < 0 or d.size != n * width:
            raise ValueError(f"{d.size} digest bytes for {n} entries of width {width}")
        self.digests = d.reshape(-1)
        self.width = int(width)
        self.algorithms = (
            None if algorithms is None else _int_array(algorithms, np.uint8, "algorithms")
        )
        self.lines = None if lines is None else _int_array(lines, np.int64, "lines")
        for name, a in (("algorithms", self.algorithms), ("lines", self.lines)):
            if a is not None and len(a) != n:
                raise ValueError(f"{len(a)} {name} for {n} entries")

    def __len__(self) -> int:
        return max(len(self.offsets) - 1, 0)

    @classmethod
    def from_columns(cls, columns: Any, start: int = 0, stop: int | None = None) -> Entries:
        """Rows start..stop of a parse-only job's columns (a :class:`Buffers`
        or its ``arrays()``), as compact arrays of their own: the names
        sliced out of the path column, their offsets from 0. Take listed
        rows only: extra rows (status EXTRA, algorithm 0) are refused."""
        arrays = columns.arrays() if isinstance(columns, Buffers) else columns
        n = len(arrays["status"])
        stop = n if stop is None else stop
        if not 0 <= start <= stop <= n:
            raise ValueError(f"rows {start}..{stop} of {n}")
        off = arrays["path_offsets"][start : stop + 1]
        return cls(
            arrays["paths"][off[0] : off[-1]],
            off - off[0],
            arrays["expected"][start:stop],
            algorithms=arrays["algorithm"][start:stop],
            lines=arrays["line"][start:stop],
        )

    def _fill(self, req: Request) -> list[Any]:
        """Point req's entry fields at the arrays; returns what to keep alive."""
        n = len(self)
        req.paths = self.names.ctypes.data_as(_u8p)
        req.paths_len = len(self.names)
        req.offsets = self.offsets.ctypes.data_as(_i64p) if n else None
        req.n_paths = n
        req.entry_width = self.width
        req.entry_digests = self.digests.ctypes.data_as(_u8p)
        if self.algorithms is not None:
            req.entry_algorithms = self.algorithms.ctypes.data_as(_u8p)
        if self.lines is not None:
            req.entry_lines = self.lines.ctypes.data_as(_i64p)
        return [self.names, self.offsets, self.digests, self.algorithms, self.lines]


def _int_array(values: Any, dtype: Any, what: str) -> Any:
    """values as a 1-D contiguous array of dtype, refusing what does not fit."""
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros(0, dtype=dtype)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{what} must be integers, not {a.dtype}")
    if a.dtype != dtype:
        info = np.iinfo(dtype)
        if a.min() < info.min or a.max() > info.max:
            raise ValueError(f"{what} out of range for {np.dtype(dtype).name}")
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def file_digest(path: bytes, algorithm: int, length: int = 0) -> tuple[bytes, int]:
    """Hash one file synchronously: (digest, bytes hashed). Raises on failure.

    ``length`` is the digest's length in bytes: 0 for the algorithm's own;
    BLAKE3 takes any positive length (its extendable output, as ``b3sum -l``).
    """
    cdll = lib()
    n = length or (DIGEST_SIZES[algorithm] if 0 <= algorithm < len(DIGEST_SIZES) else 0)
    out = ctypes.create_string_buffer(max(n, 1))
    nbytes = c_int64(-1)
    err = Error()
    code = cdll.checksig_file_digest(
        path, len(path), algorithm, length, out, n, ctypes.byref(nbytes), ctypes.byref(err)
    )
    if code != OK:
        raise_error(code, err)
    return out.raw[:n], nbytes.value


def engine_info() -> dict[str, Any]:
    """The engine's settings and choices in this process (checksig_engine_info):
    ``io`` (``mode``: CHECKSIG_IO's, ``chosen``: the path big files take, "" while
    the first ones are still being timed, and what it was chosen by:
    ``algorithm``, ``read_over_mmap``, the median ratio of their CPU costs, and
    ``read_ns_per_mb`` and ``mmap_ns_per_mb``, each one's cheapest), ``hash`` (``openssl``: the
    libcrypto found in the process, "" for none, and per algorithm timed, Go's
    and its cost in ns per MB), ``tune`` (every tuned constant),
    ``refused`` (what CHECKSIG_IO and CHECKSIG_TUNE said that was not accepted),
    ``gomaxprocs``, and since the engine loaded ``tables_taken`` (workers that
    took a descriptor table of their own) and ``uring_batches`` (batches of
    small files read through io_uring)."""
    import json

    cdll = lib()
    out = c_void_p()
    n = c_int64(0)
    err = Error()
    code = cdll.checksig_engine_info(ctypes.byref(out), ctypes.byref(n), ctypes.byref(err))
    if code != OK:
        raise_error(code, err)
    try:
        return json.loads(ctypes.string_at(out.value, n.value))
    finally:
        cdll.checksig_free(out)


def debug_counters() -> dict[str, int]:
    """The engine's live job handles, live jobs, open files and goroutines."""
    out = (c_int64 * 4)()
    lib().checksig_debug_counters(out, 4)
    return {"handles": out[0], "jobs": out[1], "open_files": out[2], "goroutines": out[3]}


# --- jobs -------------------------------------------------------------------


def progress_dict(counters: tuple[int, ...]) -> dict[str, Any]:
    """The CHECKSIG_P_* counters by name, the phase as a word: the dict
    checksig 0.1 gave progress callables (Progress.get still reads it)."""
    d: dict[str, Any] = dict(zip(PROGRESS_FIELDS, counters))
    d["phase"] = phase_name(d["phase"])
    return d


class _Job:
    """One engine job: start, poll, attach columns, result, free.

    The handle is released exactly once, by :meth:`free` (also on ``with``
    exit and, as a last resort, on garbage collection). The result
    :class:`Buffers` stay referenced by the job until after
    ``checksig_job_free`` returned.

    Threads: every method may be called from any thread, concurrently (the
    public :class:`checksig.Job` polls from the caller's thread while a
    watcher thread waits for phase changes). Each poll fills its own
    counters buffer; attaching and releasing the handle take ``_lock``, so
    the columns are attached at most once and never after :meth:`free`.

    A job cancelled in PH_READY is never attached (its columns could be
    hundreds of MB for nothing): the engine itself ends such a job at once,
    DONE and cancelled (Job.Cancel in go/job.go); Python only refrains
    from attaching once :meth:`cancel` was called.
    """

    def __init__(
        self,
        kind: int,
        *,
        algorithm: int = ALG_NONE,
        family: int = FAMILY_NONE,
        workers: int = 0,
        flags: int = 0,
        root: bytes = b"",
        manifest: bytes = b"",
        paths: list[bytes] | None = None,
        manifest_data: Any = None,
        first_line: int = 0,
        form: int = FORM_UNDECIDED,
        entries: Entries | None = None,
        defer_min: int | None = None,
        walk_dir: bytes = b"",
    ) -> None:
        """Start a job.

        For a verify job, the rows come from the manifest file ``manifest``
        names, or from ``manifest_data`` (the manifest's bytes, any
        bytes-like object; ``manifest`` then only names it in messages), or
        from ``entries``. ``first_line`` and ``form`` continue a manifest
        stream's earlier chunk (:meth:`parse_state` of its job); flags add
        F_PARSE_ONLY and F_ALLOW_EMPTY (F_TEXT and F_ENTRIES are set here).
        ``defer_min`` makes the job a scan pass (F_DEFER): files of at least
        that many bytes stay pending with their size. ``walk_dir`` (and the
        F_WALK_FLAT flag) limit an F_EXTRA walk to that part of the root.
        Every buffer is read during the start call only.
        """
        self._lib = lib()
        self._handle = 0
        self._columns: Buffers | None = None
        self._cstruct: Columns | None = None
        self._progress: tuple[int, ...] = INITIAL_COUNTERS
        self._phase = PH_ENUMERATING
        self._cancelled = False
        self._lock = _thread.allocate_lock()
        #: time.monotonic() when the columns were attached (hashing started).
        self.attached_at: float | None = None

        if manifest_data is not None:
            flags |= F_TEXT
        if entries is not None:
            if paths:
                raise ValueError("entries= and paths= both name rows: give one")
            flags |= F_ENTRIES
        if defer_min is not None:
            flags |= F_DEFER
        req = Request(
            kind=kind,
            workers=workers,
            flags=flags,
            algorithm=algorithm,
            first_line=first_line,
            form=form,
            family=family,
            defer_min=defer_min or 0,
        )
        keep: list[Any] = []
        if manifest_data is not None:
            ptr, n, ref = _readable_pointer(manifest_data)
            keep.append(ref)
            req.manifest_text, req.manifest_text_len = ptr, n
        if entries is not None:
            keep += entries._fill(req)
        if root:
            buf = _c_bytes(root)
            keep.append(buf)
            req.root, req.root_len = _as_u8p(buf), len(root)
        if manifest:
            buf = _c_bytes(manifest)
            keep.append(buf)
            req.manifest, req.manifest_len = _as_u8p(buf), len(manifest)
        if walk_dir:
            buf = _c_bytes(walk_dir)
            keep.append(buf)
            req.walk_dir, req.walk_dir_len = _as_u8p(buf), len(walk_dir)
        if paths:
            from itertools import accumulate

            blob = _c_bytes(b"".join(paths))
            offsets = (c_int64 * (len(paths) + 1))(0, *accumulate(map(len, paths)))
            keep += [blob, offsets]
            req.paths, req.paths_len = _as_u8p(blob), offsets[-1]
            req.offsets, req.n_paths = ctypes.cast(offsets, _i64p), len(paths)
        handle = c_uint64(0)
        err = Error()
        code = self._lib.checksig_job_start(
            ctypes.byref(req), ctypes.byref(handle), ctypes.byref(err)
        )
        del keep  # Go copied every buffer during the call
        if code != OK:
            raise_error(code, err)
        self._handle = handle.value

    # -- lifecycle

    def free(self) -> None:
        """Cancel if still running, wait for the engine to let go, release.

        Returns once no engine goroutine works for the job any more: every
        file it opened is closed and the columns are no longer written.
        """
        with self._lock:
            handle, self._handle = self._handle, 0
        if handle:
            # job_free cancels and waits until no worker touches the columns.
            self._lib.checksig_job_free(handle)
        # Only now may the columns be released (the Report keeps its own refs).
        self._cstruct = None

    @property
    def freed(self) -> bool:
        """Whether :meth:`free` has released the handle."""
        return not self._handle

    def __enter__(self) -> _Job:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None and self._handle:
            self.cancel()
        self.free()

    def __del__(self) -> None:
        try:
            if self._handle and _lib_pid == os.getpid() and not _forked_after_load:
                self.free()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def _check(self) -> int:
        handle = self._handle
        if not handle:
            raise ValueError("the checksig job has been freed")
        return handle

    # -- polling

    def poll_counters(self, timeout_ms: int = 0) -> tuple[int, ...]:
        """Wait up to timeout_ms for a phase change; attach columns when ready.

        Returns the CHECKSIG_P_* counters as a tuple (phase as a number).
        A job that reached PH_READY is attached here, by whichever thread
        sees it first, so the engine starts hashing at once.
        """
        handle = self._check()
        counters = ()
        if timeout_ms > 0 and self._cstruct is None:
            # checksig_job_poll waits for the phase to change from the one it
            # finds. A job already in PH_READY changes only when attached, so
            # a waiting poll there would sleep its whole timeout: look first.
            counters = self._poll_once(handle, 0)
            if counters[P_PHASE] != PH_ENUMERATING:
                timeout_ms = -1  # no wait: attach (or report DONE) now
        if timeout_ms != -1:
            counters = self._poll_once(handle, max(timeout_ms, 0))
        with self._lock:
            phase = counters[P_PHASE]
            if phase == PH_READY:
                if self._cstruct is None and self._handle and not self._cancelled:
                    self._attach(counters)
                if self._cstruct is not None:
                    phase = PH_RUNNING  # attached: the workers run now
                counters = with_phase(counters, phase)
            # Several threads poll: keep the newest view, phases only move forward.
            if phase >= self._phase:
                self._phase = phase
                self._progress = counters
            return counters

    def _poll_once(self, handle: int, timeout_ms: int) -> tuple[int, ...]:
        buf = (c_int64 * P_LEN)()
        err = Error()
        code = self._lib.checksig_job_poll(handle, timeout_ms, buf, P_LEN, ctypes.byref(err))
        if code != OK:
            raise_error(code, err)
        return tuple(buf)

    def poll(self, timeout_ms: int = 0) -> dict[str, Any]:
        """Wait up to timeout_ms for a phase change; attach columns when ready.

        Returns the progress dict (see :meth:`progress`).
        """
        return progress_dict(self.poll_counters(timeout_ms))

    def progress(self) -> dict[str, Any]:
        """The job's counters now, as a dict.

        Keys: phase ("enumerating", "ready", "running", "done"), files_done,
        files_total (-1 while enumerating), bytes_done, bytes_total (-1 until
        known), rows, digest_width, paths_len, warnings.
        """
        return self.poll(0)

    def _attach(self, p: tuple[int, ...]) -> None:
        """Allocate the columns PH_READY asked for and hand them over (under _lock)."""
        rows, width, paths_len = p[P_ROWS], p[P_DIGEST_WIDTH], p[P_PATHS_LEN]
        cols = Buffers.allocate(rows, width, paths_len)
        c = Columns(rows=rows, digest_width=width, paths_len=paths_len)
        for name, _ in COLUMN_FORMATS:
            setattr(c, name, cols.pointer(name))
        err = Error()
        # Referenced before the call: from here on the engine may write.
        self._columns, self._cstruct = cols, c
        code = self._lib.checksig_job_attach(self._handle, ctypes.byref(c), ctypes.byref(err))
        if code != OK:
            self._columns, self._cstruct = None, None
            if code == E_HANDLE and self._cancelled:
                # cancel() won the race: the engine ended the job (DONE, cancelled).
                lib().checksig_error_clear(ctypes.byref(err))
                return
            raise_error(code, err)
        self.attached_at = time.monotonic()

    def cancel(self) -> None:
        """Ask the job to stop; returns at once. Idempotent."""
        self._cancelled = True
        handle = self._handle
        if handle:
            self._lib.checksig_job_cancel(handle)

    @property
    def cancel_requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def done(self) -> bool:
        """Whether the job has finished (successfully or not)."""
        if self._phase != PH_DONE:
            self.poll_counters(0)
        return self._phase == PH_DONE

    def wait(self, callback: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Poll in short waits until the job is done, calling callback each time.

        Signals (Ctrl-C) are handled between polls: the exception propagates
        and the caller must cancel and free the job (``with`` does both).
        """
        while True:
            progress = self.poll(POLL_MS)
            if callback is not None:
                callback(progress)
            if self._phase == PH_DONE:
                return

    def result(self) -> Buffers:
        """The filled columns once the job is done; raises why it failed."""
        handle = self._check()
        if self._phase != PH_DONE:
            raise ValueError("the checksig job has not finished")
        err = Error()
        code = self._lib.checksig_job_result(handle, ctypes.byref(err))
        if code != OK:
            raise_error(code, err)
        if self._columns is None:  # pragma: no cover - the engine always attaches
            raise EngineError("checksig job finished without result columns")
        return self._columns

    def parse_state(self) -> tuple[int, int]:
        """(next_line, form) the parse of the job's manifest ended in, from
        PH_READY on: the ``first_line`` and ``form`` of the job for the next
        chunk of the same stream."""
        handle = self._check()
        line = c_int64(0)
        form = c_int32(0)
        err = Error()
        code = self._lib.checksig_job_parse_state(
            handle, ctypes.byref(line), ctypes.byref(form), ctypes.byref(err)
        )
        if code != OK:
            raise_error(code, err)
        return line.value, form.value

    def inference(self) -> dict[str, Any]:
        """How a finished verify job chose the algorithm of the lines no tag and
        no request decided, and how they fared (CHECKSIG_I_*): a dict of
        INFERENCE_FIELDS, with ``algorithm`` and ``match`` as names ("" for
        none), ``source`` as a SOURCES word and ``probed`` a row index or -1.

        ``rows > 0 and ok == 0 and mismatch > 0`` is the hazard of issue 18: a
        manifest read with the wrong algorithm (a b3sum manifest read as
        sha256); ``match`` then names the algorithm that gave the probed file
        its listed digest, if one did.
        """
        handle = self._check()
        buf = (c_int64 * I_LEN)()
        err = Error()
        code = self._lib.checksig_job_inference(handle, buf, I_LEN, ctypes.byref(err))
        if code != OK:
            raise_error(code, err)
        d: dict[str, Any] = dict(zip(INFERENCE_FIELDS, buf))
        for key in ("algorithm", "match"):
            d[key] = ALGORITHMS[d[key]] if 0 <= d[key] < len(ALGORITHMS) else f"unknown({d[key]})"
        d["source"] = SOURCES[d["source"]] if 0 <= d["source"] < len(SOURCES) else ""
        return d

    def warnings(self) -> list[tuple[int, str]]:
        """Malformed manifest lines skipped: a list of (line, message)."""
        handle = self._check()
        out = c_void_p()
        n = c_int64(0)
        err = Error()
        code = self._lib.checksig_job_warnings(
            handle, ctypes.byref(out), ctypes.byref(n), ctypes.byref(err)
        )
        if code != OK:
            raise_error(code, err)
        if not out.value:
            return []
        try:
            blob = ctypes.string_at(out.value, n.value)
        finally:
            self._lib.checksig_free(out)
        result: list[tuple[int, str]] = []
        for record in blob.decode("utf-8", "replace").splitlines():
            line, _, message = record.partition("\t")
            try:
                result.append((int(line), message))
            except ValueError:
                result.append((0, record))
        return result
