"""GNU coreutils' rules: the ``*sum`` manifests and how ``*sum -c`` talks.

Everything checksig does because GNU's ``sha256sum`` (and ``md5sum``, ...)
does it, in one place, each rule with its FORMATS.md number: how a name is
shown on stdout (E9) and quoted in a diagnostic (E10), how a manifest line
is written (D1, D2, D5), the summary warnings and the exit verdict of
``check`` (E6, E8), and the reading rules the command line needs from the
manifest itself (comments, the longest line, the algorithm a file's name
implies: mirrors of go/manifest.go, which does the real parsing).

It is also the "gnu" manifest kind of ``_kinds``: the kind that reads
anything, tried last.

Names are bytes throughout: on POSIX a name is bytes and is never decoded
for output, so a name that is not UTF-8 comes out exactly as it is.
"""

from __future__ import annotations

from . import _algorithms
from ._lazy import _LazyModule
from ._words import plural

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

# Imported on first use: the command line has them anyway (argparse imports
# re), but a program that only asks a kind for its name should not pay.
re = _LazyModule("re")
unicodedata = _LazyModule("unicodedata")

__all__ = [
    "MAX_LINE",
    "NAME",
    "NAME_STYLES",
    "NO_LINES",
    "READ_ERROR",
    "algorithm_from_name",
    "algorithm_with_length",
    "check_name",
    "detect",
    "digest_text_length",
    "display_name",
    "exit_ok",
    "improper_line",
    "is_skipped_line",
    "malformed_lines",
    "malformed_lines_in",
    "manifest_line",
    "manifest_name",
    "parse_own_line",
    "quotef",
    "summary_warnings",
]

#: The kind's name in ``_kinds.KINDS``.
NAME = "gnu"


def detect(path: str) -> bool:
    """Whether a manifest at path is of this kind: a GNU ``*sum`` file is any
    text file, so this kind is the last resort and says yes to everything."""
    return True


# --- names on stdout (E9) and in manifest lines (D2, D5) -------------------------------------


def _is_unsafe(ch: str) -> bool:
    """Whether a character of a name (decoded with surrogateescape) could drive a terminal.

    C0 controls other than tab, DEL, C1 controls (U+0080-U+009F, which some
    terminals obey even in UTF-8), and lone bytes 0x80-0x9f (8-bit CSI and
    friends).
    """
    o = ord(ch)
    return (
        (o < 0x20 and ch != "\t")
        or o == 0x7F
        or 0x80 <= o <= 0x9F
        or 0xDC80 <= o <= 0xDC9F  # surrogateescape of a lone byte 0x80-0x9f
    )


def _escape(raw: bytes, *, hex_unsafe: bool = True) -> bytes:
    """GNU's name escaping (\\\\, \\n, \\r); with hex_unsafe, \\xHH for every other unsafe byte."""
    out = bytearray()
    for ch in raw.decode("utf-8", "surrogateescape"):
        if ch == "\\":
            out += b"\\\\"
        elif ch == "\n":
            out += b"\\n"
        elif ch == "\r":
            out += b"\\r"
        elif hex_unsafe and _is_unsafe(ch):
            for byte in ch.encode("utf-8", "surrogateescape"):
                out += b"\\x%02x" % byte
        else:
            out += ch.encode("utf-8", "surrogateescape")
    return bytes(out)


def _has_unsafe(raw: bytes) -> bool:
    return any(_is_unsafe(ch) for ch in raw.decode("utf-8", "surrogateescape"))


def display_name(raw: bytes) -> tuple[bytes, bool]:
    """How ``check`` shows a name on stdout: (text, escaped).

    GNU's rule (FORMATS.md E9): a name holding a newline is shown escaped
    (``\\\\``, ``\\n``, ``\\r``) and its line starts with a backslash. checksig
    also escapes, the same way, a name holding any other character that could
    drive a terminal (ESC, CR, BEL, C1 controls: ``\\xHH``); other names are
    written exactly as they are, invalid UTF-8 included.
    """
    if b"\n" in raw or _has_unsafe(raw):
        return _escape(raw), True
    return raw, False


