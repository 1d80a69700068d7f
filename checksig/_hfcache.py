"""The Hugging Face hub cache (issue 23; FORMATS.md part L): the "hf" store kind.

Layout (huggingface_hub 2.x, ``file_download.py``, ``utils/_cache_manager.py``,
``utils/_shared_blobs.py``)::

    <cache>/models--org--name/           also datasets--, spaces--, kernels--
        blobs/<etag>                     64 hex: sha256 of the content (LFS, Xet);
                                         40 hex: git's blob id (sha1 of "blob N\\0" + content)
        blobs/<etag>[.<8 hex>].incomplete   an interrupted download
        snapshots/<commit>/<path>        a relative link to ../../blobs/<etag>
        refs/<name>                      the commit a branch or tag was at
    <cache>/blobs/.huggingface-shared-blobs   marker of the shared store ("1\\n")
    <cache>/blobs/<2 hex>/<xet hash>     a shared blob; a repo's blobs/<etag> may be a
                                         relative link to it; <xet hash>.refs lists those links
    <cache>/.locks/, <cache>/CACHEDIR.TAG

The root of the verify is the cache: every row is named relative to it, and
the engine confines every open to it. Rows are the snapshot files users know
(``models--org--name/snapshots/<commit>/config.json``, labelled with the repo
and the revision); the engine opens the snapshot path itself, through its
links, so the row says whether the file a program opens is intact. A blob
several snapshots (or repos, through the shared store) use is hashed once.
Links are judged here by their text before anything is opened: a snapshot
link must name its own repo's ``blobs/<etag>``, a repo blob that is a link
must name a shared store entry; anything else is ``outside_root`` and is
never opened.
"""

from __future__ import annotations

import os

