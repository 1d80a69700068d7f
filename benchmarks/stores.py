#!/usr/bin/env python3
"""Issue 23's benchmark: verifying a Hugging Face hub cache, against what users
would run instead, in one process, interleaved, on a warm page cache.

The cache is synthetic and laid out as huggingface_hub writes it (one
revision per repo): a few big safetensors-like blobs (sha256 etags) and many
small files named by git's blob id (config, tokenizer, code), across a few
repos. The tools:

* ``checksig``: ``checksig.verify_hf_cache(CACHE)``;
* ``hf-serial``: what ``hf cache verify`` does once it has the Hub's file list
  (huggingface_hub 2.x, ``utils/_verification.py``): every snapshot file
  after the other, sha256 or git-sha1 by the etag, in Python
  (``compute_file_hash``: sha256 in 1 MiB chunks, git-sha1 of the whole file
  read into memory). Its own function when huggingface_hub is installed, else
  the same steps written out here. The network part of ``hf cache verify`` is
  not run: only its hashing.
* ``threads``: a ``ThreadPoolExecutor(nproc)`` over ``hashlib.file_digest``
  (git-sha1: the header, then the file streamed): the best a script does.

Each tool runs ``--repeat`` times, the tools in turn (interleaved), after one
warm-up round; the table prints the median seconds and ``x checksig`` (the
tool's median over checksig's: above 1, checksig is faster). On a shared
machine the numbers are indicative: read the ratios.

    python benchmarks/stores.py                 # ~0.5 GiB cache, 3 repeats
    python benchmarks/stores.py --gib 4         # the issue's size: a few GiB
    python benchmarks/stores.py --quick         # 64 MiB, 2 repeats
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from interleave import interleaved

import checksig

NPROC = os.cpu_count() or 1


# --- the cache -------------------------------------------------------------------------------


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _write_blob(folder: str, commit: str, name: str, chunks, git: bool) -> int:
    """Write one file as huggingface_hub stores it: blobs/<etag>, and the
    snapshot link to it. Streams: a big file is never whole in memory."""
    staging = os.path.join(folder, "blobs", "staging.tmp")
    parts = list(chunks) if git else None
    size = 0
    with open(staging, "wb") as f:
        sha = hashlib.sha256()
        for chunk in parts if git else chunks:
            f.write(chunk)
            sha.update(chunk)
            size += len(chunk)
    etag = git_blob_id(b"".join(parts)) if git else sha.hexdigest()
    blob = os.path.join(folder, "blobs", etag)
    os.replace(staging, blob)
    pointer = os.path.join(folder, "snapshots", commit, name)
    os.makedirs(os.path.dirname(pointer), exist_ok=True)
    os.symlink(os.path.relpath(blob, os.path.dirname(pointer)), pointer)
    return size


def make_cache(directory: str, total: int, seed: int = 23) -> tuple[str, int, int]:
    """A hub cache of about ``total`` bytes over 4 repos: 85% in two big
    safetensors shards per repo (sha256 etags), the rest in small files of
    1-64 KiB (git blob ids). Returns (cache, files, bytes)."""
    rng = random.Random(seed)
    cache = os.path.join(directory, "hub")
    repos = 4
    big_each = max(1, int(total * 0.85) // (repos * 2))
    small_total = total - big_each * repos * 2
    small_sizes = [1 << 10, 4 << 10, 16 << 10, 64 << 10]
    files = size = 0
    for r in range(repos):
        folder = os.path.join(cache, f"models--org--model-{r}")
        commit = hashlib.sha1(f"commit {r}".encode()).hexdigest()
        os.makedirs(os.path.join(folder, "blobs"))
        os.makedirs(os.path.join(folder, "refs"))
        with open(os.path.join(folder, "refs", "main"), "w") as f:
            f.write(commit)
        for shard in range(2):
            name = f"model-{shard + 1:05d}-of-00002.safetensors"
            step = 64 << 20
            chunks = (rng.randbytes(min(step, big_each - at)) for at in range(0, big_each, step))
            size += _write_blob(folder, commit, name, chunks, git=False)
            files += 1
        budget = small_total // repos
        i = 0
        while budget > 0:
            n = rng.choice(small_sizes)
            size += _write_blob(
                folder, commit, f"files/{i // 100}/f{i}.json", [rng.randbytes(n)], git=True
            )
            files += 1
            budget -= n
            i += 1
    return cache, files, size


def snapshot_files(cache: str) -> list[tuple[str, str]]:
    """(snapshot path, etag) of every cached file: what the peers list."""
    out = []
    for repo in sorted(os.listdir(cache)):
        snapshots = os.path.join(cache, repo, "snapshots")
        for dirpath, _dirs, names in os.walk(snapshots):
            for name in names:
                path = os.path.join(dirpath, name)
                out.append((path, os.path.basename(os.readlink(path))))
    return out


# --- the peers -------------------------------------------------------------------------------


def _hf_compute_file_hash():
    """huggingface_hub's own per-file hash when installed, else its steps."""
    try:
        from pathlib import Path

        from huggingface_hub.utils._verification import compute_file_hash

        return lambda path, alg: compute_file_hash(Path(path), alg), "huggingface_hub"
    except ImportError:

        def compute(path: str, alg: str) -> str:
            with open(path, "rb") as f:
                if alg == "sha256":
                    sha = hashlib.sha256()
                    while chunk := f.read(1 << 20):
                        sha.update(chunk)
                    return sha.hexdigest()
                data = f.read()  # huggingface_hub's git_hash reads the whole file
                return git_blob_id(data)

        return compute, "written out"


