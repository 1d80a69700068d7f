"""``checksig check``: verify files against a manifest, answering like GNU's
``sha256sum -c``: the same stdout lines, the same stderr reason and summary
lines, word for word, and the same exit status. FORMATS.md (part E) states
every rule; _gnu.py holds GNU's own; tests/test_gnu_diff.py compares the
result with the real GNU tools. Only the program name differs: ``checksig: ``
where GNU writes ``sha256sum: ``.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from . import _algorithms, _api, _gnu, _kinds, _native, _report, _words
from ._console import (
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_OK,
    Out,
    ProgressLine,
    algorithm_arg,
    common_options,
    progress_enabled,
)
from ._errors import ManifestError
from ._lazy import _LazyModule

# What only some runs need is imported on first use: json for --json,
# tempfile and shutil for a manifest on standard input.
json = _LazyModule("json")
shutil = _LazyModule("shutil")
tempfile = _LazyModule("tempfile")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

NAME = "check"
HELP = "verify files against a manifest (like sha256sum -c)"
DESCRIPTION = (
    "Verify the files under ROOT against a checksum manifest, answering like\n"
    "GNU sha256sum -c: the same lines, the same summary, the same exit status.\n"
    "Reads every format *sum -c reads (HEX  name, HEX *name, SHA256 (name) = HEX,\n"
    "escaped names, CRLF), several algorithms in one file included."
)

EPILOG = (
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
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """check's arguments and options."""
    p.add_argument(
        "root",
        metavar="ROOT",
        nargs="?",
        default=None,
        help="the directory the manifest's names are relative to (default: the current "
        "directory). If ROOT is a file and -m is not given, ROOT is the manifest and "
        "names are relative to the current directory, as with sha256sum -c FILE.",
    )
    p.add_argument(
        "-m",
        "--manifest",
        metavar="MANIFEST",
        default=None,
        help=f"the manifest (relative to the current directory; - reads standard input; "
        f"default: ROOT/{_api.DEFAULT_MANIFEST})",
    )
    p.add_argument(
        "-a",
        "--algorithm",
        metavar="ALGO",
        type=algorithm_arg,
        default=None,
        help="algorithm of untagged lines: " + ", ".join(_algorithms.NAMES) + " (default: from "
        "the manifest's name, e.g. SHA256SUMS, else from each digest's length)",
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
        "--extra",
        action="store_true",
        help="also fail for files under ROOT that the manifest does not list",
    )
    p.add_argument(
        "--allow-outside",
        dest="allow_outside_root",
        action="store_true",
        help="follow names out of ROOT (.., absolute names, symlinks "
        "out): only for manifests you trust",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (schema checksig.report/1, see "
        "FORMATS.md) instead of the text lines",
    )
    common_options(p)
    p.set_defaults(mode=None)


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors argparse cannot see (they exit 2)."""
    if args.manifest is not None and args.root is not None and os.path.isfile(args.root):
        parser.error(f"check: ROOT {args.root!r} is a file and -m is given too")


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig check``; return the exit status."""
    return _CheckRun(args, io).run()


def spool_stdin(path: str) -> None:
    """Copy standard input to path, line by line, for the engine to read.

    A line longer than the engine accepts is not copied, so an endless
    stream (``-m - < /dev/zero``) cannot fill the disk: it becomes a short
    line the engine treats the same way (a comment stays a comment, anything
    else is malformed), which keeps line numbers and counts as GNU's.
    """
    stdin = sys.stdin.buffer
    with open(path, "wb") as out:
        while True:
            line = stdin.readline(_gnu.MAX_LINE + 2)
            if not line:
                return
            if len(line) > _gnu.MAX_LINE + 1 and not line.endswith(b"\n"):
                comment = line.startswith(b"#")
                while line and not line.endswith(b"\n"):
                    line = stdin.readline(1 << 20)  # drain the rest of the line
                out.write(b"#\n" if comment else b"\0\n")
                continue
            out.write(line)


class _CheckRun:
    """One ``checksig check``: the GNU-shaped rendering of a Report."""

    def __init__(self, args: argparse.Namespace, io: Out) -> None:
        self.args = args
        self.io = io
        self.mode: str | None = args.mode  # None, "quiet", "status" or "warn" (last one wins)
        self.shown = b""  # the manifest's name as the user gave it, for messages
        self.algo_word = ""
        self.kind: Any = _gnu  # the manifest's kind (_kinds), known once it is located

    def _improper(self, line: int) -> None:
        self.io.err(_gnu.improper_line(self.shown, line, self.algo_word))

    def run(self) -> int:
        # The spool directory is made inside the try, so Ctrl-C or an error
        # while standard input is being copied leaves nothing behind.
        spool = None
        try:
            if self.args.manifest == "-":
                spool = tempfile.mkdtemp(prefix="checksig-stdin-")
                spool_stdin(os.path.join(spool, "standard-input"))
            return self._run(spool)
        finally:
            if spool:
                shutil.rmtree(spool, ignore_errors=True)

    def _run(self, spool: str | None) -> int:
        args = self.args
        root, manifest, shown = self._locate(spool)
        self.shown = _gnu.quotef(os.fsencode(shown))
        # What the manifest's kind knows of its own files (today every manifest
        # is GNU's kind): the algorithm its name implies, its malformed lines.
        self.kind = _kinds.detect(manifest)
        algo = args.algorithm or (None if spool else self.kind.algorithm_from_name(manifest))
        self.algo_word = _algorithms.tag(algo) if algo else ""
        progress = ProgressLine(progress_enabled(args.progress), label=os.path.basename(shown))
        try:
            report = _api.verify(
                root,
                manifest,
                algorithm=args.algorithm,
                workers=args.jobs,
                ignore_missing=args.ignore_missing,
                extra=args.extra,
                allow_outside_root=args.allow_outside_root,
                progress=progress,
            )
        except (ManifestError, OSError) as exc:
            progress.close()  # erase the bar before any message
            if isinstance(exc, ManifestError):
                return self._manifest_error(exc, manifest)
            return self._os_error(exc, root, shown)
        finally:
            progress.close()
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
            default = _api.DEFAULT_MANIFEST
            shown = default if args.root is None else os.path.join(root, default)
            return root, os.path.abspath(os.path.join(root, default)), shown
        if spool is not None:
            return root, os.path.join(spool, "standard-input"), "standard input"
        return root, os.path.abspath(args.manifest), args.manifest

    def _manifest_error(self, exc: Exception, manifest: str) -> int:
        message = str(exc)
        if "no properly formatted" in message or "no checksum lines found" in message:
            if self.args.json:
                self._json_error("manifest", _gnu.NO_LINES)
            elif self.mode == "warn":
                for line in self.kind.malformed_lines(manifest):
                    self._improper(line)
            self.io.err(self.shown + b": " + _gnu.NO_LINES.encode())
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
        self.io.err(_gnu.quotef(name) + b": " + os.fsencode(reason))
        return EXIT_FAILED

    def _json_error(self, kind: str, message: str) -> None:
        doc = {
            "schema": _report.JSON_SCHEMA,
            "error": {"kind": kind, "message": message},
            "summary": None,
            "entries": [],
            "warnings": [],
        }
        self.io.out(json.dumps(doc).encode() + b"\n")

    def _exit_status(
        self, matched: bool, n_mismatch: int, n_unread: int, n_extra: int, n_malformed: int
    ) -> int:
        """GNU's verdict (FORMATS.md E8): some entry OK and nothing failed."""
        ok = _gnu.exit_ok(matched, n_mismatch, n_unread, n_extra, n_malformed, self.args.strict)
        return EXIT_OK if ok else EXIT_FAILED

    def _is_ignored(self, status: str, errnum: int) -> bool:
        # GNU ignores only what fopen reports as ENOENT (FORMATS.md E5).
        return self.args.ignore_missing and status == "missing" and errnum in (0, errno.ENOENT)

    def _text(self, report: Any, nwarnings: int) -> int:
        io, mode = self.io, self.mode
        printing = mode != "status"
        warnings = sorted(report.warnings)
        n_malformed = max(nwarnings, len(warnings))
        pending_warnings = list(warnings) if mode == "warn" else []
        w = 0
        matched = False
        n_mismatch = n_unread = n_extra = 0
        reason = _words.reason  # the words to_json() uses (FORMATS.md E3)
        reader = report._rows
        if mode in ("quiet", "status"):
            # An OK row prints nothing here: visit only the others.
            not_ok = reader.where(lambda code: code != _native.ST_OK)
            matched = len(not_ok) < len(report)
            rows = reader.raw(not_ok)
        else:
            rows = reader.raw()
        for _, raw, status, errnum, line, _, _ in rows:
            while w < len(pending_warnings) and line and pending_warnings[w][0] < line:
                self._improper(pending_warnings[w][0])
                w += 1
            name, escaped = _gnu.display_name(raw)
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
            elif status == "not_checked":
                pass  # listed without a digest (a RECORD's own line): no verdict to print
            elif not self._is_ignored(status, errnum):
                n_unread += 1
                io.err(_gnu.quotef(raw) + b": " + reason(status, errnum).encode())
                if printing:
                    io.out(prefix + name + b": FAILED open or read\n")
        for line, _ in pending_warnings[w:]:
            self._improper(line)
        if printing:
            for warning in _gnu.summary_warnings(n_malformed, n_unread, n_mismatch, n_extra):
                io.err(warning)
            if self.args.ignore_missing and not matched:
                io.err(self.shown + b": no file was verified")
        return self._exit_status(matched, n_mismatch, n_unread, n_extra, n_malformed)

    def _json(self, report: Any, nwarnings: int, root: str, shown: str) -> int:
        counts = {name: 0 for name in _native.STATUSES}
        counts.update(report.counts())
        n_malformed = max(nwarnings, len(report.warnings))
        reader = report._rows
        matched = counts.get("ok", 0) > 0
        # Every status but ok, mismatch and extra is a file not read; of the
        # missing ones, _is_ignored's do not count.
        n_unread = len(report) - counts["ok"] - counts["mismatch"] - counts["extra"]
        n_unread -= counts["not_checked"]  # listed without a digest: no failure
        errnums = reader.columns["errnum"]
        ignored = (
            sum(
                self._is_ignored("missing", errnums[i])
                for i in reader.where(lambda code: code == _native.ST_MISSING)
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
            "schema": _report.JSON_SCHEMA,
            "root": os.fsencode(root).decode("utf-8", "replace"),
            "manifest": os.fsencode(shown).decode("utf-8", "replace"),
            "summary": summary,
        }
        out = self.io.out
        out(json.dumps(head)[:-1].encode() + b', "entries": [')
        dumps = json.dumps  # once: a lazy module costs ~1 us a lookup
        sep = b"\n  "
        for entry in reader.entries():
            out(sep + dumps(entry).encode())
            sep = b",\n  "
        warnings = [{"line": line, "message": msg} for line, msg in report.warnings]
        out(b"\n], " + json.dumps({"warnings": warnings})[1:].encode() + b"\n")
        return exit_status
