"""The public functions: argument checking, then engine jobs.

Every batch operation comes in three forms with the same arguments:

* ``verify(...)`` blocks and returns the result (``check_signatures``,
  ``make_manifest``, ``digest_files`` likewise);
* ``start_verify(...)`` returns a :class:`~checksig.Job` at once, running in
  the background;
* ``await averify(...)`` for asyncio.

The blocking form is exactly ``start_verify(...).result()``. The verify
entry points (``VERIFY_ENTRY_POINTS``) share their keyword options, declared
once in ``_options.FIELDS``, and one body, :func:`_start_verify`.
"""

from __future__ import annotations

import errno
import os
import time

from . import _algorithms, _kinds, _native, _words
from ._errors import NotRegularFileError
from ._lazy import _LazyModule
from ._options import START_PROGRESS, VerifyOptions, check_progress_arg, workers_count

# Only jobs need _jobs, _report and pathlib, so they are imported
# on first use: `import checksig` and a first file_digest() then run none of
# them. The job modules themselves import nothing costly any more (see
# tests/test_startup.py); pathlib would bring re and urllib.parse.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import pathlib
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any, Callable, Union

    from . import _jobs, _report
    from ._jobs import Job, RunInfo
    from ._options import ProgressArg
    from ._plan import Plan
    from ._report import Report

    #: A path: str, bytes or os.PathLike.
    PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
else:
    _jobs = _LazyModule("checksig._jobs")
    _report = _LazyModule("checksig._report")
    pathlib = _LazyModule("pathlib")

__all__ = [
    "ALGORITHMS",
    "algorithms_available",
    "acheck_signatures",
    "adigest_files",
    "amake_manifest",
    "averify",
    "check_file",
    "check_signatures",
    "digest_files",
    "file_digest",
    "make_manifest",
    "start_check_signatures",
    "start_digest_files",
    "start_make_manifest",
    "start_verify",
    "verify",
]

#: The algorithms, one name each, hashlib's where hashlib has the algorithm:
#: md5, sha1, sha224, sha256, sha384, sha512, sha3_224, sha3_256, sha3_384,
#: sha3_512, blake2b, blake2s, blake3, git-sha1. BLAKE2b is also every
#: shorter length b2sum -l makes, as blake2b-N (:data:`algorithms_available`).
#: Every function takes these names in any case, with "-" or "_" between
#: their parts, and as GNU's tags: "SHA3-256", "BLAKE2b-256", "SHA2-256".
ALGORITHMS: tuple[str, ...] = _algorithms.ALGORITHMS

#: Every algorithm's name, as ``hashlib.algorithms_available`` lists
#: hashlib's: ALGORITHMS and BLAKE2b's other lengths, blake2b-8, blake2b-16,
#: ..., blake2b-504 (blake2b is BLAKE2b-512). Other spellings of these names
#: are accepted too but not listed (``"SHA3-256" in algorithms_available`` is
#: False, as ``"SHA256" in hashlib.algorithms_available`` is).
algorithms_available: frozenset[str] = frozenset(_algorithms.NAMES)

#: file_digest hashes files smaller than this in one synchronous engine call;
#: larger ones run as a job so Ctrl-C can stop them.
SYNC_DIGEST_LIMIT = 64 << 20

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")  # string.hexdigits, without importing re

#: The manifest verify() and check_signatures() read when given none: the
#: original promise, root_dir/sha1sum.txt.
DEFAULT_MANIFEST = "sha1sum.txt"


# --- argument checking -------------------------------------------------------


def _fsbytes(path: Any, what: str = "path") -> bytes:
    """os.fsencode(path), refusing a NUL byte (it would truncate the path in C)."""
    raw = os.fsencode(os.fspath(path))
    if b"\0" in raw:
        raise ValueError(f"{what} contains a NUL byte: {os.fsdecode(raw)!r}")
    return raw


def _manifest_path(root: bytes, manifest: Any) -> bytes:
    if manifest is None:
        return os.path.join(root, os.fsencode(DEFAULT_MANIFEST))
    return os.path.join(root, _fsbytes(manifest, "manifest path"))


