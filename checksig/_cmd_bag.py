"""``checksig bag PATH``: validate a BagIt bag (RFC 8493) as bagit-python's
``bagit.py --validate`` does, naming every failure (FORMATS.md part K)."""

from __future__ import annotations

import argparse

from ._console import EXIT_HELP, Out
from ._report_cli import report_options, run_report

NAME = "bag"
HELP = "validate a BagIt bag (RFC 8493), every failure named"
DESCRIPTION = (
    "Validate a BagIt bag: bagit.txt, every manifest-ALG.txt and tagmanifest-ALG.txt\n"
    "(every algorithm, every file), the payload's completeness (files in data/ that\n"
    "no manifest lists), the Payload-Oxum and fetch.txt (read, never downloaded).\n"
    "Its verdict agrees with bagit-python's; unlike it, every failure is named."
)

EPILOG = (
    """\
output: the report (one line per failing file, the bag's problems, notes);
--json writes the checksig.report/1 document instead (FORMATS.md E12).

examples:
  checksig bag my-bag                 # like: bagit.py --validate my-bag
  checksig bag my-bag --fast          # the Payload-Oxum only (file count, bytes)
  checksig bag my-bag -a sha256       # only the sha256 manifests
  checksig bag my-bag --json | jq .problems

"""
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """bag's arguments and options."""
    p.add_argument("path", metavar="PATH", help="the bag's directory")
    p.add_argument(
        "--fast",
        action="store_true",
        help="check only the Payload-Oxum (file count and bytes), hash nothing",
    )
    report_options(
        p,
        algorithm="read only the manifests of this algorithm (default: all of them)",
        extra="also fail for unlisted files outside data/ (tag directories)",
    )


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig bag``; return the exit status."""
    from . import _ecosystems  # on use: `checksig check` need not import it

    return run_report(io, args, _ecosystems.verify_bag, args.path, fast=args.fast)