#: How ``check`` shows names on stdout (FORMATS.md E9, E14, E15): GNU 9.1's
#: escaping made terminal-safe (the default), GNU 9.11's shell quoting
#: (``--shell-quote``), or the bytes as they are (``-z`` off a terminal).
NAME_STYLES = ("escape", "shell", "raw")


def check_name(raw: bytes, style: str = "escape") -> bytes:
    """A name as ``check`` writes it before ``: OK``, in one of NAME_STYLES.

    ``escape``: :func:`display_name`'s text after GNU's leading backslash when
    it was escaped (``\\new\\nline``); ``shell``: :func:`quotef`, which is how
    GNU coreutils 9.11 and later show them (``'new'$'\\n''line'``); ``raw``:
    unchanged, for NUL-ended lines (``-z``).
    """
    if style == "shell":
        return quotef(raw)
    if style == "raw":
        return raw
    name, escaped = display_name(raw)
    return b"\\" + name if escaped else name


def manifest_name(raw: bytes, *, safe: bool, zero: bool = False) -> tuple[bytes, bool]:
    """How ``make``/``digest`` write a name in a manifest line: (text, escaped).

    Exactly GNU's rule: a name holding a backslash, newline or carriage
    return is escaped and its line starts with a backslash; with ``zero``
    (``-z``: lines end with NUL) no name is escaped. With ``safe`` (stdout is
    a terminal), names holding other control characters are escaped too,
    with ``\\xHH``, as ``ls`` hides them on a terminal (FORMATS.md D5).
    """
    if safe and _has_unsafe(raw):
        return _escape(raw), True
    if not zero and any(c in raw for c in b"\\\n\r"):
        return _escape(raw, hex_unsafe=False), True
    return raw, False


# GNU quotes file names in diagnostics with gnulib's quotef(): the
# "shell-escape" style, ':' quoted too. The rules below are what it does in a
# UTF-8 locale (FORMATS.md E10).
_FORCE_ANYWHERE = frozenset(" !\"$&'()*;<=>?[\\^`|:")
_C_AND_SHELL_COMPAT = frozenset(
    "%+,-./0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ]_@abcdefghijklmnopqrstuvwxyz '"
)
_C_ESCAPES = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Zl", "Zp"})


def _tokens(raw: bytes) -> list[tuple[str, bytes, bool]]:
    """Split raw into (char, bytes, printable); an undecodable byte is its own token."""
    out: list[tuple[str, bytes, bool]] = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        b = ch.encode("utf-8", "surrogateescape")
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            out.append((ch, b, False))
        elif ord(ch) < 0x80:
            out.append((ch, b, 0x20 <= ord(ch) < 0x7F))
        else:
            out.append((ch, b, unicodedata.category(ch) not in _UNPRINTABLE_CATEGORIES))
    return out


def _c_compatible(i: int, ch: str, printable: bool, n: int) -> bool:
    """Whether ch means the same inside C's and the shell's double quotes."""
    if not printable:
        return False
    if ch in "#~":
        return i == 0
    if ch in "{}":
        return n == 1
    return ch in _C_AND_SHELL_COMPAT or ord(ch) >= 0x80


def quotef(raw: bytes) -> bytes:
    """Quote a file name for a diagnostic exactly as GNU coreutils does (quotef).

    ``nope`` stays ``nope``; ``with space`` becomes ``'with space'``;
    ``quo'te`` becomes ``"quo'te"``; a tab becomes ``'tab'$'\\t''here'``; an
    ESC ``'esc'$'\\033''[31m'``; an invalid byte ``'bad'$'\\377'``. The result
    never holds a control character.
    """
    toks = _tokens(raw)
    force = not toks
    for i, (ch, _, printable) in enumerate(toks):
        if not printable or ch in _FORCE_ANYWHERE:
            force = True
        elif ch in "#~" and i == 0:
            force = True
        elif ch in "{}" and len(toks) == 1:
            force = True
    if not force:
        return raw
    if any(ch == "'" for ch, _, _ in toks) and all(
        _c_compatible(i, ch, printable, len(toks)) for i, (ch, _, printable) in enumerate(toks)
    ):
        # A name whose only trouble is an apostrophe reads better in double quotes.
        return b'"' + raw + b'"'
    out = bytearray(b"'")
    in_dollar = False  # inside a $'...' section
    for ch, b, printable in toks:
        if printable:
            if ch == "'":
                out += b"'\\''"
                in_dollar = False
                continue
            if in_dollar:
                out += b"''"
                in_dollar = False
            out += b
            continue
        if not in_dollar:
            out += b"'$'"
            in_dollar = True
        if ch in _C_ESCAPES:
            out += b"\\" + _C_ESCAPES[ch].encode()
        else:
            for byte in b:
                out += b"\\%03o" % byte
    out += b"'"
    return bytes(out)


