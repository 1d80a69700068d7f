#!/usr/bin/env python3
"""Issue 19's benchmarks: verify_environment and verify_bag against what
users would run instead, in one process, interleaved, on a warm page cache.

* environment: ``checksig.verify_environment(PREFIX)`` against
  - ``serial``: every RECORD row hashed one after the other with hashlib, as
    ``bagit.py --validate`` (processes=1) or conda doctor's altered-files
    check do it;
  - ``threads``: a ``ThreadPoolExecutor(nproc)`` over ``hashlib.file_digest``.
  Both peers parse the RECORDs themselves (csv, base64): the whole job.
  PREFIX defaults to this machine's system Python's prefix (its site-packages).
* bag: ``checksig.verify_bag(BAG)`` against bagit-python's
  ``Bag(BAG).validate(processes=nproc)``, on a bag made here (sha256 and
  sha512 manifests, bagit-python's default) of seeded random files.

Each tool runs ``--repeat`` times, the tools in turn (interleaved), after one
warm-up round; the table prints the median seconds and each tool's speed-up
against checksig (``x checksig``: the peer's time / checksig's, above 1:
checksig is faster). Timings on a shared machine are noisy: read the ratios.

    python benchmarks/ecosystems.py                     # system site-packages + a 1 GB bag
    python benchmarks/ecosystems.py --quick             # a small bag, a venv's prefix
    python benchmarks/ecosystems.py --prefix /opt/conda --bag-mb 4000 --repeat 7
"""

from __future__ import annotations

import argparse
import base64
import csv
import glob
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from interleave import interleaved

import checksig

NPROC = os.cpu_count() or 1


# --- environment peers ------------------------------------------------------------------------


def record_rows(prefix: str) -> list[tuple[str, str, bytes]]:
    """(path, algorithm, digest) of every hashed RECORD row under prefix."""
    rows = []
    for record in glob.glob(os.path.join(prefix, "lib*/python*/site-packages/*.dist-info/RECORD")):
        site = os.path.dirname(os.path.dirname(record))
        with open(record, encoding="utf-8", newline="") as f:
            for fields in csv.reader(io.StringIO(f.read(), newline="")):
                if len(fields) != 3 or "=" not in fields[1]:
                    continue
                alg, _, b64 = fields[1].partition("=")
                digest = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
                rows.append((os.path.normpath(os.path.join(site, fields[0])), alg, digest))
    return rows


def check_one(row: tuple[str, str, bytes]) -> bool:
    path, alg, digest = row
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, alg).digest() == digest
    except OSError:
        return False


def env_serial(prefix: str) -> int:
    return sum(not check_one(r) for r in record_rows(prefix))


def env_threads(prefix: str) -> int:
    rows = record_rows(prefix)
    with ThreadPoolExecutor(NPROC) as pool:
        return sum(not ok for ok in pool.map(check_one, rows, chunksize=64))


def env_checksig(prefix: str) -> int:
    return len(checksig.verify_environment(prefix, progress=False).failures)


# --- bag ------------------------------------------------------------------------------------


def make_bag(directory: str, megabytes: int, seed: int = 19) -> str:
    import bagit

    rng = random.Random(seed)
    bag = os.path.join(directory, "bag")
    os.makedirs(bag)
    total = 0
    i = 0
    while total < megabytes << 20:
        # Mixed sizes: many small files, some of a few MiB.
        size = rng.choice([4 << 10, 64 << 10, 512 << 10, 4 << 20])
        sub = os.path.join(bag, f"d{i % 16}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i}.bin"), "wb") as f:
            f.write(rng.randbytes(size))
        total += size
        i += 1
    bagit.make_bag(bag, processes=NPROC)
    return bag


def bag_bagit(bag: str) -> int:
    import bagit

    return 0 if bagit.Bag(bag).is_valid(processes=NPROC) else 1


def bag_checksig(bag: str) -> int:
    return 0 if checksig.verify_bag(bag, progress=False).ok else 1


# --- harness --------------------------------------------------------------------------------


def bench(name: str, tools: dict, arg: str, repeat: int) -> list[dict]:
    """interleave.interleaved's rows, each named for its benchmark."""
    return [{"benchmark": name, **row} for row in interleaved(tools, arg, repeat)]


def system_prefix() -> str:
    try:
        out = subprocess.run(
            ["python3", "-c", "import sys; print(sys.base_prefix)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip() or sys.base_prefix
    except OSError:
        return sys.base_prefix


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--prefix", default=None, help="environment to verify (default: system python3)")
    p.add_argument("--bag-mb", type=int, default=1000, help="payload of the bag made (MiB)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="a 20 MiB bag, 2 repeats")
    p.add_argument("--smoke", action="store_true", help="a 2 MiB bag, 1 repeat (the test suite's)")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args()
    if args.quick:
        args.bag_mb, args.repeat = 20, 2
    if args.smoke:
        args.bag_mb, args.repeat = 2, 1
    prefix = args.prefix or system_prefix()
    print(f"{NPROC} CPUs; environment {prefix}; bag of {args.bag_mb} MiB; median of {args.repeat}")
    rows = bench(
        "environment",
        {"checksig": env_checksig, "serial": env_serial, "threads": env_threads},
        prefix,
        args.repeat,
    )
    tmp = tempfile.mkdtemp(prefix="checksig-bag-bench-")
    try:
        bag = make_bag(tmp, args.bag_mb)
        rows += bench(
            "bag",
            {"checksig": bag_checksig, f"bagit-python(processes={NPROC})": bag_bagit},
            bag,
            args.repeat,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'benchmark':<12} {'tool':<28} {'median s':>9} {'x checksig':>11} {'failures':>9}")
    for r in rows:
        print(
            f"{r['benchmark']:<12} {r['tool']:<28} {r['median']:>9.3f} "
            f"{r['x_checksig']:>10.2f}x {r['failures']:>9}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"nproc": NPROC, "prefix": prefix, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
