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
    check_tag,
    common_options,
    progress_enabled,
    resolve_algorithm,
    stdout_is_tty,
    tag_options,
)
from ._lazy import _LazyModule

# For -o - only: the manifest goes through a temporary directory to stdout.
shutil = _LazyModule("shutil")
tempfile = _LazyModule("tempfile")

NAME = "make"
HELP = "write a manifest for a directory tree"
DESCRIPTION = (
    "Hash every regular file under ROOT and write a manifest that GNU\n"
    "sha256sum -c (or md5sum -c, b2sum -c, cksum -c, b3sum --check) accepts."
)

EPILOG = (
    """\
The manifest lists every regular file under ROOT (sorted, names relative to
ROOT, '/' separated) in the form the algorithm's tool writes, byte for byte:
sha256sum (md5sum, ...), b2sum [-l N], cksum -a sha3 -l N --untagged, b3sum;
with --tag, their BSD lines (SHA256 (name) = HEX, SHA3-256, BLAKE2b-256,
BLAKE3); with --base64, what cksum --base64 writes. Symlinks, FIFOs, devices
and the manifest itself are not listed. It is written atomically (a
temporary file, then a rename); by default to ROOT/ALGOsum.txt, a name
checksig check reads the algorithm from (sha3_256sum.txt, blake3sum.txt).

examples:
  checksig make data                      # writes data/sha256sum.txt
  checksig make data -a md5 -o MD5SUMS    # MD5SUMS in the current directory
  checksig make data --tag -o -           # BSD tags, to stdout
  checksig make data -a blake3 -o b3sums.txt        # what b3sum writes
  checksig make data -a blake2b -l 256 -o B2SUMS    # what b2sum -l 256 writes
  checksig make data -a sha3 -l 256 --tag -o SUMS   # what cksum -a sha3 -l 256 writes
  checksig make data -a sha512 --base64 --tag -o -  # what cksum -a sha512 --base64 writes

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
    tag_options(p)
    common_options(p)


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """-a with -l, and --tag for an algorithm that has a tag form."""
    resolve_algorithm(parser, args)
    check_tag(parser, args)


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig make``; return the exit status."""
    progress = ProgressLine(progress_enabled(args.progress), label="make")
    to_stdout = args.output == "-"
    tmpdir = tempfile.mkdtemp(prefix="checksig-make-") if to_stdout else None
    try:
        if tmpdir is not None:
            output: str | None = os.path.join(tmpdir, _api.default_manifest_name(args.algorithm))
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
                base64=args.base64,
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
                        name, digest = _gnu.parse_own_line(line[:-1], algorithm, tag, args.base64)
                        io.out(_gnu.manifest_line(name, digest, algorithm, tag=tag, safe=True))
                else:
                    io.flush()
                    shutil.copyfileobj(f, Writer(io))
        return EXIT_OK
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
