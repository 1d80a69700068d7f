"""What the stores named by digest share (issue 23): the Hugging Face hub
cache (``_hfcache``), a ``hf download --local-dir`` folder (``_hflocal``),
Ollama's models (``_ollama``) and OCI image layouts (``_oci``).

A store's files are named by the digest of their content, so the names are
the manifest. A kind module walks its store and makes a :class:`BlobPlan`:
rows named as users know them (a snapshot path, a model's layer), each with
the digest its blob's name promises. Rows that reach the same blob share one
hash: the first is given to the engine, the others are listed without a
digest (``not_checked``, never opened) and take its result when the job is
done (:meth:`BlobPlan.blob`). Rows whose status is decided here, without
reading a byte (a link that leads out, an unused blob with ``extra=True``),
are listed the same way and get their status then (:meth:`BlobPlan.decided`).

Confinement. The engine reads blobs under the store's root with the same
confinement as any manifest's names (openat2 RESOLVE_BENEATH, os.Root). What
is read here, in Python, is small metadata (refs, manifests, index.json,
``.metadata`` files): :func:`read_beneath` opens each component below the
root with ``O_NOFOLLOW``, so no symlink is followed at all, and reads only
regular files, at most a given number of bytes. Links the layouts use
(snapshot -> blob, blob -> shared store, Ollama's manifests-v2) are judged by
:func:`resolve_link` on their text alone (``readlink``, never a read through
them); directories are walked with ``lstat`` and never through a link
(:func:`scan`).
"""

from __future__ import annotations

import errno
import os
import stat

from . import _algorithms, _native
from ._errors import ManifestError
from ._lazy import np
from ._plan import Plan

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections.abc import Hashable
    from typing import Any

    from ._options import VerifyOptions

__all__ = [
    "BlobPlan",
    "is_hex",
    "read_beneath",
    "resolve_link",
    "scan",
]

_HEX = frozenset("0123456789abcdef")
_HEX_ANY_CASE = frozenset("0123456789abcdefABCDEF")

#: Files operating systems drop into directories; never part of a layout.
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def is_hex(text: str, length: int, *, lower: bool = True) -> bool:
    """Whether text is exactly ``length`` hex digits (lower case only, unless not ``lower``)."""
    digits = _HEX if lower else _HEX_ANY_CASE
    return len(text) == length and digits.issuperset(text)


def resolve_link(link: str, target: str) -> str | None:
    """The path, relative to the root, that a symlink at ``link`` (relative to
    the root) names by its text ``target``; None if the target is absolute or
    its ``..`` components climb above the root.

    Lexical: right when every directory on the way is a real directory, which
    the walks here make sure of (they never descend through a link, and the
    kind modules check the directories a link names with ``lstat``). The
    engine, which later opens the path, confines it again.
    """
    if not target or target.startswith("/"):
        return None
    parts = link.split("/")[:-1]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def lstat(root: str, rel: str) -> os.stat_result | None:
    """``os.lstat`` of root/rel, or None when it does not exist (or cannot be seen)."""
    try:
        return os.lstat(os.path.join(root, rel))
    except OSError:
        return None


def is_real_dir(root: str, rel: str) -> bool:
    """Whether root/rel is a directory and not a link to one."""
    st = lstat(root, rel)
    return st is not None and stat.S_ISDIR(st.st_mode)


def scan(root: str, rel: str) -> list[os.DirEntry[str]]:
    """The entries of the real directory root/rel, sorted by name ([] when it
    cannot be listed). Callers look at each with ``follow_symlinks=False``."""
    try:
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def walk_files(root: str, rel: str) -> list[tuple[str, os.DirEntry[str]]]:
    """Every entry under the real directory root/rel that is not a directory
    (files, links, FIFOs, ...), as (path relative to root, entry), in the
    order of their paths' components; directories are entered only when they
    are real directories, never through a link."""
    out: list[tuple[str, os.DirEntry[str]]] = []
    # Depth first, each directory's entries in name order: the output is sorted
    # without sorting it (a stack of iterators over sorted listings).
    stack = [(rel, iter(scan(root, rel)))]
    while stack:
        here, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        path = f"{here}/{entry.name}" if here else entry.name
        if entry.is_dir(follow_symlinks=False):
            stack.append((path, iter(scan(root, path))))
        else:
            out.append((path, entry))
    return out


