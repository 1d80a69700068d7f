"""Verify the stores where model files land, offline, by content address (issue 23).

* :func:`verify_hf_cache`: the Hugging Face hub cache, or a folder
  ``hf download --local-dir`` wrote (``_hfcache``, ``_hflocal``);
* :func:`verify_ollama`: Ollama's models (``_ollama``);
* :func:`verify_store`: any store, its kind recognised from its layout
  (``_kinds.STORE_DETECTION_ORDER``): an OCI image layout (``_oci``), Ollama's
  models, a local dir, a hub cache.

Each comes in the three forms of every batch call (blocking, ``start_``,
``a``), takes the verify options of ``_options.FIELDS`` and hands a plan
maker to ``_api._start_verify``, as ``verify_bag`` does: the rows go to the
engine in memory, confined, hashed, reported, watched and cancelled exactly
as a manifest's. FORMATS.md parts L to O state the rules.
"""

from __future__ import annotations

import os

from . import _api, _kinds
from ._lazy import _LazyModule
from ._options import START_PROGRESS, VerifyOptions

# As in _api: only a job needs _jobs (and threading with it).
_jobs = _LazyModule("checksig._jobs")

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Callable

    from ._api import PathArg
    from ._jobs import Job
    from ._options import ProgressArg
    from ._plan import Plan
    from ._report import Report

__all__ = [
    "averify_hf_cache",
    "averify_ollama",
    "averify_store",
    "start_verify_hf_cache",
    "start_verify_ollama",
    "start_verify_store",
    "verify_hf_cache",
    "verify_ollama",
    "verify_store",
]


def _start(
    kind: str,
    store: tuple[PathArg, Callable[[bytes, VerifyOptions], Plan]],
    options: VerifyOptions,
) -> Job[Report]:
    """Start the verify job of a store, given as (root, plan maker). Which
    files a store should not hold is the kind's business (an unused blob,
    with ``extra=True``, is an "extra" row), so its plan says whether the
    engine also walks the root (``Plan.extra``: only a local dir's does)."""
    root, make = store
    return _api._start_verify(root, None, options, check=False, plan=make, kind=kind)


# --- the Hugging Face hub cache ---------------------------------------------------------------


def _hf(
    cache_dir: PathArg | None,
    local_dir: PathArg | None,
    repo_id: str | None,
    repo_type: str | None,
    revision: str | None,
) -> tuple[PathArg, Callable[[bytes, VerifyOptions], Plan]]:
    """The root and plan maker of verify_hf_cache's arguments."""
    if local_dir is not None:
        if cache_dir is not None:
            raise ValueError("give cache_dir or local_dir, not both")
        if repo_id is not None or repo_type is not None or revision is not None:
            raise ValueError("repo_id, repo_type and revision select in a cache, not a local_dir")
        local = _kinds.store("hf-local")
        return local_dir, local.plan
    hub = _kinds.store("hf")
    root = hub.default_cache_dir() if cache_dir is None else cache_dir

    def make(root: bytes, options: VerifyOptions) -> Plan:
        return hub.plan(root, options, repo_id=repo_id, repo_type=repo_type, revision=revision)

    return root, make


