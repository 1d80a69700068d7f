"""conda packages and environments: ``info/paths.json`` and
``conda-meta/<name>-<version>-<build>.json``; the "conda" kind.

A package's ``info/paths.json`` lists its files as packaged:
``{"paths_version": 1, "paths": [{"_path", "path_type", "sha256",
"size_in_bytes", "prefix_placeholder", "file_mode", "no_link"}, ...]}``.
An environment's ``conda-meta/*.json`` (one per installed package) repeats
them under ``paths_data`` with what conda learnt installing them: files
with a ``prefix_placeholder`` had the build prefix rewritten to the
environment's, so their packaged ``sha256`` no longer applies; conda 4.x
and later record ``sha256_in_prefix``, the digest of the file as installed.

The rules (FORMATS.md part J), row by row:

* ``directory``: it must be a directory (checked here, not hashed);
* a file with a ``prefix_placeholder``: its ``sha256_in_prefix`` if the
  record has one, else listed as ``not_checked``;
* any other ``hardlink`` or ``softlink``: ``sha256_in_prefix``, else
  ``sha256`` (conda-build records a link's digest as its target's: the link
  is followed, inside the root only);
* a link without a digest (one to a directory): it must exist;
* without any digest (``pyc_file``, entry points written at install):
  ``not_checked``.

Tests: tests/test_ecosystems.py (hand-made prefixes of this documented format).
"""

from __future__ import annotations

import errno
import os
import stat

from . import _algorithms, _native
from ._errors import ManifestError
from ._plan import Plan

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["NAME", "detect", "package_label", "plan", "read_into", "records"]

#: This kind's name in _kinds.KINDS.
NAME = "conda"

SHA256 = _algorithms.code("sha256")

#: The longest name the engine takes (keep in sync with MaxLineLen in go/manifest.go).
_MAX_NAME = 64 << 10

_HEX = frozenset("0123456789abcdefABCDEF")


# --- the kind -------------------------------------------------------------------------------


def detect(path: str) -> bool:
    """Whether the manifest at path is conda's: a package's ``paths.json``, or
    a JSON record in an environment's ``conda-meta`` (FORMATS.md J1)."""
    base = os.path.basename(path)
    if base == "paths.json" or (
        base.endswith(".json") and os.path.basename(os.path.dirname(path)) == "conda-meta"
    ):
        try:
            with open(path, "rb") as f:
                return f.read(64).lstrip().startswith(b"{")
        except OSError:
            return False
    return False


def algorithm_from_name(path: str) -> str | None:
    """conda's records are sha256 throughout."""
    return "sha256"


def malformed_lines(path: str) -> list[int]:
    """A JSON record has no lines to name (its errors name the entry)."""
    return []


def plan(root: bytes, manifest: str, options: Any) -> Plan:
    """The rows of ``verify(root, "info/paths.json")`` (a package as
    extracted: the packaged digests) or ``verify(prefix,
    "conda-meta/x.json")`` (an environment: as installed)."""
    installed = os.path.basename(os.path.dirname(manifest)) == "conda-meta"
    p = Plan.of_manifest(root, manifest, options)
    record = load(manifest)
    read_into(
        p,
        record,
        shown=manifest,
        installed=installed,
        only=_algorithms.code(options.algorithm, allow_none=True),
    )
    if not len(p) and not p.warnings:
        raise ManifestError(f"{manifest}: no paths listed", path=manifest)
    return p


# --- reading ---------------------------------------------------------------------------------


def load(path: str) -> dict[str, Any]:
    """A JSON record (a dict); ManifestError naming the file if it is none."""
    import json

    try:
        with open(path, "rb") as f:
            record = json.loads(f.read())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ManifestError(f"{path}: not a JSON document ({exc})", path=path) from None
    if not isinstance(record, dict):
        raise ManifestError(f"{path}: expected a JSON object", path=path)
    return record


def package_label(record: dict[str, Any], fallback: str) -> str:
    """``numpy 1.26.4`` from a conda-meta record (its file's stem if it names none)."""
    name, version = record.get("name"), record.get("version")
    if isinstance(name, str) and isinstance(version, str):
        return f"{name} {version}"
    return fallback


def _paths_of(record: dict[str, Any]) -> tuple[list[Any] | None, str]:
    """The record's path entries and where they are (for messages)."""
    data = record.get("paths_data")
    if isinstance(data, dict) and isinstance(data.get("paths"), list):
        return data["paths"], "paths_data.paths"
    if isinstance(record.get("paths"), list):  # info/paths.json
        return record["paths"], "paths"
    return None, ""