class ReadError(Exception):
    """Why :func:`read_beneath` read nothing: a message naming what was found."""


def read_beneath(root: str, rel: str, limit: int, *, follow: bool = False) -> bytes:
    """The bytes of the regular file root/rel, read without following any
    symlink below root (each component opened with ``O_NOFOLLOW``, the file
    non-blocking and checked with ``fstat``), at most ``limit`` bytes.

    ``follow`` (allow_outside_root): open the path as given instead.
    Raises :class:`ReadError` saying what is wrong (missing, a link, not a
    regular file, too big, unreadable).
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    directory = getattr(os, "O_DIRECTORY", 0)
    # As the engine opens files: never blocking (a FIFO), never a controlling terminal.
    leaf = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = -1
    try:
        if follow:
            if not stat.S_ISREG(os.stat(os.path.join(root, rel)).st_mode):
                raise ReadError("not a regular file")
            fd = os.open(os.path.join(root, rel), flags | leaf)
        else:
            fd = os.open(root, flags | directory)
            parts = rel.split("/")
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                if part in ("", ".", ".."):
                    raise ReadError("not a plain relative path")
                if last:
                    # Not even opened unless it is a regular file (a device's
                    # open can act); fstat below catches a swap in between.
                    st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        raise ReadError("a symbolic link (not followed)")
                    if not stat.S_ISREG(st.st_mode):
                        raise ReadError("not a regular file")
                try:
                    nfd = os.open(part, flags | nofollow | (leaf if last else directory), dir_fd=fd)
                finally:
                    os.close(fd)
                    fd = -1
                fd = nfd
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError("not a regular file")
        if st.st_size > limit:
            raise ReadError(f"larger than {limit:,} bytes")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise ReadError(f"larger than {limit:,} bytes")
        return data
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise ReadError("no such file") from None
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise ReadError("a symbolic link (not followed)") from None
        if exc.errno == errno.ENOTDIR:
            raise ReadError("a directory on its way is a link or a file (not followed)") from None
        raise ReadError(exc.strerror or str(exc)) from None
    finally:
        if fd >= 0:
            os.close(fd)


class BlobPlan(Plan):
    """A Plan whose rows may share a blob, or have a status decided before
    the run (see the module's docstring).

    Attributes, beside Plan's:
        only: the algorithm code ``algorithm=`` asked for (0: any); rows of
            other algorithms are listed as not_checked.
        want_extra: the user's ``extra=``: unused blobs are failures (status
            "extra") instead of being hashed. (Plan's own ``extra`` asks the
            engine to walk the root for unlisted files: only the local dir
            form wants that.)
        follow: the user's ``allow_outside_root``.
    """

    def __init__(
        self,
        root: bytes,
        *,
        title: str,
        labels: tuple[str, ...],
        strict: bool,
        only: int,
        extra: bool,
        follow: bool,
    ) -> None:
        super().__init__(root, title=title, labels=labels, strict=strict)
        self.only = only
        self.want_extra = extra
        self.follow = follow
        self._first: dict[Hashable, int] = {}
        self._copies: list[tuple[int, int]] = []  # (row, the row hashed for it)
        # (row, status, errno, algorithm, expected digest)
        self._decided: list[tuple[int, int, int, int, bytes]] = []
        self._sizes: list[tuple[int, int, str]] = []  # row, size its descriptor says, where
        self.finishers.append(_settle)

    @classmethod
    def of(
        cls, root: bytes, options: VerifyOptions, what: str, labels: tuple[str, ...]
    ) -> tuple[str, BlobPlan]:
        """A store's directory (absolute) and an empty plan for it, titled
        ``what`` and the directory, with the user's options. Raises the
        OSError that says why when root is no directory."""
        path = os.path.abspath(os.fsdecode(root))
        if not os.path.isdir(path):
            os.listdir(path)  # FileNotFoundError, NotADirectoryError, ...
        plan = cls(
            os.fsencode(path),
            title=f"{what} {path}",
            labels=labels,
            strict=options.strict,
            only=_algorithms.code(options.algorithm, allow_none=True),
            extra=options.extra,
            follow=options.allow_outside_root,
        )
        return path, plan

    def problem(self, where: str, message: str) -> None:
        """A fault of the store itself (it makes the report fail); with
        strict, a ManifestError naming it."""
        if self.strict:
            raise ManifestError(f"{where}: {message}", path=where)
        self.problems.append(f"{where}: {message}")

    def blob(self, name: str, alg: int, digest: bytes, key: Hashable, **labels: Any) -> int:
        """A row expecting ``digest``; rows of the same ``key`` (the same blob,
        the same expected digest) are hashed once."""
        if self.only and alg != self.only:
            return self.add(os.fsencode(name), 0, b"", **labels)
        first = self._first.get(key)
        if first is not None:
            row = self.add(os.fsencode(name), 0, b"", **labels)
            self._copies.append((row, first))
            return row
        row = self.add(os.fsencode(name), alg, digest, **labels)
        self._first[key] = row
        return row

    def decided(
        self, name: str, status: int, err: int = 0, alg: int = 0, digest: bytes = b"", **labels: Any
    ) -> int:
        """A row whose status is known without reading it (never opened)."""
        row = self.add(os.fsencode(name), 0, b"", **labels)
        self._decided.append((row, status, err, alg, digest))
        return row

    def unchecked(self, name: str, **labels: Any) -> int:
        """A row listed and never opened: status not_checked."""
        return self.add(os.fsencode(name), 0, b"", **labels)

    def unused(self, name: str, alg: int, digest: bytes, key: Hashable, **labels: Any) -> int:
        """A blob nothing uses: hashed against its name, or with ``extra=True``
        a failure (status "extra"), as verify's files the manifest omits."""
        if self.want_extra:
            return self.decided(name, _native.ST_EXTRA, **labels)
        return self.blob(name, alg, digest, key, **labels)

    def expect_size(self, row: int, size: int, where: str) -> None:
        """The size a descriptor gives the blob of ``row``: a problem when the
        blob matches its digest but not this size (the descriptor is wrong)."""
        self._sizes.append((row, size, where))


