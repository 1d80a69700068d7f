"""``checksig digest``: print the digests of files, hashed in parallel, as
GNU's ``sha256sum FILE...`` prints them (FORMATS.md D1, D2, D4, D5)."""

from __future__ import annotations

import argparse
import os

from . import _api, _gnu
from ._console import (
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_OK,
    Out,
    ProgressLine,
    algorithm_option,
    common_options,
    progress_enabled,
    stdout_is_tty,
)

NAME = "digest"
HELP = "print the digests of files (like sha256sum FILE...)"
DESCRIPTION = "Print the digest of each FILE, hashed in parallel, as sha256sum prints them."

EPILOG = (
    """\
Prints one line per FILE exactly as sha256sum (or md5sum, ...) does; with no
FILE, or when FILE is -, reads standard input. Names holding a backslash,
newline or carriage return are escaped as GNU escapes them (not with -z); on
a terminal, names holding other control characters are escaped too (\\xHH).

examples:
  checksig digest *.tar.gz
  checksig digest -a md5 --tag big.iso
  cat file | checksig digest -
  checksig digest -z -- * | xargs -0 ...     # NUL-ended lines, names as they are

"""
    + EXIT_HELP
)


#: Operands may come between options, as GNU's: digest A --tag B (see _cli._parse).
INTERMIXED = "files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """digest's arguments and options."""
    p.add_argument("files", metavar="FILE", nargs="*", help="files to hash (- for stdin)")
    algorithm_option(p)
    p.add_argument("--tag", action="store_true", help="print BSD-style lines: SHA256 (name) = HEX")
    p.add_argument(
        "-z",
        "--zero",
        action="store_true",
        help="end each output line with NUL, not newline, and disable file name escaping "
        "(as sha256sum -z)",
    )
    common_options(p)


def _digest_stdin(algorithm: str, io: Out) -> str | OSError:
    """Standard input's digest, or the OSError reading it raised (closed: EBADF)."""
    import hashlib

    h = hashlib.new(algorithm)
    stream = io.stdin
    try:
        for block in iter(lambda: stream.read(1 << 20), b""):
            h.update(block)
    except OSError as exc:
        return exc
    return h.hexdigest()


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig digest``; return the exit status."""
    files: list[str] = args.files or ["-"]
    safe = stdout_is_tty()
    real = [f for f in files if f != "-"]
    results: dict[int, str | OSError] = {}
    progress = ProgressLine(progress_enabled(args.progress), label="digest")
    try:
        try:
            digests = (
                _api.digest_files(real, args.algorithm, workers=args.jobs, progress=progress)
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
                    results[i] = _api.file_digest(f, args.algorithm)
                except OSError as exc:
                    results[i] = exc
    finally:
        progress.close()
    status = EXIT_OK
    for i, f in enumerate(files):
        raw = os.fsencode(f)
        result = _digest_stdin(args.algorithm, io) if f == "-" else results[i]
        if isinstance(result, OSError):
            io.err(_gnu.quotef(raw) + b": " + os.fsencode(result.strerror or str(result)))
            status = EXIT_FAILED
            continue
        line = _gnu.manifest_line(
            raw, result, args.algorithm, tag=args.tag, safe=safe, zero=args.zero
        )
        io.out(line)
    return status