def _normalise_hex(expected: Any) -> str:
    if not isinstance(expected, str):
        raise TypeError(f"expected must be a hex string, got {type(expected).__name__}")
    text = expected.strip()
    for pos, ch in enumerate(text):
        if ch not in _HEX_DIGITS:
            raise ValueError(
                f"expected digest is not hexadecimal: {ch!r} at position {pos} of {text!r}"
            )
    return text.lower()


# --- results -------------------------------------------------------------------------


def _row_error(path: str, status: str, errnum: int) -> OSError:
    """The OSError for a failed row of a digest job (path as given)."""
    if errnum:
        # OSError(errno, ...) picks the subclass: FileNotFoundError, ...
        return OSError(errnum, os.strerror(errnum), path)
    if status == "missing":
        return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    if status == "not_regular":
        return NotRegularFileError(path)
    return _native.PathOSError(_words.reason(status) or status, path)


def _digests(paths: list[bytes], alg: int, columns: _native.Buffers) -> list[str]:
    statuses = columns["status"].tobytes()
    # The first row that is not ok: the length of the leading run of ok bytes.
    i = len(statuses) - len(statuses.lstrip(bytes([_native.ST_OK])))
    if i < len(statuses):
        status = _native.status_name(statuses[i])
        raise _row_error(os.fsdecode(paths[i]), status, columns["errnum"][i])
    width, stride = _algorithms.size(alg), columns.width
    if not stride:  # no digest column: an empty job (range() refuses a 0 step)
        return []
    actual = columns["actual"]  # flat: row i's digest starts at i * stride
    return [actual[k : k + width].hex() for k in range(0, stride * columns.rows, stride)]


# --- starting jobs ---------------------------------------------------------------------


#: The verify entry points: each takes the verify options of _options.FIELDS
#: (checked by tests/test_api.py) and hands them on as a VerifyOptions.
VERIFY_ENTRY_POINTS = (
    "verify",
    "check_signatures",
    "start_verify",
    "start_check_signatures",
    "averify",
    "acheck_signatures",
    # _ecosystems.py (issue 19)
    "verify_bag",
    "start_verify_bag",
    "averify_bag",
    "verify_environment",
    "start_verify_environment",
    "averify_environment",
    # _stores.py (issue 23)
    "verify_hf_cache",
    "start_verify_hf_cache",
    "averify_hf_cache",
    "verify_ollama",
    "start_verify_ollama",
    "averify_ollama",
    "verify_store",
    "start_verify_store",
    "averify_store",
)


