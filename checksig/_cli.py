"""The checksig command line: ``checksig check``, ``make`` and ``digest``.

``check`` answers like GNU coreutils' ``sha256sum -c``: the same stdout lines,
the same stderr reason and summary lines, word for word, and the same exit
status. FORMATS.md (part E) states every rule this module implements, and
tests/test_gnu_diff.py compares it with the real GNU tools. Only the program
name differs: ``checksig: `` where GNU writes ``sha256sum: ``.

Everything is written as bytes: file names are bytes on POSIX and are never
decoded for output, so a name that is not UTF-8 comes out exactly as it is
(unless it holds control characters: see :func:`display_name`).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
import time
import unicodedata

from ._feedback import Listener, _stderr_is_a_terminal, human_bytes
from ._lazy import _LazyModule

# What only some runs need is imported on first use (a plain `checksig check`
# should start as fast as it can): json for --json, tempfile and shutil for
# stdin and stdout, typing for annotations only.
json = _LazyModule("json")
shutil = _LazyModule("shutil")
tempfile = _LazyModule("tempfile")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import IO, Any, Callable

PROG = "checksig"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: The --json schema name; bump the number on any incompatible change.
JSON_SCHEMA = "checksig.report/1"

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}

#: The default manifest of ``checksig check``: checksig.verify's default.
DEFAULT_MANIFEST = "sha1sum.txt"

#: Seconds a run must last before the progress bar appears (FORMATS.md E11).
PROGRESS_DELAY = 1.0


# --- names on the terminal -----------------------------------------------------------------


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


def manifest_name(raw: bytes, *, safe: bool) -> tuple[bytes, bool]:
    """How ``make``/``digest`` write a name in a manifest line: (text, escaped).

    Exactly GNU's rule: a name holding a backslash, newline or carriage
    return is escaped and its line starts with a backslash. With ``safe``
    (stdout is a terminal), names holding other control characters are
    escaped too, with ``\\xHH``, as ``ls`` hides them on a terminal.
    """
    if safe and _has_unsafe(raw):
        return _escape(raw), True
    if any(c in raw for c in b"\\\n\r"):
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


# --- output ----------------------------------------------------------------------------------


class _WriteError(Exception):
    """Standard output could not be written (a full disk, /dev/full, ...)."""


class _Out:
    """stdout and stderr as bytes; stdout is flushed before every stderr line
    so that the two interleave on a terminal as GNU's do. A failed write to
    stdout raises _WriteError (BrokenPipeError stays itself: a reader that
    went away is not an error to report)."""

    def __init__(self, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.stdout = stdout
        self.stderr = stderr

    def out(self, line: bytes) -> None:
        try:
            self.stdout.write(line)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _WriteError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _WriteError(exc.strerror or str(exc)) from exc

    def err(self, message: bytes | str) -> None:
        if isinstance(message, str):
            message = os.fsencode(message)
        self.flush()
        self.stderr.write(PROG.encode() + b": " + message + b"\n")
        self.stderr.flush()


class _Writer:
    """A file-like write() onto _Out's stdout, for shutil.copyfileobj."""

    def __init__(self, io: _Out) -> None:
        self.write = io.out


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --- progress --------------------------------------------------------------------------------


def _counter(p: Any, name: str) -> int | None:
    """A counter of a progress snapshot (a _feedback.Snapshot, a Progress or
    the 0.1 dict: each has the dict's get); None when unknown."""
    value = p.get(name)
    if value is None or value < 0:
        return None
    return int(value)


