"""The per-algorithm rows of run.py (issue 18): sha256, blake2b and blake3.

Each algorithm is measured against the tool users pick for it and a Python
thread pool, on two datasets, with that algorithm's own single-core limit
probed in the same run:

    sha256   sha256sum -c    hashlib.file_digest(f, "sha256") in a thread pool
    blake2b  b2sum -c        hashlib.file_digest(f, "blake2b") in a thread pool
    blake3   b3sum --check   blake3.blake3() (PyPI) in a thread pool

    large    1,000 x 1 MiB (run.py's dataset: many files, every core busy)
    big1     one file of 2 GiB (quick 256 MiB): one file, so only a hash that
             splits a file (BLAKE3's tree) can use more than one core; b3sum
             does, with its own threads

checksig runs as run.py's checksig-api child: check_signatures(root, manifest),
the manifest named as each tool names it (sha256sum.txt, B2SUMS, b3sums.txt)
so that the engine infers the algorithm from the name, as it would for a user.
The manifests are written by the tools themselves (hashlib or PyPI's blake3
when a tool is missing). The limit is one core hashing a 1 MiB buffer in
memory with the reference implementation (OpenSSL's SHA-256 and CPython's
BLAKE2b through hashlib; the Rust BLAKE3 through PyPI's blake3): %limit is a
row's speed over that x the cores the dataset can use (one for big1 unless
the algorithm splits a file: then every core).

Kept apart from run.py so that its datasets and tools stay as they are; run.py
calls run() and prints table() and targets().
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import datasets

MB = 1e6

ALGORITHMS = {
    # algorithm: (manifest name, the tool that writes it, the tool that checks it)
    "sha256": ("sha256sum.txt", ["sha256sum", "--"], ["sha256sum", "-c", "--quiet"]),
    "blake2b": ("B2SUMS", ["b2sum", "--"], ["b2sum", "-c", "--quiet"]),
    "blake3": ("b3sums.txt", ["b3sum", "--"], ["b3sum", "--check", "--quiet"]),
}
PEER = {a: v[2][0] for a, v in ALGORITHMS.items()}
# Whether the algorithm can spread one file over every core.
SPLITS_A_FILE = {"blake3"}
DATASETS = ["large", "big1"]
BIG1 = {"full": 2 << 30, "quick": 256 << 20, "smoke": 8 << 20}
TOOLS = ["checksig-api", "peer", "py-threads"]

# A thread pool of one file per task, hashed with hashlib (blake3: PyPI's
# blake3, one thread per file, as hashlib's hashes are).
THREADS_SRC = """\
import hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
root, manifest, alg, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if alg == 'blake3':
    import blake3
    def digest(f):
        h = blake3.blake3()
        while chunk := f.read(1 << 20):
            h.update(chunk)
        return h.hexdigest()
else:
    def digest(f):
        return hashlib.file_digest(f, alg).hexdigest()
def check(line):
    want, _, name = line.partition('  ')
    with open(os.path.join(root, name), 'rb') as f:
        return digest(f) == want
with open(manifest, encoding='utf-8') as f:
    lines = f.read().splitlines()
with ThreadPoolExecutor(n) as ex:
    bad = sum(not ok for ok in ex.map(check, lines))
sys.exit(1 if bad else 0)
"""

# One core hashing a 1 MiB buffer in memory: the algorithm's limit.
LIMIT_SRC = """\
import hashlib, sys, time
alg, secs = sys.argv[1], float(sys.argv[2])
if alg == 'blake3':
    import blake3
    f = lambda b: blake3.blake3(b).digest()
else:
    f = lambda b: hashlib.new(alg, b).digest()
buf = bytes(range(256)) * 4096
n = 0
t0 = time.perf_counter()
while True:
    f(buf); n += 1
    dt = time.perf_counter() - t0
    if dt >= secs:
        break
print(n * len(buf) / dt)
"""


@dataclass
class AlgRow:
    dataset: str
    algorithm: str
    tool: str  # checksig-api, the peer's name, py-threads
    status: str = "ok"
    seconds: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    median_s: float | None = None
    mb_s: float | None = None
    peak_rss_mib: float | None = None
    pct_limit: float | None = None
    vs_peer: float | None = None  # peer median / this median
    vs_threads: float | None = None


def _digest_py(alg: str, path: Path) -> str | None:
    import hashlib

    if alg == "blake3":
        try:
            import blake3
        except ImportError:
            return None
        h = blake3.blake3()
    else:
        h = hashlib.new(alg)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _big1(data_dir: Path, scale: str, log) -> datasets.Dataset:
    size = BIG1[scale]
    d = data_dir / scale / "big1"
    root = d / "root"
    spec = {"version": datasets.GEN_VERSION, "seed": datasets.SEED, "size": size}
    spec_path = d / "spec.json"
    if not spec_path.exists() or json.loads(spec_path.read_text()) != spec:
        log(f"generating {scale}/big1 in {d} ...")
        if d.exists():
            shutil.rmtree(d)
        root.mkdir(parents=True)
        datasets._write_files(root, [("one.bin", size)], datasets.SEED + 7)
        spec_path.write_text(json.dumps(spec) + "\n")
    # The manifest field is only read by datasets.warm: the spec, not the file.
    return datasets.Dataset("big1", root, spec_path, 1, size, ["one.bin"])


def _manifest(ds: datasets.Dataset, alg: str, log) -> Path | None:
    """The dataset's manifest for alg, outside its root, written once."""
    name, writer, _ = ALGORITHMS[alg]
    d = ds.root.parent / f"manifests-{alg}"
    out = d / name
    if out.exists():
        return out
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / (name + ".tmp")
    if shutil.which(writer[0]):
        with open(tmp, "wb") as f:
            for i in range(0, len(ds.files), 4096):
                subprocess.run(
                    [*writer, *ds.files[i : i + 4096]], cwd=ds.root, check=True, stdout=f
                )
    else:
        log(f"{writer[0]} not found: writing the {alg} manifest of {ds.name} with Python")
        lines = []
        for n in ds.files:
            h = _digest_py(alg, ds.root / n)
            if h is None:
                return None
            lines.append(f"{h}  {n}\n")
        tmp.write_text("".join(lines))
    tmp.replace(out)
    return out