def start_verify_hf_cache(
    cache_dir: PathArg | None = None,
    *,
    repo_id: str | None = None,
    repo_type: str | None = None,
    revision: str | None = None,
    local_dir: PathArg | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify_hf_cache` in the background; return its :class:`Job`.

    The arguments are :func:`verify_hf_cache`'s; ``progress`` defaults to
    ``False`` and is fed only when the job is observed, and errors in the
    arguments are raised here (see :func:`checksig.start_verify`).
    """
    return _start(
        "hf_cache",
        _hf(cache_dir, local_dir, repo_id, repo_type, revision),
        VerifyOptions.of(locals()),
    )


def verify_hf_cache(
    cache_dir: PathArg | None = None,
    *,
    repo_id: str | None = None,
    repo_type: str | None = None,
    revision: str | None = None,
    local_dir: PathArg | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Verify the Hugging Face hub cache offline: every cached file against
    the digest its blob is named by. Returns a Report, never raising for failures.

    A blob named by 64 hex digits is the sha256 of its content (LFS and Xet
    files); one named by 40 is git's blob id (what ``git hash-object``
    prints). Rows are the snapshot files programs open
    (``models--org--name/snapshots/<commit>/model.safetensors``, relative to
    the cache), with ``repo`` and ``revision`` label columns; a blob several
    snapshots share is read once. A snapshot link that dangles is
    "missing"; one that leads out of the cache, or anywhere but its repo's
    ``blobs/``, is "outside_root" and never opened. huggingface_hub 2.x's
    shared blob store is followed (a repo's ``blobs/<etag>`` linking to
    ``<cache>/blobs/<2 hex>/<xet hash>``) and its content checked against the
    repo's etag. Interrupted downloads (``*.incomplete``) are listed as
    "not_checked" and said in ``report.notes``; blobs no snapshot uses are
    checked against their names and counted in a note (``extra=True``: each
    is a failure, status "extra"). Whatever is wrong with the cache itself
    (a ref naming no snapshot, a blob named by no digest) is in
    ``report.problems`` and fails the report. FORMATS.md part L.

    Args:
        cache_dir: the cache; ``None``: where huggingface_hub keeps it
            (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
            ``~/.cache/huggingface/hub``).
        repo_id: only this repo (``"org/name"``).
        repo_type: only repos of this type ("model", "dataset", "space",
            "kernel"); ``None``: any.
        revision: only this revision: a commit hash or a ref (``"main"``).
        local_dir: instead of a cache, a folder ``hf download --local-dir``
            wrote: each file against the etag in its
            ``.cache/huggingface/download/<path>.metadata``.
        algorithm: check only blobs of this algorithm ("sha256"); others
            are "not_checked".
        extra: unused blobs (in a local_dir: files without metadata) fail.
        workers, strict, ignore_missing, allow_outside_root, progress: as
            for :func:`checksig.verify` (strict: a fault of the cache raises
            ManifestError; allow_outside_root: blobs may be links out of
            the cache, the engine follows them).

    Raises:
        FileNotFoundError, NotADirectoryError: no such directory.
        ManifestError: no hub cache there.
        ValueError: a bad argument, or a repo or revision not cached.
        KeyboardInterrupt: as for :func:`checksig.verify`.
    """
    return _jobs.run(
        _start,
        "hf_cache",
        _hf(cache_dir, local_dir, repo_id, repo_type, revision),
        VerifyOptions.of(locals()),
    )


async def averify_hf_cache(
    cache_dir: PathArg | None = None,
    *,
    repo_id: str | None = None,
    repo_type: str | None = None,
    revision: str | None = None,
    local_dir: PathArg | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify_hf_cache` for asyncio (see :func:`checksig.averify`)."""
    return await _start(
        "hf_cache",
        _hf(cache_dir, local_dir, repo_id, repo_type, revision),
        VerifyOptions.of(locals()),
    )


# --- Ollama ------------------------------------------------------------------------------------


def _ollama(
    models_dir: PathArg | None, model: str | None
) -> tuple[PathArg, Callable[[bytes, VerifyOptions], Plan]]:
    ollama = _kinds.store("ollama")
    root = ollama.default_models_dir() if models_dir is None else models_dir

    def make(root: bytes, options: VerifyOptions) -> Plan:
        return ollama.plan(root, options, model=model)

    return root, make


def start_verify_ollama(
    models_dir: PathArg | None = None,
    *,
    model: str | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify_ollama` in the background; return its :class:`Job`.

    The arguments are :func:`verify_ollama`'s; ``progress`` defaults to
    ``False`` and is fed only when the job is observed, and errors in the
    arguments are raised here (see :func:`checksig.start_verify`).
    """
    return _start("ollama", _ollama(models_dir, model), VerifyOptions.of(locals()))


def verify_ollama(
    models_dir: PathArg | None = None,
    *,
    model: str | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Verify Ollama's models offline; return a Report, never raising for failures.

    Every blob (``blobs/sha256-<hex>``) is checked against its name, each
    once. Rows are the blobs each model's manifest
    (``manifests/<registry>/<namespace>/<model>/<tag>``) lists, with
    ``model`` and ``tag`` label columns (``llama3``, ``8b``): a blob a
    manifest lists and the store lacks is "missing"; one whose size is not
    the manifest's is a problem. Blobs no manifest lists are checked and
    counted in a note (``extra=True``: failures); partial downloads
    (``-partial``) are "not_checked". FORMATS.md part M.

    Args:
        models_dir: Ollama's models directory; ``None``: ``$OLLAMA_MODELS``,
            else ``~/.ollama/models``.
        model: only this model (``"llama3"``, any tag; ``"llama3:8b"``;
            ``"namespace/model:tag"``; ``"host/namespace/model:tag"``).
        algorithm, workers, strict, ignore_missing, extra,
            allow_outside_root, progress: as for :func:`verify_hf_cache`.

    Raises:
        FileNotFoundError, NotADirectoryError: no such directory.
        ManifestError: no Ollama models there.
        ValueError: a bad argument, or a model not there.
        KeyboardInterrupt: as for :func:`checksig.verify`.
    """
    return _jobs.run(_start, "ollama", _ollama(models_dir, model), VerifyOptions.of(locals()))


async def averify_ollama(
    models_dir: PathArg | None = None,
    *,
    model: str | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify_ollama` for asyncio (see :func:`checksig.averify`)."""
    return await _start("ollama", _ollama(models_dir, model), VerifyOptions.of(locals()))


# --- any store ---------------------------------------------------------------------------------


def _any(path: PathArg) -> tuple[PathArg, Callable[[bytes, VerifyOptions], Plan]]:
    """The root and plan maker of the store at path, its kind detected."""
    text = os.fsdecode(os.fspath(path))
    return _kinds.detect_store(text).for_path(text)


def start_verify_store(
    path: PathArg,
    *,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify_store` in the background; return its :class:`Job`.

    The arguments are :func:`verify_store`'s; ``progress`` defaults to
    ``False`` and is fed only when the job is observed, and errors in the
    arguments are raised here (see :func:`checksig.start_verify`).
    """
    return _start("store", _any(path), VerifyOptions.of(locals()))


def verify_store(
    path: PathArg,
    *,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Verify a store of files named by their digests, its kind recognised
    from its layout; return a Report, never raising for failures.

    The kinds, tried in this order (FORMATS.md part O): an OCI image
    layout (an ``oci-layout`` file: every blob under ``blobs/<alg>/<hex>``
    against its name, every descriptor reachable from ``index.json``
    present with its size and digest; part N), Ollama's models
    (``blobs/`` and ``manifests/``; :func:`verify_ollama`), a folder
    ``hf download --local-dir`` wrote (``.cache/huggingface/download/``),
    a Hugging Face hub cache (``models--*`` folders; :func:`verify_hf_cache`),
    or one repo folder of it (``.../hub/models--org--name``).

    Args:
        path: the store's directory.
        algorithm, workers, strict, ignore_missing, extra,
            allow_outside_root, progress: as for :func:`verify_hf_cache`.

    Raises:
        FileNotFoundError, NotADirectoryError: no such directory.
        ValueError: path is no store checksig knows (the message says what
            each kind needs).
        ManifestError: the store's own files cannot be used.
        KeyboardInterrupt: as for :func:`checksig.verify`.
    """
    return _jobs.run(_start, "store", _any(path), VerifyOptions.of(locals()))


async def averify_store(
    path: PathArg,
    *,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify_store` for asyncio (see :func:`checksig.averify`)."""
    return await _start("store", _any(path), VerifyOptions.of(locals()))
