"""``python -m checksig`` and the ``checksig`` console script: see ``_cli.py``."""

from __future__ import annotations

import os
import sys

from ._cli import EXIT_SIGNAL_BASE, main
from ._console import EXIT_FAILED, TERMINATING_SIGNALS, die_of, protect_std_fds

__all__ = ["main", "run"]


def run() -> None:
    """Run the command line, then exit at once with its status.

    The interpreter's own teardown (collecting the garbage of every module
    loaded, twice) costs ~10 ms, a quarter of what a small ``checksig
    check`` spends beyond Python's start-up, and does nothing a finished
    run needs: every file it wrote is closed, its engine job released. So
    once the standard streams are flushed, the process ends with os._exit;
    a run that SIGTERM or SIGHUP ended (and unwound: see _cli.main) ends by
    that signal, as the shell or `timeout` that sent it expects.
    """
    protect_std_fds()
    status = main()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a stream closed or gone: its output is lost
        status = status or EXIT_FAILED
    if status > EXIT_SIGNAL_BASE:
        import signal

        signum = status - EXIT_SIGNAL_BASE
        if any(getattr(signal, name, None) == signum for name in TERMINATING_SIGNALS):
            die_of(signum)
    os._exit(status)


if __name__ == "__main__":
    run()