def manifest_line(
    raw: bytes, digest: str, algorithm: str, *, tag: bool, safe: bool, zero: bool = False
) -> bytes:
    """One manifest line as the algorithm's tool writes it: GNU's ``sha256sum
    [--tag] [-z]``, ``b2sum``, ``cksum -a sha3 [--untagged] [--base64]``, ``b3sum``
    (-z: ended by NUL instead of a newline, the name never escaped). ``digest``
    is its text, hex or base64."""
    name, escaped = manifest_name(raw, safe=safe, zero=zero)
    prefix = b"\\" if escaped else b""
    end = b"\0" if zero else b"\n"
    if tag:
        return (
            prefix
            + f"{_algorithms.tag(algorithm)} (".encode()
            + name
            + f") = {digest}".encode()
            + end
        )
    return prefix + digest.encode() + b"  " + name + end


def digest_text_length(algorithm: str, base64: bool = False) -> int:
    """Characters of an algorithm's digest written in hex, or in padded base64 (A13)."""
    n = _algorithms.SIZES[algorithm]
    return 4 * -(-n // 3) if base64 else 2 * n


def parse_own_line(
    line: bytes, algorithm: str, tag: bool, base64: bool = False
) -> tuple[bytes, str]:
    """(name, digest text) of a line that make_manifest wrote (exactly the tool's form)."""
    escaped = line.startswith(b"\\")
    body = line[1:] if escaped else line
    hexlen = digest_text_length(algorithm, base64)
    if tag:
        head = len(_algorithms.tag(algorithm)) + 2
        name, hexdigest = body[head : -(hexlen + 4)], body[-hexlen:]
    else:
        name, hexdigest = body[hexlen + 2 :], body[:hexlen]
    if escaped:
        name = (
            name.replace(b"\\\\", b"\0")
            .replace(b"\\n", b"\n")
            .replace(b"\\r", b"\r")
            .replace(b"\0", b"\\")
        )
    return name, hexdigest.decode("ascii")


# --- reading manifests: mirrors of go/manifest.go, for messages only ----------------------


#: What a word of a manifest's name says (go/algorithm.go's nameWords):
#: (algorithm, family) as the engine tells them apart, "" for none. The
#: tools' short names b2 and b3, sha2 and sha3 (families), and every
#: spelling of an algorithm, '-' joining its parts.
_NAME_WORDS: dict[str, tuple[str, str]] = {
    **{
        k: (_algorithms.name(code), "") for k, code in _algorithms.SPELLINGS.items() if "_" not in k
    },
    "b2": ("", "blake2b"),
    "blake2": ("", "blake2b"),
    "blake2b": ("", "blake2b"),
    "b3": ("blake3", ""),
    "sha2": ("", "sha2"),
    "sha3": ("", "sha3"),
}


def _name_word(word: str, last: bool) -> tuple[str, str] | None:
    """What word says, with an optional "sum"/"sums" suffix; the short words
    b2 and b3 only with the suffix or as the name's last word."""
    for suffix in ("sums", "sum", ""):
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            found = _NAME_WORDS.get(stem)
            if found is not None and (suffix or last or len(stem) > 2):
                return found
    return None


def algorithm_from_name(path: str) -> str | None:
    """What a manifest's file name says of its untagged lines' algorithm
    (FORMATS.md B2.2): an algorithm's name (sha1sum.txt: ``sha1``, SHA256SUMS,
    b3sums.txt: ``blake3``, SHA3-256SUMS: ``sha3_256``, B2SUMS: ``blake2b``,
    which reads every BLAKE2b length, git-sha1sum.txt: ``git-sha1``) or a
    family's (SHA3SUMS: ``sha3``, sha2sums: ``sha2``), or None (checksums.txt;
    MD5SUMS.sha1 names two). The engine's AlgorithmFromName
    (go/algorithm.go) word for word: for the wording of --warn lines (B4),
    never for parsing; tests/test_cli.py holds the two together."""
    base = path[path.rfind("/") + 1 :]
    # Go lower-cases rune by rune (U+0130 becomes "i", where Python adds a
    # combining dot); then words are the runs of a-z and 0-9.
    base = "".join(ch.lower()[:1] for ch in base)
    words = [w for w in re.split(r"[^a-z0-9]+", base) if w]
    found: tuple[str, str] | None = None
    i = 0
    while i < len(words):
        last = i == len(words) - 1
        choice, n = None, 0
        if i + 1 < len(words):
            choice = _name_word(words[i] + "-" + words[i + 1], i + 1 == len(words) - 1)
            n = 2 if choice is not None else 0
        if not n:
            choice = _name_word(words[i], last)
            n = 1
        i += n
        if choice is None:
            continue
        if found is not None and choice != found:
            return None  # two algorithms named: ambiguous
        found = choice
    if found is None:
        return None
    return found[0] or found[1]


# --- the command line's -a and -l (GNU's cksum and b2sum) -----------------------------------

#: The -a words that take -l, as GNU's cksum has them (blake2b: any multiple
#: of 8 up to 512; the SHA families: these).
_TAKES_LENGTH = ("sha2", "sha3", "blake2b")
_SHA_BITS = (224, 256, 384, 512)


def algorithm_with_length(algorithm: str, length: str | None, *, check: bool) -> str:
    """``-a ALGO [-l BITS]`` as GNU's cksum and b2sum read them, as the
    name the API takes: an algorithm's, or (``check``) a family's.

    ``-a sha3 -l 256`` is sha3_256, ``-a sha2 -l 384`` sha384, ``-a blake2b -l
    256`` blake2b-256 (``-l 0`` or none: blake2b, 512 bits), any other -a an
    algorithm in any spelling (sha3_256, SHA3-256). Checking, ``-a sha2`` and
    ``-a sha3`` name the family and ``-a blake2b`` every BLAKE2b length,
    with or without -l, which GNU checks and then ignores: each line's
    length picks the member (FORMATS.md B2). Raises ValueError with GNU's
    words otherwise (a usage error).
    """
    word = algorithm.lower()
    if word not in _TAKES_LENGTH:
        if length is not None:
            raise ValueError("--length is only supported with --algorithm blake2b, sha2, or sha3")
        if check and word in _algorithms.FAMILIES:
            return word
        return _algorithms.name(_algorithms.code(algorithm))
    kind = "BLAKE2b" if word == "blake2b" else word.upper()
    bits = 0
    if length is not None:
        if not (length.isascii() and length.isdigit()):
            raise ValueError(f"invalid length: {length!r}")
        bits = int(length)
        if word == "blake2b":
            if bits > 512:
                raise ValueError(
                    f"invalid length: {length!r}: maximum digest length for {kind!r} is 512 bits"
                )
            if bits % 8:
                raise ValueError(f"invalid length: {length!r}: length is not a multiple of 8")
        elif bits not in _SHA_BITS:
            raise ValueError(
                f"invalid length: {length!r}: digest length for {kind!r} must be "
                "224, 256, 384, or 512"
            )
    if word == "blake2b":
        return "blake2b" if check or bits in (0, 512) else f"blake2b-{bits}"
    if check:
        return word
    if not bits:
        raise ValueError(f"--algorithm={word} requires specifying --length 224, 256, 384, or 512")
    return f"sha{bits}" if word == "sha2" else f"sha3_{bits}"


def is_skipped_line(line: bytes) -> bool:
    """A manifest line the engine skips: empty, or a '#' comment.

    Keep in sync with readLine in go/manifest.go (FORMATS.md A2)."""
    return not line or line.startswith(b"#")


def malformed_lines(path: str, entry_lines: Iterable[int] = ()) -> list[int]:
    """The malformed lines of a manifest file: every line the engine does not
    skip (A2) and that is not among ``entry_lines`` (the ascending line
    numbers of its entries; none for a manifest without a usable line).

    Used to print GNU's --warn lines when the engine did not list them all:
    it raised instead of returning a report, or the report keeps the first
    1000 of more. Lines are read at most MAX_LINE bytes at a time, so a
    huge one costs no memory.
    """
    try:
        with open(path, "rb") as f:
            return list(_malformed(_capped_lines(f.readline), 1, entry_lines))
    except OSError:
        return []


def malformed_lines_in(text: bytes, first_line: int, entry_lines: Iterable[int] = ()) -> list[int]:
    """:func:`malformed_lines` of manifest text whose first line is numbered
    ``first_line`` (a chunk of a stream, see _chunks)."""
    lines = text.split(b"\n")  # not splitlines(): a lone CR is part of its line (A1)
    if lines[-1] == b"":
        lines.pop()
    return list(_malformed(lines, first_line, entry_lines))


def _capped_lines(readline: Callable[[int], bytes]) -> Iterator[bytes]:
    """The lines readline gives, each cut to its first MAX_LINE + 1 bytes."""
    while True:
        line = readline(MAX_LINE + 2)
        if not line:
            return
        if not line.endswith(b"\n"):
            while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
        yield line


def _malformed(lines: Iterable[bytes], first: int, entry_lines: Iterable[int]) -> Iterator[int]:
    entries = iter(entry_lines)
    entry = next(entries, None)
    for number, line in enumerate(lines, first):
        while entry is not None and entry < number:
            entry = next(entries, None)
        if entry == number:
            continue
        line = line[:-1] if line.endswith(b"\n") else line
        line = line[:-1] if line.endswith(b"\r") else line
        if not is_skipped_line(line):
            yield number


#: The longest manifest line the engine reads (keep in sync with MaxLineLen
#: in go/manifest.go).
MAX_LINE = 64 << 10


# --- what check says (E4, E6, E8) --------------------------------------------------------------

#: What check says of a manifest without a single usable line (A11, E6).
NO_LINES = "no properly formatted checksum lines found"

#: What check says of a manifest it could not read to its end (E13): GNU's
#: words whatever the OS said (EBADF for a closed stdin, EISDIR, EIO).
READ_ERROR = "read error"


def improper_line(shown: bytes, line: int, algo_word: str) -> bytes:
    """E4's ``MANIFEST: N: improperly formatted SHA256 checksum line``."""
    word = f"{algo_word} " if algo_word else ""
    return shown + f": {line}: improperly formatted {word}checksum line".encode()


def summary_warnings(
    n_malformed: int,
    n_unread: int,
    n_mismatch: int,
    n_extra: int,
    listed_in: str = "the manifest",
) -> list[str]:
    """E6's ``WARNING: ...`` lines, in their order, each only when its count is
    not zero (``listed_in``: "any manifest" when several were checked, E13)."""
    lines = []
    if n_malformed:
        lines.append(plural(n_malformed, "line is", "lines are") + " improperly formatted")
    if n_unread:
        lines.append(plural(n_unread, "listed file", "listed files") + " could not be read")
    if n_mismatch:
        lines.append(
            plural(n_mismatch, "computed checksum", "computed checksums") + " did NOT match"
        )
    if n_extra:
        lines.append(plural(n_extra, "file is", "files are") + f" not listed in {listed_in}")
    return ["WARNING: " + line for line in lines]


def exit_ok(
    matched: bool, n_mismatch: int, n_unread: int, n_extra: int, n_malformed: int, strict: bool
) -> bool:
    """E8's verdict: some entry was OK, none failed, and (strict) no line was malformed."""
    failed = n_mismatch or n_unread or n_extra or (strict and n_malformed)
    return matched and not failed
