"""What every ``checksig`` subcommand shares: bytes on stdout and stderr,
exit statuses, the progress line, the common options.

Everything is written as bytes: file names are bytes on POSIX and are never
decoded for output (see _gnu.py for how they are shown).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time

from . import _algorithms, _gnu
from ._feedback import Listener, _stderr_is_a_terminal
from ._lazy import _LazyModule
from ._words import human_bytes

shutil = _LazyModule("shutil")
signal = _LazyModule("signal")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import IO, Any

PROG = "checksig"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: What a closed standard stream answers (GNU's words: strerror(EBADF)).
BAD_FD = os.strerror(errno.EBADF)

#: GNU's name for standard input in messages (quoted by quotef where GNU quotes it).
STDIN_NAME = "standard input"

#: Seconds a run must last before the progress bar appears (FORMATS.md E11).
PROGRESS_DELAY = 1.0


# --- output ----------------------------------------------------------------------------------


class WriteError(Exception):
    """Standard output could not be written (a full disk, /dev/full, a closed
    descriptor, ...)."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C (every ``finally`` runs,
    engine jobs are cancelled and released), then die of the signal.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception``
    on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signals that end a run cleanly (Ctrl-C's SIGINT is Python's own
#: KeyboardInterrupt): what `timeout`, `kill` and a closed terminal send.
TERMINATING_SIGNALS = ("SIGTERM", "SIGHUP")


class terminate_cleanly:
    """``with terminate_cleanly():`` turns SIGTERM and SIGHUP into
    :class:`Terminated` inside the block, so that a run killed by `timeout`
    or a closed terminal removes what it made (issue 15); outside the block
    the previous handlers are back. Does nothing off the main thread, where
    Python cannot set handlers."""

    def __enter__(self) -> None:
        self._previous: list[tuple[int, Any]] = []
        for name in TERMINATING_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:  # pragma: no cover - not on POSIX
                continue
            try:
                self._previous.append((signum, signal.signal(signum, _raise_terminated)))
            except ValueError:  # not the main thread
                return

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous:
            signal.signal(signum, handler)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def die_of(signum: int) -> None:
    """End the process by signum with its default action, as if the signal
    had never been caught: the parent (a shell, `timeout`) sees a death by
    that signal. Called once everything is cleaned up."""
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    os.kill(os.getpid(), signum)


def protect_std_fds() -> None:
    """Put /dev/null on whichever of descriptors 0, 1 and 2 is closed.

    Python then already knows the stream is closed (``sys.stdout is None``),
    and checksig treats it as closed (:class:`Out`, ``Out.stdin``); what
    this prevents is a file opened later (by the engine: a file being hashed,
    a manifest being written) landing on descriptor 1 or 2, where anything
    writing to "standard output" or "standard error" (the Go runtime's own
    fatal messages included) would write into it. Call it first thing in a
    process, before anything is opened.
    """
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, mode)
            if opened != fd:  # pragma: no cover - a lower descriptor was free
                os.close(opened)


class _Closed:
    """A standard stream that was closed when the program started: reading
    or writing it fails with EBADF, as read(2) and write(2) on it would."""

    def _fail(self, *args: object) -> Any:
        raise OSError(errno.EBADF, BAD_FD)

    read = read1 = readline = write = _fail

    def flush(self) -> None:
        pass


