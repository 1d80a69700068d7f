"""``checksig digest``: print the digests of files, hashed in parallel, as
GNU's ``sha256sum FILE...`` prints them (FORMATS.md D1, D2, D4, D5)."""

from __future__ import annotations

import argparse
import os

from . import _algorithms, _api, _gnu
from ._console import (
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_OK,
    Out,
    ProgressLine,
    algorithm_option,
    check_tag,
    common_options,
    progress_enabled,
    resolve_algorithm,
    stdout_is_tty,
    tag_options,
)
from ._lazy import _LazyModule

# Imported on first use: base64 for --base64, the spool for standard input.
base64 = _LazyModule("base64")
shutil = _LazyModule("shutil")
tempfile = _LazyModule("tempfile")
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

NAME = "digest"
HELP = "print the digests of files (like sha256sum FILE...)"
DESCRIPTION = "Print the digest of each FILE, hashed in parallel, as sha256sum prints them."

EPILOG = (
    """\
Prints one line per FILE exactly as the algorithm's tool does: sha256sum (or
md5sum, ...), b2sum [-l N], cksum -a sha3 -l N --untagged, b3sum (--tag:
their BSD lines; --base64: cksum --base64's digests); with no FILE, or when
FILE is -, reads standard input. Names holding a backslash, newline or
carriage return are escaped as GNU escapes them (not with -z); on a
terminal, names holding other control characters are escaped too (\\xHH).

examples:
  checksig digest *.tar.gz
  checksig digest -a md5 --tag big.iso
  checksig digest -a blake3 model.safetensors      # like: b3sum model.safetensors
  checksig digest -a sha3 -l 256 --tag data.csv    # like: cksum -a sha3 -l 256 data.csv
  checksig digest -a blake2b -l 128 *.bin          # like: b2sum -l 128 *.bin
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
    tag_options(p)
    p.add_argument(
        "-z",
        "--zero",
        action="store_true",
        help="end each output line with NUL, not newline, and disable file name escaping "
        "(as sha256sum -z)",
    )
    common_options(p)


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """-a with -l, and --tag for an algorithm that has a tag form."""
    resolve_algorithm(parser, args)
    check_tag(parser, args)


def _hashlib(algorithm: str) -> Any:
    """A hashlib object computing algorithm, or None where hashlib has none
    (blake3, git-sha1)."""
    import hashlib

    if algorithm.startswith("blake2b"):
        return hashlib.blake2b(digest_size=_algorithms.SIZES[algorithm])
    if algorithm in hashlib.algorithms_guaranteed:
        return hashlib.new(algorithm)
    return None


def _digest_stdin(algorithm: str, io: Out) -> str | OSError:
    """Standard input's hex digest, or the OSError reading it raised (closed:
    EBADF). hashlib streams it; for blake3 and git-sha1 (whose header needs
    the size first) it goes through a temporary file that has no name
    (nothing is left behind, whatever ends the run), which the engine hashes."""
    h = _hashlib(algorithm)
    stream = io.stdin
    if h is None:
        with tempfile.TemporaryFile(prefix="checksig-stdin-") as spool:
            try:
                shutil.copyfileobj(stream, spool, 1 << 20)
            except OSError as exc:
                return exc
            spool.flush()
            spool.seek(0)
            try:
                return _api.file_digest(f"/dev/fd/{spool.fileno()}", algorithm)
            except OSError as exc:
                return exc
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
        if args.base64:
            result = base64.b64encode(bytes.fromhex(result)).decode("ascii")
        line = _gnu.manifest_line(
            raw, result, args.algorithm, tag=args.tag, safe=safe, zero=args.zero
        )
        io.out(line)
    return status
