"""checksig: verify files against checksum manifests, fast and in parallel.

The engine is Go, shipped as a shared library inside this package and loaded
on first use (``import checksig`` alone does not load it). The API::

    checksig.check_signatures(root_dir)        # raise SignatureError naming every failure
    checksig.verify(root_dir, "SHA256SUMS")    # a Report, never raising for bad entries
    checksig.make_manifest(root_dir)           # write root_dir/sha256sum.txt atomically
    checksig.file_digest(path, "sha256")       # one file's hex digest
    checksig.check_file(path, expected_hex)    # algorithm inferred from the length
    checksig.digest_files(paths, "md5")        # many files in parallel, in input order
    checksig.verify_bag(bag_dir)               # a BagIt bag (RFC 8493), as bagit-python validates
    checksig.verify_environment()              # every installed file of this venv or conda env
    checksig.verify_hf_cache()                 # the Hugging Face hub cache, offline, by digest
    checksig.verify_ollama()                   # Ollama's models
    checksig.verify_store(path)                # any of those, or an OCI image layout

Every batch function also runs in the background or under asyncio::

    job = checksig.start_verify(root_dir)      # a Job, at once
    job.progress                               # Progress(phase="running", ..., eta=12.5)
    job.cancel(); job.done(); job.result(timeout=10)
    report = await checksig.averify(root_dir)  # acheck_signatures, amake_manifest, ...

Algorithms are named as hashlib names them (md5, sha1, sha256, sha3_256,
blake2b, blake2s), plus blake2b-N (BLAKE2b with an N-bit digest, as b2sum -l N),
blake3 and git-sha1; GNU's spellings work too (SHA3-256, BLAKE2b-256).
``checksig.ALGORITHMS`` lists them, ``checksig.algorithms_available`` every
name. verify() reads SHA-3, BLAKE2b, BLAKE3 and base64 manifests as GNU's
cksum, b2sum and b3sum write them.

On a Dask cluster, with ``pip install "checksig[dask]"``::

    report = checksig.verify(root_dir, client=distributed_client)  # same Report

``progress=True`` shows a bar (a widget in Jupyter); by default one appears
when stderr is a terminal or in a Jupyter kernel. Ctrl-C, or interrupting
the kernel, cancels the engine's work at the end of its 50 ms poll and
raises KeyboardInterrupt. The engine cannot be used in a process forked from one
that already used it: use multiprocessing's "spawn" or "forkserver" start
method.
"""

from __future__ import annotations

from importlib import import_module as _import_module

from . import _lazy
from ._api import (
    ALGORITHMS,
    acheck_signatures,
    adigest_files,
    algorithms_available,
    amake_manifest,
    averify,
    check_file,
    check_signatures,
    digest_files,
    file_digest,
    make_manifest,
    start_check_signatures,
    start_digest_files,
    start_make_manifest,
    start_verify,
    verify,
)
from ._errors import Cancelled, EngineError, ManifestError, SignatureError
from ._native import STATUSES

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from ._ecosystems import (
        averify_bag,
        averify_environment,
        start_verify_bag,
        start_verify_environment,
        verify_bag,
        verify_environment,
    )
    from ._jobs import Job
    from ._progress import Progress
    from ._report import Report
    from ._row import Row
    from ._stores import (
        averify_hf_cache,
        averify_ollama,
        averify_store,
        start_verify_hf_cache,
        start_verify_ollama,
        start_verify_store,
        verify_hf_cache,
        verify_ollama,
        verify_store,
    )

#: Public names from the modules only jobs need, imported on first look-up
#: (PEP 562). `import checksig` and a first file_digest() do without them
#: (see _api.py); Progress (a dataclass: dataclasses imports inspect) and Row
#: (a typing.NamedTuple) load only when a program asks for one. The verify_*
#: functions of the ecosystems (bags, environments) and of the model stores
#: load on first use too: their modules (and the BagIt, conda and RECORD
#: readers under them) were ~2 ms of every `import checksig`, a tenth of it,
#: where most programs check a manifest (a first verify still loads the conda
#: and RECORD readers: _kinds asks them whether a manifest is theirs). dir()
#: and help(checksig) list them all, loading them (pydoc looks each name up).
_ON_FIRST_USE = {
    "Job": "._jobs",
    "Progress": "._progress",
    "Report": "._report",
    "Row": "._row",
    **dict.fromkeys(
        [
            "averify_bag",
            "averify_environment",
            "start_verify_bag",
            "start_verify_environment",
            "verify_bag",
            "verify_environment",
        ],
        "._ecosystems",
    ),
    **dict.fromkeys(
        [
            "averify_hf_cache",
            "averify_ollama",
            "averify_store",
            "start_verify_hf_cache",
            "start_verify_ollama",
            "start_verify_store",
            "verify_hf_cache",
            "verify_ollama",
            "verify_store",
        ],
        "._stores",
    ),
}


def __getattr__(name: str) -> str:
    # __version__ is looked up on first use: importlib.metadata costs ~10 ms,
    # a third of `import checksig`, and most programs never ask. (The names
    # of _ON_FIRST_USE are imported above for type checkers, which therefore
    # see `-> str` only for __version__.)
    if name == "__version__":
        global __version__
        __version__ = _lazy.package_version()
        return __version__
    module = _ON_FIRST_USE.get(name)
    if module is not None:
        value = getattr(_import_module(module, __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'checksig' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"__version__", *_ON_FIRST_USE})


__all__ = [
    "ALGORITHMS",
    "STATUSES",
    "Cancelled",
    "EngineError",
    "Job",
    "ManifestError",
    "Progress",
    "Report",
    "Row",
    "SignatureError",
    "__version__",
    "acheck_signatures",
    "adigest_files",
    "algorithms_available",
    "amake_manifest",
    "averify",
    "averify_bag",
    "averify_environment",
    "averify_hf_cache",
    "averify_ollama",
    "averify_store",
    "check_file",
    "check_signatures",
    "digest_files",
    "file_digest",
    "make_manifest",
    "start_check_signatures",
    "start_digest_files",
    "start_make_manifest",
    "start_verify",
    "start_verify_bag",
    "start_verify_environment",
    "start_verify_hf_cache",
    "start_verify_ollama",
    "start_verify_store",
    "verify",
    "verify_bag",
    "verify_environment",
    "verify_hf_cache",
    "verify_ollama",
    "verify_store",
]
