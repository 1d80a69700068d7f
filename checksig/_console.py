"""What every ``checksig`` subcommand shares: bytes on stdout and stderr,
exit statuses, the progress line, the common options.

Everything is written as bytes: file names are bytes on POSIX and are never
decoded for output (see _gnu.py for how they are shown).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from . import _algorithms
from ._feedback import Listener, _stderr_is_a_terminal
from ._lazy import _LazyModule
from ._words import human_bytes

shutil = _LazyModule("shutil")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import IO, Any

PROG = "checksig"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Seconds a run must last before the progress bar appears (FORMATS.md E11).
PROGRESS_DELAY = 1.0


# --- output ----------------------------------------------------------------------------------


class WriteError(Exception):
    """Standard output could not be written (a full disk, /dev/full, ...)."""


class Out:
    """stdout and stderr as bytes; stdout is flushed before every stderr line
    so that the two interleave on a terminal as GNU's do. A failed write to
    stdout raises WriteError (BrokenPipeError stays itself: a reader that
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
            raise WriteError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(exc.strerror or str(exc)) from exc

    def err(self, message: bytes | str) -> None:
        if isinstance(message, str):
            message = os.fsencode(message)
        self.flush()
        self.stderr.write(PROG.encode() + b": " + message + b"\n")
        self.stderr.flush()


class Writer:
    """A file-like write() onto Out's stdout, for shutil.copyfileobj."""

    def __init__(self, io: Out) -> None:
        self.write = io.out


def stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


# --- progress --------------------------------------------------------------------------------


def _counter(p: Any, name: str) -> int | None:
    """A counter of a progress snapshot (a _feedback.Snapshot, a Progress or
    the 0.1 dict: each has the dict's get); None when unknown."""
    value = p.get(name)
    if value is None or value < 0:
        return None
    return int(value)


class ProgressLine(Listener):
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


def progress_enabled(choice: bool | None) -> bool:
    return _stderr_is_a_terminal() if choice is None else choice


# --- options and help --------------------------------------------------------------------------


EXIT_HELP = """\
exit status:
  0    every check passed
  1    a check failed, a file could not be read, (check) the manifest is
       unusable, or the output could not be written: as GNU coreutils'
       sha256sum -c
  2    usage error (bad option or argument)
  130  interrupted (Ctrl-C)
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
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


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own format; exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def workers_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: one per CPU), got {value}")
    return value


def algorithm_arg(text: str) -> str:
    """-a's type: any spelling the API takes, as the hashlib name."""
    try:
        return _algorithms.name(_algorithms.code(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown algorithm {text!r} (choose from {', '.join(_algorithms.NAMES)})"
        ) from None


def algorithm_option(p: argparse.ArgumentParser) -> None:
    """-a/--algorithm for the commands that hash (make, digest): sha256 by default."""
    p.add_argument(
        "-a",
        "--algorithm",
        metavar="ALGO",
        type=algorithm_arg,
        default="sha256",
        help="one of " + ", ".join(_algorithms.NAMES) + " (default sha256)",
    )


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-j",
        "--jobs",
        metavar="N",
        type=workers_arg,
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
