"""What the report-printing subcommands (``bag``, ``env``) share: their
output options and the run that prints a Report or its JSON and turns it
into an exit status."""

from __future__ import annotations

import argparse
import os

from ._console import EXIT_FAILED, EXIT_OK, Out, ProgressLine
from ._errors import ManifestError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable


def report_options(p: argparse.ArgumentParser) -> None:
    """--json and --quiet."""
    p.add_argument(
        "--json",
        action="store_true",
        help="write the checksig.report/1 JSON document on stdout",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing when everything is ok (the exit status says it)",
    )


def run_report(
    io: Out, args: argparse.Namespace, progress: ProgressLine, work: Callable[[], Any]
) -> int:
    """Run ``work()`` (a Report), print it, return 0 if it is ok, else 1.

    A whole-run error (no such directory, nothing to check) is one
    ``checksig: MESSAGE`` line on stderr and exit status 1.
    """
    try:
        report = work()
    except (ManifestError, OSError, ValueError) as exc:
        progress.close()
        if isinstance(exc, OSError) and exc.filename is not None:
            message = f"{os.fsdecode(exc.filename)}: {exc.strerror or exc}"
        else:
            message = str(exc)
        io.err(message)
        return EXIT_FAILED
    finally:
        progress.close()
    if args.json:
        io.out(report.to_json().encode() + b"\n")
    elif not (args.quiet and report.ok):
        io.out(str(report).encode("utf-8", "surrogateescape") + b"\n")
    return EXIT_OK if report.ok else EXIT_FAILED