def _start_verify(
    root_dir: PathArg,
    manifest: PathArg | None,
    options: VerifyOptions,
    *,
    check: bool,
    plan: Callable[[bytes, VerifyOptions], Plan] | None = None,
    kind: str | None = None,
    client: Any = None,
) -> Job[Report]:
    """Start a verify job: the one body behind every verify entry point.

    Without ``plan``, the manifest's kind (``_kinds.detect``) decides: GNU's
    ``*sum`` files are parsed by the engine; a kind that makes rows in
    Python (a RECORD, conda's paths.json) gives them as a Plan. With
    ``plan`` (verify_bag, verify_environment), ``plan(root, options)`` gives
    the rows and ``manifest`` is unused.
    """
    alg, nworkers, flags = options.engine()
    root = _fsbytes(root_dir, "root_dir")
    if client is not None and plan is not None:
        raise ValueError(
            f"client= (a Dask cluster) is not supported by {kind or 'this kind'} yet: "
            "run it locally"
        )
    if plan is not None:
        started = time.monotonic()  # the report's elapsed includes reading the records
        made = plan(root, options)
        return _start_plan(made, options, check=check, kind=kind or "verify", started=started)
    manifest_bytes = _manifest_path(root, manifest)
    # Strings, not Paths: the Report hands out Paths, importing pathlib only then.
    root_name = os.fsdecode(root)
    manifest_name = os.fsdecode(manifest_bytes)
    detected = _kinds.detect(manifest_name)
    make_plan = getattr(detected, "plan", None)
    if make_plan is not None and client is not None:
        raise ValueError(
            f"client= (a Dask cluster) verifies GNU *sum manifests; {manifest_name!r} is a "
            f"{detected.NAME} manifest, which is verified locally only (drop client=)"
        )
    if make_plan is not None:
        started = time.monotonic()
        made = make_plan(root, manifest_name, options)
        kind = kind or ("check_signatures" if check else "verify")
        return _start_plan(made, options, check=check, kind=kind, started=started)
    ignore = bool(options.ignore_missing)
    family = options.family()

    def build(columns: _native.Buffers, warnings: list, info: RunInfo) -> Report:
        report = _report.Report(
            columns,
            root=root_name,
            manifest=manifest_name,
            warnings=warnings,
            ignore_missing=ignore,
            elapsed=info.elapsed,
            bytes_hashed=info.bytes_done,
            io=_native.io_paths(info.io),
            inference=inference_of(native, columns),  # before the job is freed
        )
        return _report.raise_if_failed(report) if check else report

    _native.lib()  # load first: elapsed times the job, not the loading
    started = time.monotonic()
    if client is not None:  # issue 17: Dask is imported only then
        from ._dask import ClusterRun

        native: Any = ClusterRun(
            client,
            algorithm=alg,
            family=family,
            workers=nworkers,
            flags=flags,
            root=root,
            manifest=manifest_bytes,
        )
    else:
        native = _native._Job(
            _native.JOB_VERIFY,
            algorithm=alg,
            family=family,
            workers=nworkers,
            flags=flags,
            root=root,
            manifest=manifest_bytes,
        )
    kind = "check_signatures" if check else "verify"
    desc = os.path.basename(manifest_name)
    progress = options.progress
    return _jobs.Job(native, build, kind=kind, desc=desc, progress=progress, started=started)


def inference_of(native: _native._Job, columns: _native.Buffers) -> _algorithms.Inference | None:
    """What a finished verify job inferred for its untagged lines (FORMATS.md
    B5), the probed row's name read from its columns; None if it inferred
    nothing."""

    def name_of(i: int) -> bytes:
        offsets = columns["path_offsets"]
        return columns["paths"][offsets[i] : offsets[i + 1]].tobytes()

    return _algorithms.Inference.of(native.inference(), name_of)


def _start_plan(
    plan: Plan, options: VerifyOptions, *, check: bool, kind: str, started: float
) -> Job[Report]:
    """Start a verify job over a Plan's rows (entries, F_ENTRIES): the same
    engine, statuses, columns, progress and cancel as a manifest's."""
    _alg, nworkers, flags = options.engine()  # the plan applied algorithm= itself
    # So did it strict= (the engine reads no lines here) and extra= (Plan.extra
    # says whether the engine walks the root for unlisted files).
    flags &= ~(_native.F_STRICT | _native.F_EXTRA)
    if plan.extra:
        flags |= _native.F_EXTRA
    ignore = bool(options.ignore_missing)
    root_name = os.fsdecode(plan.root)

    def build(columns: _native.Buffers, warnings: list, info: RunInfo) -> Report:
        columns = plan.finish(columns)
        rows = columns.rows if isinstance(columns, _native.Buffers) else len(columns["status"])
        report = _report.Report(
            columns,
            root=root_name,
            manifest=plan.manifest,
            title=plan.title,
            warnings=plan.warnings + warnings,
            ignore_missing=ignore,
            elapsed=info.elapsed,
            bytes_hashed=info.bytes_done,
            labels=plan.labels_for(rows),
            problems=plan.problems,
            notes=plan.notes,
        )
        return _report.raise_if_failed(report) if check else report

    entries = plan.entries()
    native = _native._Job(
        _native.JOB_VERIFY, workers=nworkers, flags=flags, root=plan.root, entries=entries
    )
    desc = os.path.basename(plan.title.rstrip("/")) or plan.title
    progress = options.progress
    return _jobs.Job(native, build, kind=kind, desc=desc, progress=progress, started=started)