# The share of a file the page cache holds in 2 MiB folios, as a mapping of it
# shows it (Linux: FilePmdMapped after touching every 2 MiB). It moves the
# mapping tools' cost: a 2 MiB folio maps with one fault and unmaps at once,
# 512 small ones take 512 page-table entries each way. On big1 both tools map
# the file (b3sum whole, checksig's tree 32 MiB at a time): b3sum took
# 0.40-0.43 s with it all in small folios and 0.27-0.29 s with 98% in 2 MiB
# ones, checksig 0.40-0.43 and 0.25-0.27. Printed under the table so that a
# run's ratios can be read with it.
PMD_SHARE_SRC = """\
import mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    for i in range(0, len(m), 2 << 20):
        m[i]
    with open("/proc/self/smaps_rollup") as s:
        kb = next(int(ln.split()[1]) for ln in s if ln.startswith("FilePmdMapped:"))
    print(kb * 1024 / len(m))
"""


def _pmd_share(path: Path) -> float | None:
    """The share of path's bytes the page cache holds in 2 MiB folios, or
    None where the kernel does not say (not Linux, no smaps_rollup)."""
    cmd = [sys.executable, "-c", PMD_SHARE_SRC, str(path)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return float(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def _probe(py: str, alg: str, secs: float) -> float | None:
    for exe in dict.fromkeys([py, sys.executable]):
        r = subprocess.run([exe, "-c", LIMIT_SRC, alg, str(secs)], capture_output=True, text=True)
        if r.returncode == 0:
            return float(r.stdout)
    return None


def run(ctx, data_dir: Path, scale: str, algs: list[str], repeat: int, limit_secs: float, log):
    """Measure every algorithm on every dataset; returns (rows, limits).

    ctx: run.py's pieces, passed in so that this module imports nothing from
    it: ctx.py (the measured interpreter), ctx.spawn, ctx.api_src, ctx.nproc,
    ctx.api_why_not (None when the checksig API imports).
    """
    # The thread pool's interpreter: the measured one, or for blake3 (PyPI's
    # blake3 is not in the venv the harness makes) the one running the harness.
    threads_py: dict[str, str | None] = {}
    for alg in algs:
        need = "import blake3" if alg == "blake3" else "import hashlib"
        threads_py[alg] = next(
            (
                exe
                for exe in dict.fromkeys([ctx.py, sys.executable])
                if subprocess.run([exe, "-c", need], capture_output=True).returncode == 0
            ),
            None,
        )
    rows: list[AlgRow] = []
    limits: dict[str, dict] = {}
    for dname in DATASETS:
        ds = datasets.ensure(data_dir, scale, dname, log=log) if dname != "big1" else None
        ds = ds or _big1(data_dir, scale, log)
        log(f"algorithms on {ds.name}: {ds.entries:,} files, {ds.nbytes / MB:,.0f} MB")
        datasets.warm(ds)
        # Only a file of 2 MiB or more can hold a 2 MiB folio: big1's one file.
        pmd = _pmd_share(ds.root / ds.files[0]) if ds.entries == 1 else None
        cmds: dict[tuple[str, str], list] = {}
        for alg in algs:
            man = _manifest(ds, alg, log)
            peer = ALGORITHMS[alg][2]
            here = {}
            for tool in TOOLS:
                row = AlgRow(ds.name, alg, PEER[alg] if tool == "peer" else tool)
                rows.append(row)
                if man is None:
                    row.status = f"unavailable: no {alg} manifest (no {ALGORITHMS[alg][1][0]})"
                elif tool == "checksig-api":
                    if ctx.api_why_not:
                        row.status = "unavailable: " + ctx.api_why_not
                    here[tool] = (
                        row,
                        [([ctx.py, "-c", ctx.api_src, str(ds.root), str(man)], None)],
                    )
                elif tool == "peer":
                    if shutil.which(peer[0]) is None:
                        row.status = f"unavailable: no {peer[0]} on PATH"
                    here[tool] = (row, [([*peer, str(man)], ds.root)])
                else:
                    if threads_py[alg] is None:
                        row.status = "unavailable: pip install blake3"
                    here[tool] = (
                        row,
                        [
                            (
                                [
                                    threads_py[alg] or ctx.py,
                                    "-c",
                                    THREADS_SRC,
                                    str(ds.root),
                                    str(man),
                                    alg,
                                    str(ctx.nproc),
                                ],
                                None,
                            )
                        ],
                    )
            for tool, v in here.items():
                cmds[(alg, tool)] = v
        samples: dict[str, list[float]] = {alg: [] for alg in algs}
        keys = list(cmds)
        for rep in range(repeat):
            for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
                row, cmd = cmds[key]
                if row.status != "ok":
                    continue
                s = ctx.spawn(cmd)
                if s.rc:
                    lines = [ln for ln in s.stderr.strip().splitlines() if ln.strip()]
                    row.status = f"failed: exit {s.rc}: {lines[-1] if lines else ''}"
                    continue
                row.seconds.append(s.seconds)
                row.maxrss_kib.append(s.maxrss_kib)
            for alg in algs:
                p = _probe(ctx.py, alg, limit_secs)
                if p:
                    samples[alg].append(p)
            log(f"  algorithms {ds.name} rep {rep + 1}/{repeat}")
        for alg in algs:
            single = statistics.median(samples[alg]) if samples[alg] else None
            cores = ctx.nproc if (ds.entries > 1 or alg in SPLITS_A_FILE) else 1
            cores = min(cores, ctx.nproc)
            limits[f"{ds.name}/{alg}"] = {
                "single_core_mb_s": single / MB if single else None,
                "cores": cores,
                "limit_mb_s": single * cores / MB if single else None,
                "page_cache_2mib_share": pmd,
            }
            mine = [r for r in rows if r.dataset == ds.name and r.algorithm == alg]
            for r in mine:
                if r.status == "ok" and r.seconds:
                    r.median_s = statistics.median(r.seconds)
                    r.mb_s = ds.nbytes / MB / r.median_s
                    r.peak_rss_mib = max(r.maxrss_kib) / 1024
                    if single:
                        r.pct_limit = 100 * (ds.nbytes / r.median_s) / (single * cores)
            by = {r.tool: r for r in mine}
            for r in mine:
                for attr, other in (
                    ("vs_peer", by.get(PEER[alg])),
                    ("vs_threads", by.get("py-threads")),
                ):
                    if r.median_s and other is not None and other.median_s:
                        setattr(r, attr, other.median_s / r.median_s)
    return rows, limits


def table(rows: list[AlgRow], limits: dict, fmt) -> str:
    head = (
        f"{'dataset':<8} {'algorithm':<9} {'tool':<14} {'median s':>9} {'MB/s':>8} "
        f"{'RSS MiB':>8} {'%limit':>7} {'x peer':>7} {'x pythr':>8}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        if r.status != "ok":
            out.append(f"{r.dataset:<8} {r.algorithm:<9} {r.tool:<14} {r.status}")
            continue
        out.append(
            f"{r.dataset:<8} {r.algorithm:<9} {r.tool:<14} {fmt(r.median_s, '9.3f')} "
            f"{fmt(r.mb_s, '8.0f')} {fmt(r.peak_rss_mib, '8.1f')} "
            f"{fmt(r.pct_limit, '6.0f', '%')} {fmt(r.vs_peer, '6.2f', 'x')} "
            f"{fmt(r.vs_threads, '7.2f', 'x')}"
        )
    out.append("")
    out.append(
        "each algorithm's limit (one core, 1 MiB in memory, x cores usable): "
        + ", ".join(
            f"{k} {v['single_core_mb_s']:.0f} x{v['cores']}"
            for k, v in limits.items()
            if v["single_core_mb_s"]
        )
        + " MB/s"
    )
    shares = {k.split("/")[0]: v["page_cache_2mib_share"] for k, v in limits.items()}
    for ds, share in shares.items():
        if share is not None:
            out.append(
                f"{ds}'s file in the page cache: {100 * share:.0f}% in 2 MiB folios "
                "(what a mapping tool's page faults cost depends on it)"
            )
    return "\n".join(out)


def targets(rows: list[AlgRow]) -> list[dict]:
    """Issue 18's targets: BLAKE3 at least as fast as b3sum, one big file and many."""
    by = {(r.dataset, r.algorithm, r.tool): r for r in rows}
    out = []
    for ds, label in (("big1", "one big file"), ("large", "1,000 x 1 MiB")):
        r = by.get((ds, "blake3", "checksig-api"))
        v = round(r.vs_peer, 2) if r and r.vs_peer else None
        out.append(
            {
                "target": f"blake3, {label}: >= b3sum --check's speed",
                "goal": ">= 1.0x",
                "measured": v,
                "met": None if v is None else v >= 1.0,
                "paired_openssl": None,
            }
        )
    return out
