"""The checksig command line: ``checksig COMMAND ...``.

This module is the frame: the top-level parser, the table of subcommands,
and what every run shares (exit statuses for Ctrl-C, broken pipes and write
errors). Each subcommand is a module of its own (``_cmd_check``,
``_cmd_make``, ``_cmd_digest``, ``_cmd_bag``, ``_cmd_env``) with

* ``NAME``, ``HELP``, ``DESCRIPTION``, ``EPILOG``: its name and help texts;
* ``add_arguments(parser)``: its arguments and options;
* ``run(args, io) -> int``: the run, writing through a ``_console.Out``;
* optionally ``validate(parser, args)``: usage errors argparse cannot see;

and a new one is that module plus its line in :data:`COMMANDS`. What they
share lives in ``_console``; GNU's rules (names, quoting, lines, verdicts)
in ``_gnu``.
"""

from __future__ import annotations

import argparse
import sys

from . import _cmd_bag, _cmd_check, _cmd_digest, _cmd_env, _cmd_make
from ._console import (
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    HelpFormatter,
    Out,
    Parser,
    WriteError,
    stdout_to_devnull,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, in the order ``checksig --help`` lists them.
COMMANDS = (_cmd_check, _cmd_make, _cmd_digest, _cmd_bag, _cmd_env)

_BY_NAME = {command.NAME: command for command in COMMANDS}


def _top_epilog() -> str:
    lines = [f"  {c.NAME:<8}{c.HELP}" for c in COMMANDS]
    return (
        "commands:\n"
        + "\n".join(lines)
        + "\n\nRun `checksig COMMAND --help` for a command's options and examples.\n\n"
        + EXIT_HELP
    )


class _Version(argparse._VersionAction):
    """``--version``, which looks the version up only when asked: finding it
    (importlib.metadata) costs ~20 ms, which every run would otherwise pay."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        from . import __version__

        self.version = f"{PROG} {__version__}"
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser: the frame, then each of COMMANDS."""
    parser = Parser(
        prog=PROG,
        description="Verify files against checksum manifests, fast and in parallel.",
        epilog=_top_epilog(),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        p = sub.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            epilog=command.EPILOG,
            formatter_class=HelpFormatter,
        )
        command.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    command = _BY_NAME[args.command]
    validate = getattr(command, "validate", None)
    if validate is not None:
        validate(parser, args)
    io = Out(sys.stdout.buffer, sys.stderr.buffer)
    try:
        status = command.run(args, io)
        io.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except WriteError as exc:
        # As GNU's tools: say so and fail. What was written is lost; stdout
        # goes to /dev/null so that nothing tries to flush it again.
        stdout_to_devnull()
        io.err(f"write error: {exc}")
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (checksig check | head): exit quietly, as GNU does
        # on SIGPIPE, without Python's "Exception ignored" noise at exit.
        stdout_to_devnull()
        return EXIT_FAILED