def start_verify(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify` in the background and return its :class:`Job` at once.

    ``job.result()`` returns the :class:`Report`; ``job.progress`` tells how
    far it got; ``job.cancel()`` stops it. The arguments are those of
    :func:`verify`, except that ``progress`` defaults to ``False`` and is
    fed only when the job is observed (see :class:`Job`). Errors in the
    arguments (an unknown algorithm, a missing root) are raised here.
    """
    return _start_verify(root_dir, manifest, VerifyOptions.of(locals()), check=False, client=client)


def start_check_signatures(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`check_signatures` in the background; return its :class:`Job`.

    As :func:`start_verify`, but ``job.result()`` raises
    :class:`SignatureError` when an entry fails.
    """
    return _start_verify(root_dir, manifest, VerifyOptions.of(locals()), check=True, client=client)


def _start_digest(
    paths: list[bytes], alg: int, nworkers: int, progress: ProgressArg
) -> Job[list[str]]:
    def build(columns: _native.Buffers, warnings: list, info: RunInfo) -> list[str]:
        return _digests(paths, alg, columns)

    _native.lib()  # load first: elapsed times the job, not the loading
    started = time.monotonic()
    native = _native._Job(_native.JOB_DIGEST, algorithm=alg, workers=nworkers, paths=paths)
    return _jobs.Job(
        native, build, kind="digest", desc="digest", progress=progress, started=started
    )


def start_digest_files(
    paths: Iterable[PathArg],
    algorithm: str = "sha1",
    *,
    workers: int | None = None,
    progress: ProgressArg = False,
) -> Job[list[str]]:
    """Start :func:`digest_files` in the background; return its :class:`Job`.

    ``job.result()`` returns the hex digests in input order or raises the
    first failing path's OSError. ``progress`` defaults to ``False`` here
    (see :func:`start_verify`). An empty ``paths`` gives a job whose result
    is ``[]``.
    """
    alg = _algorithms.code(algorithm)
    nworkers = workers_count(workers)
    check_progress_arg(progress)
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        raise TypeError("digest_files takes an iterable of paths, not a single path")
    raw = [_fsbytes(p) for p in paths]
    return _start_digest(raw, alg, nworkers, progress)


def default_manifest_name(algorithm: str) -> str:
    """The name make_manifest writes by default: ``ALGORITHMsum.txt``
    (sha256sum.txt, sha3_256sum.txt, blake2b-256sum.txt, blake3sum.txt),
    which the engine reads back by its name (FORMATS.md B2.2, D3)."""
    return f"{algorithm}sum.txt"


def start_make_manifest(
    root_dir: PathArg,
    algorithm: str = "sha256",
    output: PathArg | None = None,
    *,
    workers: int | None = None,
    tag: bool = False,
    base64: bool = False,
    progress: ProgressArg = False,
) -> Job[Path]:
    """Start :func:`make_manifest` in the background; return its :class:`Job`.

    ``job.result()`` returns the manifest's path once it is written. A
    cancelled job writes nothing. ``progress`` defaults to ``False`` here
    (see :func:`start_verify`).
    """
    alg = _algorithms.code(algorithm)
    name = _algorithms.name(alg)
    if tag and not _algorithms.tag(name):
        raise ValueError(
            f"{name} has no tag form: no tool writes or reads lines like "
            f"'{name.upper()} (name) = DIGEST', so make_manifest(..., tag=True) "
            f"cannot write one; write untagged lines (tag=False)"
        )
    nworkers = workers_count(workers)
    check_progress_arg(progress)
    root = _fsbytes(root_dir, "root_dir")
    if output is None:
        out = os.path.join(root, os.fsencode(default_manifest_name(name)))
    else:
        out = os.path.join(root, _fsbytes(output, "output path"))
    out = os.path.abspath(out)
    out_path = pathlib.Path(os.fsdecode(out))

    def build(columns: _native.Buffers, warnings: list, info: RunInfo) -> Path:
        return out_path

    _native.lib()  # load first: elapsed times the job, not the loading
    started = time.monotonic()
    native = _native._Job(
        _native.JOB_MAKE,
        algorithm=alg,
        workers=nworkers,
        flags=(_native.F_TAG if tag else 0) | (_native.F_BASE64 if base64 else 0),
        root=root,
        manifest=out,
    )
    return _jobs.Job(
        native, build, kind="make", desc=out_path.name, progress=progress, started=started
    )


# --- blocking ----------------------------------------------------------------------------


def verify(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Check every entry of a manifest against the files under root_dir.

    Does the same work as :func:`check_signatures` but never raises for bad
    entries: it returns a :class:`Report` with one row per manifest entry
    (status "ok", "mismatch", "missing", "unreadable", "not_regular",
    "outside_root", ...). ``start_verify(...)`` runs it in the background,
    ``await averify(...)`` in asyncio.

    Args:
        root_dir: the directory the manifest's names are relative to. Names
            that lead outside it (``..``, absolute names, symlinks pointing
            out) get status "outside_root" and are never read.
        manifest: the manifest file; ``None`` means ``root_dir/"sha1sum.txt"``.
            A relative path is taken relative to ``root_dir``, not to the
            current directory. GNU ``*sum`` formats are read (``HEX  name``,
            ``HEX *name``, BSD tags ``SHA256 (name) = HEX``, escaped names),
            as b2sum, cksum (SHA-3, base64 digests) and b3sum write them,
            and, told apart by name and content (FORMATS.md I, J), a
            distribution's ``RECORD`` (names relative to root_dir, which is
            then its site-packages) and conda's ``info/paths.json`` or
            ``conda-meta/*.json`` (root_dir: the package or environment).
        algorithm: force the algorithm of untagged lines (any name of
            ``checksig.algorithms_available``, any spelling: ``"sha256"``,
            ``"SHA3-256"``, ``"blake3"``), or a family, ``"sha2"`` or
            ``"sha3"``, whose member each line's length picks (as GNU's
            ``cksum -a sha3 -c``; ``"blake2b"`` reads every BLAKE2b length
            too, as ``b2sum -c``). ``None`` infers it from the manifest's name
            (``SHA256SUMS``, ``b3sums.txt``) or from each digest's length (64
            hex digits: sha256); when every line so read fails,
            ``Report.algorithm_warning`` says which algorithm was assumed and
            which one the files match, if any.
        workers: files hashed in parallel; ``None`` or 0 means one per CPU.
        strict: raise :class:`ManifestError` for the first malformed line
            instead of skipping it with a warning (``Report.warnings``).
        ignore_missing: "missing" rows do not make ``Report.ok`` false and
            are not in ``Report.failures``.
        extra: also list every regular file under root_dir that the
            manifest does not name, with status "extra" (a failure): a
            completeness check GNU's tools do not have. The manifest itself
            is never listed.
        allow_outside_root: let names reach outside root_dir (``..``,
            absolute names, symlinks leading out). Only for manifests you
            trust; FIFOs and devices are still never read.
        progress: ``None`` (the default): a bar when stderr is a terminal or
            in a Jupyter kernel, shown once the run has lasted half a
            second; ``True``: always a bar (tqdm.auto: a widget in Jupyter,
            text on stderr; needs tqdm); ``False``: nothing; a callable:
            called with a :class:`checksig.Progress` snapshot each time the
            job is polled (every 50 ms while this call waits).
        client: a ``distributed.Client``: verify on its Dask cluster (issue
            17). The manifest is read here, once; its entries are verified by
            the workers in shards, and the report is the one a local run
            gives. Every worker must see root_dir (made absolute here) at the
            same path: a shared file system. ``workers`` then counts the
            engine's workers per shard (default: a node's CPUs shared by the
            Dask threads on it). Needs ``pip install "checksig[dask]"``.

    Raises:
        FileNotFoundError: the manifest or root_dir does not exist.
        ManifestError: the manifest has no usable line, or (strict) a
            malformed one.
        ValueError: a bad argument (unknown algorithm, NUL in a path, ...).
        KeyboardInterrupt: Ctrl-C or a Jupyter kernel interrupt; the engine
            has stopped and closed every file before it propagates.
    """
    options = VerifyOptions.of(locals())
    return _jobs.run(_start_verify, root_dir, manifest, options, check=False, client=client)


def check_signatures(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Verify root_dir against its manifest; raise if any entry fails.

    Returns the :class:`Report` quietly when every entry is ok. Otherwise
    raises :class:`SignatureError` (a ``ValueError``) whose message names
    every failing entry and why, e.g.::

        2 of 10 files failed verification against /x/sha1sum.txt:
          data/a.bin: mismatch (expected 3f2a..., got 9b1c...)
          b.txt: missing (No such file or directory)

    and whose ``.report`` holds the full report (in a notebook the error
    renders as the report's HTML summary).

    ``manifest=None`` means ``root_dir/"sha1sum.txt"``; a relative manifest
    path is taken relative to ``root_dir``. Malformed manifest lines are
    skipped (see ``Report.warnings``). See :func:`verify` for the arguments
    and the other exceptions (FileNotFoundError for a missing manifest, ...).
    """
    options = VerifyOptions.of(locals())
    return _jobs.run(_start_verify, root_dir, manifest, options, check=True, client=client)


def file_digest(path: PathArg, algorithm: str = "sha1", *, length: int | None = None) -> str:
    """Return the lower-case hex digest of the file at path.

    ``algorithm`` is an algorithm's name in any spelling (md5, sha1, sha256,
    sha3_256 or SHA3-256, blake2b, blake2b-256, blake2s, blake3, git-sha1;
    see ``checksig.algorithms_available``). The path is used as given (no
    root confinement). Directories, FIFOs, sockets and devices are refused
    without being read. Files of 64 MiB or more run as a cancellable engine
    job, so Ctrl-C (or a kernel interrupt) stops them promptly.

    ``length`` (blake3 only) asks for that many bytes of BLAKE3's extendable
    output, as ``b3sum -l LENGTH`` and PyPI's ``blake3(...).digest(length)``
    make them (its first 32 bytes are the usual digest). Beyond 32 bytes the
    file is hashed in one engine call, which Ctrl-C interrupts only when it
    returns. For BLAKE2b of another length, name it (``"blake2b-256"``).

    Raises:
        FileNotFoundError, PermissionError, IsADirectoryError, OSError: as
            for open(); a FIFO or device raises an OSError saying it is not
            a regular file, and a file whose size changed while it was read
            (truncated or appended to) an OSError saying so: its digest would
            be of no version of the file.
        ValueError: an unknown algorithm, a bad length, or a NUL in the path.
    """
    alg = _algorithms.code(algorithm)
    extended = _extended_length(alg, length)
    raw = _fsbytes(path)
    if extended:
        digest, _ = _native.file_digest(raw, alg, extended)
        return digest.hex()
    try:
        small = os.stat(raw).st_size < SYNC_DIGEST_LIMIT
    except (OSError, ValueError):
        small = True  # the engine reports the error, with its own classification
    if small:
        digest, _ = _native.file_digest(raw, alg)
        hexdigest = digest.hex()
    else:
        hexdigest = _jobs.run(_start_digest, [raw], alg, 1, False)[0]
    return hexdigest[: 2 * length] if length else hexdigest


def _extended_length(alg: int, length: Any) -> int:
    """file_digest's length= checked: the byte count the engine must make itself
    (BLAKE3 beyond its 32 bytes), 0 when the usual digest (or a prefix of it) will do."""
    if length is None:
        return 0
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise ValueError(f"length must be a positive number of bytes, got {length!r}")
    if alg != _native.ALG_BLAKE3:
        name = _algorithms.name(alg)
        hint = (
            f"; for BLAKE2b of {8 * length} bits name it: 'blake2b-{8 * length}'"
            if name.startswith("blake2b") and 8 * length <= 512
            else ""
        )
        raise ValueError(
            f"length= is for blake3's extendable output (b3sum -l); {name} makes "
            f"{_algorithms.size(alg)}-byte digests only{hint}"
        )
    return length if length > _algorithms.size(alg) else 0


def check_file(path: PathArg, expected: str, algorithm: str | None = None) -> bool:
    """Return whether the file at path has the given hex digest.

    ``expected`` is a hex digest in any case (surrounding whitespace is
    ignored). ``algorithm`` is an algorithm's name in any spelling (see
    :func:`file_digest`). Without it, the digest's length decides as it does
    for a manifest's untagged lines (FORMATS.md B2.3): 32 hex digits md5, 40
    sha1, 56 sha224, 64 sha256, 96 sha384, 128 sha512. Each of those lengths
    is another algorithm's too (64: sha3_256, blake2s, blake3, blake2b-256),
    so when the file does not match, it is hashed again with each of those,
    and a ValueError names the one that matches, if any: the digest was not
    of the algorithm assumed, and the answer is neither True nor False.

    Raises:
        ValueError: a malformed digest (a non-hex character, a length no
            algorithm has, one that only algorithms never assumed have, or
            one that does not fit ``algorithm``), an unknown algorithm, or,
            without ``algorithm``, a digest another algorithm of its length
            gives the file.
        OSError: as :func:`file_digest`.
    """
    digest = _normalise_hex(expected)
    if algorithm is not None:
        alg = _algorithms.code(algorithm)
        name = _algorithms.name(alg)
        want = 2 * _algorithms.size(alg)
        if len(digest) != want:
            raise ValueError(
                f"expected {name} digest must have {want} hex digits, got {len(digest)}"
            )
        return file_digest(path, name) == digest
    alg = _algorithms.by_hex_length(len(digest))
    fits = _algorithms.fitting(len(digest))
    if alg is None:
        if fits:
            raise ValueError(
                f"expected digest has {len(digest)} hex digits, as {_words.listed(fits)} digests "
                f"have, which is never assumed: name the algorithm (algorithm={fits[0]!r})"
            )
        raise ValueError(
            f"expected digest has {len(digest)} hex digits, which fits no algorithm "
            f"({_algorithms.hex_lengths()}; other even lengths up to 128: blake2b-N, named)"
        )
    name = _algorithms.name(alg)
    if file_digest(path, name) == digest:
        return True
    for other in _algorithms.same_size(name):
        if file_digest(path, other) == digest:
            raise ValueError(
                f"the expected digest is the {other} digest of {os.fsdecode(path)!r}, not its "
                f"{name} digest ({len(digest)} hex digits fit {_words.listed(fits)}; {name} is "
                f"assumed from the length alone): name the algorithm (algorithm={other!r})"
            )
    return False


def digest_files(
    paths: Iterable[PathArg],
    algorithm: str = "sha1",
    *,
    workers: int | None = None,
    progress: ProgressArg = None,
) -> list[str]:
    """Hash many files in parallel; return their hex digests in input order.

    Paths are used as given (no root confinement); the same path may appear
    more than once. ``workers=None`` means one per CPU. ``progress`` is as
    for :func:`verify`.

    Raises:
        FileNotFoundError, PermissionError, IsADirectoryError, OSError: for
            the first failing path (in input order), naming it; a FIFO or
            device raises an OSError saying it is not a regular file.
        ValueError: an unknown algorithm or a NUL in a path.
        KeyboardInterrupt: as for :func:`verify`.
    """
    return _jobs.run(start_digest_files, paths, algorithm, workers=workers, progress=progress)


def make_manifest(
    root_dir: PathArg,
    algorithm: str = "sha256",
    output: PathArg | None = None,
    *,
    workers: int | None = None,
    tag: bool = False,
    base64: bool = False,
    progress: ProgressArg = None,
) -> Path:
    """Hash every regular file under root_dir and write a manifest.

    The manifest is what the algorithm's own tool writes, byte for byte, and
    reads back: one ``HEX  name`` line per file, names relative to root_dir,
    sorted, or BSD tag lines with ``tag=True``: GNU ``sha256sum [--tag]``
    (``SHA256 (name) = HEX``; md5, sha1, sha2), ``cksum -a sha3 -l 256
    [--untagged]`` (``SHA3-256 (name) = HEX``), ``b2sum [-l N] [--tag]``
    (``BLAKE2b-256 (name) = HEX``), ``b3sum [--tag]`` (``BLAKE3 (name) =
    HEX``). Symlinks, FIFOs, devices and the manifest itself are not listed.
    It is written atomically: a temporary file beside it, then a rename; an
    interrupted call writes nothing.

    Args:
        root_dir: the directory to walk.
        algorithm: an algorithm's name, any spelling (``sha256``, ``sha3_256``,
            ``SHA3-256``, ``blake2b``, ``blake2b-256``, ``blake3``; see
            ``checksig.algorithms_available``).
        output: where to write; ``None`` means
            ``root_dir/f"{algorithm}sum.txt"`` with the algorithm's name
            (``sha3_256sum.txt``, ``blake2b-256sum.txt``, ``blake3sum.txt``),
            which :func:`verify` reads back by its name. A relative path is
            taken relative to root_dir, as :func:`verify` takes its manifest.
        workers: files hashed in parallel; ``None`` or 0 means one per CPU.
        tag: write BSD tag lines. git-sha1 has no tag form (ValueError).
        base64: write digests in base64 (standard alphabet, padded), as GNU
            ``cksum --base64 [--untagged]`` does; ``cksum -c`` (GNU 9.2+ for
            tagged lines, 9.9+ for untagged ones given ``-a``) and
            :func:`verify` read them.
        progress: as for :func:`verify`.

    Returns:
        The manifest's absolute path.

    Raises:
        OSError: root_dir cannot be walked, a file cannot be read, or the
            manifest cannot be written.
        ValueError: an unknown algorithm, a NUL in a path, or tag=True for
            git-sha1.
        KeyboardInterrupt: as for :func:`verify`.
    """
    return _jobs.run(
        start_make_manifest,
        root_dir,
        algorithm,
        output,
        workers=workers,
        tag=tag,
        base64=base64,
        progress=progress,
    )


# --- asyncio -----------------------------------------------------------------------------


async def averify(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify` for asyncio: ``report = await checksig.averify(root)``.

    The engine works on its own threads; the coroutine polls it every
    50 ms without blocking the event loop (and feeds ``progress``).
    Cancelling the awaiting task cancels the engine's work.
    """
    return await _start_verify(
        root_dir, manifest, VerifyOptions.of(locals()), check=False, client=client
    )


async def acheck_signatures(
    root_dir: PathArg,
    manifest: PathArg | None = None,
    *,
    client: Any = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`check_signatures` for asyncio (see :func:`averify`)."""
    return await _start_verify(
        root_dir, manifest, VerifyOptions.of(locals()), check=True, client=client
    )


async def adigest_files(
    paths: Iterable[PathArg],
    algorithm: str = "sha1",
    *,
    workers: int | None = None,
    progress: ProgressArg = None,
) -> list[str]:
    """:func:`digest_files` for asyncio (see :func:`averify`)."""
    return await start_digest_files(paths, algorithm, workers=workers, progress=progress)


async def amake_manifest(
    root_dir: PathArg,
    algorithm: str = "sha256",
    output: PathArg | None = None,
    *,
    workers: int | None = None,
    tag: bool = False,
    base64: bool = False,
    progress: ProgressArg = None,
) -> Path:
    """:func:`make_manifest` for asyncio (see :func:`averify`)."""
    return await start_make_manifest(
        root_dir,
        algorithm,
        output,
        workers=workers,
        tag=tag,
        base64=base64,
        progress=progress,
    )