HF_HASH, HF_SOURCE = _hf_compute_file_hash()


def hf_serial(cache: str) -> int:
    bad = 0
    for path, etag in snapshot_files(cache):
        alg = "sha256" if len(etag) == 64 else "git-sha1"
        bad += HF_HASH(path, alg) != etag
    return bad


def _check_one(item: tuple[str, str]) -> bool:
    path, etag = item
    with open(path, "rb") as f:
        if len(etag) == 64:
            return hashlib.file_digest(f, "sha256").hexdigest() == etag
        sha = hashlib.sha1(b"blob %d\0" % os.fstat(f.fileno()).st_size)
        while chunk := f.read(1 << 20):
            sha.update(chunk)
        return sha.hexdigest() == etag


def threads(cache: str) -> int:
    with ThreadPoolExecutor(NPROC) as pool:
        return sum(not ok for ok in pool.map(_check_one, snapshot_files(cache), chunksize=16))


def with_checksig(cache: str) -> int:
    return len(checksig.verify_hf_cache(cache, progress=False).failures)


# --- harness ---------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--gib", type=float, default=0.5, help="size of the cache made (GiB)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="64 MiB, 2 repeats")
    p.add_argument("--smoke", action="store_true", help="4 MiB, 1 repeat (the test suite's)")
    p.add_argument("--corrupt", action="store_true", help="flip a byte in one big blob first")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args()
    if args.quick:
        args.gib, args.repeat = 1 / 16, 2
    if args.smoke:
        args.gib, args.repeat = 4 / 1024, 1
    tmp = tempfile.mkdtemp(prefix="checksig-hub-bench-")
    try:
        cache, files, size = make_cache(tmp, int(args.gib * (1 << 30)))
        if args.corrupt:
            big = max(snapshot_files(cache), key=lambda item: os.path.getsize(item[0]))[0]
            with open(big, "r+b") as f:
                f.seek(12345)
                byte = f.read(1)
                f.seek(12345)
                f.write(bytes([byte[0] ^ 1]))
        print(
            f"{NPROC} CPUs; a hub cache of {files:,} files, {size / (1 << 20):,.0f} MiB; "
            f"median of {args.repeat}; hf-serial: {HF_SOURCE}'s compute_file_hash"
        )
        rows = interleaved(
            {"checksig": with_checksig, "hf-serial": hf_serial, f"threads({NPROC})": threads},
            cache,
            args.repeat,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'tool':<14} {'median s':>9} {'MiB/s':>8} {'x checksig':>11} {'failures':>9}")
    for r in rows:
        rate = size / (1 << 20) / r["median"]
        print(
            f"{r['tool']:<14} {r['median']:>9.3f} {rate:>8.0f} {r['x_checksig']:>10.2f}x "
            f"{r['failures']:>9}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "nproc": NPROC,
                    "files": files,
                    "bytes": size,
                    "hf_source": HF_SOURCE,
                    "results": rows,
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