def read_into(
    plan: Plan,
    record: dict[str, Any],
    *,
    shown: str,
    installed: bool,
    package: str | None = None,
    only: int = 0,
) -> None:
    """Add a record's rows to plan (names relative to the plan's root).

    ``installed``: a conda-meta record (digests as installed, FORMATS.md
    J3) rather than a package's paths.json (as packaged). ``only`` (an
    algorithm code other than sha256) lists every row as not checked.
    """
    paths, where = _paths_of(record)
    if paths is None:
        files = record.get("files")
        if not isinstance(files, list):
            plan.skip(shown, 0, "neither paths_data.paths, paths nor files is a list")
            return
        # Records older than paths_data name files only: listed, not checked.
        for i, name in enumerate(files):
            if _good_name(plan, name, shown, f"files[{i}]"):
                plan.add(os.fsencode(name), 0, b"", 0, package=package)
        return
    directories: list[int] = []
    links: list[int] = []
    placeholders = 0
    for i, entry in enumerate(paths):
        at = f"{where}[{i}]"
        if not isinstance(entry, dict):
            plan.skip(shown, 0, f"{at}: expected an object, found {type(entry).__name__}")
            continue
        name = entry.get("_path")
        if not _good_name(plan, name, shown, f"{at}._path"):
            continue
        size = entry.get("size_in_bytes")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            plan.skip(shown, 0, f"{at}: size_in_bytes is not a number of bytes: {size!r}")
            continue
        raw = os.fsencode(name)
        kind = entry.get("path_type", "hardlink")
        if kind == "directory":
            directories.append(plan.add(raw, 0, b"", 0, package=package))
            continue
        if installed and entry.get("prefix_placeholder"):
            digest = entry.get("sha256_in_prefix")
            if digest is None:
                placeholders += 1
        else:
            digest = entry.get("sha256_in_prefix") if installed else None
            if digest is None:
                digest = entry.get("sha256")
        if digest is None:
            row = plan.add(raw, 0, b"", 0, package=package)
            if kind == "softlink":
                links.append(row)
            continue
        if not isinstance(digest, str) or len(digest) != 64 or not _HEX.issuperset(digest):
            plan.skip(shown, 0, f"{at}: expected a sha256 digest (64 hex digits), found {digest!r}")
            continue
        if only and only != SHA256:
            plan.add(raw, 0, b"", 0, package=package)
            continue
        plan.add(raw, SHA256, bytes.fromhex(digest), 0, package=package)
    if placeholders:
        plan.notes.append(
            f"{shown}: {placeholders} file(s) rewritten at install (prefix_placeholder) "
            "without sha256_in_prefix: listed as not checked"
        )
    if directories or links:
        plan.finishers.append(_Settle(directories, links))


def _good_name(plan: Plan, name: Any, shown: str, at: str) -> bool:
    if not isinstance(name, str) or not name:
        plan.skip(shown, 0, f"{at}: expected a path, found {name!r}")
        return False
    if "\0" in name:
        plan.skip(shown, 0, f"{at}: path contains a NUL character")
        return False
    if len(os.fsencode(name)) > _MAX_NAME:
        plan.skip(shown, 0, f"{at}: path longer than {_MAX_NAME} bytes")
        return False
    return True


class _Settle:
    """A finisher: the rows the engine was not asked to open (directories,
    links without a digest) get their status from an lstat here, confined
    to the root as the engine confines its names."""

    def __init__(self, directories: list[int], links: list[int]) -> None:
        self.directories = directories
        self.links = links

    def __call__(self, columns: Any, plan: Plan) -> Any:
        status, errnum = columns["status"], columns["errnum"]
        for rows, want in ((self.directories, "directory"), (self.links, "link")):
            for i in rows:
                if status[i] != _native.ST_NOT_CHECKED:
                    continue  # a cancelled job's pending rows stay pending
                code, err = settle(plan.root, plan.names[i], want)
                status[i], errnum[i] = code, err
        return columns


def settle(root: bytes, name: bytes, want: str) -> tuple[int, int]:
    """(status, errno) of a directory or a link entry, by lstat only.

    The name is refused as the engine refuses it (absolute, a ``..``
    component, or a path through a symlink that leads out of the root):
    ``outside_root``. Nothing is opened, so no FIFO can block.
    """
    parts = name.split(b"/")
    if name.startswith(b"/") or b".." in parts:
        return _native.ST_OUTSIDE_ROOT, 0
    path = os.path.join(root, name)
    parent = os.path.dirname(path.rstrip(b"/"))
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(parent)
    if real_parent != real_root and not real_parent.startswith(real_root.rstrip(b"/") + b"/"):
        return _native.ST_OUTSIDE_ROOT, 0
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return _native.ST_MISSING, errno.ENOENT
    except OSError as exc:
        return _native.ST_UNREADABLE, exc.errno or 0
    if want == "link":
        return _native.ST_OK, 0  # a link to a directory conda recorded no digest for
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if real != real_root and not real.startswith(real_root.rstrip(b"/") + b"/"):
            return _native.ST_OUTSIDE_ROOT, 0
        try:
            st = os.stat(path)
        except OSError as exc:
            return _native.ST_MISSING, exc.errno or errno.ENOENT
    if stat.S_ISDIR(st.st_mode):
        return _native.ST_OK, 0
    return _native.ST_UNREADABLE, errno.ENOTDIR


# --- environments ----------------------------------------------------------------------------


def records(prefix: str) -> list[str]:
    """The conda-meta records of a prefix (paths relative to it), sorted; []
    if it is no conda environment."""
    directory = os.path.join(prefix, "conda-meta")
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(f"conda-meta/{n}" for n in names if n.endswith(".json"))
