"""``checksig store PATH``: verify a store of files named by their digests,
its kind recognised from its layout (FORMATS.md part O)."""

from __future__ import annotations

import argparse

from ._console import EXIT_HELP, Out
from ._report_cli import report_options, run_report

NAME = "store"
HELP = "verify an OCI image layout, Ollama's models or a Hugging Face cache"
DESCRIPTION = (
    "Verify a store whose files are named by their digests, offline, its kind\n"
    "recognised from its layout, in this order: an OCI image layout (an oci-layout\n"
    "file), Ollama's models (blobs/ and manifests/), a folder hf download\n"
    "--local-dir wrote (.cache/huggingface/download/), a Hugging Face hub cache\n"
    "(models--* folders) or one repo folder of it."
)

EPILOG = (
    """\
output: the report (a summary by tag, model or repo, one line per failing blob,
what is wrong with the store itself, notes); --json writes the checksig.report/1
document instead (FORMATS.md E12).

examples:
  checksig store ./image               # skopeo copy docker://... oci:./image:tag
  checksig store ~/.ollama/models
  checksig store ~/.cache/huggingface/hub/models--gpt2
  checksig store ./image --extra       # also fail for blobs nothing reaches

"""
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """store's arguments and options."""
    p.add_argument("path", metavar="PATH", help="the store's directory")
    report_options(p, extra="also fail for blobs nothing uses")


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig store``; return the exit status."""
    from . import _stores  # on use: `checksig check` need not import it

    return run_report(io, args, _stores.verify_store, args.path)
