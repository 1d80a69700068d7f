"""BagIt bags (RFC 8493): what ``verify_bag`` reads and decides.

A bag is a directory: ``bagit.txt`` (version and tag-file encoding),
``data/`` (the payload), one ``manifest-ALG.txt`` per algorithm (``DIGEST
FILEPATH`` lines naming every payload file), optionally
``tagmanifest-ALG.txt`` (digests of the tag files), ``bag-info.txt`` (with
``Payload-Oxum: BYTES.FILES``) and ``fetch.txt`` (files to download).

This module reads all of it into a :class:`~checksig._plan.Plan`: one row
per manifest line (payload and tag manifests, every algorithm), so every
failure is a row of the one Report; what is wrong with the bag as a whole
(a bad ``bagit.txt``, an unsafe path, a Payload-Oxum that does not add up,
no data directory) is a *problem* on the report. The engine also lists the
files under ``data/`` that no manifest names (status ``extra``).

The reference is bagit-python (PyPI ``bagit``): the verdict agrees with
its ``Bag(path).is_valid()`` on its own test suite's bags and on every
broken bag of tests/test_bagit.py; where RFC 8493 and bagit-python differ,
FORMATS.md part K says which rule is followed and why.
"""

from __future__ import annotations

import os
import posixpath

from . import _algorithms, _native
from ._plan import Plan, select_rows

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["NAME", "plan"]

NAME = "bagit"

#: Algorithms a manifest may be named for: hashlib's guaranteed names, which
#: bagit-python reads (manifest-sha3_256.txt, ...). Those checksig cannot
#: compute (shake_128, shake_256) are listed as not checked (FORMATS.md K3).
MANIFEST_ALGORITHMS = (
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "blake2b",
    "blake2s",
    "shake_128",
    "shake_256",
)

#: The files of a bag's own structure, never "extra" (FORMATS.md K8).
_STRUCTURE = ("bagit.txt", "bag-info.txt", "package-info.txt", "fetch.txt")

_HEX = frozenset("0123456789abcdefABCDEF")


def plan(root: bytes, options: Any, *, fast: bool) -> Plan:
    """Read the bag at root into a Plan (FORMATS.md K1-K10)."""
    bag = os.fsdecode(root)
    p = Plan(root, title=f"bag {bag}", strict=options.strict)
    only = _algorithms.code(options.algorithm, allow_none=True)
    Bag(p, bag, fast=fast, only=only, keep_extra=bool(options.extra)).read()
    return p


