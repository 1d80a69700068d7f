"""``checksig hf [REPO_ID]``: verify the Hugging Face hub cache offline, each
file against the digest its blob is named by (FORMATS.md part L)."""

from __future__ import annotations

import argparse

from ._console import EXIT_HELP, Out
from ._report_cli import report_options, run_report

NAME = "hf"
HELP = "verify the Hugging Face hub cache, offline"
DESCRIPTION = (
    "Verify the Hugging Face hub cache without the network: every cached file\n"
    "against the digest its blob is named by (sha256 for LFS and Xet files, git's\n"
    "blob id for the others), each blob read once however many revisions share it.\n"
    "Snapshot links that dangle are missing; links that lead out of the cache, or\n"
    "anywhere but their repo's blobs/, are never followed."
)

EPILOG = (
    """\
The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.

output: the report (a summary by repo, one line per failing file, what is
wrong with the cache itself, notes: interrupted downloads, unused blobs);
--json writes the checksig.report/1 document instead, each entry labelled
with its repo and revision (FORMATS.md E12).

examples:
  checksig hf                                  # the whole cache
  checksig hf gpt2                             # one repo, every cached revision
  checksig hf meta-llama/Llama-3.1-8B --revision main
  checksig hf squad --repo-type dataset
  checksig hf --cache-dir /data/hf/hub
  checksig hf --local-dir ./Llama-3.1-8B       # what hf download --local-dir wrote
  checksig hf --json | jq '.entries[] | select(.status != "ok")'

"""
    + EXIT_HELP
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """hf's arguments and options."""
    p.add_argument("repo_id", metavar="REPO_ID", nargs="?", default=None, help="only this repo")
    p.add_argument(
        "--revision",
        metavar="R",
        default=None,
        help="only this revision: a commit hash or a ref (main, a tag)",
    )
    p.add_argument(
        "--repo-type",
        metavar="T",
        choices=("model", "dataset", "space", "kernel"),
        default=None,
        help="only repos of this type: model, dataset, space, kernel (default: any)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--cache-dir", metavar="D", default=None, help="the cache's directory")
    where.add_argument(
        "--local-dir",
        metavar="D",
        default=None,
        help="a folder hf download --local-dir wrote, instead of the cache",
    )
    report_options(
        p,
        algorithm="check only blobs of this algorithm (others: not checked)",
        extra="also fail for blobs no snapshot uses (local dir: files without metadata)",
    )


def run(args: argparse.Namespace, io: Out) -> int:
    """Run ``checksig hf``; return the exit status."""
    from . import _stores  # on use: `checksig check` need not import it

    return run_report(
        io,
        args,
        _stores.verify_hf_cache,
        args.cache_dir,
        repo_id=args.repo_id,
        repo_type=args.repo_type,
        revision=args.revision,
        local_dir=args.local_dir,
    )