def _settle(columns: Any, plan: Plan) -> Any:
    """The finisher of a BlobPlan: copy each shared blob's result to the
    rows that share it, set the decided statuses, compare sizes."""
    assert isinstance(plan, BlobPlan)
    arrays = columns.arrays() if isinstance(columns, _native.Buffers) else dict(columns)
    status = arrays["status"]
    if plan._copies:
        rows, firsts = (np.array(v, dtype=np.int64) for v in zip(*plan._copies))
        for name in ("status", "algorithm", "errnum", "size", "expected", "actual"):
            arrays[name][rows] = arrays[name][firsts]
    width = arrays["expected"].shape[1]
    for row, code, err, alg, digest in plan._decided:
        if status[row] != _native.ST_NOT_CHECKED:
            continue  # a cancelled job's pending rows stay pending
        status[row] = code
        arrays["errnum"][row] = err
        if alg and len(digest) <= width:
            arrays["algorithm"][row] = alg
            arrays["expected"][row, : len(digest)] = np.frombuffer(digest, dtype=np.uint8)
    sizes = arrays["size"]
    for row, want, where in plan._sizes:
        if status[row] == _native.ST_OK and int(sizes[row]) != want:
            plan.problems.append(
                f"{where}: the descriptor says {want:,} bytes, the blob has {int(sizes[row]):,} "
                "(its content matches its digest)"
            )
    return arrays
