"""``checksig make``: hash every regular file under ROOT and write a manifest
that GNU's ``sha256sum -c`` reads (FORMATS.md D1-D3, D5)."""

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
    Writer,
    algorithm_option,
    common_options,
    progress_enabled,
    stdout_is_tty,
)
from ._lazy import _LazyModule

# For -o - only: the manifest goes through a temporary directory to stdout.
shutil = _LazyModule("shutil")
tempfile = _LazyModule("tempfile")

NAME = "make"
HELP = "write a manifest for a directory tree"
DESCRIPTION = (
    "Hash every regular file under ROOT and write a manifest that GNU\n"
    "sha256sum -c (or md5sum -c, ...) accepts."
)

EPILOG = (
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
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """make's arguments and options."""
    p.add_argument("root", metavar="ROOT", help="the directory to hash")
    algorithm_option(p)
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="where to write (relative to the current directory; - for "
        "stdout; default: ROOT/ALGOsum.txt)",
    )
    p.add_argument("--tag", action="store_true", help="write BSD-style lines: SHA256 (name) = HEX")
    common_options(p)


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig make``; return the exit status."""
    progress = ProgressLine(progress_enabled(args.progress), label="make")
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
            path = _api.make_manifest(
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
            io.err(_gnu.quotef(os.fsencode(name)) + b": " + os.fsencode(exc.strerror or str(exc)))
            return EXIT_FAILED
        finally:
            progress.close()
        if tmpdir is not None:
            with open(path, "rb") as f:
                if stdout_is_tty():
                    algorithm, tag = args.algorithm, args.tag
                    for line in f:
                        name, hexdigest = _gnu.parse_own_line(line[:-1], algorithm, tag)
                        io.out(_gnu.manifest_line(name, hexdigest, algorithm, tag=tag, safe=True))
                else:
                    io.flush()
                    shutil.copyfileobj(f, Writer(io))
        return EXIT_OK
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