class Out:
    """stdout and stderr as bytes (and standard input, for the subcommands
    that read it); stdout is flushed before every stderr line so that the two
    interleave on a terminal as GNU's do.

    A failed write to stdout raises WriteError (BrokenPipeError stays itself:
    a reader that went away is not an error to report); a closed stdout
    (``None``) fails its first write with ``Bad file descriptor``, as GNU's
    ``write error`` says. A message that cannot be written to stderr (closed,
    /dev/full) is lost, as GNU's are, and :meth:`finish` makes the exit
    status 1 for it, as GNU's close_stdout does.
    """

    def __init__(
        self, stdout: IO[bytes] | None, stderr: IO[bytes] | None, stdin: IO[bytes] | None = None
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self._stdin = stdin
        self.stderr_failed = False
        self.stdin_used = False

    @classmethod
    def standard(cls) -> Out:
        """The process's standard streams; each ``None`` if it was closed."""
        return cls(*(getattr(s, "buffer", None) for s in (sys.stdout, sys.stderr, sys.stdin)))

    def out(self, line: bytes) -> None:
        if self.stdout is None:
            raise WriteError(BAD_FD)
        try:
            self.stdout.write(line)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        if self.stdout is None:
            return
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
        if self.stderr is None:
            self.stderr_failed = True
            return
        try:
            self.stderr.write(PROG.encode() + b": " + message + b"\n")
            self.stderr.flush()
        except OSError:
            self.stderr_failed = True

    @property
    def stdin(self) -> IO[bytes]:
        """Standard input as bytes (a closed one fails every read with EBADF)."""
        self.stdin_used = True
        return self._stdin if self._stdin is not None else _Closed()  # type: ignore[return-value]

    def finish(self, status: int) -> int:
        """The run's exit status, after GNU's last words on the standard streams.

        As GNU's ``*sum`` at exit: standard input that was read but is closed
        gets ``standard input: Bad file descriptor`` (its fclose fails), and
        a message that could not reach stderr makes the status 1.
        """
        if self.stdin_used and self._stdin is None:
            self.err(f"{STDIN_NAME}: {BAD_FD}")
            status = status or EXIT_FAILED
        if self.stderr_failed:
            status = status or EXIT_FAILED
        return status


class Writer:
    """A file-like write() onto Out's stdout, for shutil.copyfileobj."""

    def __init__(self, io: Out) -> None:
        self.write = io.out


def stdout_to_devnull() -> None:
    """Point descriptor 1 at /dev/null, so that nothing tries to write (or
    flush) what could not be written again; a closed stdout stays closed."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or not a descriptor (tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
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
    PROGRESS_DELAY seconds. close() erases the bar before any result line.

    One line can follow several jobs in turn (a manifest read from a pipe is
    verified a chunk at a time): :meth:`next_job` carries the files and bytes
    done so far, and a ``streaming`` line shows running totals without a
    percentage, since a stream's end is not known.
    """

    def __init__(
        self,
        enabled: bool,
        stream: IO[str] | None = None,
        label: str = "",
        *,
        streaming: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream is not None
        self.label = label
        self.streaming = streaming
        self.warnings = 0  # malformed manifest lines, all of them (the report lists 1000)
        self._start = time.monotonic()
        self._drawn = 0.0
        self._visible = False
        self._files = self._bytes = 0  # done by the jobs before this one
        self._last = (0, 0)  # this job's files and bytes done, as last seen

    def next_job(self) -> None:
        """Count the job just finished as done and follow the next one."""
        self._files += self._last[0]
        self._bytes += self._last[1]
        self._last = (0, 0)

    def __call__(self, p: Any) -> None:
        self.warnings = _counter(p, "warnings") or 0
        self._last = (_counter(p, "files_done") or 0, _counter(p, "bytes_done") or 0)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < PROGRESS_DELAY or now - self._drawn < 0.1:
            return
        self._drawn = now
        files, done = self._files + self._last[0], self._bytes + self._last[1]
        total, nfiles = _counter(p, "bytes_total"), _counter(p, "files_total")
        rate = done / max(now - self._start, 1e-9)
        if self.streaming:
            text = f"{self.label}: {files} files  {human_bytes(done)}  {human_bytes(rate)}/s"
        elif total is None or nfiles is None:
            text = f"{self.label}: reading the list of files..."
        else:
            pct = 100.0 * done / total if total else 100.0
            text = (
                f"{self.label}: {pct:5.1f}%  {files}/{nfiles} files  "
                f"{human_bytes(done)}/{human_bytes(total)}  {human_bytes(rate)}/s"
            )
        width = shutil.get_terminal_size((80, 24)).columns - 1
        # Visible before the write: a Ctrl-C landing during or just after it
        # must still make close() erase the line.
        self._visible = True
        self._write("\r" + text[:width] + "\x1b[K")

    def close(self) -> None:
        if self._visible:
            self._visible = False
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr went away: no bar then
            self.enabled = self._visible = False


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
  143  ended by SIGTERM (129: SIGHUP), as the shell reports it, once
       nothing the run made is left behind
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
    """argparse's parser, with GNU's answers when a standard stream is closed
    or full: help and version text that cannot be written is a write error
    (exit 1, as ``sha256sum --help >&-``), never text sent elsewhere."""

    def error(self, message: str) -> None:  # argparse's own format; exit 2
        if sys.stderr is not None:  # else argparse would print the usage on stdout
            self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        if not message:
            return
        if file is None or file is sys.stderr:
            # argparse's own rule for stderr: a message it cannot write is lost.
            super()._print_message(message, file)
            return
        try:
            file.write(message)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(exc.strerror or str(exc)) from exc

    def print_help(self, file: IO[str] | None = None) -> None:
        if file is None and sys.stdout is None:
            raise WriteError(BAD_FD)
        super().print_help(file)


def workers_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: one per CPU), got {value}")
    return value


def algorithm_arg(text: str) -> str:
    """-a's type where it names one algorithm (bag, env): any spelling the API
    takes, as the algorithm's name."""
    try:
        return _algorithms.name(_algorithms.code(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown algorithm {text!r} (choose from {', '.join(_algorithms.ALGORITHMS)}, "
            "blake2b-N)"
        ) from None


def _algorithm_word(text: str) -> str:
    """-a's type for check, make and digest: an algorithm in any spelling, or
    GNU cksum's sha2 and sha3 (with -l; checking, the family), as given:
    :func:`resolve_algorithm` reads it with -l."""
    if text.lower() in _algorithms.SPELLINGS or text.lower() in _algorithms.FAMILIES:
        return text
    raise argparse.ArgumentTypeError(
        f"unknown algorithm {text!r} (choose from {', '.join(_algorithms.ALGORITHMS)}, "
        "blake2b-N, or sha2, sha3 and blake2b with -l BITS)"
    )


#: -a's help: every algorithm, and how GNU's cksum spells a length.
ALGORITHM_HELP = (
    "one of " + ", ".join(_algorithms.ALGORITHMS) + ", blake2b-N (N bits: 8, 16, ..., 512), "
    "in any case and GNU's spellings too (SHA3-256); or, as GNU cksum, sha2, sha3 or "
    "blake2b with -l BITS"
)


def algorithm_option(p: argparse.ArgumentParser, *, check: bool = False) -> None:
    """-a/--algorithm and -l/--length, as GNU's cksum and b2sum take them
    (``-a sha3 -l 256``, ``-a blake2b -l 256``, ``-a blake3``); the command's
    ``validate`` reads them together (:func:`resolve_algorithm`). Checking,
    -a names the untagged lines' algorithm and has no default."""
    if check:
        help = (
            "algorithm of untagged lines: "
            + ALGORITHM_HELP
            + ". sha2, sha3 and blake2b read every length of the family, with or without "
            "-l, as GNU cksum -a ALGO -c does (default: from the manifest's name, e.g. "
            "SHA256SUMS or b3sums.txt, else from each digest's length)"
        )
    else:
        help = ALGORITHM_HELP + " (default sha256)"
    p.add_argument(
        "-a",
        "--algorithm",
        metavar="ALGO",
        type=_algorithm_word,
        default=None if check else "sha256",
        help=help,
    )
    p.add_argument(
        "-l",
        "--length",
        metavar="BITS",
        default=None,
        help="digest length in bits, with -a sha2 or sha3 (224, 256, 384 or 512) or blake2b "
        "(a multiple of 8 up to 512), as GNU cksum -l and b2sum -l",
    )


def resolve_algorithm(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *, check: bool = False
) -> None:
    """args.algorithm as -a and -l say it together (GNU's rules,
    _gnu.algorithm_with_length): an algorithm's name, or checking, a family's
    (``sha3``) or None; a usage error (exit 2) otherwise."""
    if args.algorithm is None:
        if args.length is not None:
            parser.error(f"{args.command}: --length needs --algorithm blake2b, sha2, or sha3")
        return
    try:
        args.algorithm = _gnu.algorithm_with_length(args.algorithm, args.length, check=check)
    except ValueError as exc:
        parser.error(f"{args.command}: {exc}")
    args.length = None  # read: a second resolve changes nothing


def tag_options(p: argparse.ArgumentParser) -> None:
    """make's and digest's --tag, --untagged and --base64, as GNU's cksum has them."""
    p.add_argument(
        "--tag",
        action="store_true",
        help="write BSD-style lines: SHA256 (name) = HEX (SHA3-256, BLAKE2b-256, BLAKE3, ...)",
    )
    p.add_argument(
        "--untagged",
        dest="tag",
        action="store_false",
        help="write HEX  name lines (the default; of --tag and --untagged the last one wins, "
        "as in GNU cksum)",
    )
    p.add_argument(
        "--base64",
        action="store_true",
        help="write digests in base64, as GNU cksum --base64 does (cksum -c and checksig "
        "check read them)",
    )


def check_tag(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--tag for an algorithm without a tag form (git-sha1) is a usage error."""
    if args.tag and not _algorithms.tag(args.algorithm):
        parser.error(
            f"{args.command}: {args.algorithm} has no tag form (no tool writes or reads "
            f"'{args.algorithm.upper()} (name) = DIGEST' lines): drop --tag"
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
