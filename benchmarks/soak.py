"""Soak test: many calls and cancelled jobs, then prove nothing leaked (issue 6).

Runs, in one process with the engine loaded:

1. ``--calls`` synchronous ``file_digest`` calls on a tiny file;
2. ``--cancelled`` jobs cancelled mid-work (a 4 GiB sparse file, so the work
   never finishes first), half through ``Job.cancel()`` (``start_verify`` /
   ``start_digest_files``, when the API has them), half by an exception
   raised from a ``progress=`` callable, which is what a notebook interrupt
   looks like from inside;
3. ``--cycles`` verify/cancel cycles spread over ``--threads`` threads, each
   cycle a verify of a small tree that must be all ok, a digest_files whose
   result must be hashlib's, and a cancelled job;
4. ``--many`` verifies of a tree of 5,000 tiny files, every other one cancelled
   mid-work: enough files that on Linux the workers take descriptor tables of
   their own (go/fdtable_linux.go), and end their threads with the job.

Big files go through the path CHECKSIG_IO forces (read, mmap; auto by default:
tests/test_soak.py runs the soak once per path). Before and after, it prints the
process's RSS, open file descriptors and the engine's debug counters (live
handles, live jobs, open files, goroutines), and exits 1 if anything did not
come back: fds or goroutines above the baseline, any handle, job or open file
left, or RSS grown by more than ``--max-rss-growth`` MiB. ``--json FILE`` writes every number.

    python benchmarks/soak.py                    # the full run: ~1-3 minutes
    python benchmarks/soak.py --quick            # 10x smaller
    python -m pytest -m soak tests/test_soak.py  # the same, as a test

Linux only (it reads /proc/self).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import checksig
from checksig import _native


class Stop(Exception):
    """Raised from a progress callable to cancel a job, as Ctrl-C would."""


def stop_when_running(p) -> None:
    if p["phase"] == "running":
        raise Stop


def cancelled_by_progress(call, *args, **kwargs) -> None:
    """Run a blocking call with progress=stop_when_running: it must be cancelled."""
    try:
        call(*args, progress=stop_when_running, **kwargs)
    except Stop:
        return
    raise AssertionError("a job finished before it was cancelled")


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def snapshot(settle_goroutines: int | None = None) -> dict[str, int]:
    """fds, RSS and the engine counters; waits up to 2 s for goroutines to settle."""
    gc.collect()
    c = _native.debug_counters()
    if settle_goroutines is not None:
        deadline = time.monotonic() + 2
        while c["goroutines"] > settle_goroutines and time.monotonic() < deadline:
            time.sleep(0.02)
            c = _native.debug_counters()
    return dict(c, fds=len(os.listdir("/proc/self/fd")), rss_kib=rss_kib())


def make_tree(base: Path, files: int = 20) -> dict[str, bytes]:
    (base / "tiny").write_bytes(b"tiny")
    with open(base / "big", "wb") as f:
        f.truncate(4 << 30)  # sparse: costs nothing on disk, never hashed to the end
    (base / "big.sha1").write_text(f"{'0' * 40}  big\n")
    tree = base / "tree"
    tree.mkdir()
    blobs = {f"f{i}": os.urandom(100 * i + 1) for i in range(files)}
    # Big enough to be hashed window by window (go/io.go), each window read or
    # mapped as CHECKSIG_IO says: the cycles go through the big-file path too.
    blobs["big-enough"] = os.urandom((5 << 20) + 1)
    for name, data in blobs.items():
        (tree / name).write_bytes(data)
    (tree / "sha256sum.txt").write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in blobs.items())
    )
    return blobs


#: Files in the tree of stage 4: above the engine's privateTableMin (go/plan.go).
MANY_FILES = 5000


def make_many(base: Path) -> Path:
    root = base / "many"
    root.mkdir()
    lines = []
    for i in range(MANY_FILES):
        data = b"%d" % i
        (root / f"m{i}").write_bytes(data)
        lines.append(f"{hashlib.sha1(data).hexdigest()}  m{i}\n")
    (root / "sha1sum.txt").write_text("".join(lines))
    return root


def many(root: Path, n: int) -> None:
    """n verifies of the many-file tree, every other one cancelled while it runs."""
    for i in range(n):
        if i % 2:
            cancelled_by_progress(checksig.verify, root, workers=2)
        elif not checksig.verify(root, workers=2 + i % 3).ok:
            raise AssertionError("the many-file tree did not verify")


def cancelled_job(base: Path, i: int) -> None:
    """Start a job that cannot finish soon and cancel it while it runs."""
    kind = i % 4
    if kind < 2 and hasattr(checksig, "start_verify"):
        if kind == 0:
            job = checksig.start_verify(base, "big.sha1", workers=2)
        else:
            job = checksig.start_digest_files([base / "big"], workers=1)
        try:
            deadline = time.monotonic() + 5
            while job.progress.phase != "running" and time.monotonic() < deadline:
                time.sleep(0.001)
            job.cancel()
            try:
                job.result(timeout=10)
            except checksig.Cancelled:
                return
            raise AssertionError("a cancelled job finished")
        finally:
            job.close()
    if kind % 2:
        cancelled_by_progress(checksig.digest_files, [base / "big"])
    else:
        cancelled_by_progress(checksig.verify, base, "big.sha1", workers=2)


def cycles(base: Path, blobs: dict[str, bytes], n: int, threads: int) -> list[str]:
    tree = base / "tree"
    paths = [tree / name for name in blobs]
    want = [hashlib.md5(d).hexdigest() for d in blobs.values()]
    counter = iter(range(n))
    lock = threading.Lock()
    errors: list[str] = []

    def work() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                report = checksig.verify(tree, "sha256sum.txt", workers=i % 3)
                assert report.ok and len(report) == len(blobs), str(report)
                assert checksig.digest_files(paths, "md5", workers=2) == want
                cancelled_job(base, i)
            except BaseException as e:  # noqa: BLE001 - reported, not swallowed
                with lock:
                    errors.append(f"cycle {i}: {type(e).__name__}: {e}")
                return

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="checksig-soak-") as tmp:
        base = Path(tmp)
        blobs = make_tree(base)
        many_root = make_many(base)
        tiny = base / "tiny"
        want = hashlib.sha1(b"tiny").hexdigest()
        # Warm up: the library, Go's threads and pools, numpy, the allocator.
        for _ in range(200):
            checksig.file_digest(tiny)
        for i in range(8):
            cancelled_job(base, i)
        cycles(base, blobs, 8, min(args.threads, 4))
        many(many_root, 2)
        baseline_goroutines = _native.debug_counters()["goroutines"]
        before = snapshot(baseline_goroutines)
        timings = {}

        t = time.monotonic()
        for _ in range(args.calls):
            if checksig.file_digest(tiny) != want:
                raise AssertionError("file_digest gave a wrong digest")
        timings["calls_s"] = time.monotonic() - t
        mid_calls = snapshot(baseline_goroutines)

        t = time.monotonic()
        for i in range(args.cancelled):
            cancelled_job(base, i)
        timings["cancelled_s"] = time.monotonic() - t
        mid_cancel = snapshot(baseline_goroutines)

        t = time.monotonic()
        errors = cycles(base, blobs, args.cycles, args.threads)
        timings["cycles_s"] = time.monotonic() - t
        mid_cycles = snapshot(baseline_goroutines)

        t = time.monotonic()
        many(many_root, args.many)
        timings["many_s"] = time.monotonic() - t
        after = snapshot(baseline_goroutines)

    problems = list(errors)
    if after["fds"] > before["fds"]:
        problems.append(f"file descriptors: {before['fds']} -> {after['fds']}")
    for key in ("handles", "jobs", "open_files"):
        if after[key]:
            problems.append(f"{key} left: {after[key]}")
    if after["goroutines"] > before["goroutines"]:
        problems.append(f"goroutines: {before['goroutines']} -> {after['goroutines']}")
    growth = (after["rss_kib"] - before["rss_kib"]) / 1024
    if growth > args.max_rss_growth:
        problems.append(f"RSS grew by {growth:.1f} MiB (limit {args.max_rss_growth} MiB)")
    return {
        "params": vars(args),
        "engine": _native.engine_info(),
        "before": before,
        "after_calls": mid_calls,
        "after_cancelled": mid_cancel,
        "after_cycles": mid_cycles,
        "after": after,
        "timings": timings,
        "problems": problems,
        "ok": not problems,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=100_000, help="file_digest calls (100000)")
    p.add_argument("--cancelled", type=int, default=1000, help="cancelled jobs (1000)")
    p.add_argument("--cycles", type=int, default=2000, help="verify/cancel cycles (2000)")
    p.add_argument("--threads", type=int, default=8, help="threads running the cycles (8)")
    p.add_argument(
        "--many",
        type=int,
        default=200,
        help=f"verifies of a {MANY_FILES:,}-file tree, half cancelled (200)",
    )
    p.add_argument(
        "--max-rss-growth", type=float, default=64, help="MiB of RSS growth allowed (64)"
    )
    p.add_argument("--quick", action="store_true", help="10x fewer of everything")
    p.add_argument("--json", metavar="FILE", help="write every number as JSON (- for stdout)")
    args = p.parse_args(argv)
    if args.quick:
        args.calls, args.cancelled, args.cycles, args.many = (
            args.calls // 10,
            args.cancelled // 10,
            (args.cycles // 10),
            args.many // 10,
        )
    if not Path("/proc/self/status").exists():
        print("soak.py needs Linux (/proc/self)", file=sys.stderr)
        return 2
    result = run(args)
    cols = ("rss_kib", "fds", "handles", "jobs", "open_files", "goroutines")
    stages = ("before", "after_calls", "after_cancelled", "after_cycles", "after")
    print(f"{'':16}" + "".join(f"{c:>12}" for c in cols))
    for stage in stages:
        print(f"{stage:16}" + "".join(f"{result[stage][c]:>12}" for c in cols))
    t = result["timings"]
    print(
        f"{args.calls} calls in {t['calls_s']:.1f} s, {args.cancelled} cancelled jobs in "
        f"{t['cancelled_s']:.1f} s, {args.cycles} cycles on {args.threads} threads in "
        f"{t['cycles_s']:.1f} s, {args.many} verifies of {MANY_FILES} files in {t['many_s']:.1f} s"
    )
    io = result["engine"]["io"]
    chosen = io["chosen"] or "both (calibrating)"
    print(f"big files: CHECKSIG_IO={io['mode']}, read through {chosen}")
    for problem in result["problems"]:
        print(f"LEAK OR ERROR: {problem}", file=sys.stderr)
    print("ok: nothing leaked" if result["ok"] else "FAILED")
    if args.json == "-":
        print(json.dumps(result))
    elif args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
