"""The checksig command line: ``checksig COMMAND ...``.

This module is the frame: the top-level parser, the table of subcommands,
and what every run shares (exit statuses for Ctrl-C, SIGTERM and SIGHUP,
broken pipes, write errors and closed standard streams). Each subcommand is
a module of its own (``_cmd_check``, ``_cmd_make``, ``_cmd_digest``,
``_cmd_bag``, ``_cmd_env``) with

* ``NAME``, ``HELP``, ``DESCRIPTION``, ``EPILOG``: its name and help texts;
* ``add_arguments(parser)``: its arguments and options;
* ``run(args, io) -> int``: the run, writing through a ``_console.Out``;
* optionally ``validate(parser, args)``: usage errors argparse cannot see;
* optionally ``INTERMIXED``: the dest of a ``nargs="*"`` positional whose
  operands may come between options (see :func:`_parse`);

and a new one is that module plus its line in :data:`COMMANDS`. What they
share lives in ``_console``; GNU's rules (names, quoting, lines, verdicts)
in ``_gnu``.
"""

from __future__ import annotations

import argparse
import sys

from . import (
    _cmd_bag,
    _cmd_check,
    _cmd_digest,
    _cmd_env,
    _cmd_hf,
    _cmd_make,
    _cmd_ollama,
    _cmd_store,
)
from ._console import (
    BAD_FD,
    EXIT_FAILED,
    EXIT_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    HelpFormatter,
    Out,
    Parser,
    Terminated,
    WriteError,
    stdout_to_devnull,
    terminate_cleanly,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, in the order ``checksig --help`` lists them.
COMMANDS = (
    _cmd_check,
    _cmd_make,
    _cmd_digest,
    _cmd_bag,
    _cmd_env,
    _cmd_hf,
    _cmd_ollama,
    _cmd_store,
)

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

        if sys.stdout is None:
            raise WriteError(BAD_FD)
        self.version = f"{PROG} {__version__}"
        super().__call__(parser, namespace, values, option_string)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line's parser: the frame, then each of COMMANDS.

    With ``only`` (a command's name), the frame and that command alone: what
    parsing a run of that command needs, and every message it can print is
    the same (building all nine parsers costs ~5 ms a run, a few percent of
    checking a big file).
    """
    parser = Parser(
        prog=PROG,
        description="Verify files against checksum manifests, fast and in parallel.",
        epilog=_top_epilog(),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS if only is None else (_BY_NAME[only],):
        p = sub.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            epilog=command.EPILOG,
            formatter_class=HelpFormatter,
        )
        command.add_arguments(p)
    return parser


#: Exit status of a run ended by a signal it caught (SIGTERM: 143), as
#: shells report one; the console script then dies of the signal itself.
EXIT_SIGNAL_BASE = 128


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Whatever happens to the standard streams (closed, /dev/full, a reader
    gone) or to the process (Ctrl-C, SIGTERM, SIGHUP), the answer is a
    message and an exit status, never a traceback; a signal unwinds the run
    first, so that nothing it made is left behind.
    """
    io = Out.standard()
    try:
        with terminate_cleanly():
            status = _run(argv, io)
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
    except Terminated as exc:
        status = EXIT_SIGNAL_BASE + exc.signum
    except WriteError as exc:
        # As GNU's tools: say so and fail. What was written is lost; stdout
        # goes to /dev/null so that nothing tries to flush it again.
        stdout_to_devnull()
        io.err(f"write error: {exc}")
        status = EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (checksig check | head): exit quietly, as GNU does
        # on SIGPIPE, without Python's "Exception ignored" noise at exit.
        stdout_to_devnull()
        status = EXIT_FAILED
    return io.finish(status)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parser.parse_args(argv), with operands and options in any order, as
    GNU's getopt takes them (``checksig check A --quiet B``).

    argparse fills a ``nargs="*"`` positional once, from the operands before
    the first option, and calls the others unrecognized. A command that names
    such a positional in ``INTERMIXED`` gets them appended to it, in order;
    anything else unrecognized (an unknown option) is a usage error still.
    """
    args, extras = parser.parse_known_args(argv)
    command = _BY_NAME.get(args.command)
    dest = getattr(command, "INTERMIXED", None)
    if extras and dest is not None:
        operands = argv[argv.index("--") + 1 :] if "--" in argv else []
        if all(a == "-" or not a.startswith("-") or a in operands for a in extras):
            setattr(args, dest, [*getattr(args, dest), *extras])
            extras = []
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _run(argv: list[str] | None, io: Out) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # A run that names its command first needs only that command's parser;
    # anything else (--help, --version, no or an unknown command) all of them.
    parser = build_parser(argv[0] if argv and argv[0] in _BY_NAME else None)
    try:
        args = _parse(parser, argv)
        command = _BY_NAME.get(args.command)
        validate = getattr(command, "validate", None)
        if validate is not None:
            validate(parser, args)
    except SystemExit as exc:  # --help and --version (0), usage errors (2)
        if sys.stdout is not None:
            try:
                sys.stdout.flush()  # the help or version text: a full disk says so now
            except BrokenPipeError:
                raise
            except OSError as err:
                raise WriteError(err.strerror or str(err)) from err
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 1
    if command is None:
        if sys.stderr is not None:
            parser.print_help(sys.stderr)
        return EXIT_USAGE
    status = command.run(args, io)
    io.flush()
    return status
