"""``checksig check``: verify files against manifests, answering like GNU's
``sha256sum -c``: the same stdout lines, the same stderr reason and summary
lines, word for word, and the same exit status. FORMATS.md (part E) states
every rule; _gnu.py holds GNU's own; tests/test_gnu_diff.py compares the
result with the real GNU tools. Only the program name differs: ``checksig: ``
where GNU writes ``sha256sum: ``.

Several manifests are checked one after the other, each with its own
section of output (its lines, its warnings, its summary), as GNU does, and
the run fails if any of them does (E13). A manifest file is verified by one
engine job (``_api.verify``); standard input is verified as it arrives, one
job per chunk of whole lines (``_chunks``), so a manifest from a pipe is
never copied anywhere and its lines are answered while it is still being
written (issue 15).
"""

from __future__ import annotations

import argparse
import errno
import os
from collections import Counter

from . import _algorithms, _api, _chunks, _gnu, _jobs, _kinds, _native, _report, _words
from ._console import (
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_OK,
    EXIT_USAGE,
    STDIN_NAME,
    Out,
    ProgressLine,
    algorithm_option,
    common_options,
    progress_enabled,
    resolve_algorithm,
    stdout_is_tty,
)
from ._errors import ManifestError
from ._lazy import _LazyModule, np
from ._options import VerifyOptions
from ._rows import Rows

# What only some runs need is imported on first use: json for --json.
json = _LazyModule("json")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

NAME = "check"
HELP = "verify files against manifests (like sha256sum -c)"
DESCRIPTION = (
    "Verify files against checksum manifests, answering like GNU sha256sum -c:\n"
    "the same lines, the same summaries, the same exit status. Reads every\n"
    "format *sum -c reads (HEX  name, HEX *name, SHA256 (name) = HEX, escaped\n"
    "names, CRLF), several algorithms in one file included, and those of b2sum,\n"
    "cksum (SHA-3, base64 digests) and b3sum."
)

EPILOG = (
    """\
ROOT or MANIFEST...:
  no argument        ./sha1sum.txt, names relative to .
  a directory        ROOT: ROOT/sha1sum.txt (or -m's manifests), names relative to ROOT
  files (or -)       the manifests, checked one after the other, names relative to
                     the current directory: checksig check A B does what
                     sha256sum -c A B does; - reads standard input as it arrives

output (as GNU's sha256sum -c; see FORMATS.md):
  stdout   NAME: OK | NAME: FAILED | NAME: FAILED open or read
           (NAME: FAILED not listed with --extra)
  stderr   checksig: NAME: REASON for each file that could not be read, then
           for each manifest:
           WARNING: N lines are improperly formatted
           WARNING: N listed files could not be read
           WARNING: N computed checksums did NOT match
           MANIFEST: ... read as sha256 ..., but blake3 gives F its listed
             digest ...: when every line read with an algorithm nothing named
             failed (FORMATS.md B5)
  names    escaped as GNU 9.1 does (\\new\\nline: OK), control characters too;
           --shell-quote: quoted as GNU 9.11+ does ('new'$'\\n''line': OK);
           -z: as they are, each line ended by NUL

examples:
  checksig check                     # ./sha1sum.txt against the files in .
  checksig check SHA256SUMS          # like: sha256sum -c SHA256SUMS
  checksig check MD5SUMS SHA1SUMS    # each in turn, a summary each, one exit status
  checksig check B2SUMS              # like: b2sum -c B2SUMS (every -l length)
  checksig check -a sha3 SUMS        # like: cksum -a sha3 -c SUMS (SHA-3, any length)
  checksig check -a blake3 checksums.txt        # b3sum's lines under another name
  curl -sL URL/SHA256SUMS | checksig check -    # answered as the lines arrive
  checksig check data -m data.sha256 --quiet
  checksig check data -m a.sha256 -m b.sha256   # two manifests of one tree
  checksig check dataset --extra     # also fail for files not listed
  checksig check bag -m bag/manifest-sha512.txt   # a BagIt bag
  checksig check -m SUMS --json | jq .summary
  checksig check -z --quiet SUMS | sed -z 's/: FAILED.*//' | xargs -0r ls -ld --

"""
    + EXIT_HELP
)

