#!/usr/bin/env python3
"""Re-check a tuned decision of the engine on this machine: an interleaved A/B.

    python benchmarks/ab.py NAME [NAME ...] [--pairs 10] [--quick]
    python benchmarks/ab.py --all            # every decision, a few minutes
    python benchmarks/ab.py --list           # the decisions and what each compares
    python benchmarks/ab.py --baseline DIR [--datasets small,mixed,million]
                                             # this tree against another checkout

Every constant the engine was tuned with on one machine (go/tune.go) can be set
from the environment (CHECKSIG_TUNE=name=value,..., CHECKSIG_IO=auto|read|mmap),
so a decision is re-checked by running the same verify with the shipped setting
(A) and the alternative (B) as whole fresh processes, in pairs, alternating which
goes first (ABBA...), on a dataset that exercises it (benchmarks/datasets.py,
generated outside the tree, page cache warmed first; --cold evicts the dataset's
pages before every run instead). Printed per decision: the medians of A and B
(wall time, CPU time, and the call's own time inside the child), the median and
quartiles of B/A over the pairs (above 1: the shipped A is faster), and a verdict
that says "within noise" when the quartiles straddle 1. Each child also reports
what the engine used (its tuning and, for big files, the way it read them), so a
setting the engine did not take fails loudly instead of measuring nothing.
With --baseline DIR the two sides are this tree (A) and another checkout (B),
each imported through PYTHONPATH with the engine library built in its checksig/
(so --python must not have checksig installed as editable: its import hook
would win), on the datasets named: "is nothing else slower than main?".
Nothing here asserts a timing. See benchmarks/README.md, "Decisions".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402
import facts  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NPROC = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

# The child: one verify, as a user would run it; prints the call's time, how the
# big files were read and the engine's settings (to check B was taken).
CHILD = """\
import json, sys, time
{prelude}
import checksig
from checksig import _native
t = time.perf_counter()
if sys.argv[3]:  # hash every listed file with that algorithm, no manifest
    names = [ln[42:] for ln in open(sys.argv[2], encoding="utf-8").read().splitlines()]
    job = checksig.start_digest_files([sys.argv[1] + "/" + n for n in names], sys.argv[3])
    job.result()
    io, bad = _native.io_paths(job.progress.get("io")), {{}}
else:
    r = checksig.verify(sys.argv[1], sys.argv[2])
    io, bad = getattr(r, "io", None) or (), {{k: v for k, v in r.counts().items() if k != "ok"}}
call = time.perf_counter() - t
try:
    engine = _native.engine_info()
except AttributeError:  # a --baseline from before engine_info (ABI 1)
    engine = {{"io": {{"chosen": "n/a"}}, "refused": []}}
