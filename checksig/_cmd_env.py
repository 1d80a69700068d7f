"""``checksig env [PREFIX]``: check every installed file of a Python
environment (RECORD) or conda environment (conda-meta) against what its
installer recorded (FORMATS.md parts I and J)."""

from __future__ import annotations

import argparse
import sys

from ._console import EXIT_HELP, Out
from ._report_cli import report_options, run_report

NAME = "env"
HELP = "check an installed Python or conda environment"
DESCRIPTION = (
    "Check every file installed in an environment against its installer's record:\n"
    "each *.dist-info/RECORD in its site-packages (pip, uv, ...) and, in a conda\n"
    "environment, each conda-meta/*.json record. Failures are named with their\n"
    "package. Files listed without a digest (.pyc caches, RECORD itself) are\n"
    "listed as not checked, which is no failure."
)

EPILOG = (
    """\
output: the report (a summary by package, one line per failing file, notes);
--json writes the checksig.report/1 document instead, each entry labelled
with its package (FORMATS.md E12).

examples:
  checksig env                         # the running Python's environment
  checksig env /opt/conda/envs/ml      # a conda environment
  checksig env .venv -p numpy -p scipy # only these packages
  checksig env --json | jq '.entries[] | select(.status != "ok")'

"""
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """env's arguments and options."""
    p.add_argument(
        "prefix",
        metavar="PREFIX",
        nargs="?",
        default=None,
        help=f"the environment's prefix (default: this Python's, {sys.prefix})",
    )
    p.add_argument(
        "-p",
        "--package",
        dest="packages",
        metavar="NAME",
        action="append",
        default=None,
        help="check only this distribution or conda package (repeatable)",
    )
    report_options(
        p,
        algorithm="check only digests of this algorithm (others: not checked)",
        extra="also fail for every file under PREFIX that no record lists",
    )


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig env``; return the exit status."""
    from . import _ecosystems  # on use: `checksig check` need not import it

    prefix = args.prefix if args.prefix is not None else sys.prefix
    return run_report(io, args, _ecosystems.verify_environment, prefix, packages=args.packages)
