"""``python -m checksig`` and the ``checksig`` console script: see ``_cli.py``."""

from __future__ import annotations

import os
import sys

from ._cli import main
from ._console import EXIT_FAILED

__all__ = ["main", "run"]


def run() -> None:
    """Run the command line, then exit at once with its status.

    The interpreter's own teardown (collecting the garbage of every module
    loaded, twice) costs ~10 ms, a quarter of what a small ``checksig
    check`` spends beyond Python's start-up, and does nothing a finished
    run needs: every file it wrote is closed, its engine job released. So
    once the standard streams are flushed, the process ends with os._exit.
    """
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a stream closed or gone: its output is lost
        status = status or EXIT_FAILED
    os._exit(status)


if __name__ == "__main__":
    run()