class Bag:
    """One bag being read into a plan."""

    def __init__(self, plan: Plan, path: str, *, fast: bool, only: int, keep_extra: bool) -> None:
        self.plan = plan
        self.path = path
        self.fast = fast
        self.only = only
        self.keep_extra = keep_extra
        self.version = (1, 0)
        self.encoding = "utf-8"
        self.info: dict[str, list[str]] = {}
        self.payload: dict[str, set[bytes]] = {}  # manifest -> its payload names
        self.listed: dict[bytes, dict[str, str]] = {}  # name -> {alg: hex} (bagit-python's entries)

    def problem(self, message: str) -> None:
        self.plan.problems.append(message)

    def note(self, message: str) -> None:
        self.plan.notes.append(message)

    # -- the whole bag

    def read(self) -> None:
        try:
            top = os.listdir(self.path)
        except OSError as exc:  # FileNotFoundError, NotADirectoryError, ...
            raise type(exc)(exc.errno, exc.strerror, self.path) from None
        self._bagit_txt("bagit.txt" in top)
        self._bag_info()
        manifests = [f"manifest-{a}.txt" for a in MANIFEST_ALGORITHMS if f"manifest-{a}.txt" in top]
        tags = [
            f"tagmanifest-{a}.txt" for a in MANIFEST_ALGORITHMS if f"tagmanifest-{a}.txt" in top
        ]
        if not os.path.isdir(os.path.join(self.path, "data")):
            self.problem("the payload directory data/ does not exist")
        if not manifests:
            self.problem("no payload manifest (manifest-ALGORITHM.txt)")
        if self.version < (0, 97):
            tags = []  # tag manifests are checked from BagIt 0.97 on, as bagit-python does
        if self.only:
            wanted = _algorithms.name(self.only)
            if manifests and f"manifest-{wanted}.txt" not in manifests:
                raise ValueError(
                    f"{self.path}: the bag has no manifest-{wanted}.txt "
                    f"(its payload manifests: {', '.join(manifests)})"
                )
            manifests = [m for m in manifests if m == f"manifest-{wanted}.txt"]
            tags = [m for m in tags if m == f"tagmanifest-{wanted}.txt"]
        if self.fast:
            self._fast(manifests)
            self._fetch(top)
            if self.keep_extra:  # the tag directories' unlisted files (data/'s: the Oxum)
                self.plan.extra = True
                self.plan.finishers.append(self._finish)
            return
        for name in manifests + tags:
            self._manifest(name, tag=name.startswith("tag"))
        if manifests and not any(_supported(m) for m in manifests):
            self.problem("no payload manifest of an algorithm checksig can compute")
        self._differing_manifests()
        self._fetch(top)
        self._normalisation()
        self.plan.extra = True
        self.plan.finishers.append(self._finish)

    # -- bagit.txt and bag-info.txt (K1, K2)

    def _bagit_txt(self, present: bool) -> None:
        path = os.path.join(self.path, "bagit.txt")
        if not present or not os.path.isfile(path):
            self.problem("bagit.txt does not exist")
            return
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"\xef\xbb\xbf"):
            self.problem("bagit.txt must not start with a byte-order mark")
            data = data[3:]
        tags = self._tags("bagit.txt", data.decode("utf-8", "replace"))
        if tags is None:
            return
        missing = [t for t in ("BagIt-Version", "Tag-File-Character-Encoding") if t not in tags]
        if missing:
            self.problem(f"bagit.txt lacks the required tag(s) {', '.join(missing)}")
            return
        version = tags["BagIt-Version"][0]
        major, dot, minor = version.partition(".")
        if not (dot and major.isdigit() and minor.isdigit()):
            self.problem(f"bagit.txt: BagIt-Version must be MAJOR.MINOR, not {version!r}")
            return
        self.version = (int(major), int(minor))
        if not (0, 93) <= self.version < (2, 0):
            self.problem(f"bagit.txt: unsupported BagIt-Version {version}")
        encoding = tags["Tag-File-Character-Encoding"][0]
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            self.problem(f"bagit.txt: unknown Tag-File-Character-Encoding {encoding!r}")
            return
        self.encoding = encoding

    def _tags(self, name: str, text: str) -> dict[str, list[str]] | None:
        """A tag file's ``Label: value`` lines (values folded over indented
        lines), or None with a problem for a line that is none (K2)."""
        tags: dict[str, list[str]] = {}
        label = value = None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if line[0].isspace() and label is not None:
                value += line
                continue
            if label is not None:
                tags.setdefault(label, []).append(value.strip())
            if ":" not in line:
                self.problem(f"{name}:{number}: expected 'Label: value', found {line.strip()!r}")
                return None
            label, value = line.split(":", 1)
            label = label.strip()
        if label is not None:
            tags.setdefault(label, []).append(value.strip())
        return tags

    def _bag_info(self) -> None:
        name = "package-info.txt" if (0, 93) <= self.version <= (0, 95) else "bag-info.txt"
        path = os.path.join(self.path, name)
        if not os.path.isfile(path):
            return
        with open(path, "rb") as f:
            data = f.read()
        tags = self._tags(name, self._decode(name, data))
        if tags is not None:
            self.info = tags

    def _decode(self, name: str, data: bytes) -> str:
        """A tag file's text in the bag's encoding (a UTF-8 byte-order mark
        skipped with a note, as bagit-python does)."""
        if self.encoding.lower().replace("_", "-") in ("utf-8", "utf8") and data.startswith(
            b"\xef\xbb\xbf"
        ):
            self.note(f"{name} starts with a byte-order mark, which RFC 8493 does not allow")
            data = data[3:]
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            self.problem(f"{name}: not {self.encoding} text ({exc.reason} at byte {exc.start})")
            return data.decode(self.encoding, "surrogateescape")

    # -- manifests (K3-K6)

    def _manifest(self, name: str, *, tag: bool) -> None:
        algo = name[len("tagmanifest-" if tag else "manifest-") : -len(".txt")]
        try:
            alg = _algorithms.code(algo)
        except ValueError:
            alg = 0
            self.note(
                f"{name}: checksig cannot compute {algo} digests: its entries are not checked"
            )
        with open(os.path.join(self.path, name), "rb") as f:
            text = self._decode(name, f.read())
        size = _algorithms.size(alg)
        seen: dict[bytes, str] = {}
        names = self.payload.setdefault(name, set()) if not tag else None
        for number, line in enumerate(text.split("\n"), 1):
            line = line.rstrip("\r").lstrip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 1)
            if len(fields) != 2:
                self.plan.skip(name, number, "expected 'DIGEST FILEPATH'")
                continue
            digest, filepath = fields[0], self._unescape(fields[1].lstrip("*"))
            raw = os.fsencode(posixpath.normpath(filepath))
            if self._unsafe(raw):
                self.problem(
                    f"{name}:{number}: path {filepath!r} is unsafe (leads outside the bag)"
                )
            previous = seen.get(raw)
            if previous is not None:
                said = f"{name} lists {filepath!r} more than once"
                if previous.lower() != digest.lower():
                    self.problem(said + " with different digests")
                elif self.version >= (1, 0):
                    self.problem(said)
                else:
                    self.note(said)
            seen[raw] = digest
            self.listed.setdefault(raw, {})[algo] = digest.lower()
            if names is not None:
                names.add(raw)
            if alg and (len(digest) != 2 * size or not _HEX.issuperset(digest)):
                # bagit-python compares the text: such a digest never matches.
                self.problem(
                    f"{name}:{number}: expected a {algo} digest of {2 * size} hex digits, "
                    f"found {digest[:140]!r}"
                )
                self.plan.skip(name, number, f"expected {2 * size} hex digits")
                continue
            if not raw or b"\0" in raw or len(raw) > 64 << 10:
                self.plan.skip(name, number, "not a usable file path")
                continue
            self.plan.add(raw, alg, bytes.fromhex(digest) if alg else b"", number)

    def _unescape(self, filepath: str) -> str:
        """RFC 8493's percent-encoding of a path: %0A, %0D (and from BagIt 1.0
        on %25) decoded, any case (K4)."""
        if "%" not in filepath:
            return filepath
        codes = {"%0a": "\n", "%0d": "\r"}
        if self.version >= (1, 0):
            codes["%25"] = "%"
        out, i = [], 0
        while i < len(filepath):
            chunk = filepath[i : i + 3]
            if chunk.lower() in codes:
                out.append(codes[chunk.lower()])
                i += 3
            else:
                out.append(filepath[i])
                i += 1
        return "".join(out)

    def _unsafe(self, raw: bytes) -> bool:
        """bagit-python's test for a path that leads outside the bag:
        absolute, ``~``, ``..`` above the bag, or through a symlink out."""
        if raw.startswith(b"/") or raw.startswith(b"~"):
            return True
        root = os.path.realpath(os.fsencode(self.path))
        real = os.path.realpath(os.path.join(root, raw))
        return os.path.commonpath([root, real]) != root

    def _differing_manifests(self) -> None:
        sets = list(self.payload.items())
        for name, names in sets[1:]:
            first, first_names = sets[0]
            if names != first_names:
                self.note(
                    f"{name} and {first} do not list the same payload files, as RFC 8493 "
                    "requires (each file is checked by every manifest that lists it)"
                )

    # -- fetch.txt (K7)

    def _fetch(self, top: list[str]) -> None:
        if "fetch.txt" not in top:
            return
        with open(os.path.join(self.path, "fetch.txt"), "rb") as f:
            text = self._decode("fetch.txt", f.read())
        from urllib.parse import urlparse

        absent = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            fields = line.strip().split(None, 2)
            if len(fields) != 3:
                self.problem(f"fetch.txt:{number}: expected 'URL LENGTH FILEPATH'")
                continue
            url, length, filepath = fields
            raw = os.fsencode(posixpath.normpath(self._unescape(filepath)))
            if self._unsafe(raw):
                self.problem(f"fetch.txt:{number}: path {filepath!r} is unsafe")
                continue
            parsed = urlparse(url)
            if not (parsed.scheme and parsed.netloc) and parsed.scheme != "file":
                self.problem(f"fetch.txt:{number}: malformed URL {url!r}")
                continue
            if not (length == "-" or length.isdigit()):
                self.note(f"fetch.txt:{number}: length {length!r} is neither a number nor '-'")
            if not os.path.lexists(os.path.join(self.path, os.fsdecode(raw))):
                absent.append(filepath)
        if absent:
            shown = ", ".join(absent[:3]) + (", ..." if len(absent) > 3 else "")
            self.note(
                f"fetch.txt lists {len(absent)} file(s) not fetched yet ({shown}); "
                "checksig never downloads"
            )

    # -- Unicode normalisation (K6)

    def _normalisation(self) -> None:
        """Manifest names that differ from the payload's only in Unicode
        normalisation (a bag moved through macOS) name the file on disk, as
        bagit-python finds them. Only bags with non-ASCII names pay the walk."""
        names = self.plan.names
        if all(n.isascii() for n in names):
            return
        import unicodedata

        on_disk: dict[str, bytes] = {}
        for dirpath, _dirs, files in os.walk(os.path.join(os.fsencode(self.path), b"data")):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), os.fsencode(self.path))
                on_disk[unicodedata.normalize("NFC", os.fsdecode(rel))] = rel
        renamed = 0
        for i, name in enumerate(names):
            if name.isascii() or os.path.lexists(os.path.join(self.plan.root, name)):
                continue
            found = on_disk.get(unicodedata.normalize("NFC", os.fsdecode(name)))
            if found is not None:
                names[i] = found
                renamed += 1
        if renamed:
            self.note(
                f"{renamed} manifest name(s) differ from the file's name only in Unicode "
                "normalisation: the file on disk is checked and shown"
            )

    # -- Payload-Oxum (K9) and the payload's extra files (K8)

    def _oxum(self) -> tuple[int, int] | None:
        values = self.info.get("Payload-Oxum")
        if not values:
            return None
        if len(values) > 1:
            self.note("bag-info.txt has more than one Payload-Oxum: the first is checked")
        octets, dot, files = values[0].partition(".")
        if not (dot and octets.isdigit() and files.isdigit()):
            self.problem(f"bag-info.txt: malformed Payload-Oxum {values[0]!r}")
            return None
        return int(octets), int(files)

    def _oxum_problem(self, want: tuple[int, int], found: tuple[int, int]) -> None:
        if want != found:
            self.problem(
                f"Payload-Oxum {want[0]}.{want[1]} does not match the payload: "
                f"expected {want[1]} files and {want[0]} bytes, found {found[1]} files "
                f"and {found[0]} bytes"
            )

    def _fast(self, manifests: list[str]) -> None:
        """fast=True: the Payload-Oxum alone, as bagit-python's fast validation:
        a walk of data/ (file count and sizes); manifests are read for their
        rows, which are not checked."""
        want = self._oxum()
        if "Payload-Oxum" not in self.info:
            self.problem("fast validation needs a Payload-Oxum in bag-info.txt")
        for name in manifests:
            before = len(self.plan)
            self._manifest(name, tag=False)
            for i in range(before, len(self.plan)):  # listed, not checked
                self.plan.algorithms[i] = 0
                self.plan.digests[i] = b""
        if want is None:
            return
        octets = files = 0
        for dirpath, _dirs, names in os.walk(os.path.join(self.path, "data")):
            for f in names:
                try:
                    octets += os.stat(os.path.join(dirpath, f)).st_size
                except OSError:
                    continue
                files += 1
        self._oxum_problem(want, (octets, files))

    def _finish(self, columns: Any, plan: Plan) -> Any:
        """Keep the extra files under data/ (all but the bag's own files with
        extra=True) and check the Payload-Oxum against what the engine found;
        with fast=True (the Oxum checked already), only the extra=True ones."""
        n_listed = len(plan)
        rows = columns.rows if isinstance(columns, _native.Buffers) else len(columns["status"])
        status = columns["status"]
        sizes = columns["size"]
        offsets = columns["path_offsets"]
        paths = columns["paths"]

        def name(i: int) -> bytes:
            return bytes(paths[offsets[i] : offsets[i + 1]])

        keep = list(range(n_listed))
        found: dict[bytes, int] = {}
        for i in range(n_listed):
            raw = plan.names[i]
            if raw.startswith(b"data/") and status[i] in _PRESENT:
                found[raw] = sizes[i]
        for i in range(n_listed, rows):
            raw = name(i)
            if raw.startswith(b"data/"):
                if not self.fast:  # fast: the Payload-Oxum alone judged data/
                    keep.append(i)
                    found[raw] = sizes[i]
            elif self.keep_extra and not _is_structure(raw):
                keep.append(i)
        want = None if self.fast else self._oxum()
        if want is not None and status.tobytes().count(_native.ST_PENDING) == 0:
            self._oxum_problem(want, (sum(found.values()), len(found)))
        if len(keep) == rows:
            return columns
        return select_rows(columns, keep)


#: Statuses of a listed row whose file is on disk (its size known).
_PRESENT = frozenset({_native.ST_OK, _native.ST_MISMATCH, _native.ST_CHANGED})


def _supported(manifest: str) -> bool:
    algo = manifest[len("manifest-") : -len(".txt")]
    return algo in _algorithms.SPELLINGS


def _is_structure(raw: bytes) -> bool:
    if b"/" in raw:
        return False
    name = raw.decode("utf-8", "replace")
    return name in _STRUCTURE or (
        name.endswith(".txt") and (name.startswith("manifest-") or name.startswith("tagmanifest-"))
    )
