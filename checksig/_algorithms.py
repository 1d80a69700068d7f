"""The algorithms checksig knows: the one table, derived from the engine's.

``_native.ALGORITHMS`` and ``_native.DIGEST_SIZES`` mirror checksig.h (the
engine's CHECKSIG_ALG_* numbers); everything else that names an algorithm
(the API's ``algorithm=``, the command line's ``-a``, the report's and
JSON's ``algorithm``, the tags ``make --tag`` writes, the words of
``--warn`` lines) takes it from here.

Names: every algorithm has one, hashlib's where hashlib has the algorithm
(``sha3_256``, ``blake2b``, ``blake2s``), else ``blake2b-N`` (BLAKE2b with an
N-bit digest, N = 8, 16, ..., 512; ``blake2b`` is blake2b-512), ``blake3``
and ``git-sha1``. Spellings: a name is accepted in any case, with ``-`` or
``_`` between its parts, and as GNU's tag words (``SHA3-256``,
``BLAKE2b-256``, ``SHA2-256``): :data:`SPELLINGS`, the engine's
ParseAlgorithm (go/algorithm.go) in Python. Families: ``sha2`` and ``sha3``
name a family whose member each digest's length picks, as GNU's
``cksum -a sha3 -c`` reads; only verifying takes them (:func:`requested`).

A new algorithm is a line in checksig.h and in ``_native`` (the header test
checks the two agree), its tag in :data:`TAGS`; a new spelling of one is an
entry in ``_EXTRA_SPELLINGS``.
"""

from __future__ import annotations

from . import _native, _words

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = [
    "ALGORITHMS",
    "FAMILIES",
    "NAMES",
    "SIZES",
    "SPELLINGS",
    "TAGS",
    "Inference",
    "by_hex_length",
    "code",
    "fitting",
    "name",
    "requested",
    "same_size",
    "size",
    "tag",
    "warn_word",
]

#: Every algorithm's engine code, in the engine's order (1-13, then BLAKE2b's 64 lengths).
_CODES = tuple(i for i in range(1, _native.ALG_COUNT) if _native.DIGEST_SIZES[i])

#: Every algorithm by name, in the engine's order: md5 ... git-sha1, then
#: blake2b-8, blake2b-16, ..., blake2b-504 and blake2b (512).
NAMES: tuple[str, ...] = tuple(_native.ALGORITHMS[i] for i in _CODES)

#: The algorithms one name each, as a person lists them (BLAKE2b once, as
#: ``blake2b``; its other lengths are ``blake2b-N``, in :data:`NAMES`):
#: ``checksig.ALGORITHMS``.
ALGORITHMS: tuple[str, ...] = (
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
    "blake3",
    "git-sha1",
)

#: Digest size in bytes, by name.
SIZES: dict[str, int] = {_native.ALGORITHMS[i]: _native.DIGEST_SIZES[i] for i in _CODES}


def _tag_of(alg: str) -> str:
    if alg.startswith("sha3_"):
        return "SHA3-" + alg[5:]  # cksum -a sha3 -l N
    if alg.startswith("blake2b"):
        return "BLAKE2b" + alg[7:]  # b2sum --tag: BLAKE2b, BLAKE2b-N
    if alg == "blake2s":
        return "BLAKE2s"  # no GNU tool has BLAKE2s: after b2sum's BLAKE2b (FORMATS.md A6)
    if alg == "git-sha1":
        return ""  # no tool writes git blob ids in tag lines (D1)
    return alg.upper()  # MD5, SHA256 (the *sum tools), BLAKE3 (b3sum --tag)


#: The word of BSD tag lines (``SHA3-256 (name) = HEX``) by name, as GNU's
#: tools and b3sum write it ("" for git-sha1: it has no tag form). Mirrors
#: the engine's Algorithm.Tag.
TAGS: dict[str, str] = {alg: _tag_of(alg) for alg in NAMES}

#: Spellings beyond the names and the tags (go/algorithm.go's algorithmKeys).
_EXTRA_SPELLINGS = {
    "sha2-224": _native.ALG_SHA224,
    "sha2-256": _native.ALG_SHA256,
    "sha2-384": _native.ALG_SHA384,
    "sha2-512": _native.ALG_SHA512,
    "blake2s-256": _native.ALG_BLAKE2S,
    "blake2b-512": _native.ALG_BLAKE2B,
}


def _spellings() -> dict[str, int]:
    keys = dict(_EXTRA_SPELLINGS)
    for i in _CODES:
        alg = _native.ALGORITHMS[i]
        keys[alg.replace("_", "-")] = i
        if TAGS[alg]:
            keys[TAGS[alg].lower()] = i
    # The engine reads '_' as '-'; each key here in both forms, so that a
    # lower-cased spelling is looked up as it is (manifest-sha3_256.txt's word).
    return {**keys, **{k.replace("-", "_"): i for k, i in keys.items()}}