out = {{"call_s": call, "io": io, "bad": bad, "engine": engine, "file": checksig.__file__}}
print(json.dumps(out))
"""


@dataclass
class Decision:
    """One tuned choice: the shipped setting A against the alternative B."""

    name: str
    what: str
    datasets: list[str]
    a: dict[str, str]  # environment of the shipped setting
    b: dict[str, str]  # environment of the alternative
    note: str = ""
    prelude: str = ""  # run by the child before it imports checksig, on both sides
    algorithm: str = ""  # hash the dataset's files with this instead of verifying it


def tune(**kw) -> dict[str, str]:
    return {"CHECKSIG_TUNE": ",".join(f"{k}={v}" for k, v in kw.items())}


def io_mode(mode: str, **kw) -> dict[str, str]:
    return {"CHECKSIG_IO": mode, **(tune(**kw) if kw else {})}


#: Every decision, by the name `ab.py NAME` takes. Keep in sync with go/tune.go's
#: tunables and benchmarks/README.md's "Decisions" table.
DECISIONS = {
    d.name: d
    for d in [
        Decision(
            "io_vs_mmap",
            "big files: calibrate (auto) vs always map them (the previous constant)",
            ["huge1", "large"],
            io_mode("auto"),
            io_mode("mmap"),
        ),
        Decision(
            "io_vs_read",
            "big files: calibrate (auto) vs always read(2) them (with read-ahead)",
            ["huge1", "large"],
            io_mode("auto"),
            io_mode("read"),
        ),
        Decision(
            "readahead",
            "read(2) path: read ahead on an idle core while another hashes, or not",
            ["huge1"],
            io_mode("read", readahead_min="16M"),
            io_mode("read", readahead_min="1T"),
        ),
        Decision(
            "mapahead",
            "mapped path: another core populates the next window and unmaps the last "
            "(from 16 MiB, where a CPU is idle), or not",
            ["huge1"],
            io_mode("mmap", mapahead_min="16M"),
            io_mode("mmap", mapahead_min="1T"),
        ),
        Decision(
            "readahead_chunk",
            "read-ahead buffers: 4 x 1 MiB vs 8 x 256 KiB",
            ["huge1"],
            io_mode("read", readahead_chunk="1M", readahead_chunks=4),
            io_mode("read", readahead_chunk="256K", readahead_chunks=8),
        ),
        Decision(
            "read_margin",
            "auto: read only where the calibration finds it 10% cheaper than mapping vs 3%",
            ["large"],
            io_mode("auto", read_margin_pct=10),
            io_mode("auto", read_margin_pct=3),
        ),
        Decision(
            "mmap_min",
            "files from 512 KiB go window by window (mapped or read, as chosen) vs from 2 MiB",
            ["large"],
            tune(mmap_min="512K"),
            tune(mmap_min="2M"),
        ),
        Decision(
            "map_window",
            "mapped big files: 4 MiB windows vs 64 MiB",
            ["huge1"],
            io_mode("mmap", map_window="4M"),
            io_mode("mmap", map_window="64M"),
        ),
        Decision(
            "tree_io",
            "BLAKE3 on one big file, as a tree on every core: the windows mapped (ahead; "
            "auto) vs each goroutine reading the pieces it hashes",
            ["huge1"],
            io_mode("auto"),
            io_mode("read"),
            algorithm="blake3",
        ),
        Decision(
            "tree_windows",
            "BLAKE3 on one big file, as a tree on every core: 8 map windows (32 MiB) at a "
            "time vs 16",
            ["huge1"],
            tune(tree_windows=8),
            tune(tree_windows=16),
            algorithm="blake3",
        ),
        Decision(
            "tree_mapahead",
            "BLAKE3 on one big file, as a tree on every core: another goroutine populates "
            "the next window and unmaps the last, beside the tree's helpers, or not",
            ["huge1"],
            io_mode("mmap", mapahead_min="16M"),
            io_mode("mmap", mapahead_min="1T"),
            algorithm="blake3",
        ),
        Decision(
            "blake3_read_below",
            "BLAKE3 files under 2 MiB (with the AVX-512 kernel): read without calibrating "
            "vs calibrated like the rest",
            ["large"],
            tune(blake3_read_below="2M"),
            tune(blake3_read_below="0"),
            algorithm="blake3",
        ),
        Decision(
            "blake3_kernel",
            "BLAKE3 files from 32 KiB: a tree on the worker's core through the AVX-512 "
            "kernel (where it runs) vs zeebo's sequential hasher",
            ["large"],
            tune(blake3_kernel_min="32K"),
            tune(blake3_kernel_min="1T"),
            algorithm="blake3",
        ),
        Decision(
            "read_size",
            "read(2) path: big files read 256 KiB at a time vs 1 MiB (no read-ahead)",
            ["huge1", "large"],
            io_mode("read", read_size="256K", readahead_min="1T"),
            io_mode("read", read_size="1M", readahead_min="1T"),
        ),
        Decision(
            "buf_size",
            "small files: read into a 256 KiB buffer vs a 64 KiB one (files under 512 KiB)",
            ["mixed"],
            tune(buf_size="256K"),
            tune(buf_size="64K"),
        ),
        Decision(
            "calibrate_samples",
            "auto: choose after 8 pairs of clean windows vs after 32",
            ["large"],
            io_mode("auto", calibrate_samples=8),
            io_mode("auto", calibrate_samples=32),
        ),
        Decision(
            "fadvise",
            "read(2) path: no posix_fadvise vs POSIX_FADV_SEQUENTIAL on big files",
            ["huge1"],
            io_mode("read", fadvise=0, readahead_min="1T"),
            io_mode("read", fadvise=1, readahead_min="1T"),
            note="only a cold cache can tell: run it with --cold",
        ),
        Decision(
            "openssl",
            "SHA-512: hash big files with hashlib's OpenSSL where it is faster (auto) vs never",
            ["huge1"],
            tune(openssl=1),
            tune(openssl=0),
            prelude="import hashlib  # loads the libcrypto the engine may use",
            algorithm="sha512",
        ),
        Decision(
            "openssl_sha1",
            "SHA-1: hash big files with hashlib's OpenSSL where it is faster (auto) vs always",
            ["huge1"],
            tune(openssl=1),
            tune(openssl=2),
            prelude="import hashlib  # loads the libcrypto the engine may use",
        ),
        Decision(
            "queue_min",
            "files from 1 MiB are queued and hashed largest first vs from 128 KiB",
            ["mixed"],
            tune(queue_min="1M"),
            tune(queue_min="128K"),
        ),
        Decision(
            "private_table_min",
            "jobs of 4,096 files or more give each worker its own descriptor table vs never "
            "(never also means no io_uring ring, which needs one)",
            ["small"],
            tune(private_table_min=4096),
            tune(private_table_min="1T"),
        ),
        Decision(
            "uring",
            "workers on descriptor tables of their own (jobs of 4,096+ files) open, "
            "read and close small files in batches through io_uring vs one system "
            "call each",
            ["small", "million"],
            tune(uring_min=0),
            tune(uring_min="1T"),
        ),
        Decision(
            "early",
            "manifests of 4,096 lines or more: hash while the manifest is read vs after",
            ["small", "million"],
            tune(early_min=4096),
            tune(early_min="1T"),
        ),
        Decision(
            "workers",
            "default workers: one per CPU vs two per CPU",
            ["mixed"],
            tune(workers=NPROC),
            tune(workers=2 * NPROC),
        ),
    ]
}


@dataclass
class Side:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)
    io: set[str] = field(default_factory=set)
    chosen: list[str] = field(default_factory=list)  # the engine's I/O choice, each run
    engine: dict = field(default_factory=dict)


def run_once(py: str, d: Decision, ds: datasets.Dataset, env: dict[str, str], cwd: Path) -> dict:
    full_env = {**os.environ, "CHECKSIG_IO": "", "CHECKSIG_TUNE": "", **env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(
        [py, "-c", CHILD.format(prelude=d.prelude), str(ds.root), str(ds.manifest), d.algorithm],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.exit(f"the child failed with {env}:\n{p.stderr}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if out["bad"]:
        sys.exit(f"{ds.name} did not verify with {env}: {out['bad']}")
    if out["engine"]["refused"]:
        sys.exit(f"the engine refused {env}: {out['engine']['refused']}")
    where = env.get("PYTHONPATH")
    if where and not out["file"].startswith(os.path.join(where, "")):
        sys.exit(f"the child imported {out['file']}, not the checksig in {where}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, **out}


def quartiles(x: list[float]) -> tuple[float, float, float]:
    if len(x) < 2:
        return x[0], x[0], x[0]
    q1, q2, q3 = statistics.quantiles(x, n=4, method="inclusive")
    return q1, q2, q3


def compare(
    d: Decision, ds: datasets.Dataset, pairs: int, py: str, cold: bool, cwd: Path, log
) -> dict:
    sides = {"A": Side(), "B": Side()}
    for i in range(pairs):
        order = ("A", "B") if i % 2 == 0 else ("B", "A")
        for k in order:
            if cold and datasets.evict(ds):
                log(f"  {ds.name}: some pages stayed cached after eviction (mapped or dirty?)")
            out = run_once(py, d, ds, d.a if k == "A" else d.b, cwd)
            s = sides[k]
            s.wall.append(out["wall"])
            s.cpu.append(out["cpu"])
            s.call.append(out["call_s"])
            s.io.add(",".join(out["io"]) or "-")
            s.chosen.append(out["engine"]["io"]["chosen"] or "undecided")
            s.engine = out["engine"]
        log(f"  {d.name} on {ds.name}: pair {i + 1}/{pairs}")
    a, b = sides["A"], sides["B"]
    ratios = {
        key: quartiles([y / x for x, y in zip(getattr(a, key), getattr(b, key))])
        for key in ("wall", "cpu", "call")
    }
    q1, med, q3 = ratios["wall"]
    if q1 <= 1 <= q3:
        verdict = "within noise"
    elif med > 1:
        verdict = f"A (shipped) faster by {100 * (med - 1):.1f}%"
    else:
        verdict = f"B faster by {100 * (1 / med - 1):.1f}%"
    return {
        "decision": d.name,
        "dataset": ds.name,
        "what": d.what,
        "a": d.a,
        "b": d.b,
        "cold": cold,
        "pairs": pairs,
        "median": {
            k: {key: statistics.median(getattr(s, key)) for key in ("wall", "cpu", "call")}
            for k, s in sides.items()
        },
        "ratio_b_over_a": {k: {"q1": r[0], "median": r[1], "q3": r[2]} for k, r in ratios.items()},
        "verdict": verdict,
        "io": {k: sorted(s.io) for k, s in sides.items()},
        "chosen": {k: s.chosen for k, s in sides.items()},
        "engine_io": {k: s.engine.get("io") for k, s in sides.items()},
        "samples": {k: {"wall": s.wall, "cpu": s.cpu, "call": s.call} for k, s in sides.items()},
    }


def machine() -> str:
    """CPU, cores, kernel and virtualisation, as benchmarks/README.md records them."""
    return (
        f"{NPROC} x {facts.cpu_model()}, {facts.kernel()}, virtualisation {facts.virtualisation()}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="decisions to re-check (--list shows them)")
    ap.add_argument("--all", action="store_true", help="every decision")
    ap.add_argument("--list", action="store_true", help="list the decisions and exit")
    ap.add_argument("--pairs", type=int, default=None, help="A/B pairs (default 10; --all 6)")
    ap.add_argument("--quick", action="store_true", help="the quick datasets (10-20x smaller)")
    ap.add_argument(
        "--smoke", action="store_true", help="tiny datasets, 1 pair: checks the harness, not speed"
    )
    ap.add_argument("--cold", action="store_true", help="evict the dataset before every run")
    ap.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("TMPDIR") or "/tmp") / "checksig-bench"
    )
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter the children run with (it must import checksig)",
    )
    ap.add_argument("--json", type=Path, help="also write every sample here")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (its library built in place) to run as B against this tree",
    )
    ap.add_argument(
        "--datasets",
        default="small,mixed,million,large,huge1",
        help="with --baseline: the datasets (default small,mixed,million,large,huge1)",
    )
    a = ap.parse_args(argv)
    if a.list:
        for d in DECISIONS.values():
            how = f", {d.algorithm}" if d.algorithm else ""
            print(f"{d.name:18} {d.what} [{', '.join(d.datasets)}{how}]")
            print(f"{'':18} A {d.a}  B {d.b}" + (f"  ({d.note})" if d.note else ""))
        return 0
    if a.baseline:
        base = a.baseline.resolve()
        if not list((base / "checksig").glob("_checksig*")):
            ap.error(f"--baseline {base}: no checksig/_checksig* library built there")
        DECISIONS["baseline"] = Decision(
            "baseline",
            f"this tree (A) against {base} (B)",
            [n for n in a.datasets.split(",") if n],
            {"PYTHONPATH": str(REPO)},
            {"PYTHONPATH": str(base)},
        )
        a.names = ["baseline"]
        # Both trees byte-compiled once, untimed, as `pip install` does: with
        # PYTHONDONTWRITEBYTECODE set (CI and sandbox machines) every child
        # would compile the package from source, ~40 ms on both sides.
        for tree in (REPO, base):
            pkg = str(tree / "checksig")
            subprocess.run([a.python, "-m", "compileall", "-q", pkg], check=False)
    names = list(DECISIONS) if a.all else a.names
    unknown = [n for n in names if n not in DECISIONS]
    if not names or unknown:
        not_known = f" (not {', '.join(unknown)})" if unknown else ""
        ap.error(f"name decisions from: {', '.join(DECISIONS)}{not_known}")
    pairs = a.pairs or (1 if a.smoke else 6 if a.all else 10)
    data_dir = a.data_dir.resolve()
    if data_dir == REPO or REPO in data_dir.parents:
        ap.error("--data-dir must be outside the repository")
    data_dir.mkdir(parents=True, exist_ok=True)
    scale = "smoke" if a.smoke else "quick" if a.quick else "full"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    print(f"checksig A/B: {' '.join(names)}; {pairs} pairs{', cold cache' if a.cold else ''}")
    print(f"machine: {machine()}; load {os.getloadavg()[0]:.2f}")
    results = []
    t0 = time.time()
    for n in names:
        d = DECISIONS[n]
        for dsname in d.datasets:
            ds = datasets.ensure(data_dir, scale, dsname, log=log)
            if not a.cold:
                datasets.warm(ds)
            r = compare(d, ds, pairs, a.python, a.cold, data_dir, log)
            results.append(r)
            m, q = r["median"], r["ratio_b_over_a"]
            print(f"\n{d.name} on {ds.name}: {d.what}")
            print(f"  A {d.a}\n  B {d.b}" + (f"\n  ({d.note})" if d.note else ""))
            for k in ("A", "B"):
                chosen = r["chosen"][k]
                counts = ", ".join(f"{c} x{chosen.count(c)}" for c in sorted(set(chosen)))
                print(
                    f"  {k}: wall {m[k]['wall']:.3f} s, cpu {m[k]['cpu']:.3f} s, "
                    f"call {m[k]['call']:.3f} s; big files read: {' / '.join(r['io'][k])} "
                    f"(the engine chose: {counts})"
                )
            for key in ("wall", "cpu", "call"):
                x = q[key]
                print(f"  B/A {key:4}: {x['median']:.3f} (quartiles {x['q1']:.3f}-{x['q3']:.3f})")
            print(f"  verdict: {r['verdict']}")
    print(f"\n({time.time() - t0:.0f} s; load {os.getloadavg()[0]:.2f})")
    if a.json:
        a.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
