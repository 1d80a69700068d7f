"""A folder ``hf download --local-dir`` wrote (issue 23; FORMATS.md L10): the
"hf-local" store kind.

huggingface_hub (``_local_folder.py``) keeps, for each file it downloaded to
``<dir>/<path>``, a ``<dir>/.cache/huggingface/download/<path>.metadata`` of
three lines: the commit, the file's etag (64 hex digits: sha256; 40: git's
blob id) and when it was written. Each file is checked against its etag.
The root is the folder; names are the files' paths in it.
"""

from __future__ import annotations

from . import _native
from ._errors import ManifestError
from ._hfcache import algorithm_of
from ._plan import select_rows
from ._store import BlobPlan, ReadError, is_hex, is_real_dir, read_beneath, walk_files

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._options import VerifyOptions
    from ._plan import Plan

__all__ = ["NAME", "detect_store", "for_path", "plan"]

NAME = "hf-local"

#: Where huggingface_hub keeps a local dir's own files, and its download metadata.
OWN = ".cache/huggingface"
DOWNLOAD = f"{OWN}/download"
_SUFFIX = ".metadata"
_LIMIT = 4096  # a metadata file is three short lines


def detect_store(path: str) -> bool:
    """Whether path has huggingface_hub's download metadata (``.cache/huggingface/download/``)."""
    return is_real_dir(path, DOWNLOAD)


def for_path(path: str) -> tuple[str, Callable[[bytes, VerifyOptions], BlobPlan]]:
    """(root, plan maker) of the local dir at path."""
    return path, plan


def plan(root: bytes, options: VerifyOptions) -> BlobPlan:
    """The rows of a local dir: one per file with download metadata."""
    local, made = BlobPlan.of(root, options, "Hugging Face local dir", ("repo", "revision"))
    if not is_real_dir(local, DOWNLOAD):
        raise ManifestError(
            f"{local}: no {DOWNLOAD}/ directory: not a folder hf download --local-dir wrote",
            path=local,
        )
    incomplete = 0
    for rel, entry in walk_files(local, DOWNLOAD):
        path = rel[len(DOWNLOAD) + 1 :]
        if entry.name.endswith(".incomplete"):
            incomplete += 1
            made.unchecked(rel, repo=None, revision=None)
            continue
        if not entry.name.endswith(_SUFFIX) or entry.name == _SUFFIX:
            continue  # .lock files and whatever else huggingface_hub leaves there
        path = path[: -len(_SUFFIX)]
        _metadata(made, local, rel, path)
    if not len(made):
        raise ManifestError(f"{local}: no download metadata in {DOWNLOAD}/", path=local)
    if incomplete:
        made.notes.append(
            f"{incomplete} interrupted download(s) in {DOWNLOAD}/, listed as not checked: "
            "huggingface_hub resumes or replaces them"
        )
    if options.extra:
        made.extra = True  # the engine lists every file no metadata names ...
        made.finishers.append(_drop_own_files)  # ... but huggingface_hub's own
    return made


def _metadata(made: BlobPlan, local: str, rel: str, path: str) -> None:
    """The row of ``path``, from its metadata file ``rel``."""
    try:
        text = read_beneath(local, rel, _LIMIT, follow=made.follow)
    except ReadError as exc:
        made.problem(rel, str(exc))
        made.unchecked(path, repo=None, revision=None)
        return
    lines = text.decode("utf-8", "replace").split("\n")
    commit = lines[0].strip() if lines else ""
    etag = lines[1].strip() if len(lines) > 1 else ""
    stamp = lines[2].strip() if len(lines) > 2 else ""
    try:
        float(stamp)
        stamped = True
    except ValueError:
        stamped = False
    alg = algorithm_of(etag)
    if not is_hex(commit, 40) or not alg or not stamped:
        made.problem(
            rel,
            "expected three lines: a commit hash (40 hex digits), an etag (64 or 40 hex "
            "digits) and a time stamp",
        )
        made.unchecked(path, repo=None, revision=commit if is_hex(commit, 40) else None)
        return
    made.blob(path, alg, bytes.fromhex(etag), path, repo=None, revision=commit)


def _drop_own_files(columns: Any, plan: Plan) -> Any:
    """Keep the extra files but huggingface_hub's own (``.cache/huggingface/``)
    and git's (``.git/``), as ``hf cache verify --local-dir`` ignores them."""
    arrays = columns.arrays() if isinstance(columns, _native.Buffers) else columns
    status, offsets, paths = arrays["status"], arrays["path_offsets"], arrays["paths"]
    keep = []
    blob = paths.tobytes()
    for i in range(len(status)):
        if i >= len(plan) and status[i] == _native.ST_EXTRA:
            name = blob[offsets[i] : offsets[i + 1]]
            if name.startswith((OWN.encode() + b"/", b".git/")):
                continue
        keep.append(i)
    return arrays if len(keep) == len(status) else select_rows(arrays, keep)