#: Every accepted spelling, lower-cased, to the engine's code: the names
#: (``sha3_256``, ``blake2b-256``, ``git-sha1``), with ``-`` or ``_`` between
#: the parts (``sha3-256``, ``git_sha1``), GNU's tag words (``sha3-256``,
#: ``blake2b``, ``sha2-256``) and ``blake2s-256``, ``blake2b-512``.
SPELLINGS: dict[str, int] = _spellings()

#: The families ``algorithm=`` (verifying only) and ``checksig check -a`` take
#: by name: each line's digest length picks the member, as GNU's
#: ``cksum -a sha2|sha3 -c`` reads (CHECKSIG_FAMILY_*). (``blake2b`` is an
#: algorithm that already reads every BLAKE2b length, as ``b2sum -c`` does.)
FAMILIES: dict[str, int] = {"sha2": _native.FAMILY_SHA2, "sha3": _native.FAMILY_SHA3}

_FAMILY_MEMBERS = {
    _native.FAMILY_SHA2: ("sha224", "sha256", "sha384", "sha512"),
    _native.FAMILY_SHA3: ("sha3_224", "sha3_256", "sha3_384", "sha3_512"),
}

#: The algorithms a digest's length alone selects (FORMATS.md B2.3): GNU's
#: *sum tools, one per length.
LENGTH_DEFAULTS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

_BY_HEX_LENGTH = {2 * SIZES[alg]: _native.ALGORITHMS.index(alg) for alg in LENGTH_DEFAULTS}


def _unknown(spelling: object) -> ValueError:
    if isinstance(spelling, str) and spelling.lower() in FAMILIES:
        members = _FAMILY_MEMBERS[FAMILIES[spelling.lower()]]
        return ValueError(
            f"{spelling!r} names a family of algorithms ({', '.join(members)}), not one: "
            f"name one of them (only verifying takes a family: each line's length picks "
            f"the member)"
        )
    return ValueError(
        f"unknown algorithm {spelling!r}: supported are {', '.join(ALGORITHMS)}, and "
        f"blake2b-N for N = 8, 16, ..., 512 (names in any case, GNU's spellings too: "
        f"SHA3-256, BLAKE2b-256)"
    )


def code(spelling: object, *, allow_none: bool = False) -> int:
    """The engine's code for an algorithm's name (any accepted spelling).

    ``None`` is ``_native.ALG_NONE`` (infer it) when allow_none. Raises
    ValueError for anything else, naming what is supported (and, for
    ``sha2``/``sha3``, that they name a family).
    """
    if spelling is None and allow_none:
        return _native.ALG_NONE
    if isinstance(spelling, str):
        found = SPELLINGS.get(spelling.lower())
        if found is not None:
            return found
    raise _unknown(spelling)


def requested(spelling: object) -> tuple[int, int]:
    """(algorithm code, family code) of a verify request's ``algorithm=``: an
    algorithm (any spelling), a family (``sha2``, ``sha3``, any case), or
    None (infer it). ValueError as :func:`code`."""
    if isinstance(spelling, str) and spelling.lower() in FAMILIES:
        return _native.ALG_NONE, FAMILIES[spelling.lower()]
    return code(spelling, allow_none=True), _native.FAMILY_NONE


def name(alg: int) -> str:
    """The name of an engine code ("" for none, ``unknown(N)`` if unknown)."""
    return _native.ALGORITHMS[alg] if alg < len(_native.ALGORITHMS) else f"unknown({alg})"


def size(alg: int) -> int:
    """Digest size in bytes of an engine code (0 for none or unknown)."""
    return _native.DIGEST_SIZES[alg] if alg < len(_native.DIGEST_SIZES) else 0


def tag(alg: str) -> str:
    """The word BSD-style lines use for an algorithm (``SHA3-256 (name) = HEX``):
    what GNU's tools and b3sum write; "" for git-sha1, which has none."""
    return TAGS[alg]


def by_hex_length(n: int) -> int | None:
    """The code of the algorithm a digest of n hex digits is read as when
    nothing else says (FORMATS.md B2.3: md5, sha1, sha224, sha256, sha384,
    sha512), or None."""
    return _BY_HEX_LENGTH.get(n)


def fitting(hex_digits: int) -> list[str]:
    """Every algorithm whose digests have hex_digits hex digits, in the
    engine's order: ``fitting(64)`` is sha256, sha3_256, blake2s, blake3,
    blake2b-256."""
    return [alg for alg in NAMES if 2 * SIZES[alg] == hex_digits]


def same_size(alg: str) -> list[str]:
    """The algorithms other than alg whose digests have alg's size: what else
    a digest of that length could be (the engine's SameSize)."""
    return [other for other in fitting(2 * SIZES[alg]) if other != alg]


def hex_lengths() -> str:
    """``32 md5, 40 sha1, ...``: the lengths B2.3 reads, in hex digits, for messages."""
    return ", ".join(f"{2 * SIZES[alg]} {alg}" for alg in LENGTH_DEFAULTS)


