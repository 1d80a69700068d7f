"""Manifest kinds: which module knows each kind of manifest, and in what order
a manifest's kind is detected from its path.

A kind is a module that names itself (``NAME``) and says whether a manifest
at a path is of its kind (``detect(path) -> bool``), beside whatever it knows
of its kind (``_gnu``: the ``*sum`` files' rules). A kind whose rows are
made in Python also has ``plan(root, path, options) -> _plan.Plan``, which
``verify()`` uses instead of the engine's parser. ``checksig check`` asks
the detected kind for two things it shows in messages:
``algorithm_from_name(path) -> str | None`` and ``malformed_lines(path) ->
list[int]``. GNU's ``*sum`` files read anything and so come last; a
distribution's RECORD and conda's records are told apart by name and
content first (FORMATS.md I1, J1). Each new kind is a module of its own, a
line in :data:`KINDS` and a place in :data:`DETECTION_ORDER`, ahead of
"gnu". Modules are imported only when asked for. (A BagIt bag is a
directory, not a manifest: ``verify_bag``, not a kind.)

Stores (issue 23) are directories whose files are named by their digests:
:data:`STORES` names the module of each, :data:`STORE_DETECTION_ORDER` the
order in which ``verify_store(path)`` asks them (FORMATS.md O1). A store
module has ``NAME``, ``detect_store(path) -> bool`` (by layout alone: a
few ``lstat`` and directory listings, nothing read) and
``for_path(path) -> (root, plan maker)``.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "DETECTION_ORDER",
    "KINDS",
    "STORES",
    "STORE_DETECTION_ORDER",
    "detect",
    "detect_store",
    "kind",
    "store",
]

#: Every manifest kind by name: the module that knows it.
KINDS = {
    "record": "checksig._record",  # a Python distribution's *.dist-info/RECORD (issue 19)
    "conda": "checksig._conda",  # conda's info/paths.json and conda-meta/*.json (issue 19)
    "gnu": "checksig._gnu",  # GNU coreutils' *sum -c files (SHA256SUMS, sha1sum.txt, ...)
}

#: The order in which detect() asks the kinds: the first that says yes wins.
#: "gnu" reads any text file, so it stays last.
DETECTION_ORDER = ("record", "conda", "gnu")


def _module(table: dict[str, str], name: str, what: str) -> ModuleType:
    try:
        module = table[name]
    except KeyError:
        raise ValueError(f"unknown {what} {name!r}: known are {', '.join(table)}") from None
    return importlib.import_module(module)


def kind(name: str) -> ModuleType:
    """The module of the kind called name; ValueError if there is none."""
    return _module(KINDS, name, "manifest kind")


def detect(path: str) -> ModuleType:
    """The kind of the manifest at path: the first of DETECTION_ORDER whose
    ``detect`` says yes."""
    for name in DETECTION_ORDER:
        module = kind(name)
        if module.detect(path):
            return module
    raise ValueError(f"{path}: no manifest kind reads it")  # pragma: no cover - gnu reads all


#: Every store kind by name: the module that knows it (issue 23).
STORES = {
    "oci": "checksig._oci",  # an OCI image layout (oci-layout, index.json, blobs/<alg>/<hex>)
    "ollama": "checksig._ollama",  # Ollama's models (blobs/sha256-<hex>, manifests/)
    "hf-local": "checksig._hflocal",  # a folder `hf download --local-dir` wrote
    "hf": "checksig._hfcache",  # the Hugging Face hub cache (models--org--name/, ...)
}

#: The order in which detect_store() asks the store kinds. The marked layouts
#: come first (an oci-layout file; Ollama's blobs/ beside manifests/; a local
#: dir's .cache/huggingface/download/), the hub cache, recognised by its repo
#: folders' names, last.
STORE_DETECTION_ORDER = ("oci", "ollama", "hf-local", "hf")


def store(name: str) -> ModuleType:
    """The module of the store kind called name; ValueError if there is none."""
    return _module(STORES, name, "store kind")


def detect_store(path: str) -> ModuleType:
    """The kind of the store at path: the first of STORE_DETECTION_ORDER whose
    ``detect_store`` says yes. OSError when path is no directory; ValueError
    when no kind recognises it."""
    import os

    if not os.path.isdir(path):
        os.listdir(path)  # the OSError that says why (FileNotFoundError, NotADirectoryError)
    for name in STORE_DETECTION_ORDER:
        module = store(name)
        if module.detect_store(path):
            return module
    raise ValueError(
        f"{path}: not a store checksig knows: an OCI image layout has an oci-layout file; "
        "Ollama's models, blobs/ and manifests/; a Hugging Face local dir, "
        ".cache/huggingface/download/; a hub cache, models--*, datasets--* or spaces--* folders"
    )
