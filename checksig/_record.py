"""Installed Python distributions: ``*.dist-info/RECORD`` (PEP 376, PEP 627,
the "Recording installed projects" specification); the "record" kind.

A RECORD is CSV, one row per installed file: ``path,hash,size``. ``path`` is
relative to the directory holding the ``.dist-info`` (site-packages), with
``/`` separators; it may leave it (``../../../bin/tool``, a script in the
prefix's ``bin``) or be absolute. ``hash`` is ``ALGO=DIGEST`` with DIGEST
in URL-safe base64 without padding, or empty (the RECORD itself, ``.pyc``
caches: listed as ``not_checked``). ``size`` is decimal or empty; checksig
reads it for well-formedness only (the digest says more).

Rules: FORMATS.md part I; tests: tests/test_ecosystems.py.
"""

from __future__ import annotations

import os
import posixpath

from . import _algorithms
from ._plan import Plan

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "NAME",
    "detect",
    "distributions",
    "package_of",
    "plan",
    "read_into",
    "site_packages",
]

#: This kind's name in _kinds.KINDS.
NAME = "record"

#: A RECORD's file name (PEP 376).
RECORD = "RECORD"

_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

#: The longest name the engine takes (keep in sync with MaxLineLen in go/manifest.go).
_MAX_NAME = 64 << 10


# --- the kind -------------------------------------------------------------------------------


def detect(path: str) -> bool:
    """Whether the manifest at path is a RECORD: named ``RECORD`` and its
    first line a CSV row of three fields (FORMATS.md I1)."""
    if os.path.basename(path) != RECORD:
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    return _row_of(first) is not None


def algorithm_from_name(path: str) -> str | None:
    """A RECORD's name implies no algorithm (each line names its own)."""
    return None


def malformed_lines(path: str) -> list[int]:
    """The lines of a RECORD that give no row (for ``checksig check --warn``)."""
    scratch = Plan(b".", title=path)
    try:
        with open(path, "rb") as f:
            read_into(scratch, f.read(), shown=path, base="")
    except OSError:
        return []
    return [line for line, _ in scratch.warnings]


def plan(root: bytes, manifest: str, options: Any) -> Plan:
    """The rows of ``verify(root, ".../x.dist-info/RECORD")``: names as the
    RECORD writes them, relative to root (FORMATS.md I4)."""
    with open(manifest, "rb") as f:
        data = f.read()
    p = Plan.of_manifest(root, manifest, options)
    only = _algorithms.code(options.algorithm, allow_none=True)
    read_into(p, data, shown=manifest, base=None, package=package_of(manifest), only=only)
    return p


# --- reading ---------------------------------------------------------------------------------


def _row_of(line: bytes) -> list[str] | None:
    """One physical line as CSV fields, or None if it is not three."""
    import csv

    try:
        rows = list(csv.reader([line.decode("utf-8", "surrogateescape")]))
    except csv.Error:
        return None
    return rows[0] if rows and len(rows[0]) == 3 else None