class _Progress(Listener):
    """The callable passed as progress=: records the engine's counters, and
    draws a one-line bar on stderr when enabled and the run has lasted
    PROGRESS_DELAY seconds. close() erases the bar before any result line."""

    def __init__(self, enabled: bool, stream: IO[str] | None = None, label: str = "") -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.warnings = 0  # malformed manifest lines, all of them (the report lists 1000)
        self._start = time.monotonic()
        self._drawn = 0.0
        self._visible = False

    def __call__(self, p: Any) -> None:
        self.warnings = _counter(p, "warnings") or 0
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < PROGRESS_DELAY or now - self._drawn < 0.1:
            return
        self._drawn = now
        total, done = _counter(p, "bytes_total"), _counter(p, "bytes_done") or 0
        files, nfiles = _counter(p, "files_done") or 0, _counter(p, "files_total")
        if total is None or nfiles is None:
            text = f"{self.label}: reading the list of files..."
        else:
            pct = 100.0 * done / total if total else 100.0
            rate = done / max(now - self._start, 1e-9)
            text = (
                f"{self.label}: {pct:5.1f}%  {files}/{nfiles} files  "
                f"{human_bytes(done)}/{human_bytes(total)}  {human_bytes(rate)}/s"
            )
        width = shutil.get_terminal_size((80, 24)).columns - 1
        # Visible before the write: a Ctrl-C landing during or just after it
        # must still make close() erase the line.
        self._visible = True
        self.stream.write("\r" + text[:width] + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self._visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._visible = False


def _progress_enabled(choice: bool | None) -> bool:
    return _stderr_is_a_terminal() if choice is None else choice


# --- check ---------------------------------------------------------------------------------


def algorithm_from_name(path: str) -> str | None:
    """The algorithm a manifest's file name implies (sha1sum.txt, SHA256SUMS,
    MD5SUMS, x.sha256, manifest-sha512.txt), or None. Mirrors the engine's
    AlgorithmFromName (go/manifest.go): used only for the wording of
    --warn lines, never for parsing."""
    found = None
    for tok in re.split(r"[^a-z0-9]+", os.path.basename(path).lower()):
        for suffix in ("sums", "sum"):
            if tok.endswith(suffix):
                tok = tok[: -len(suffix)]
                break
        if tok in ALGORITHMS:
            if found is not None and found != tok:
                return None
            found = tok
    return found


def _skipped_line(line: bytes) -> bool:
    """A manifest line the engine skips: empty, or a '#' comment.

    Keep in sync with readLine in go/manifest.go (FORMATS.md A2)."""
    return not line or line.startswith(b"#")


def _malformed_lines(path: str) -> list[int]:
    """The lines of a manifest with no usable line at all: every line the
    engine does not skip was malformed. Used to print GNU's --warn lines when
    the engine raised instead of returning a report."""
    lines = []
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                line = line[:-1] if line.endswith(b"\n") else line
                line = line[:-1] if line.endswith(b"\r") else line
                if not _skipped_line(line):
                    lines.append(number)
    except OSError:
        return []
    return lines


# Keep in sync with MaxLineLen in go/manifest.go.
_MAX_LINE = 64 << 10


def _spool_stdin(path: str) -> None:
    """Copy standard input to path, line by line, for the engine to read.

    A line longer than the engine accepts is not copied, so an endless
    stream (``-m - < /dev/zero``) cannot fill the disk: it becomes a short
    line the engine treats the same way (a comment stays a comment, anything
    else is malformed), which keeps line numbers and counts as GNU's.
    """
    stdin = sys.stdin.buffer
    with open(path, "wb") as out:
        while True:
            line = stdin.readline(_MAX_LINE + 2)
            if not line:
                return
            if len(line) > _MAX_LINE + 1 and not line.endswith(b"\n"):
                comment = line.startswith(b"#")
                while line and not line.endswith(b"\n"):
                    line = stdin.readline(1 << 20)  # drain the rest of the line
                out.write(b"#\n" if comment else b"\0\n")
                continue
            out.write(line)


def _dask_client(address: str | None) -> Any:
    """A Dask client of --scheduler or $CHECKSIG_SCHEDULER (issue 17), or None."""
    address = address or os.environ.get("CHECKSIG_SCHEDULER") or None
    if address is None:
        return None
    try:
        from ._dask import connect
    except ImportError as exc:
        raise ImportError(
            f'--scheduler needs Dask\'s distributed: pip install "checksig[dask]" ({exc})'
        ) from exc
    return connect(address)


class _CheckRun:
    """One ``checksig check``: the GNU-shaped rendering of a Report."""

    def __init__(self, args: argparse.Namespace, io: _Out) -> None:
        self.args = args
        self.io = io
        self.mode: str | None = args.mode  # None, "quiet", "status" or "warn" (last one wins)
        self.shown = b""  # the manifest's name as the user gave it, for messages
        self.algo_word = ""

    def _improper(self, line: int) -> None:
        word = f"{self.algo_word} " if self.algo_word else ""
        self.io.err(self.shown + f": {line}: improperly formatted {word}checksum line".encode())

    def run(self) -> int:
        # The spool directory is made inside the try, so Ctrl-C or an error
        # while standard input is being copied leaves nothing behind.
        spool = None
        try:
            if self.args.manifest == "-":
                spool = tempfile.mkdtemp(prefix="checksig-stdin-")
                _spool_stdin(os.path.join(spool, "standard-input"))
            return self._run(spool)
        finally:
            if spool:
                shutil.rmtree(spool, ignore_errors=True)

    def _run(self, spool: str | None) -> int:
        import checksig

        args = self.args
        root, manifest, shown = self._locate(spool)
        self.shown = quotef(os.fsencode(shown))
        algo = args.algorithm or (None if spool else algorithm_from_name(manifest))
        self.algo_word = algo.upper() if algo else ""
        try:
            client = _dask_client(args.scheduler)  # issue 17: None without --scheduler
        except (ImportError, OSError) as exc:
            self.io.err(str(exc))
            return EXIT_USAGE if isinstance(exc, ImportError) else EXIT_FAILED
        progress = _Progress(_progress_enabled(args.progress), label=os.path.basename(shown))
        try:
            report = checksig.verify(
                root,
                manifest,
                algorithm=args.algorithm,
                workers=args.jobs,
                ignore_missing=args.ignore_missing,
                extra=args.extra,
                allow_outside_root=args.allow_outside_root,
                progress=progress,
                client=client,
            )
        except (checksig.ManifestError, OSError) as exc:
            progress.close()  # erase the bar before any message
            if isinstance(exc, checksig.ManifestError):
                return self._manifest_error(exc, manifest)
            return self._os_error(exc, root, shown)
        finally:
            progress.close()
            if client is not None:
                client.close()
        if args.json:
            return self._json(report, progress.warnings, root, shown)
        return self._text(report, progress.warnings)

    def _locate(self, spool: str | None) -> tuple[str, str, str]:
        """(root, manifest path for the API, manifest name for messages)."""
        args = self.args
        root = args.root if args.root is not None else "."
        if args.manifest is None and args.root is not None and os.path.isfile(args.root):
            # `checksig check SHA256SUMS`: like `sha256sum -c SHA256SUMS`.
            return ".", os.path.abspath(args.root), args.root
        if args.manifest is None:
            shown = DEFAULT_MANIFEST if args.root is None else os.path.join(root, DEFAULT_MANIFEST)
            return root, os.path.abspath(os.path.join(root, DEFAULT_MANIFEST)), shown
        if spool is not None:
            return root, os.path.join(spool, "standard-input"), "standard input"
        return root, os.path.abspath(args.manifest), args.manifest

    def _manifest_error(self, exc: Exception, manifest: str) -> int:
        message = str(exc)
        if "no properly formatted" in message or "no checksum lines found" in message:
            if self.args.json:
                self._json_error("manifest", "no properly formatted checksum lines found")
            elif self.mode == "warn":
                for line in _malformed_lines(manifest):
                    self._improper(line)
            self.io.err(self.shown + b": no properly formatted checksum lines found")
        else:  # pragma: no cover - the CLI never asks for strict parsing
            if self.args.json:
                self._json_error("manifest", message)
            self.io.err(message)
        return EXIT_FAILED

    def _os_error(self, exc: OSError, root: str, shown: str) -> int:
        if exc.filename is not None and os.fsencode(exc.filename) == os.fsencode(root):
            name = os.fsencode(root)
        else:
            name = os.fsencode(shown)
        reason = exc.strerror or str(exc)
        if self.args.json:
            self._json_error("os", f"{os.fsdecode(name)}: {reason}")
        self.io.err(quotef(name) + b": " + os.fsencode(reason))
        return EXIT_FAILED

    def _json_error(self, kind: str, message: str) -> None:
        doc = {
            "schema": JSON_SCHEMA,
            "error": {"kind": kind, "message": message},
            "summary": None,
            "entries": [],
            "warnings": [],
        }
        self.io.out(json.dumps(doc).encode() + b"\n")

    @staticmethod
    def _rows_with(report: Any, wanted: Callable[[int], bool]) -> list[int]:
        """The row numbers whose status code is ``wanted``, in order."""
        return report._rows_marked(bytes(int(wanted(code)) for code in range(256)))

    def _exit_status(
        self, matched: bool, n_mismatch: int, n_unread: int, n_extra: int, n_malformed: int
    ) -> int:
        """GNU's verdict (FORMATS.md E8): some entry OK and nothing failed."""
        failed = n_mismatch or n_unread or n_extra or (self.args.strict and n_malformed)
        return EXIT_OK if matched and not failed else EXIT_FAILED

    def _is_ignored(self, status: str, errnum: int) -> bool:
        # GNU ignores only what fopen reports as ENOENT (FORMATS.md E5).
        return self.args.ignore_missing and status == "missing" and errnum in (0, errno.ENOENT)

    def _text(self, report: Any, nwarnings: int) -> int:
        import checksig

        io, mode = self.io, self.mode
        printing = mode != "status"
        warnings = sorted(report.warnings)
        n_malformed = max(nwarnings, len(warnings))
        pending_warnings = list(warnings) if mode == "warn" else []
        w = 0
        matched = False
        n_mismatch = n_unread = n_extra = 0
        reason = report._reason  # the words to_json() uses (FORMATS.md E3)
        if mode in ("quiet", "status"):
            # An OK row prints nothing here: visit only the others.
            ok = checksig.STATUSES.index("ok")
            not_ok = self._rows_with(report, lambda code: code != ok)
            matched = len(not_ok) < len(report)
            rows = report._raw_rows(not_ok)
        else:
            rows = report._raw_rows()
        for _, raw, status, errnum, line, _, _ in rows:
            while w < len(pending_warnings) and line and pending_warnings[w][0] < line:
                self._improper(pending_warnings[w][0])
                w += 1
            name, escaped = display_name(raw)
            prefix = b"\\" if escaped else b""
            if status == "ok":
                matched = True
                if mode not in ("quiet", "status"):
                    io.out(prefix + name + b": OK\n")
            elif status == "mismatch":
                n_mismatch += 1
                if printing:
                    io.out(prefix + name + b": FAILED\n")
            elif status == "extra":
                n_extra += 1
                if printing:
                    io.out(prefix + name + b": FAILED not listed\n")
            elif not self._is_ignored(status, errnum):
                n_unread += 1
                io.err(quotef(raw) + b": " + reason(errnum, status).encode())
                if printing:
                    io.out(prefix + name + b": FAILED open or read\n")
        for line, _ in pending_warnings[w:]:
            self._improper(line)
        if printing:
            if n_malformed:
                io.err(
                    "WARNING: "
                    + _plural(n_malformed, "line is", "lines are")
                    + " improperly formatted"
                )
            if n_unread:
                io.err(
                    "WARNING: "
                    + _plural(n_unread, "listed file", "listed files")
                    + " could not be read"
                )
            if n_mismatch:
                io.err(
                    "WARNING: "
                    + _plural(n_mismatch, "computed checksum", "computed checksums")
                    + " did NOT match"
                )
            if n_extra:
                io.err(
                    "WARNING: "
                    + _plural(n_extra, "file is", "files are")
                    + " not listed in the manifest"
                )
            if self.args.ignore_missing and not matched:
                io.err(self.shown + b": no file was verified")
        return self._exit_status(matched, n_mismatch, n_unread, n_extra, n_malformed)

    def _json(self, report: Any, nwarnings: int, root: str, shown: str) -> int:
        import checksig

        counts = {name: 0 for name in checksig.STATUSES}
        counts.update(report.counts())
        n_malformed = max(nwarnings, len(report.warnings))
        c = report._raw_columns()
        matched = counts.get("ok", 0) > 0
        # Every status but ok, mismatch and extra is a file not read; of the
        # missing ones, _is_ignored's do not count.
        n_unread = len(report) - counts["ok"] - counts["mismatch"] - counts["extra"]
        missing = checksig.STATUSES.index("missing")
        errnums = c["errnum"]
        ignored = (
            sum(
                self._is_ignored("missing", errnums[i])
                for i in self._rows_with(report, lambda code: code == missing)
            )
            if self.args.ignore_missing
            else 0
        )
        n_unread -= ignored
        exit_status = self._exit_status(
            matched, counts["mismatch"], n_unread, counts["extra"], n_malformed
        )
        summary = {
            "entries": len(report),
            "counts": counts,
            "improperly_formatted": n_malformed,
            "could_not_be_read": n_unread,
            "ignored_missing": ignored,
            "passed": exit_status == EXIT_OK,
            "exit_status": exit_status,
        }
        head = {
            "schema": JSON_SCHEMA,
            "root": os.fsencode(root).decode("utf-8", "replace"),
            "manifest": os.fsencode(shown).decode("utf-8", "replace"),
            "summary": summary,
        }
        out = self.io.out
        out(json.dumps(head)[:-1].encode() + b', "entries": [')
        dumps = json.dumps  # once: a lazy module costs ~1 us a lookup
        sep = b"\n  "
        for entry in report._entries():
            out(sep + dumps(entry).encode())
            sep = b",\n  "
        warnings = [{"line": line, "message": msg} for line, msg in report.warnings]
        out(b"\n], " + json.dumps({"warnings": warnings})[1:].encode() + b"\n")
        return exit_status


# --- make and digest ---------------------------------------------------------------------------


_TAGS = {a: a.upper() for a in ALGORITHMS}


def manifest_line(raw: bytes, hexdigest: str, algorithm: str, *, tag: bool, safe: bool) -> bytes:
    """One manifest line as GNU's ``sha256sum [--tag]`` writes it."""
    name, escaped = manifest_name(raw, safe=safe)
    prefix = b"\\" if escaped else b""
    if tag:
        return prefix + f"{_TAGS[algorithm]} (".encode() + name + f") = {hexdigest}\n".encode()
    return prefix + hexdigest.encode() + b"  " + name + b"\n"


def _parse_own_line(line: bytes, algorithm: str, tag: bool) -> tuple[bytes, str]:
    """(name, hex) of a line that make_manifest wrote (exactly GNU's form)."""
    escaped = line.startswith(b"\\")
    body = line[1:] if escaped else line
    hexlen = 2 * DIGEST_SIZES[algorithm]
    if tag:
        head = len(_TAGS[algorithm]) + 2
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


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def cmd_make(args: argparse.Namespace, io: _Out) -> int:
    import checksig

    progress = _Progress(_progress_enabled(args.progress), label="make")
    to_stdout = args.output == "-"
    tmpdir = tempfile.mkdtemp(prefix="checksig-make-") if to_stdout else None
    try:
        if tmpdir is not None:
            output: str | None = os.path.join(tmpdir, f"{args.algorithm}sum.txt")
        elif args.output is not None:
            output = os.path.abspath(args.output)
        else:
            output = None
        try:
            path = checksig.make_manifest(
                args.root,
                args.algorithm,
                output,
                workers=args.jobs,
                tag=args.tag,
                progress=progress,
            )
        except OSError as exc:
            progress.close()
            name = exc.filename if exc.filename is not None else args.root
            io.err(quotef(os.fsencode(name)) + b": " + os.fsencode(exc.strerror or str(exc)))
            return EXIT_FAILED
        finally:
            progress.close()
        if tmpdir is not None:
            with open(path, "rb") as f:
                if _stdout_is_tty():
                    for line in f:
                        name, hexdigest = _parse_own_line(line[:-1], args.algorithm, args.tag)
                        io.out(
                            manifest_line(name, hexdigest, args.algorithm, tag=args.tag, safe=True)
                        )
                else:
                    io.flush()
                    shutil.copyfileobj(f, _Writer(io))
        return EXIT_OK
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _digest_stdin(algorithm: str) -> str:
    import hashlib

    h = hashlib.new(algorithm)
    stream = sys.stdin.buffer
    for block in iter(lambda: stream.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def cmd_digest(args: argparse.Namespace, io: _Out) -> int:
    import checksig

    files: list[str] = args.files or ["-"]
    safe = _stdout_is_tty()
    real = [f for f in files if f != "-"]
    results: dict[int, str | OSError] = {}
    progress = _Progress(_progress_enabled(args.progress), label="digest")
    try:
        try:
            digests = (
                checksig.digest_files(real, args.algorithm, workers=args.jobs, progress=progress)
                if real
                else []
            )
            it = iter(digests)
            for i, f in enumerate(files):
                if f != "-":
                    results[i] = next(it)
        except OSError:
            # Some file failed: hash them one by one to report each, as GNU does.
            progress.close()
            for i, f in enumerate(files):
                if f == "-":
                    continue
                try:
                    results[i] = checksig.file_digest(f, args.algorithm)
                except OSError as exc:
                    results[i] = exc
    finally:
        progress.close()
    status = EXIT_OK
    for i, f in enumerate(files):
        raw = os.fsencode(f)
        result = _digest_stdin(args.algorithm) if f == "-" else results[i]
        if isinstance(result, OSError):
            io.err(quotef(raw) + b": " + os.fsencode(result.strerror or str(result)))
            status = EXIT_FAILED
            continue
        io.out(manifest_line(raw, result, args.algorithm, tag=args.tag, safe=safe))
    return status


# --- argument parsing --------------------------------------------------------------------------


_EXIT_HELP = """\
exit status:
  0    every check passed
  1    a check failed, a file could not be read, (check) the manifest is
       unusable, or the output could not be written: as GNU coreutils'
       sha256sum -c
  2    usage error (bad option or argument)
  130  interrupted (Ctrl-C)
"""

_CHECK_EPILOG = (
    """\
output (as GNU's sha256sum -c; see FORMATS.md):
  stdout   NAME: OK | NAME: FAILED | NAME: FAILED open or read
           (NAME: FAILED not listed with --extra)
  stderr   checksig: NAME: REASON for each file that could not be read, then
           WARNING: N lines are improperly formatted
           WARNING: N listed files could not be read
           WARNING: N computed checksums did NOT match

examples:
  checksig check                     # ./sha1sum.txt against the files in .
  checksig check SHA256SUMS          # like: sha256sum -c SHA256SUMS
  checksig check data -m data.sha256 --quiet
  checksig check dataset --extra          # also fail for files not listed
  checksig check bag -m bag/manifest-sha512.txt   # a BagIt bag
  checksig check -m SUMS --json | jq .summary

"""
    + _EXIT_HELP
)

_MAKE_EPILOG = (
    """\
The manifest lists every regular file under ROOT (sorted, names relative to
ROOT, '/' separated) in the form sha256sum writes, so `sha256sum -c` reads
it. Symlinks, FIFOs, devices and the manifest itself are not listed. It is
written atomically (a temporary file, then a rename).

examples:
  checksig make data                      # writes data/sha256sum.txt
  checksig make data -a md5 -o MD5SUMS    # MD5SUMS in the current directory
  checksig make data --tag -o -           # BSD tags, to stdout

"""
    + _EXIT_HELP
)

_DIGEST_EPILOG = (
    """\
Prints one line per FILE exactly as sha256sum (or md5sum, ...) does; with no
FILE, or when FILE is -, reads standard input. Names holding a backslash,
newline or carriage return are escaped as GNU escapes them; on a terminal,
names holding other control characters are escaped too (\\xHH).

examples:
  checksig digest *.tar.gz
  checksig digest -a md5 --tag big.iso
  cat file | checksig digest -

"""
    + _EXIT_HELP
)

_TOP_EPILOG = (
    """\
commands:
  check   verify files against a manifest (like sha256sum -c)
  make    write a manifest for a directory tree
  digest  print the digests of files (like sha256sum FILE...)

Run `checksig COMMAND --help` for a command's options and examples.

"""
    + _EXIT_HELP
)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the terminal's width once.

    Left to itself it asks shutil for the width every time it is made, and
    argparse makes one per add_argument (to check the metavar): importing
    shutil (with bz2 and lzma) and asking ~30 times was a fifth of a plain
    `checksig check`. The width is what shutil.get_terminal_size would give.
    """

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", _terminal_columns() - 2)  # argparse's own margin
        super().__init__(prog, **kwargs)


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns, without importing shutil."""
    global _COLUMNS
    if _COLUMNS is None:
        try:
            _COLUMNS = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            _COLUMNS = 0
        if _COLUMNS <= 0:
            try:
                _COLUMNS = os.get_terminal_size(sys.__stdout__.fileno()).columns
            except (AttributeError, ValueError, OSError):
                _COLUMNS = 0
        if _COLUMNS <= 0:
            _COLUMNS = 80
    return _COLUMNS


_COLUMNS: int | None = None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own format; exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Version(argparse._VersionAction):
    """``--version``, which looks the version up only when asked: finding it
    (importlib.metadata) costs ~20 ms, which every run would otherwise pay."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        from . import __version__

        self.version = f"{PROG} {__version__}"
        super().__call__(parser, namespace, values, option_string)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: one per CPU), got {value}")
    return value


def _algorithm_arg(text: str) -> str:
    lowered = text.lower()
    if lowered not in ALGORITHMS:
        raise argparse.ArgumentTypeError(
            f"unknown algorithm {text!r} (choose from {', '.join(ALGORITHMS)})"
        )
    return lowered


def _algorithm_option(p: argparse.ArgumentParser) -> None:
    """-a/--algorithm for the commands that hash (make, digest): sha256 by default."""
    p.add_argument(
        "-a",
        "--algorithm",
        metavar="ALGO",
        type=_algorithm_arg,
        default="sha256",
        help="one of " + ", ".join(ALGORITHMS) + " (default sha256)",
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-j",
        "--jobs",
        metavar="N",
        type=_workers,
        default=None,
        help="files hashed in parallel (default 0: one per CPU)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: only when stderr is a "
        "terminal, and only once the run has lasted a second)",
    )
    g.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show a progress bar"
    )


def build_parser() -> argparse.ArgumentParser:
    fmt = _HelpFormatter
    parser = _Parser(
        prog=PROG,
        description="Verify files against checksum manifests, fast and in parallel.",
        epilog=_TOP_EPILOG,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser(
        "check",
        help="verify files against a manifest (like sha256sum -c)",
        description=(
            "Verify the files under ROOT against a checksum manifest, answering like\n"
            "GNU sha256sum -c: the same lines, the same summary, the same exit status.\n"
            "Reads every format *sum -c reads (HEX  name, HEX *name, SHA256 (name) = HEX,\n"
            "escaped names, CRLF), several algorithms in one file included."
        ),
        epilog=_CHECK_EPILOG,
        formatter_class=fmt,
    )
    check.add_argument(
        "root",
        metavar="ROOT",
        nargs="?",
        default=None,
        help="the directory the manifest's names are relative to (default: the current "
        "directory). If ROOT is a file and -m is not given, ROOT is the manifest and "
        "names are relative to the current directory, as with sha256sum -c FILE.",
    )
    check.add_argument(
        "-m",
        "--manifest",
        metavar="MANIFEST",
        default=None,
        help=f"the manifest (relative to the current directory; - reads standard input; "
        f"default: ROOT/{DEFAULT_MANIFEST})",
    )
    check.add_argument(
        "-a",
        "--algorithm",
        metavar="ALGO",
        type=_algorithm_arg,
        default=None,
        help="algorithm of untagged lines: " + ", ".join(ALGORITHMS) + " (default: from "
        "the manifest's name, e.g. SHA256SUMS, else from each digest's length)",
    )
    check.add_argument(
        "--ignore-missing",
        action="store_true",
        help="don't fail or report status for missing files",
    )
    check.add_argument(
        "--quiet",
        dest="mode",
        action="store_const",
        const="quiet",
        help="don't print OK for each successfully verified file",
    )
    check.add_argument(
        "--status",
        dest="mode",
        action="store_const",
        const="status",
        help="don't output anything, status code shows success",
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit non-zero for improperly formatted checksum lines",
    )
    check.add_argument(
        "-w",
        "--warn",
        dest="mode",
        action="store_const",
        const="warn",
        help="warn about improperly formatted checksum lines "
        "(of --quiet, --status and --warn the last one wins, as in GNU)",
    )
    check.add_argument(
        "--extra",
        action="store_true",
        help="also fail for files under ROOT that the manifest does not list",
    )
    check.add_argument(
        "--allow-outside",
        dest="allow_outside_root",
        action="store_true",
        help="follow names out of ROOT (.., absolute names, symlinks "
        "out): only for manifests you trust",
    )
    check.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="verify on the Dask cluster of this scheduler (tcp://host:8786; default: "
        "$CHECKSIG_SCHEDULER, else here); every worker must see ROOT at the same path",
    )
    check.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (schema checksig.report/1, see "
        "FORMATS.md) instead of the text lines",
    )
    _common(check)
    check.set_defaults(mode=None)

    make = sub.add_parser(
        "make",
        help="write a manifest for a directory tree",
        description=(
            "Hash every regular file under ROOT and write a manifest that GNU\n"
            "sha256sum -c (or md5sum -c, ...) accepts."
        ),
        epilog=_MAKE_EPILOG,
        formatter_class=fmt,
    )
    make.add_argument("root", metavar="ROOT", help="the directory to hash")
    _algorithm_option(make)
    make.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="where to write (relative to the current directory; - for "
        "stdout; default: ROOT/ALGOsum.txt)",
    )
    make.add_argument(
        "--tag", action="store_true", help="write BSD-style lines: SHA256 (name) = HEX"
    )
    _common(make)

    digest = sub.add_parser(
        "digest",
        help="print the digests of files (like sha256sum FILE...)",
        description="Print the digest of each FILE, hashed in parallel, as sha256sum prints them.",
        epilog=_DIGEST_EPILOG,
        formatter_class=fmt,
    )
    digest.add_argument("files", metavar="FILE", nargs="*", help="files to hash (- for stdin)")
    _algorithm_option(digest)
    digest.add_argument(
        "--tag", action="store_true", help="print BSD-style lines: SHA256 (name) = HEX"
    )
    _common(digest)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "check" and args.manifest is not None and args.root is not None:
        if os.path.isfile(args.root):
            parser.error(f"check: ROOT {args.root!r} is a file and -m is given too")
    io = _Out(sys.stdout.buffer, sys.stderr.buffer)
    commands: dict[str, Callable[[], int]] = {
        "check": lambda: _CheckRun(args, io).run(),
        "make": lambda: cmd_make(args, io),
        "digest": lambda: cmd_digest(args, io),
    }
    try:
        status = commands[args.command]()
        io.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _WriteError as exc:
        # As GNU's tools: say so and fail. What was written is lost; stdout
        # goes to /dev/null so that nothing tries to flush it again.
        _stdout_to_devnull()
        io.err(f"write error: {exc}")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (checksig check | head): exit quietly, as GNU does
        # on SIGPIPE, without Python's "Exception ignored" noise at exit.
        _stdout_to_devnull()
        return EXIT_FAILED