from . import _native
from ._errors import ManifestError
from ._store import (
    OS_LITTER,
    BlobPlan,
    ReadError,
    is_hex,
    is_real_dir,
    lstat,
    read_beneath,
    resolve_link,
    scan,
    walk_files,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Callable

    from ._options import VerifyOptions

__all__ = ["NAME", "REPO_TYPES", "default_cache_dir", "detect_store", "for_path", "plan"]

NAME = "hf"

#: Repo folder prefixes and the repo types they hold (huggingface_hub's
#: constants.REPO_TYPES_MAPPING).
REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space", "kernels": "kernel"}

SHARED_STORE = "blobs"
SHARED_MARKER = ".huggingface-shared-blobs"
#: What the marker holds for the layout this module reads (SHARED_BLOBS_LAYOUT_VERSION).
SHARED_MARKER_TEXT = b"1\n"

#: Entries of the cache's top directory that are no repo and nothing to check.
_CACHE_FILES = frozenset({".locks", "CACHEDIR.TAG"}) | OS_LITTER

#: The most a ref or a .refs file may hold (they are a line or a few).
_REF_LIMIT = 4096
_REFS_LIMIT = 1 << 20


def default_cache_dir() -> str:
    """Where huggingface_hub keeps its cache: ``$HF_HUB_CACHE``, else the
    legacy ``$HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else
    ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``
    (huggingface_hub's constants.py, variables expanded as it expands them)."""
    env = os.environ
    xdg = env.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    home = env.get("HF_HOME", os.path.join(xdg, "huggingface"))
    home = os.path.expandvars(os.path.expanduser(home))
    legacy = env.get("HUGGINGFACE_HUB_CACHE", os.path.join(home, "hub"))
    return os.path.expandvars(os.path.expanduser(env.get("HF_HUB_CACHE", legacy)))


def detect_store(path: str) -> bool:
    """Whether path is a hub cache (it holds a repo folder, ``models--*``, ...,
    or a marked shared blob store) or one repo folder of a cache."""
    if _repo_of(os.path.basename(os.path.abspath(path))) is not None:
        return os.path.isdir(os.path.join(path, "snapshots"))
    if os.path.isfile(os.path.join(path, SHARED_STORE, SHARED_MARKER)):
        return True
    return any(_repo_of(e.name) is not None and e.is_dir() for e in scan(path, ""))


def for_path(path: str) -> tuple[str, Callable[[bytes, VerifyOptions], BlobPlan]]:
    """(root, plan maker) of the cache at path; for one repo folder of a cache
    (``.../hub/models--org--name``), its cache and that repo."""
    found = _repo_of(os.path.basename(os.path.abspath(path)))
    if found is None or not os.path.isdir(os.path.join(path, "snapshots")):
        return path, plan
    repo_type, repo_id = found

    def make(root: bytes, options: VerifyOptions) -> BlobPlan:
        return plan(root, options, repo_id=repo_id, repo_type=repo_type)

    return os.path.dirname(os.path.abspath(path)), make


def _repo_of(folder: str) -> tuple[str, str] | None:
    """(repo type, repo id) of a repo folder's name, or None."""
    prefix, sep, rest = folder.partition("--")
    if not sep or prefix not in REPO_TYPES or not rest:
        return None
    return REPO_TYPES[prefix], rest.replace("--", "/")


def repo_label(repo_type: str, repo_id: str) -> str:
    """A repo as the Hub's URLs name it: ``org/name`` for a model,
    ``datasets/org/name``, ``spaces/org/name``, ``kernels/org/name``."""
    return repo_id if repo_type == "model" else f"{repo_type}s/{repo_id}"


def algorithm_of(etag: str) -> int:
    """The engine's algorithm a blob name promises: 64 hex digits sha256, 40
    git's blob id (git-sha1); 0 when the name is neither."""
    if is_hex(etag, 64, lower=False):
        return _native.ALG_SHA256
    if is_hex(etag, 40, lower=False):
        return _native.ALG_GIT_SHA1
    return 0


def link_etag(rel: str, blobs: str, target: str) -> str:
    """The blob name a snapshot link at ``rel`` names when its text leads to
    ``blobs`` (``FOLDER/blobs/``) and a single name in it; "" otherwise.

    The form huggingface_hub writes (``../`` up to the repo folder, then
    ``blobs/ETAG``) is read at once; any other text (``blobs/./ETAG`` too) by
    :func:`resolve_link`, with the same result (tests/test_stores_hf.py checks
    they agree)."""
    up = "../" * (rel.count("/") - 1) + "blobs/"
    if rel.startswith(blobs[: -len("blobs/")]) and target.startswith(up):
        name = target[len(up) :]
        if "/" not in name and name not in ("", ".", ".."):
            return name
    resolved = resolve_link(rel, target) or ""
    name = resolved[len(blobs) :] if resolved.startswith(blobs) else ""
    return "" if "/" in name else name


def _is_store_entry(rel: str) -> bool:
    """Whether rel is ``blobs/<2 hex>/<64 hex>`` with the directory the hash's first two digits."""
    parts = rel.split("/")
    return (
        len(parts) == 3
        and parts[0] == SHARED_STORE
        and is_hex(parts[2], 64)
        and parts[1] == parts[2][:2]
    )


class _Cache:
    """One run over a cache: the plan, and what is learnt across repos."""

    def __init__(self, cache: str, plan: BlobPlan, *, whole: bool) -> None:
        self.cache = cache
        self.plan = plan
        self.whole = whole  # every repo and revision: unused blobs can be told
        self.store_users: dict[str, list[str]] = {}  # store entry -> repo blob links to it
        self.incomplete: list[tuple[str, int]] = []
        self.unlinked = 0  # snapshot files that are no link (no etag recorded)
        self.unused: list[tuple[str, int]] = []
        self.bad_store_links: set[str] = set()
        self.keys: dict[str, str | None] = {}  # repo blob -> what it is (_blob_key)
        self.listing: dict[str, os.DirEntry[str]] = {}  # the current repo's blobs/

    # -- one repo

    def repo(self, folder: str, label: str, revision: str | None) -> bool:
        """Plan one repo's rows; False when ``revision`` is not in it."""
        plan, cache = self.plan, self.cache
        if not is_real_dir(cache, folder):
            plan.problem(folder, "a link to a directory, not followed")
            return revision is None
        refs = self._refs(folder)
        snapshots = f"{folder}/snapshots"
        if not is_real_dir(cache, snapshots):
            why = (
                "no snapshots/ directory"
                if lstat(cache, snapshots) is None
                else "snapshots is not a directory (or a link to one, not followed)"
            )
            plan.problem(folder, why)
            return revision is None
        revisions = []
        for entry in scan(cache, snapshots):
            if entry.name in OS_LITTER:
                continue
            if not entry.is_dir(follow_symlinks=False):
                plan.problem(f"{snapshots}/{entry.name}", "not a snapshot directory")
                continue
            revisions.append(entry.name)
        for name, commit in sorted(refs.items()):
            if commit not in revisions:
                where = f"{folder}/refs/{name}"
                plan.problem(where, f"names commit {commit}, which has no snapshot")
        selected = revisions
        if revision is not None:
            commit = revision if is_hex(revision, 40) else refs.get(revision)
            if commit not in revisions:
                return False
            selected = [commit]
        blobs_ok = is_real_dir(cache, f"{folder}/blobs")
        if not blobs_ok and lstat(cache, f"{folder}/blobs") is not None:
            plan.problem(f"{folder}/blobs", "not a directory (or a link to one, not followed)")
        # One listing of blobs/ tells which blobs are links (from the directory
        # entries' types: no lstat per blob) and which no snapshot uses.
        self.listing = {e.name: e for e in scan(cache, f"{folder}/blobs")} if blobs_ok else {}
        used: set[str] = set()
        for commit in selected:
            self._snapshot(folder, label, commit, blobs_ok, used)
        if revision is None and blobs_ok:
            self._unused_blobs(folder, label, used)
        return True

    def _refs(self, folder: str) -> dict[str, str]:
        """The repo's refs: name (``main``, ``refs/pr/1``) -> commit."""
        plan, cache = self.plan, self.cache
        refs: dict[str, str] = {}
        base = f"{folder}/refs"
        if lstat(cache, base) is None:
            return refs
        if not is_real_dir(cache, base):
            plan.problem(base, "not a directory (or a link to one, not followed)")
            return refs
        for rel, entry in walk_files(cache, base):
            if entry.name in OS_LITTER or entry.name.endswith(".tmp"):
                continue  # an interrupted atomic write of a ref
            try:
                text = read_beneath(cache, rel, _REF_LIMIT, follow=plan.follow)
            except ReadError as exc:
                plan.problem(rel, str(exc))
                continue
            commit = text.decode("ascii", "replace").strip()
            if not is_hex(commit, 40):
                plan.problem(rel, f"expected a commit hash (40 hex digits), found {commit[:60]!r}")
                continue
            refs[rel[len(base) + 1 :]] = commit
        return refs

    def _snapshot(
        self, folder: str, label: str, commit: str, blobs_ok: bool, used: set[str]
    ) -> None:
        plan, cache = self.plan, self.cache
        prefix = f"{folder}/blobs/"
        for rel, entry in walk_files(cache, f"{folder}/snapshots/{commit}"):
            labels = {"repo": label, "revision": commit}
            if entry.is_symlink():
                try:
                    target = os.readlink(entry.path)
                except OSError as exc:
                    plan.decided(rel, _native.ST_UNREADABLE, exc.errno or 0, **labels)
                    continue
                etag = link_etag(rel, prefix, target)
                if not etag or not blobs_ok:
                    # Out of the cache, or somewhere in it other than this repo's blobs/.
                    plan.decided(rel, _native.ST_OUTSIDE_ROOT, **labels)
                    continue
                used.add(etag)
                self._blob_row(rel, folder, etag, labels, unused=False)
            elif entry.is_file(follow_symlinks=False):
                # huggingface_hub's copy mode, where symlinks cannot be made: the
                # etag is not recorded anywhere, so there is nothing to check against.
                self.unlinked += 1
                plan.unchecked(rel, **labels)
            else:
                plan.decided(rel, _native.ST_NOT_REGULAR, **labels)

    def _blob_row(
        self, rel: str, folder: str, etag: str, labels: dict[str, str | None], *, unused: bool
    ) -> None:
        """The row ``rel`` (a snapshot file or an unused blob) for blob ``etag``."""
        plan = self.plan
        alg = algorithm_of(etag)
        if not alg:
            plan.unchecked(rel, **labels)
            where = f"{folder}/blobs/{etag}"
            if where not in self.bad_store_links:  # once per blob
                self.bad_store_links.add(where)
                plan.problem(where, "not a content address (expected 64 or 40 hex digits)")
            return
        digest = bytes.fromhex(etag)
        key = self._blob_key(folder, etag)
        if key is None:
            plan.decided(rel, _native.ST_OUTSIDE_ROOT, 0, alg, digest, **labels)
            return
        if unused:
            plan.unused(rel, alg, digest, (key, alg, digest), **labels)
        else:
            plan.blob(rel, alg, digest, (key, alg, digest), **labels)

    def _blob_key(self, folder: str, etag: str) -> str | None:
        """What a repo blob is, physically: itself, or the shared store entry
        its link names; None for a link to anything else (outside_root)."""
        rel = f"{folder}/blobs/{etag}"
        if rel in self.keys:
            return self.keys[rel]
        key = self.keys[rel] = self._find_key(rel, self.listing.get(etag))
        return key

    def _find_key(self, rel: str, entry: os.DirEntry[str] | None) -> str | None:
        if entry is None or not entry.is_symlink():
            return rel  # a file (or missing: the engine says so)
        try:
            target = os.readlink(entry.path)
        except OSError:
            return rel  # the engine's open tells why
        resolved = resolve_link(rel, target)
        if (
            resolved is not None
            and _is_store_entry(resolved)
            and is_real_dir(self.cache, SHARED_STORE)
            and is_real_dir(self.cache, os.path.dirname(resolved))
        ):
            self.store_users.setdefault(resolved, []).append(rel)
            return resolved
        if self.plan.follow:
            return rel  # allow_outside_root: the engine follows it, wherever it leads
        self.plan.problem(rel, f"a link to {target!r}, not into the shared blob store")
        return None

    def _unused_blobs(self, folder: str, label: str, used: set[str]) -> None:
        plan = self.plan
        for name, entry in sorted(self.listing.items()):
            rel = f"{folder}/blobs/{name}"
            labels = {"repo": label, "revision": None}
            if name in used or name in OS_LITTER:
                continue
            if name.endswith(".incomplete") or (name.startswith(".") and name.endswith(".shared")):
                # An interrupted download (or a link being made into the shared
                # store): huggingface_hub resumes or replaces it.
                self.incomplete.append((rel, _size(entry)))
                plan.unchecked(rel, **labels)
                continue
            if not algorithm_of(name):
                plan.problem(rel, "not a content address (expected 64 or 40 hex digits)")
                continue
            self.unused.append((rel, _size(entry)))
            self._blob_row(rel, folder, name, labels, unused=True)

    # -- the shared store

    def store(self) -> None:
        """The shared store: its marker, its entries no repo uses (when the
        whole cache is read), and whether each entry's .refs names its users."""
        plan, cache = self.plan, self.cache
        if lstat(cache, SHARED_STORE) is None:
            return
        if not is_real_dir(cache, SHARED_STORE):
            if self.store_users:
                plan.problem(SHARED_STORE, "not a directory (or a link to one, not followed)")
            return
        try:
            marker = read_beneath(cache, f"{SHARED_STORE}/{SHARED_MARKER}", 64)
        except ReadError:
            marker = None
        if marker != SHARED_MARKER_TEXT:
            plan.notes.append(
                f"{SHARED_STORE}/: no {SHARED_MARKER} marker of layout version 1: "
                "huggingface_hub does not use it as its shared blob store"
            )
        for entry, users in sorted(self.store_users.items()):
            self._check_refs(entry, users)
        if not self.whole:
            return
        for prefix in scan(cache, SHARED_STORE):
            if not prefix.is_dir(follow_symlinks=False) or not is_hex(prefix.name, 2):
                continue
            for entry in scan(cache, f"{SHARED_STORE}/{prefix.name}"):
                rel = f"{SHARED_STORE}/{prefix.name}/{entry.name}"
                if not _is_store_entry(rel) or rel in self.store_users:
                    continue  # .refs, .lock, temporaries; or in use
                # Named by its Xet hash, not a plain digest of its content: it
                # can be checked only against the etag of a repo blob that uses it.
                self.unused.append((rel, _size(entry)))
                if plan.want_extra:
                    plan.decided(rel, _native.ST_EXTRA, repo=None, revision=None)
                else:
                    plan.unchecked(rel, repo=None, revision=None)

    def _check_refs(self, entry: str, users: list[str]) -> None:
        """A note when an entry's .refs exists and misses a link to it:
        huggingface_hub's garbage collection trusts a .refs that exists."""
        try:
            text = read_beneath(self.cache, entry + ".refs", _REFS_LIMIT)
        except ReadError:
            return  # no .refs: huggingface_hub then never collects the entry
        listed = set(text.decode("utf-8", "surrogateescape").splitlines())
        missing = [u for u in users if u not in listed]
        if missing:
            self.plan.notes.append(
                f"{entry}.refs does not list {', '.join(missing)}, which link to it: "
                "huggingface_hub's clean-up could delete the blob while it is in use"
            )

    def notes(self) -> None:
        plan = self.plan
        if self.incomplete:
            n, size = len(self.incomplete), sum(s for _, s in self.incomplete)
            plan.notes.append(
                f"{n} interrupted download(s) ({_bytes(size)}), listed as not checked: "
                "huggingface_hub resumes or replaces them"
            )
        if self.unlinked:
            plan.notes.append(
                f"{self.unlinked} snapshot file(s) are copies, not links to a blob "
                "(huggingface_hub's mode without symlinks): no etag is recorded for them, "
                "listed as not checked"
            )
        if self.unused:
            n, size = len(self.unused), sum(s for _, s in self.unused)
            said = (
                "failures (extra=True)"
                if plan.want_extra
                else ("checked against their names where they are content addresses")
            )
            plan.notes.append(f"{n} blob(s) no snapshot uses ({_bytes(size)}): {said}")


def _size(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0


def _bytes(n: int) -> str:
    from ._words import human_bytes

    return human_bytes(n)


def plan(
    root: bytes,
    options: VerifyOptions,
    *,
    repo_id: str | None = None,
    repo_type: str | None = None,
    revision: str | None = None,
) -> BlobPlan:
    """The rows of a hub cache (FORMATS.md part L), optionally one repo's
    (``repo_id``, ``repo_type``) or one revision's (a commit or a ref name)."""
    if repo_type is not None and repo_type not in REPO_TYPES.values():
        raise ValueError(
            f"repo_type must be one of {', '.join(REPO_TYPES.values())} (or None: any), "
            f"got {repo_type!r}"
        )
    for what, value in (("repo_id", repo_id), ("revision", revision)):
        if value is not None and (not isinstance(value, str) or not value or "\0" in value):
            raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    cache, plan = BlobPlan.of(root, options, "Hugging Face cache", ("repo", "revision"))
    run = _Cache(cache, plan, whole=repo_id is None and repo_type is None and revision is None)
    repos, others = [], []
    for entry in scan(cache, ""):
        found = _repo_of(entry.name)
        if found is not None:
            repos.append((entry.name, *found))
        elif entry.name not in _CACHE_FILES and entry.name != SHARED_STORE:
            others.append(entry.name)
    if not repos:
        raise ManifestError(
            f"{cache}: no Hugging Face cache here (no models--*, datasets--*, spaces--* folder)",
            path=cache,
        )
    chosen = [
        r
        for r in repos
        if (repo_id is None or r[2] == repo_id) and (repo_type is None or r[1] == repo_type)
    ]
    if not chosen:
        shown = ", ".join(repo_label(t, i) for _, t, i in repos[:10])
        more = ", ..." if len(repos) > 10 else ""
        what = repo_id if repo_type is None else f"{repo_type} {repo_id}"
        raise ValueError(f"{what} is not in the cache {cache} (cached: {shown}{more})")
    found_revision = False
    for folder, kind, rid in chosen:
        found_revision |= run.repo(folder, repo_label(kind, rid), revision)
    if revision is not None and not found_revision:
        raise ValueError(
            f"revision {revision!r} is not cached (neither a snapshot's commit nor a ref) in "
            + ", ".join(repo_label(t, i) for _, t, i in chosen)
        )
    run.store()
    run.notes()
    if others and run.whole:
        plan.notes.append(
            f"not part of a hub cache, not checked: {', '.join(others[:5])}"
            + (", ..." if len(others) > 5 else "")
        )
    return plan