#: How arguments name standard input.
STDIN_ARG = "-"

#: Operands may come between options, as GNU's: check A --quiet B (see _cli._parse).
INTERMIXED = "paths"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """check's arguments and options."""
    p.add_argument(
        "paths",
        metavar="ROOT | MANIFEST",
        nargs="*",
        default=[],
        help="one directory: the ROOT the manifest's names are relative to (default: the "
        "current directory). Otherwise the manifests to check, in order, names relative to "
        "the current directory, as with sha256sum -c FILE...; - reads standard input.",
    )
    p.add_argument(
        "-m",
        "--manifest",
        metavar="MANIFEST",
        action="append",
        default=None,
        help=f"a manifest (relative to the current directory; - reads standard input); "
        f"repeat for several, checked in order (default: ROOT/{_api.DEFAULT_MANIFEST})",
    )
    algorithm_option(p, check=True)
    p.add_argument(
        "--untagged",
        action="store_true",
        help="accepted and ignored, as GNU cksum --check takes it (untagged lines are always read)",
    )
    p.add_argument(
        "--ignore-missing",
        action="store_true",
        help="don't fail or report status for missing files",
    )
    p.add_argument(
        "--quiet",
        dest="mode",
        action="store_const",
        const="quiet",
        help="don't print OK for each successfully verified file",
    )
    p.add_argument(
        "--status",
        dest="mode",
        action="store_const",
        const="status",
        help="don't output anything, status code shows success",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit non-zero for improperly formatted checksum lines",
    )
    p.add_argument(
        "-w",
        "--warn",
        dest="mode",
        action="store_const",
        const="warn",
        help="warn about improperly formatted checksum lines "
        "(of --quiet, --status and --warn the last one wins, as in GNU)",
    )
    p.add_argument(
        "-z",
        "--zero",
        action="store_true",
        help="end each output line with NUL, not newline, and write names as they are "
        "(on a terminal, names with control characters are still escaped)",
    )
    p.add_argument(
        "--shell-quote",
        action="store_true",
        help="show names on stdout quoted for the shell when needed, as GNU coreutils "
        "9.11+ does ('with space': OK); default: as GNU 9.1 shows them",
    )
    p.add_argument(
        "--extra",
        action="store_true",
        help="also fail for files under ROOT that the manifest does not list "
        "(with several manifests: that none of them lists)",
    )
    p.add_argument(
        "--allow-outside",
        dest="allow_outside_root",
        action="store_true",
        help="follow names out of ROOT (.., absolute names, symlinks "
        "out): only for manifests you trust",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="verify manifest files on the Dask cluster of this scheduler (tcp://host:8786; "
        "default: $CHECKSIG_SCHEDULER, else here); every worker must see ROOT at the same "
        "path; standard input is verified here",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (schema checksig.report/1, see "
        "FORMATS.md; one document per manifest) instead of the text lines",
    )
    common_options(p)
    p.set_defaults(mode=None)


class _Source:
    """One manifest of a run: its path for the engine (None: standard input)
    and how it was given, which is how messages name it."""

    __slots__ = ("given", "path")

    def __init__(self, path: str | None, given: str) -> None:
        self.path = path
        self.given = given

    @classmethod
    def named(cls, arg: str) -> _Source:
        """The manifest an argument names (``-``: standard input)."""
        if arg == STDIN_ARG:
            return cls(None, STDIN_NAME)
        return cls(os.path.abspath(arg), arg)

    @property
    def shown(self) -> bytes:
        """The name in diagnostics, quoted as GNU quotes it (E10)."""
        return _gnu.quotef(os.fsencode(self.given))


def plan(args: argparse.Namespace) -> tuple[str, list[_Source]]:
    """(ROOT, the manifests in order) for check's arguments (FORMATS.md E1, E13).

    Raises ValueError for arguments that do not go together (a usage error).
    """
    paths: list[str] = args.paths
    manifests: list[str] | None = args.manifest
    if manifests:
        if len(paths) > 1:
            raise ValueError(
                f"with -m, give at most one ROOT (got {len(paths)} arguments); "
                f"repeat -m for several manifests"
            )
        if paths and os.path.isfile(paths[0]):
            raise ValueError(f"ROOT {paths[0]!r} is a file and -m is given too")
        return (paths[0] if paths else "."), [_Source.named(m) for m in manifests]
    if not paths or (len(paths) == 1 and paths[0] != STDIN_ARG and os.path.isdir(paths[0])):
        # ROOT (by default the current directory) and its sha1sum.txt.
        root = paths[0] if paths else "."
        shown = os.path.join(root, _api.DEFAULT_MANIFEST) if paths else _api.DEFAULT_MANIFEST
        return root, [_Source(os.path.abspath(os.path.join(root, _api.DEFAULT_MANIFEST)), shown)]
    # `checksig check A B -`: like `sha256sum -c A B -`.
    return ".", [_Source.named(p) for p in paths]


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors argparse cannot see (they exit 2); sets args.root and
    args.sources (the manifests, in order)."""
    resolve_algorithm(parser, args, check=True)
    try:
        args.root, args.sources = plan(args)
    except ValueError as exc:
        parser.error(f"check: {exc}")
    if args.zero and args.json:
        parser.error("check: -z/--zero shapes the text lines; --json writes JSON")


def _dask_client(address: str | None) -> Any:
    """A Dask client of --scheduler or $CHECKSIG_SCHEDULER (issue 17), or None.

    Raises ImportError (a usage error: Dask is not installed) or OSError (the
    scheduler cannot be reached)."""
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


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig check``; return the exit status."""
    if not hasattr(args, "sources"):
        args.root, args.sources = plan(args)
    return _CheckRun(args, io).run()


# --- what a run adds up ---------------------------------------------------------------------------


class _Tally:
    """One section's counts: what its summary lines, JSON summary and
    verdict (E6, E8, E12) are made of."""

    __slots__ = ("counts", "entries", "ignored", "malformed")

    def __init__(self) -> None:
        self.entries = 0
        self.counts = dict.fromkeys(_native.STATUSES, 0)
        self.ignored = 0  # missing files --ignore-missing leaves out (E5)
        self.malformed = 0

    def add(self, rows: Rows, index: list[int] | None, ignore_missing: bool) -> None:
        """Count rows (those in index, or all)."""
        if index is None:
            self.entries += len(rows)
            counts = rows.counts()
        else:
            self.entries += len(index)
            counts = Counter(status for _, _, status, *_ in rows.raw(index))
        for name, n in counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        if ignore_missing and counts.get("missing"):
            errnums = rows.columns["errnum"]
            missing = rows.where(lambda code: code == _native.ST_MISSING)
            if index is not None:
                missing = sorted(set(missing).intersection(index))
            self.ignored += sum(_ignored(errnums[i]) for i in missing)

    @property
    def matched(self) -> bool:
        return self.counts["ok"] > 0

    @property
    def unread(self) -> int:
        """Files that could not be read (every status but ok, mismatch, extra
        and not_checked), missing ones that --ignore-missing leaves out aside."""
        c = self.counts
        listed_only = c.get("not_checked", 0)  # listed without a digest: no failure
        return self.entries - c["ok"] - c["mismatch"] - c["extra"] - listed_only - self.ignored


def _ignored(errnum: int) -> bool:
    # GNU ignores only what fopen reports as ENOENT (FORMATS.md E5).
    return errnum in (0, errno.ENOENT)


class _Listed:
    """The names the manifests listed, for --extra's one walk of ROOT at the
    end (E13): a stream's chunks, or several manifests, are verified by jobs
    that each see only part of the list."""

    def __init__(self) -> None:
        self._names: list[bytes] = []
        self._lengths: list[Any] = []

    def add(self, rows: Rows) -> None:
        """Every row's name."""
        c = rows.columns
        if not c.rows:
            return
        off = np.asarray(c["path_offsets"])
        self._names.append(c["paths"][off[0] : off[-1]].tobytes())
        self._lengths.append(np.diff(off))

    def add_name(self, name: bytes) -> None:
        """One name more (a manifest under ROOT, which is not extra)."""
        self._names.append(name)
        self._lengths.append(np.array([len(name)], dtype=np.int64))

    def entries(self) -> _native.Entries:
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        return _native.Entries(b"".join(self._names), offsets)


# --- sections of output ---------------------------------------------------------------------------


class _TextSection:
    """One manifest's part of the text output: its lines in manifest order,
    then its summary (E2-E6); or, ``extra_only``, the files no manifest lists
    when several were checked with --extra (E13)."""

    def __init__(self, run: _CheckRun, name: bytes, *, extra_only: bool = False) -> None:
        self.run = run
        self.io = run.io
        self.shown = _gnu.quotef(name)  # the manifest in messages (E10)
        self.extra_only = extra_only
        self.algo_word = ""  # B4: the algorithm --warn names
        self.tally = _Tally()
        self.inference: _algorithms.Inference | None = None  # B5

    def infer(self, inference: _algorithms.Inference | None) -> None:
        """What a job of this manifest inferred (B5), added to the earlier jobs'."""
        if inference is not None:
            self.inference = inference.merged(self.inference) if self.inference else inference

    def _improper(self, line: int) -> None:
        self.io.err(_gnu.improper_line(self.shown, line, self.algo_word))

    def rows(
        self,
        rows: Rows,
        warnings: list[tuple[int, str]],
        n_malformed: int,
        all_malformed: Callable[[], list[int]] | None = None,
        index: list[int] | None = None,
    ) -> None:
        """Show rows (those in index, or all), with the --warn lines of the
        malformed lines among them in line order (E4). ``warnings`` lists at
        most 1000 of the ``n_malformed``; ``all_malformed`` gives every one."""
        run, io, mode = self.run, self.io, self.run.mode
        self.tally.add(rows, index, run.args.ignore_missing)
        self.tally.malformed += n_malformed
        pending: list[int] = []
        if mode == "warn" and n_malformed:
            if n_malformed > len(warnings) and all_malformed is not None:
                pending = all_malformed()
            else:
                pending = sorted(line for line, _ in warnings)
        if mode in ("quiet", "status"):
            # An OK row prints nothing here: visit only the others.
            not_ok = rows.where(lambda code: code != _native.ST_OK)
            index = not_ok if index is None else sorted(set(not_ok).intersection(index))
        printing = mode != "status"
        name_of, eol, w = run.name_of, run.eol, 0
        for _, raw, status, errnum, line, _, _ in rows.raw(index):
            while w < len(pending) and line and pending[w] < line:
                self._improper(pending[w])
                w += 1
            if status == "ok":
                if mode not in ("quiet", "status"):
                    io.out(name_of(raw) + b": OK" + eol)
            elif status == "mismatch":
                if printing:
                    io.out(name_of(raw) + b": FAILED" + eol)
            elif status == "extra":
                if printing:
                    io.out(name_of(raw) + b": FAILED not listed" + eol)
            elif status == "not_checked":
                pass  # listed without a digest (a RECORD's own line): no verdict to print
            elif not (run.args.ignore_missing and status == "missing" and _ignored(errnum)):
                why = _words.reason(status, errnum) or status  # to_json()'s words (E3)
                io.err(_gnu.quotef(raw) + b": " + why.encode())
                if printing:
                    io.out(name_of(raw) + b": FAILED open or read" + eol)
        for line in pending[w:]:
            self._improper(line)

    def no_lines(self, malformed: list[int]) -> bool:
        """A manifest without a usable line (A11): its --warn lines, then GNU's message."""
        if self.run.mode == "warn":
            for line in malformed:
                self._improper(line)
        self.io.err(self.shown + b": " + _gnu.NO_LINES.encode())
        return False

    def error(self, kind: str, name: bytes, reason: str) -> bool:
        """A whole-run error: ``checksig: NAME: REASON`` (NAME quoted, E10)."""
        self.io.err(_gnu.quotef(name) + b": " + os.fsencode(reason))
        return False

    def finish(self) -> bool:
        """The summary lines (E6); returns the section's verdict (E8)."""
        t, args = self.tally, self.run.args
        c = t.counts
        if self.extra_only:
            if self.run.mode != "status" and c["extra"]:
                for line in _gnu.summary_warnings(0, 0, 0, c["extra"], "any manifest"):
                    self.io.err(line)
            return not c["extra"]
        if self.run.mode != "status":
            for line in _gnu.summary_warnings(t.malformed, t.unread, c["mismatch"], c["extra"]):
                self.io.err(line)
            if args.ignore_missing and not t.matched:
                self.io.err(self.shown + b": no file was verified")
            warning = self.inference and self.inference.warning(_shown, _as_option)
            if warning:
                self.io.err(self.shown + b": " + os.fsencode(warning))
        return _gnu.exit_ok(
            t.matched, c["mismatch"], t.unread, c["extra"], t.malformed, args.strict
        )


class _JsonSection:
    """One manifest's ``checksig.report/1`` document (E12).

    A manifest file's document is written whole once its report is in, its
    summary first; a stream's is written as it goes (its entries as each
    chunk is verified), so its warnings and summary come last.
    """

    #: The most warnings a document lists (the engine keeps as many per job).
    MAX_WARNINGS = 1000

    def __init__(
        self, run: _CheckRun, name: bytes | None, *, stream: bool, extra_only: bool = False
    ) -> None:
        self.run = run
        self.io = run.io
        self.name = name  # the manifest as given; None for --extra's own document
        self.stream = stream
        self.extra_only = extra_only
        self.algo_word = ""
        self.tally = _Tally()
        self.inference: _algorithms.Inference | None = None
        self.warnings: list[tuple[int, str]] = []
        self._deferred: list[tuple[Rows, list[int] | None]] = []
        self._open = False  # a stream's head is written, its entries under way
        self._sep = b"\n  "

    def _head(self) -> dict[str, Any]:
        return {
            "schema": _report.JSON_SCHEMA,
            "root": os.fsencode(self.run.root).decode("utf-8", "replace"),
            "manifest": None if self.name is None else self.name.decode("utf-8", "replace"),
        }

    infer = _TextSection.infer

    def _inference(self) -> dict[str, Any]:
        """The document's ``inference`` (E12, B5), when lines' algorithm was assumed."""
        if self.inference is None:
            return {}
        return {"inference": self.inference.to_dict(_shown, _as_option)}

    def _entries(self, rows: Rows, index: list[int] | None) -> None:
        out, dumps, sep = self.io.out, json.dumps, self._sep
        for entry in rows.entries(index):
            out(sep + dumps(entry).encode())
            sep = b",\n  "
        self._sep = sep

    def _begin_entries(self, head: dict[str, Any]) -> None:
        self.io.out(json.dumps(head)[:-1].encode() + b', "entries": [')

    def _end_entries(self) -> None:
        self.io.out(b"\n], ")

    def rows(
        self,
        rows: Rows,
        warnings: list[tuple[int, str]],
        n_malformed: int,
        all_malformed: Callable[[], list[int]] | None = None,
        index: list[int] | None = None,
    ) -> None:
        self.tally.add(rows, index, self.run.args.ignore_missing)
        self.tally.malformed += n_malformed
        self.warnings += warnings[: self.MAX_WARNINGS - len(self.warnings)]
        if not self.stream:
            self._deferred.append((rows, index))
            return
        if not (len(rows) if index is None else len(index)):
            return  # a chunk of comments: a stream without entries gets the error document
        if not self._open:
            self._begin_entries(self._head())
            self._open = True
        self._entries(rows, index)

    def no_lines(self, malformed: list[int]) -> bool:
        self._error("manifest", _gnu.NO_LINES)
        self.io.err(_gnu.quotef(self.name or b"") + b": " + _gnu.NO_LINES.encode())
        return False

    def error(self, kind: str, name: bytes, reason: str) -> bool:
        """A whole-run error: the error document (or, for a stream whose
        entries are under way, its end with the error), and the message of
        the text output on stderr."""
        self._error(kind, f"{os.fsdecode(name)}: {reason}" if name else reason)
        if name:
            self.io.err(_gnu.quotef(name) + b": " + os.fsencode(reason))
        return False

    def _error(self, kind: str, message: str) -> None:
        error = {"kind": kind, "message": message}
        if self._open:
            self._end_entries()
            tail = {"warnings": self._warning_list(), "summary": None, "error": error}
            self.io.out(json.dumps(tail)[1:].encode() + b"\n")
            self._open = False
        else:
            doc = {**self._head(), "error": error, "summary": None, "entries": [], "warnings": []}
            self.io.out(json.dumps(doc).encode() + b"\n")

    def _warning_list(self) -> list[dict[str, Any]]:
        return [{"line": line, "message": msg} for line, msg in self.warnings]

    def _summary(self, passed: bool) -> dict[str, Any]:
        t = self.tally
        return {
            "entries": t.entries,
            "counts": t.counts,
            "improperly_formatted": t.malformed,
            "could_not_be_read": t.unread,
            "ignored_missing": t.ignored,
            "passed": passed,
            "exit_status": EXIT_OK if passed else EXIT_FAILED,
        }

    def finish(self) -> bool:
        t, args = self.tally, self.run.args
        c = t.counts
        if self.extra_only:
            passed = not c["extra"]
        else:
            passed = _gnu.exit_ok(
                t.matched, c["mismatch"], t.unread, c["extra"], t.malformed, args.strict
            )
        summary = self._summary(passed)
        if self.stream:
            if not self._open:
                self._begin_entries(self._head())
            self._end_entries()
            tail = {"warnings": self._warning_list(), **self._inference(), "summary": summary}
            self.io.out(json.dumps(tail)[1:].encode() + b"\n")
            self._open = False
            return passed
        self._begin_entries({**self._head(), "summary": summary, **self._inference()})
        for rows, index in self._deferred:
            self._entries(rows, index)
        self._end_entries()
        self.io.out(json.dumps({"warnings": self._warning_list()})[1:].encode() + b"\n")
        return passed


def _shown(raw: bytes) -> str:
    """A file's name in an algorithm warning (B5), quoted as GNU quotes names (E10)."""
    return _gnu.quotef(raw).decode("utf-8", "surrogateescape")


def _as_option(alg: str) -> str:
    """How the command line names an algorithm, in an algorithm warning (B5)."""
    return f"-a {alg}"


# --- the run --------------------------------------------------------------------------------------


class _StdinError(Exception):
    """Standard input could not be read (closed, a directory, an I/O error)."""


def _stdin_chunks(read: Callable[[int], bytes]) -> Any:
    try:
        yield from _chunks.manifest_chunks(read)
    except OSError as exc:
        raise _StdinError(exc) from exc


class _CheckRun:
    """One ``checksig check``: every manifest in turn, each rendered as GNU
    renders it."""

    def __init__(self, args: argparse.Namespace, io: Out) -> None:
        self.args = args
        self.io = io
        self.mode: str | None = args.mode  # None, "quiet", "status" or "warn" (last one wins)
        self.root: str = args.root
        self.sources: list[_Source] = args.sources
        self.eol = b"\0" if args.zero else b"\n"
        if args.shell_quote:
            style = "shell"
        elif args.zero and not stdout_is_tty():
            style = "raw"
        else:
            style = "escape"
        self.style = style
        several = len(self.sources) > 1
        # --extra: with one manifest file, its own job walks ROOT; otherwise
        # one job at the end over every name listed (E13).
        self.listed = (
            _Listed() if args.extra and (several or self.sources[0].path is None) else None
        )
        self.extra_section = args.extra and several
        self.client: Any = None  # a Dask client with --scheduler (run() makes it)

    def name_of(self, raw: bytes) -> bytes:
        """A name as stdout shows it (E9, E14, E15)."""
        return _gnu.check_name(raw, self.style)

    def run(self) -> int:
        try:
            self.client = _dask_client(self.args.scheduler)  # None without --scheduler
        except (ImportError, OSError) as exc:
            self.io.err(str(exc))
            return EXIT_USAGE if isinstance(exc, ImportError) else EXIT_FAILED
        try:
            ok = True
            for source in self.sources:
                ok = self._check(source) and ok
            if self.extra_section:
                ok = self._check_extra() and ok
        finally:
            if self.client is not None:
                self.client.close()
        return EXIT_OK if ok else EXIT_FAILED

    def _section(self, source: _Source | None) -> Any:
        """The output of one manifest (None: --extra's own, with several)."""
        name = None if source is None else os.fsencode(source.given)
        if self.args.json:
            stream = source is not None and source.path is None
            return _JsonSection(self, name, stream=stream, extra_only=source is None)
        return _TextSection(self, name or b"", extra_only=source is None)

    def _options(self) -> VerifyOptions:
        args = self.args
        return VerifyOptions(
            algorithm=args.algorithm,
            workers=args.jobs,
            ignore_missing=args.ignore_missing,
            allow_outside_root=args.allow_outside_root,
        )

    def _check(self, source: _Source) -> bool:
        section = self._section(source)
        if source.path is None:
            return self._check_stream(source, section)
        return self._check_file(source, source.path, section)

    # -- a manifest file: one engine job

    def _check_file(self, source: _Source, manifest: str, section: Any) -> bool:
        args = self.args
        if self.listed is not None:
            self._list_manifest(manifest)
        # What the manifest's kind knows of its own files (today every manifest
        # is GNU's kind): the algorithm its name implies, its malformed lines.
        kind = _kinds.detect(manifest)
        section.algo_word = _algorithms.warn_word(
            args.algorithm or kind.algorithm_from_name(manifest)
        )
        progress = ProgressLine(
            progress_enabled(args.progress), label=os.path.basename(source.given)
        )
        try:
            report = _api.verify(
                self.root,
                manifest,
                algorithm=args.algorithm,
                workers=args.jobs,
                ignore_missing=args.ignore_missing,
                extra=args.extra and self.listed is None,
                allow_outside_root=args.allow_outside_root,
                progress=progress,
                client=self.client,
            )
        except ManifestError as exc:
            progress.close()  # erase the bar before any message
            if "no properly formatted" in str(exc) or "no checksum lines found" in str(exc):
                malformed = kind.malformed_lines(manifest) if self.mode == "warn" else []
                return section.no_lines(malformed)
            return section.error("manifest", b"", str(exc))  # pragma: no cover - never strict
        except OSError as exc:
            progress.close()
            return self._os_error(section, exc, os.fsencode(source.given))
        finally:
            progress.close()
        rows = report._rows
        section.infer(report.inference)
        if self.listed is not None:
            self.listed.add(rows)

        def all_malformed() -> list[int]:
            lines = rows.columns["line"]
            if kind is not _gnu:  # pragma: no cover - only GNU's kind has --warn lines
                return sorted(line for line, _ in report.warnings)
            return _gnu.malformed_lines(manifest, (lines[i] for i in range(len(rows))))

        n_malformed = max(progress.warnings, len(report.warnings))
        section.rows(rows, sorted(report.warnings), n_malformed, all_malformed)
        return section.finish()

    def _list_manifest(self, manifest: str) -> None:
        """A manifest file under ROOT is not an extra file (as the engine's own
        --extra leaves out the manifest it reads)."""
        name = os.path.relpath(manifest, os.path.abspath(self.root))
        if name != os.curdir and not name.startswith(os.pardir):
            self.listed.add_name(os.fsencode(name))  # type: ignore[union-attr]

    def _os_error(self, section: Any, exc: OSError, name: bytes) -> bool:
        """ROOT or a manifest that cannot be used: name the one it is."""
        if exc.filename is not None and os.fsencode(exc.filename) == os.fsencode(self.root):
            name = os.fsencode(self.root)
        return section.error("os", name, exc.strerror or str(exc))

    # -- standard input: one engine job per chunk of whole lines, as it arrives

    def _check_stream(self, source: _Source, section: Any) -> bool:
        args = self.args
        options = self._options()
        alg, workers, flags = options.engine()
        family = options.family()
        flags |= _native.F_ALLOW_EMPTY
        section.algo_word = _algorithms.warn_word(args.algorithm)
        progress = ProgressLine(progress_enabled(args.progress), label=STDIN_NAME, streaming=True)
        line, form = 1, _native.FORM_UNDECIDED
        entries = 0
        try:
            for chunk in _stdin_chunks(self.io.stdin.read1):
                try:
                    columns, warnings, info, state, inference = self._verify_chunk(
                        chunk, line, form, (alg, family), workers, flags, progress
                    )
                except ManifestError as exc:  # pragma: no cover - chunks are never strict
                    return section.error("manifest", b"", str(exc))
                except OSError as exc:  # ROOT is missing (or went away)
                    return self._os_error(section, exc, STDIN_NAME.encode())
                finally:
                    progress.close()  # erase the bar before this chunk's lines
                rows = Rows(columns)
                section.infer(inference)

                def all_malformed(
                    chunk: bytes = chunk, first: int = line, rows: Rows = rows
                ) -> list[int]:
                    lines = rows.columns["line"].tolist()
                    return _gnu.malformed_lines_in(chunk, first, lines)

                n_malformed = max(info.warnings_total or 0, len(warnings))
                section.rows(rows, sorted(warnings), n_malformed, all_malformed)
                if self.listed is not None:
                    self.listed.add(rows)
                entries += len(rows)
                line, form = state
                progress.next_job()
        except _StdinError:
            # GNU's words, whatever the OS said; what was read has been answered.
            return section.error("os", STDIN_NAME.encode(), _gnu.READ_ERROR)
        if not entries:
            return section.no_lines([])  # its --warn lines went with their chunks
        if self.listed is not None and not self.extra_section:
            try:
                extra = self._extra_rows()
            except OSError as exc:
                return self._os_error(section, exc, os.fsencode(exc.filename or self.root))
            section.rows(extra, [], 0, index=extra.where(lambda c: c == _native.ST_EXTRA))
        return section.finish()

    def _verify_chunk(
        self,
        chunk: bytes,
        line: int,
        form: int,
        choice: tuple[int, int],
        workers: int,
        flags: int,
        progress: ProgressLine,
    ) -> tuple[Any, list[tuple[int, str]], Any, tuple[int, int], Any]:
        """(columns, warnings, RunInfo, parse state, Inference or None) of one
        chunk's job; choice is the (algorithm, family) asked for."""
        native = _native._Job(
            _native.JOB_VERIFY,
            algorithm=choice[0],
            family=choice[1],
            workers=workers,
            flags=flags,
            root=os.fsencode(self.root),
            manifest=STDIN_NAME.encode(),
            manifest_data=chunk,
            first_line=line,
            form=form,
        )

        def build(columns: Any, warnings: list, info: Any) -> tuple[Any, list, Any, tuple, Any]:
            # Both asked before the job is freed.
            state, inference = native.parse_state(), _api.inference_of(native, columns)
            return columns, warnings, info, state, inference

        return _jobs.run(
            _jobs.Job, native, build, kind="verify", desc=STDIN_NAME, progress=progress
        )

    # -- --extra over several manifests, or a stream

    def _extra_rows(self) -> Rows:
        """The names-only job over every listed name: its EXTRA rows are the
        files under ROOT no manifest lists. Raises OSError if ROOT cannot be
        walked."""
        args = self.args
        progress = ProgressLine(progress_enabled(args.progress), label="--extra")
        flags = _native.F_PARSE_ONLY | _native.F_EXTRA
        if args.allow_outside_root:
            flags |= _native.F_ALLOW_OUTSIDE
        try:
            native = _native._Job(
                _native.JOB_VERIFY,
                algorithm=_algorithms.code("sha256"),  # names only: any algorithm will do
                flags=flags,
                root=os.fsencode(self.root),
                entries=self.listed.entries(),  # type: ignore[union-attr]
            )
            columns = _jobs.run(
                _jobs.Job,
                native,
                lambda c, w, i: c,
                kind="verify",
                desc="--extra",
                progress=progress,
            )
            return Rows(columns, has_expected=False)
        finally:
            progress.close()

    def _check_extra(self) -> bool:
        """With several manifests, --extra's own section (E13)."""
        section = self._section(None)
        try:
            extra = self._extra_rows()
        except OSError as exc:
            return self._os_error(section, exc, os.fsencode(exc.filename or self.root))
        section.rows(extra, [], 0, index=extra.where(lambda c: c == _native.ST_EXTRA))
        return section.finish()
