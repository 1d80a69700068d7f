"""The words users read: why a row failed, sizes and times, names safe to print.

One home for each: ``str(report)``, the notebook view, the exceptions, the
command line and JSON all take their words from here, so a status is never
described two ways. A leaf: it imports nothing from checksig, and only
``os`` and ``errno`` from the standard library (no ``re``: a failing
``check_signatures`` prints names through :func:`display_name`, and ``re``
costs a fresh process ~5 ms).

The reasons are FORMATS.md rule E3's texts; changing one changes what the
command line prints.
"""

from __future__ import annotations

import errno
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Callable

__all__ = [
    "DIGEST_DIFFERS",
    "REASONS",
    "describe",
    "display_name",
    "entries",
    "failure_heading",
    "human_bytes",
    "human_seconds",
    "labelled",
    "listed",
    "plural",
    "reason",
    "summary",
    "wrong_algorithm",
]

#: Why a row is not ok when no OS error says why (FORMATS.md E3): what the
#: CLI prints after ``checksig: NAME: ``, JSON's ``reason``, the notebook's
#: reason column and the OSError of a failed ``digest_files`` path.
REASONS = {
    "missing": os.strerror(errno.ENOENT),
    "unreadable": "read error",
    "not_regular": "not a regular file (never read)",
    "outside_root": "refusing a name that leads outside the root directory (not read)",
    "extra": "not listed in the manifest",
    "changed": "file changed size while it was read",  # the engine's own words too
    "pending": "not checked (the run was interrupted)",
    "not_checked": "listed without a digest to compare with (not checked)",
}

#: The reason a notebook shows for a mismatching row (its digests stand beside it).
DIGEST_DIFFERS = "digest differs"

#: The statuses whose reason above says what happened by itself: such a row
#: is described by its reason alone, every other one as ``STATUS (REASON)``
#: ("missing (No such file or directory)", "extra (not listed in the manifest)").
_SAYS_IT_ALL = frozenset({"not_regular", "outside_root", "changed", "pending", "not_checked"})

#: A status in words where its name is not ("not a regular file (Is a directory)").
_STATUS_WORDS = {
    "not_regular": "not a regular file",
    "outside_root": "outside the root directory",
    "not_checked": "not checked",
}

#: Hex digits of a digest that a one-line description shows.
SHORT_DIGEST = 8


def reason(status: str, errnum: int = 0) -> str | None:
    """Why a row with this status (and OS errno, 0 if none) is not ok; None for
    ok and mismatch, whose digests say it."""
    if status in ("ok", "mismatch"):
        return None
    if errnum:
        return os.strerror(errnum)
    return REASONS.get(status, status)


def _short(hexdigest: str | None) -> str:
    if not hexdigest:
        return "?"
    return hexdigest[:SHORT_DIGEST] + "\u2026"


def describe(
    status: str, why: str | None = None, expected: str | None = None, actual: str | None = None
) -> str:
    """A row in words: ``ok``, ``mismatch (expected 3f2a..., got 9b1c...)``,
    ``missing (No such file or directory)``; ``why`` is :func:`reason`'s."""
    if status == "ok":
        return "ok"
    if status == "mismatch":
        return f"mismatch (expected {_short(expected)}, got {_short(actual)})"
    if why is None:
        why = reason(status)
    if why is None or why == status:  # a status this version does not know
        return status
    if status in _SAYS_IT_ALL and why == REASONS[status]:
        return why
    return f"{_STATUS_WORDS.get(status, status)} ({why})"


def labelled(name: str, labels: dict[str, str | None]) -> str:
    """A row's name after its labels, for the text views: ``[package=numpy] lib/x.py``."""
    shown = " ".join(f"{k}={display_name(v)}" for k, v in labels.items() if v is not None)
    return f"[{shown}] {name}" if shown else name


def plural(n: int, one: str, many: str) -> str:
    """``1 file``, ``2 files``: n and the word that fits it."""
    return f"{n} {one if n == 1 else many}"