def _b64_digest(text: str, size: int) -> bytes | None:
    """URL-safe base64 (padding optional) of exactly size bytes, else None."""
    raw = text.rstrip("=").encode("ascii", "replace")
    if len(raw) != -(-size * 4 // 3) or len(text) - len(raw) > 2 or not _B64.issuperset(raw):
        return None
    import binascii

    try:
        digest = binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4))
    except binascii.Error:
        return None
    return digest if len(digest) == size else None


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def read_into(
    plan: Plan,
    data: bytes,
    *,
    shown: str,
    base: str | None,
    prefix: bytes | None = None,
    package: str | None = None,
    only: int = 0,
) -> None:
    """Add a RECORD's rows to plan.

    ``base`` is where the RECORD's relative names start, relative to the
    plan's root (``lib/python3.12/site-packages``): names are joined to it
    and normalised lexically, as pip does (``../../../bin/tool`` becomes
    ``bin/tool``; a name that climbs above the root keeps its ``..`` and
    the engine refuses it). ``base=None`` takes names exactly as written.
    ``prefix`` (bytes) turns absolute names under it into relative ones.
    ``only`` (an algorithm code) lists rows of other algorithms as not
    checked. Malformed lines are skipped with a warning naming ``shown``
    and the line (a ManifestError with strict).
    """
    import csv
    import io

    text = data.decode("utf-8", "surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    base_b = None if base is None else base.encode("utf-8", "surrogateescape").rstrip(b"/") + b"/"
    names: list[bytes] = []
    algs = bytearray()
    digests: list[bytes] = []
    lines: list[int] = []
    codes: dict[str, int | None] = {}  # the algorithm names met, once each
    unsupported: dict[str, int] = {}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            plan.skip(shown, reader.line_num, f"not a CSV row ({exc})")
            continue
        line = reader.line_num
        if len(fields) != 3:
            if fields and fields != [""]:
                plan.skip(shown, line, f"expected 3 fields (path,hash,size), found {len(fields)}")
            continue
        path, hashed, size = fields
        if not path:
            plan.skip(shown, line, "empty path")
            continue
        if "\0" in path:
            plan.skip(shown, line, "path contains a NUL character")
            continue
        if size and not (size.isascii() and size.isdigit()):
            plan.skip(shown, line, f"size is not a decimal number of bytes: {size[:40]!r}")
            continue
        name = path.encode("utf-8", "surrogateescape")
        if base_b is not None:
            name = _rebase(name, base_b, prefix)
        if len(name) > _MAX_NAME:
            plan.skip(shown, line, f"path of {len(name)} bytes, longer than {_MAX_NAME}")
            continue
        alg, digest = 0, b""
        if hashed:
            algo, sep, encoded = hashed.partition("=")
            if not sep or not algo:
                plan.skip(
                    shown, line, f"expected ALGORITHM=DIGEST in the hash field, found {hashed!r}"
                )
                continue
            code = codes.get(algo, -1)
            if code == -1:
                try:
                    code = codes[algo] = _algorithms.code(algo)
                except ValueError:
                    code = codes[algo] = None
            if code is None:
                unsupported[algo] = unsupported.get(algo, 0) + 1
            else:
                digest = _b64_digest(encoded, _algorithms.size(code))
                if digest is None:
                    want = -(-_algorithms.size(code) * 4 // 3)
                    plan.skip(
                        shown,
                        line,
                        f"expected a {_algorithms.name(code)} digest in URL-safe base64 without "
                        f"padding ({want} characters of A-Z a-z 0-9 - _), found {encoded[:100]!r}",
                    )
                    continue
                alg = code
                if only and alg != only:
                    alg, digest = 0, b""
        names.append(name)
        algs.append(alg)
        digests.append(digest)
        lines.append(line)
    plan.extend(names, algs, digests, lines, package=package)
    for algo, n in unsupported.items():
        plan.notes.append(
            f"{shown}: {n} entr{'y' if n == 1 else 'ies'} hashed with {algo!r}, which "
            f"checksig does not support: listed as not checked"
        )


def _rebase(name: bytes, base: bytes, prefix: bytes | None) -> bytes:
    """A RECORD name relative to the plan's root (see read_into); ``base``
    ends in ``/``."""
    if name.startswith(b"/"):
        if prefix is not None and name.startswith(prefix.rstrip(b"/") + b"/"):
            return posixpath.normpath(name[len(prefix.rstrip(b"/")) + 1 :])
        return name  # absolute outside the prefix: the engine refuses it
    if name.startswith(b".") or b"/." in name or b"//" in name or name.endswith(b"/"):
        # ``..``, ``./``, ``//``, a trailing ``/``: what normpath changes.
        return posixpath.normpath(base + name)
    return base + name


# --- finding distributions -------------------------------------------------------------------

#: Where a prefix keeps its distributions: POSIX venvs and installs, Debian's
#: dist-packages, Windows' (and a conda env's on Windows) Lib/site-packages.
_SITE_GLOBS = (
    "lib/python*/site-packages",
    "lib64/python*/site-packages",
    "lib/python*/dist-packages",
    "lib/python3/dist-packages",
    "local/lib/python*/dist-packages",
    "Lib/site-packages",
)


def site_packages(prefix: str) -> list[str]:
    """The site-packages directories of a prefix, relative to it, each once
    (``lib64`` is often a link to ``lib``), in a stable order."""
    import glob

    found: list[str] = []
    seen: set[str] = set()
    for pattern in _SITE_GLOBS:
        for path in sorted(glob.glob(os.path.join(glob.escape(prefix), pattern))):
            real = os.path.realpath(path)
            if real in seen or not os.path.isdir(path):
                continue
            seen.add(real)
            found.append(os.path.relpath(path, prefix))
    return found


def distributions(prefix: str, site: str) -> list[str]:
    """The ``*.dist-info`` directories of one site-packages (relative to the
    prefix), sorted."""
    directory = os.path.join(prefix, site)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".dist-info"))
    except OSError:
        return []
    return [posixpath.join(site, n) for n in names]


def package_of(dist_info: str) -> str:
    """``numpy 2.1.0`` for ``.../numpy-2.1.0.dist-info`` (or its RECORD)."""
    path = dist_info.rstrip("/")
    if os.path.basename(path) == RECORD:
        path = os.path.dirname(path)
    stem = os.path.basename(path)
    if stem.endswith(".dist-info"):
        stem = stem[: -len(".dist-info")]
    name, dash, version = stem.rpartition("-")
    return f"{name} {version}" if dash and name else stem
