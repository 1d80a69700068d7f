"""What the report-printing subcommands (``bag``, ``env``, ``hf``, ``ollama``,
``store``) share: their verify and output options, and the run that calls
their verify function, prints its Report or its JSON and turns it into an
exit status."""

from __future__ import annotations

import argparse
import os

from ._console import (
    EXIT_FAILED,
    EXIT_OK,
    Out,
    ProgressLine,
    algorithm_arg,
    common_options,
    progress_enabled,
)
from ._errors import ManifestError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable


def report_options(p: argparse.ArgumentParser, *, extra: str, algorithm: str | None = None) -> None:
    """The options after a subcommand's own: -a/--algorithm (when ``algorithm``
    says what it selects), --extra (``extra`` says what it adds), --json,
    --quiet, -j and --progress."""
    if algorithm is not None:
        p.add_argument(
            "-a", "--algorithm", metavar="ALGO", type=algorithm_arg, default=None, help=algorithm
        )
    p.add_argument("--extra", action="store_true", help=extra)
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
    common_options(p)


def run_report(
    io: Out, args: argparse.Namespace, verify: Callable[..., Any], *operands: Any, **keywords: Any
) -> int:
    """Run ``verify(*operands, **keywords)`` (a verify entry point returning a
    Report) with the options of :func:`report_options`, print the report,
    return 0 if it is ok, else 1.

    A whole-run error (no such directory, nothing to check) is one
    ``checksig: MESSAGE`` line on stderr and exit status 1.
    """
    progress = ProgressLine(progress_enabled(args.progress), label=args.command)
    try:
        report = verify(
            *operands,
            algorithm=getattr(args, "algorithm", None),
            workers=args.jobs,
            extra=args.extra,
            progress=progress,
            **keywords,
        )
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
