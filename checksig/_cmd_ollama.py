"""``checksig ollama [MODEL]``: verify Ollama's models offline, every blob
against its name (FORMATS.md part M)."""

from __future__ import annotations

import argparse

from ._console import EXIT_HELP, Out
from ._report_cli import report_options, run_report

NAME = "ollama"
HELP = "verify Ollama's models, offline"
DESCRIPTION = (
    "Verify Ollama's models without the network: every blob against the sha256 it\n"
    "is named by, each read once however many models share it, and every blob a\n"
    "model's manifest lists present with the manifest's size."
)

EPILOG = (
    """\
The models are in $OLLAMA_MODELS, else ~/.ollama/models.

output: the report (a summary by model, one line per failing blob, notes);
--json writes the checksig.report/1 document instead, each entry labelled
with its model and tag (FORMATS.md E12).

examples:
  checksig ollama                      # every model
  checksig ollama llama3               # one model, every tag
  checksig ollama llama3:8b
  checksig ollama --models /usr/share/ollama/.ollama/models

"""
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """ollama's arguments and options."""
    p.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        default=None,
        help="only this model (name, name:tag, namespace/name:tag)",
    )
    p.add_argument("--models", metavar="D", default=None, help="Ollama's models directory")
    report_options(p, extra="also fail for blobs no manifest lists")


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig ollama``; return the exit status."""
    from . import _stores  # on use: `checksig check` need not import it

    return run_report(io, args, _stores.verify_ollama, args.models, model=args.model)
