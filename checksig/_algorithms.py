"""The algorithms checksig knows: the one table, derived from the engine's.

``_native.ALGORITHMS`` and ``_native.DIGEST_SIZES`` mirror checksig.h (the
engine's CHECKSIG_ALG_* numbers); everything else that names an algorithm
(the API's ``algorithm=``, the command line's ``-a``, the report's and
JSON's ``algorithm``, the tags ``make --tag`` writes) takes it from here.

A new algorithm is a line in checksig.h and in ``_native`` (the header test
checks the two agree); a new spelling of one (``SHA3-256`` beside
``sha3_256``) is an entry in :data:`SPELLINGS`.
"""

from __future__ import annotations

from . import _native

__all__ = ["NAMES", "SIZES", "SPELLINGS", "by_hex_length", "code", "name", "size", "tag"]

#: The engine codes the API offers, in the engine's order. The engine reads
#: more (sha3_*, blake2b-N, blake2s, blake3, git-sha1: issue 18); the API
#: offers them in a second step, and until then a report still names them
#: (:func:`name`).
_OFFERED = range(_native.ALG_MD5, _native.ALG_SHA512 + 1)

#: The supported algorithms, by hashlib's names, in the engine's order.
NAMES: tuple[str, ...] = tuple(_native.ALGORITHMS[i] for i in _OFFERED)

#: Digest size in bytes, by name.
SIZES: dict[str, int] = {_native.ALGORITHMS[i]: _native.DIGEST_SIZES[i] for i in _OFFERED}

#: Every accepted spelling, lower-cased, to the engine's code: hashlib's
#: names (in any case, as ``hashlib.new`` takes them).
SPELLINGS: dict[str, int] = {_native.ALGORITHMS[i]: i for i in _OFFERED}

_BY_HEX_LENGTH = {2 * _native.DIGEST_SIZES[i]: i for i in _OFFERED}


def code(spelling: object, *, allow_none: bool = False) -> int:
    """The engine's code for an algorithm's name (any accepted spelling).

    ``None`` is ``_native.ALG_NONE`` (infer it) when allow_none. Raises
    ValueError for anything else, naming what is supported.
    """
    if spelling is None and allow_none:
        return _native.ALG_NONE
    if isinstance(spelling, str):
        found = SPELLINGS.get(spelling.lower())
        if found is not None:
            return found
    raise ValueError(f"unknown algorithm {spelling!r}: supported are {', '.join(NAMES)}")


def name(alg: int) -> str:
    """The hashlib name of an engine code ("" for none, ``unknown(N)`` if unknown)."""
    return _native.ALGORITHMS[alg] if alg < len(_native.ALGORITHMS) else f"unknown({alg})"


def size(alg: int) -> int:
    """Digest size in bytes of an engine code (0 for none or unknown)."""
    return _native.DIGEST_SIZES[alg] if alg < len(_native.DIGEST_SIZES) else 0


def tag(alg: str) -> str:
    """The word GNU's BSD-style lines use for an algorithm: ``SHA256 (name) = HEX``."""
    return alg.upper()


def by_hex_length(n: int) -> int | None:
    """The engine's code of the algorithm whose digests have n hex digits, or None."""
    return _BY_HEX_LENGTH.get(n)


def hex_lengths() -> str:
    """``32 md5, 40 sha1, ...``: the digest lengths in hex digits, for messages."""
    return ", ".join(f"{2 * SIZES[alg]} {alg}" for alg in NAMES)