def warn_word(choice: str | None) -> str:
    """The word GNU's ``--warn`` lines name the algorithm with
    (``improperly formatted SHA256 checksum line``; FORMATS.md B4) for an
    algorithm's name or a family's (``sha2``, ``sha3``): ``SHA256``, but
    ``SHA3`` for every SHA-3 and ``SHA2`` for the family, as ``cksum -a sha3
    -l 256 -c`` says, ``BLAKE2b`` for every BLAKE2b length, as ``b2sum -l N
    -c`` says; "" for none (and for git-sha1, which no GNU tool has)."""
    if not choice:
        return ""
    if choice in FAMILIES:
        return choice.upper()
    if choice.startswith("sha3_"):
        return "SHA3"
    if choice.startswith("blake2b"):
        return "BLAKE2b"
    return TAGS[choice]


class Inference:
    """How a verify job chose the algorithm of the manifest lines that no tag
    and no request decided, and how those lines fared (the engine's
    Inference, go/infer.go; FORMATS.md B5).

    Attributes:
        algorithm: the algorithm most such lines were read with.
        source: what chose it: ``"length"`` (the digests' length, B2.3) or
            ``"name"`` (the manifest's file name, B2.2).
        rows, ok, mismatch: such lines, and of those the files that matched
            and that did not.
        probed: when none matched, the name (bytes) of the file the engine
            hashed again with every other algorithm of that length; None if
            it did not.
        match: the algorithm that gave the probed file its listed digest
            ("" if none did).
    """

    __slots__ = ("algorithm", "match", "mismatch", "ok", "probed", "rows", "source")

    def __init__(
        self,
        algorithm: str,
        source: str,
        rows: int,
        ok: int,
        mismatch: int,
        probed: bytes | None = None,
        match: str = "",
    ) -> None:
        self.algorithm = algorithm
        self.source = source
        self.rows = rows
        self.ok = ok
        self.mismatch = mismatch
        self.probed = probed
        self.match = match

    @classmethod
    def of(cls, engine: dict[str, Any], name_of: Callable[[int], bytes]) -> Inference | None:
        """From ``_native._Job.inference()``'s dict (``name_of(row)`` gives a
        row's name); None when no line was read without a tag or request."""
        if not engine["algorithm"] or engine["rows"] <= 0:
            return None
        probed = engine["probed"]
        return cls(
            engine["algorithm"],
            engine["source"],
            engine["rows"],
            engine["ok"],
            engine["mismatch"],
            name_of(probed) if probed >= 0 else None,
            engine["match"],
        )

    def merged(self, other: Inference | None) -> Inference:
        """This and a later chunk's inference of the same manifest (a stream
        verified a chunk at a time): the counts added up when both read the
        same algorithm, else the one of more lines; the first probe's answer."""
        if other is None:
            return self
        if other.algorithm != self.algorithm:
            return self if self.rows >= other.rows else other
        probed, match = self.probed, self.match
        if not match and other.match or probed is None:
            probed, match = other.probed, other.match
        rows, ok, bad = self.rows + other.rows, self.ok + other.ok, self.mismatch + other.mismatch
        return Inference(self.algorithm, self.source, rows, ok, bad, probed, match)

    @property
    def others(self) -> list[str]:
        """The other algorithms whose digests have this one's length."""
        return same_size(self.algorithm) if self.algorithm in SIZES else []

    @property
    def suspect(self) -> bool:
        """Whether to warn that the algorithm may be the wrong one (issue 18's
        hazard): every such line failed, and a probe found the algorithm that
        matches, or the algorithm was a guess from the length, or the name
        said one no GNU ``*sum`` tool writes (b3sums.txt, SHA3SUMS). A
        SHA256SUMS whose files are all damaged is not suspect."""
        if self.rows <= 0 or self.ok or not self.mismatch:
            return False
        return bool(self.match) or self.source != "name" or self.algorithm not in LENGTH_DEFAULTS

    def warning(self, shown: Callable[[bytes], str], how: Callable[[str], str]) -> str | None:
        """The words for a :attr:`suspect` inference (else None): which
        algorithm was assumed and from where, which others fit the digests'
        length, and the one that matched a probed file if any. ``shown(name)``
        shows the probed file's name; ``how(alg)`` says how to name an
        algorithm (``algorithm="blake3"``, ``-a blake3``)."""
        if not self.suspect:
            return None
        return _words.wrong_algorithm(
            self.algorithm,
            self.source,
            self.rows,
            self.others,
            None if self.probed is None else shown(self.probed),
            self.match,
            how,
        )

    def to_dict(self, shown: Callable[[bytes], str], how: Callable[[str], str]) -> dict[str, Any]:
        """The ``inference`` object of a ``checksig.report/1`` document (E12)."""
        return {
            "algorithm": self.algorithm,
            "source": self.source,
            "rows": self.rows,
            "ok": self.ok,
            "mismatch": self.mismatch,
            "same_length": self.others,
            "probed": None if self.probed is None else self.probed.decode("utf-8", "replace"),
            "match": self.match or None,
            "warning": self.warning(shown, how),
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in _FIELDS)
        return f"Inference({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Inference):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in _FIELDS)

    __hash__ = None  # type: ignore[assignment]


_FIELDS = ("algorithm", "source", "rows", "ok", "mismatch", "probed", "match")