def entries(n: int, *, grouped: bool = False) -> str:
    """``1 entry``, ``12 entries`` (grouped: ``1,234 entries``)."""
    return f"{n:,} {'entry' if n == 1 else 'entries'}" if grouped else plural(n, "entry", "entries")


def summary(n: int, counts: dict[str, int]) -> str:
    """``10 entries, 8 ok, 1 mismatch, 1 missing``: a report in one line."""
    return ", ".join([entries(n), *(f"{k} {name}" for name, k in counts.items())])


def failure_heading(failed: int, total: int, title: str, problems: int = 0) -> str:
    """The first line of a SignatureError's message (``problems``: whole-run
    problems listed before the failing files)."""
    text = f"{failed} of {plural(total, 'file', 'files')} failed verification against {title}"
    if problems:
        text = f"{plural(problems, 'problem', 'problems')} and " + text
    return text + ":"


def listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1] if names else ""]))


def wrong_algorithm(
    assumed: str,
    source: str,
    rows: int,
    others: list[str],
    probed: str | None,
    match: str,
    how: Callable[[str], str],
) -> str:
    """Why failing lines may have been read with the wrong algorithm (issue
    18's hazard, FORMATS.md B5): ``rows`` untagged lines read as ``assumed``
    (``source``: "length" or "name"), not one of which matched; ``others``
    make digests of the same length; the engine hashed ``probed`` (a name as
    it is to be shown) again with them, and ``match`` gave it its listed
    digest ("" if none did). ``how(alg)`` says how to name an algorithm
    (``algorithm="blake3"``, ``-a blake3``).
    """
    why = (
        "assumed from the digests' length" if source == "length" else "as the manifest's name says"
    )
    if rows == 1:
        text = f"the untagged line was read as {assumed} ({why}) and did not match"
    else:
        text = f"all {rows:,} untagged lines were read as {assumed} ({why}) and none matched"
    if match:
        return (
            f"{text}, but {match} gives {probed} its listed digest: this looks like a {match} "
            f"manifest; check it with {how(match)}"
        )
    if not others:
        return text
    also = f"{listed(others)} {'makes' if len(others) == 1 else 'make'} digests of that length too"
    if probed is not None:
        return f"{text}; {also}, and none gives {probed} its listed digest either"
    return f"{text}; {also}: if the manifest was made with one of them, name it ({how('ALGO')})"


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``: binary units, one decimal above bytes."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.0f} {units[i]}" if i == 0 else f"{n:.1f} {units[i]}"


def human_seconds(s: float) -> str:
    """``0.0123`` -> ``"12 ms"``, ``75`` -> ``"1 min 15 s"``."""
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    minutes, seconds = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _unsafe(o: int) -> bool:
    """Whether code point o must not reach a terminal or an encoder as it is:
    C0 and C1 controls, DEL, lone surrogates (os.fsdecode's escapes of
    undecodable bytes), and the line and paragraph separators."""
    return o < 0x20 or 0x7F <= o <= 0x9F or o in (0x2028, 0x2029) or 0xD800 <= o <= 0xDFFF


def _escape(c: str) -> str:
    o = ord(c)
    if not _unsafe(o):
        return c
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte (os.fsdecode's surrogate escape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}"


def display_name(name: str) -> str:
    """name, safe to print: control characters and undecodable bytes as ``\\xNN``.

    A manifest is input from outside: a name holding ESC could otherwise
    drive the terminal, and a lone surrogate (an undecodable byte) would
    make ``print`` raise UnicodeEncodeError. :attr:`Row.path` stays exact;
    only the text views (``str``, ``failure_lines``, the HTML) use this.
    """
    # Every character _unsafe refuses is one isprintable() refuses, so the
    # usual name costs one C-speed scan.
    if name.isprintable():
        return name
    return "".join(map(_escape, name))
