#!/usr/bin/env python3
"""Benchmark checksig against the tools a user would pick instead (issue 7).

    python benchmarks/run.py [--quick] [--datasets small,large,...] [--repeat 5]
                             [--cold] [--data-dir DIR] [--json FILE]

Every tool runs as a whole fresh process (start-up, imports and exit count), on a
warm page cache (or, with --cold, with the dataset's pages evicted before every
run: datasets.evict), interleaved round-robin within each repetition (the starting
tool rotates), and the median of the repetitions is reported. The hashing limit is
measured in the same run, inside the same round-robin. Python children run in a
venv in DATA_DIR into which checksig is pip-installed from this tree (or with
--python as it is). Nothing here asserts a timing: targets are reported as met
or missed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import algorithms  # noqa: E402
import datasets  # noqa: E402
import facts as machine  # noqa: E402
import floor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# The interpreter every Python child runs with (checksig, the CLI beside it, the
# thread-pool peer, the hashing limit): by default a venv under the data directory
# with checksig installed from this tree as a user installs it (see main()).
PY = sys.executable  # the real interpreter, never a pyenv/conda shim script
NPROC = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
MB = 1e6  # throughput is in MB/s = 10^6 bytes per second

CHECKSIG_TOOLS = ["checksig-api", "checksig-cli"]
PEERS = ["sha1sum", "sha1sum-split", "py-threads"]
TOOLS = CHECKSIG_TOOLS + PEERS

# Child programs, run with `python -c`. Each is what a user would write.
# It also prints how long the import and the call took (two perf_counter reads: noise),
# so the table can tell start-up from engine time.
API_SRC = """\
import sys, time
t0 = time.perf_counter()
import checksig
t1 = time.perf_counter()
kw = {} if len(sys.argv) < 4 or sys.argv[3] == '-' else {'workers': int(sys.argv[3])}
if sys.argv[2] == '-':
    r = checksig.check_signatures(sys.argv[1], **kw)
else:
    r = checksig.check_signatures(sys.argv[1], sys.argv[2], **kw)
print(t1 - t0, time.perf_counter() - t1, ','.join(r.io or ()) or '-')
"""

THREADS_SRC = """\
import hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
root, manifest = sys.argv[1], sys.argv[2]
def check(line):
    want, name = line[:40], line[42:]
    with open(os.path.join(root, name), 'rb') as f:
        return hashlib.file_digest(f, 'sha1').hexdigest() == want
with open(manifest, encoding='utf-8') as f:
    lines = f.read().splitlines()
with ThreadPoolExecutor(int(sys.argv[3])) as ex:
    bad = sum(not ok for ok in ex.map(check, lines))
sys.exit(1 if bad else 0)
"""

# One core hashing one file out of the page cache as a thread of py-threads does
# (read(2) into a buffer, OpenSSL): the copy-bound speed of one core.
COPY_SRC = """\
import hashlib, sys, time
with open(sys.argv[1], 'rb') as f:
    t0 = time.perf_counter()
    hashlib.file_digest(f, 'sha1')
    n = f.tell()
print(n / (time.perf_counter() - t0))
"""

# One core hashing an in-memory buffer with OpenSSL (hashlib): the CPU's limit.
LIMIT_SRC = """\
import hashlib, sys, time
buf = bytes(range(256)) * 4096  # 1 MiB
secs = float(sys.argv[1]); n = 0
t0 = time.perf_counter()
while True:
    hashlib.sha1(buf).digest(); n += 1
    dt = time.perf_counter() - t0
    if dt >= secs:
        break
print(n * len(buf) / dt)
"""

# The same in Go's crypto/sha1, the hash the engine uses: built once into the data
# directory (never the repository) when a Go toolchain is on PATH.
GO_LIMIT_SRC = """\
package main

import (
	"crypto/sha1"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	secs, _ := strconv.ParseFloat(os.Args[1], 64)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	n := 0
	t0 := time.Now()
	for {
		sha1.Sum(buf)
		n++
		if time.Since(t0).Seconds() >= secs {
			break
		}
	}
	fmt.Println(float64(n*len(buf)) / time.Since(t0).Seconds())
}
"""

PER_FILE_SRC = """\
import hashlib, json, sys, timeit
import checksig
path, want = sys.argv[1], sys.argv[2]
def hl():
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha1').hexdigest()
def cs():
    return checksig.file_digest(path, 'sha1')
def ck():
    return checksig.check_file(path, want, 'sha1')
out = {}
for name, fn in [('hashlib.file_digest', hl), ('checksig.file_digest', cs),
                 ('checksig.check_file', ck)]:
    try:
        fn()
    except Exception as e:
        out[name] = {'error': f'{type(e).__name__}: {e}'}
        continue
    t = timeit.Timer(fn)
    n, _ = t.autorange()
    best = min(t.repeat(repeat=int(sys.argv[3]), number=n)) / n
    out[name] = {'us_per_call': best * 1e6}
print(json.dumps(out))
"""


@dataclass
class Sample:
    seconds: float
    maxrss_kib: int  # GNU time's %M, else wait4's ru_maxrss; summed over processes side by side
    rc: int
    stderr: str = ""
    stdout: str = ""
    cpu_s: float = 0.0  # user + system CPU seconds of every process (and its children)


@dataclass
class Row:
    dataset: str
    tool: str
    status: str = "ok"  # ok, unavailable: why, failed: why
    seconds: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    import_s: list[float] = field(default_factory=list)  # checksig-api: inside the child
    call_s: list[float] = field(default_factory=list)
    io: list[str] = field(default_factory=list)  # checksig-api: how big files were read (Report.io)
    # checksig-api: one core's Go crypto/sha1 speed probed just before each run
    # (B/s; None without Go), and the median over repetitions of the call's
    # share of that probe x the cores the dataset can use.
    probe_before: list[float | None] = field(default_factory=list)
    pct_call_paired: float | None = None
    # The same with the OpenSSL probe (the limit's), taken right before the run:
    # the call's share and the whole process's. The limit's own samples are taken
    # at other moments, which on a machine whose speed drifts moves %limit a lot.
    ossl_before: list[float] = field(default_factory=list)
    pct_call_paired_ossl: float | None = None
    pct_paired_ossl: float | None = None
    median_s: float | None = None
    median_cpu_s: float | None = None
    mb_s: float | None = None
    files_s: float | None = None
    peak_rss_mib: float | None = None
    median_import_s: float | None = None
    median_call_s: float | None = None
    pct_limit: float | None = None
    pct_go: float | None = None  # of nproc x Go crypto/sha1 single-core speed
    vs: dict[str, float | None] = field(default_factory=dict)  # peer median / this median


# Peak RSS: os.wait4's ru_maxrss for a child forked from this (large) Python process
# starts at this process's own high-water mark (Linux carries it across fork+exec),
# so a 2 MiB sha1sum would read as ~30 MiB. GNU time forks from a ~1 MiB process, so
# its %M is the child's own peak within ~1 MiB. Without it, fall back to wait4.
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
RSS_METHOD = (
    "GNU time %M (max RSS of each process)"
    if GNU_TIME
    else "os.wait4 ru_maxrss (includes the harness's own RSS at fork)"
)


def spawn(cmds: list[tuple[list[str], Path | None]]) -> Sample:
    """Run the commands side by side as fresh processes; time from first start to
    last exit; peak RSS per process, summed (they run at the same time)."""
    errs, outs, stdouts, procs = [], [], [], []
    for _ in cmds:
        errs.append(tempfile.TemporaryFile())
        stdouts.append(tempfile.TemporaryFile())
        outs.append(tempfile.NamedTemporaryFile(suffix=".rss") if GNU_TIME else None)
    t0 = time.perf_counter()
    for (argv, cwd), err, out, so in zip(cmds, errs, outs, stdouts):
        if out is not None:
            argv = [GNU_TIME, "-f", "%M", "-o", out.name, *argv]
        procs.append(
            subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=so, stderr=err)
        )
    rss, rc, cpu = 0, 0, 0.0
    for p in procs:
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
        rss += ru.ru_maxrss
        cpu += ru.ru_utime + ru.ru_stime
        rc = rc or p.returncode
    dt = time.perf_counter() - t0
    text = ""
    if GNU_TIME:
        rss = 0
        for out in outs:
            lines = out.read().decode().split()
            rss += int(lines[-1]) if lines and lines[-1].isdigit() else 0
            out.close()
    for err in errs:
        err.seek(0)
        text += err.read().decode(errors="replace")
        err.close()
    stdout = ""
    for so in stdouts:
        so.seek(0)
        stdout += so.read(4096).decode(errors="replace")
        so.close()
    return Sample(dt, rss, rc, text[-2000:], stdout, cpu)


class Tools:
    """The command lines of every tool, and whether each is usable here."""

    def __init__(self, cli: str | None):
        self.why_not: dict[str, str] = {}
        self.cli_flags: list[str] = []
        probe = subprocess.run(
            [PY, "-c", "import checksig; checksig.check_signatures"],
            capture_output=True,
            text=True,
        )
        if probe.returncode:
            self.why_not["checksig-api"] = "import failed: " + _last_line(probe.stderr)
        self.cli = self._find_cli(cli)

    def _find_cli(self, cli: str | None) -> list[str] | None:
        script = Path(PY).parent / "checksig"
        if cli:
            candidates = [cli.split()]
        else:
            candidates = [[str(script)]] if script.exists() else []
            candidates.append([PY, "-m", "checksig"])
        for argv in candidates:
            r = subprocess.run([*argv, "check", "--help"], capture_output=True, text=True)
            if r.returncode == 0:
                # Like sha1sum --quiet: print failures only; no progress bar.
                self.cli_flags = [f for f in ("--quiet", "--no-progress") if f in r.stdout]
                return argv
            why = _last_line(r.stderr or r.stdout)
        self.why_not["checksig-cli"] = "no `checksig check` CLI: " + why
        return None

    def commands(self, tool: str, ds: datasets.Dataset, workers: int | None = None):
        root, man = str(ds.root), str(ds.manifest)
        if tool == "checksig-api":
            m = "-" if ds.default_manifest else man
            w = "-" if workers is None else str(workers)
            return [([PY, "-c", API_SRC, root, m, w], None)]
        if tool == "checksig-cli":
            extra = [] if ds.default_manifest else ["-m", man]
            return [([*self.cli, "check", *self.cli_flags, root, *extra], None)]
        if tool == "sha1sum":
            return [(["sha1sum", "-c", "--quiet", man], ds.root)]
        if tool == "sha1sum-split":
            parts = ds.parts(min(NPROC, ds.entries))
            return [(["sha1sum", "-c", "--quiet", str(p)], ds.root) for p in parts]
        if tool == "py-threads":
            return [([PY, "-c", THREADS_SRC, root, man, str(NPROC)], None)]
        raise ValueError(tool)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def measure_limit(secs: float) -> float:
    """Single-core SHA-1 bytes/s (OpenSSL via hashlib) in a fresh process."""
    out = subprocess.run(
        [PY, "-c", LIMIT_SRC, str(secs)], capture_output=True, text=True, check=True
    ).stdout
    return float(out)


def measure_copy(path: Path) -> float:
    """Single-core bytes/s of read(2) + OpenSSL SHA-1 over one file, in a fresh process."""
    out = subprocess.run(
        [PY, "-c", COPY_SRC, str(path)], capture_output=True, text=True, check=True
    ).stdout
    return float(out)


def build_go_probe(name: str, src: str, data_dir: Path, log) -> str | None:
    """Build a one-file Go program once (cached under data_dir by its source and
    the toolchain's version); None without a Go toolchain or if it fails."""
    go = shutil.which("go")
    if go is None:
        return None
    ver = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    key = hashlib.sha1((src + ver).encode()).hexdigest()[:12]
    d = data_dir / f"go-{name}"
    exe = d / f"{name}-{key}"
    if not exe.exists():
        d.mkdir(parents=True, exist_ok=True)
        (d / "main.go").write_text(src)
        (d / "go.mod").write_text(f"module {name}\n\ngo 1.21\n")
        env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        r = subprocess.run(
            [go, "build", "-o", str(exe), "."], cwd=d, env=env, capture_output=True, text=True
        )
        if r.returncode:
            log(f"go probe {name} not built: " + _last_line(r.stderr))
            return None
    return str(exe)


def build_go_limit(data_dir: Path, log) -> str | None:
    """Build the Go crypto/sha1 speed probe once; None without a Go toolchain."""
    return build_go_probe("sha1speed", GO_LIMIT_SRC, data_dir, log)


def measure_go_limit(exe: str | None, secs: float) -> float | None:
    if exe is None:
        return None
    r = subprocess.run([exe, str(secs)], capture_output=True, text=True)
    return float(r.stdout) if r.returncode == 0 else None


def _paired_pct(
    nbytes: int, seconds: list[float], probes: Sequence[float | None], cores: int
) -> float | None:
    """Median over repetitions of nbytes/seconds as a % of the probe taken
    before each x cores (repetitions without a probe left out)."""
    pcts = [100 * nbytes / s / (p * cores) for s, p in zip(seconds, probes) if p]
    return statistics.median(pcts) if pcts else None


def run_dataset(
    ds,
    tools: Tools,
    names: list[str],
    repeat: int,
    limit_secs: float,
    log,
    go_exe: str | None = None,
    cold: bool = False,
):
    rows = {t: Row(ds.name, t) for t in names}
    for t in names:
        if t in tools.why_not:
            rows[t].status = "unavailable: " + tools.why_not[t]
    live = [t for t in names if rows[t].status == "ok"]
    limits, go_limits, copies = [], [], []
    # Files of 64 MiB and more: also measure one core hashing one of them as
    # py-threads does (the copy-bound speed), for the targets' ceiling.
    big = ds.nbytes // max(ds.entries, 1) >= 64 << 20
    load0 = os.getloadavg()[0]
    for rep in range(repeat):
        order = live[rep % len(live) :] + live[: rep % len(live)] if live else []
        go = None
        for t in order:
            if rows[t].status != "ok":
                continue
            if t == "checksig-api":
                # This repetition's probes run just before this run, so that it can
                # also be read against them: the speed drifts within seconds.
                go = measure_go_limit(go_exe, limit_secs)
                ossl = measure_limit(limit_secs)
            if cold:
                cool(ds, log)
            s = spawn(tools.commands(t, ds))
            if s.rc:
                rows[t].status = f"failed: exit {s.rc}: {_last_line(s.stderr)}"
                continue
            rows[t].seconds.append(s.seconds)
            rows[t].maxrss_kib.append(s.maxrss_kib)
            rows[t].cpu_s.append(s.cpu_s)
            if t == "checksig-api":
                imp, call, io = s.stdout.split()[:3]
                rows[t].import_s.append(float(imp))
                rows[t].call_s.append(float(call))
                rows[t].io.append(io)
                rows[t].probe_before.append(go)
                rows[t].ossl_before.append(ossl)
        limits.append(measure_limit(limit_secs))
        if big:
            copies.append(measure_copy(ds.root / ds.files[0]))
        if go is None:
            go = measure_go_limit(go_exe, limit_secs)
        if go is not None:
            go_limits.append(go)
        log(
            f"  {ds.name} rep {rep + 1}/{repeat}: "
            + ", ".join(
                f"{t} {rows[t].seconds[-1]:.3f}s"
                for t in order
                if rows[t].seconds and len(rows[t].seconds) == rep + 1
            )
        )
    single = statistics.median(limits)
    cores = min(NPROC, ds.entries)
    limit = single * cores
    go_single = statistics.median(go_limits) if go_limits else None
    for r in rows.values():
        if r.status == "ok" and r.seconds:
            r.median_s = statistics.median(r.seconds)
            r.median_cpu_s = statistics.median(r.cpu_s)
            r.mb_s = ds.nbytes / MB / r.median_s
            r.files_s = ds.entries / r.median_s
            r.peak_rss_mib = max(r.maxrss_kib) / 1024
            if r.call_s:
                r.median_import_s = statistics.median(r.import_s)
                r.median_call_s = statistics.median(r.call_s)
                r.pct_call_paired = _paired_pct(ds.nbytes, r.call_s, r.probe_before, cores)
                r.pct_call_paired_ossl = _paired_pct(ds.nbytes, r.call_s, r.ossl_before, cores)
                r.pct_paired_ossl = _paired_pct(ds.nbytes, r.seconds, r.ossl_before, cores)
            r.pct_limit = 100 * (ds.nbytes / r.median_s) / limit
            if go_single:
                r.pct_go = 100 * (ds.nbytes / r.median_s) / (go_single * cores)
    for r in rows.values():
        for p in PEERS:
            peer = rows.get(p)
            ok = r.median_s and peer is not None and peer.median_s
            r.vs[p] = peer.median_s / r.median_s if ok else None
    info = {
        "single_core_mb_s": single / MB,
        "limit_mb_s": limit / MB,
        "limit_cores": cores,
        "samples_mb_s": [x / MB for x in limits],
        "go_single_core_mb_s": go_single / MB if go_single else None,
        "go_samples_mb_s": [x / MB for x in go_limits],
        # one core reading and hashing a file of the dataset (read(2) + OpenSSL)
        "copy_bound_single_mb_s": statistics.median(copies) / MB if copies else None,
        "loadavg_1min": [load0, os.getloadavg()[0]],
    }
    return list(rows.values()), info


def startup(tools: Tools, tiny: datasets.Dataset, reps: int) -> dict:
    """Fresh-process start-up: bare Python vs import checksig (+ first call)."""
    f = str(tiny.root / tiny.files[0])
    cmds = {
        "python -c pass": [PY, "-c", "pass"],
        "import hashlib + file_digest": [
            PY,
            "-c",
            "import sys, hashlib; hashlib.file_digest(open(sys.argv[1], 'rb'), 'sha1')",
            f,
        ],
    }
    if "checksig-api" not in tools.why_not:
        cmds["import checksig"] = [PY, "-c", "import checksig"]
        cmds["import checksig + file_digest"] = [
            PY,
            "-c",
            "import sys, checksig; checksig.file_digest(sys.argv[1], 'sha1')",
            f,
        ]
        cmds["import checksig + check_signatures"] = [
            PY,
            "-c",
            "import sys, checksig; checksig.check_signatures(sys.argv[1])",
            str(tiny.root),
        ]
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    errors: dict[str, str] = {}
    keys = list(cmds)
    for rep in range(reps):
        for k in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
            if k in errors:
                continue
            s = spawn([(cmds[k], None)])
            if s.rc:
                errors[k] = _last_line(s.stderr)
            else:
                samples[k].append(s.seconds)
    base = statistics.median(samples["python -c pass"])
    out = {}
    for k in keys:
        if k in errors:
            out[k] = {"error": errors[k]}
        else:
            ms = statistics.median(samples[k]) * 1e3
            out[k] = {"median_ms": ms, "over_baseline_ms": ms - base * 1e3}
    return out


def per_file(tools: Tools, tiny: datasets.Dataset, reps: int) -> dict:
    """In-process timeit of the per-file API vs hashlib.file_digest on a tiny file."""
    if "checksig-api" in tools.why_not:
        return {"error": tools.why_not["checksig-api"]}
    line = tiny.manifest.read_text().splitlines()[0]
    r = subprocess.run(
        [PY, "-c", PER_FILE_SRC, str(tiny.root / tiny.files[0]), line[:40], str(reps)],
        capture_output=True,
        text=True,
    )
    if r.returncode:
        return {"error": _last_line(r.stderr)}
    out = json.loads(r.stdout)
    ref = out.get("hashlib.file_digest", {}).get("us_per_call")
    for v in out.values():
        if ref and "us_per_call" in v:
            v["ratio_to_hashlib"] = v["us_per_call"] / ref
    return out


def cool(ds: datasets.Dataset, log) -> None:
    """Evict the dataset's pages before a cold run; say so if some stayed."""
    left = datasets.evict(ds)
    if left:
        log(f"  {ds.name}: {left} pages still cached after eviction (mapped or dirty?)")


def scaling(tools: Tools, ds: datasets.Dataset, reps: int, log, cold: bool = False) -> dict:
    """checksig-api throughput by workers, on the 1 MiB dataset, interleaved."""
    if "checksig-api" in tools.why_not:
        return {"error": tools.why_not["checksig-api"]}
    ws = sorted({1, 2, 4, NPROC, 2 * NPROC, 4 * NPROC})
    samples: dict[int, list[float]] = {w: [] for w in ws}
    for rep in range(reps):
        for w in ws[rep % len(ws) :] + ws[: rep % len(ws)]:
            if cold:
                cool(ds, log)
            s = spawn(tools.commands("checksig-api", ds, workers=w))
            if s.rc:
                return {"error": f"workers={w}: {_last_line(s.stderr)}"}
            samples[w].append(s.seconds)
        log(f"  scaling rep {rep + 1}/{reps}")
    med = {w: statistics.median(v) for w, v in samples.items()}
    # The slowest quarter of a worker count's runs begins at its upper quartile of
    # seconds: "slower than N workers" is read against it (see targets()).
    q3 = {
        w: statistics.quantiles(v, n=4, method="inclusive")[2] if len(v) > 1 else v[0]
        for w, v in samples.items()
    }
    rows = [
        {
            "workers": w,
            "median_s": med[w],
            "mb_s": ds.nbytes / MB / med[w],
            "q3_s": q3[w],
            "speedup_vs_1": med[1] / med[w],
            "samples_s": samples[w],
        }
        for w in ws
    ]
    return {"dataset": ds.name, "rows": rows}


def machine_facts(data_dir: Path) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor(),
    )
    flags = next(
        (ln.split(":", 1)[1].split() for ln in cpuinfo.splitlines() if ln.startswith("flags")), []
    )

    def cmd(*argv, cwd=None):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0] if r.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return None

    lib = cmd(PY, "-c", "from checksig import _native; print(_native.library_path())")
    mem = (
        next(
            (
                ln.split(":")[1].strip()
                for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")
            ),
            None,
        )
        if Path("/proc/meminfo").exists()
        else None
    )
    engine = cmd(
        PY,
        "-c",
        "import json; from checksig import _native as n; print(json.dumps(n.engine_info()))",
    )
    return {
        "nproc": NPROC,
        "cpu_model": model,
        "sha_ni": "sha_ni" in flags,
        "mem_total": mem,
        "kernel": platform.release(),
        "virtualisation": machine.virtualisation(),
        # the engine's settings (CHECKSIG_IO, CHECKSIG_TUNE) in the measured Python
        "engine": json.loads(engine) if engine else None,
        "python": cmd(PY, "-c", "import platform; print(platform.python_version())"),
        "python_executable": PY,
        # The measured interpreter's, which py-threads and the limit probe hash with.
        "openssl": cmd(PY, "-c", "import ssl; print(ssl.OPENSSL_VERSION)"),
        "coreutils": cmd("sha1sum", "--version"),
        "go": cmd("go", "version"),
        "checksig_lib_go": cmd("go", "version", lib) if lib else None,
        "checksig_commit": cmd("git", "describe", "--always", "--dirty", cwd=REPO),
        "data_fs": cmd("sh", "-c", f"df -hT '{data_dir}' | tail -1"),
        "loadavg_start": os.getloadavg(),
    }


def fmt(v, spec: str, unit: str = "") -> str:
    """v in spec, then unit; a missing value is "-" in the same width."""
    if v is None:
        width = int(spec[: len(spec) - len(spec.lstrip("0123456789"))] or 0)
        return "-".rjust(width + len(unit))
    return format(v, spec) + unit


def table(rows: list[Row], limits: dict) -> str:
    head = (
        f"{'dataset':<8} {'tool':<14} {'median s':>9} {'cpu s':>7} {'MB/s':>8} "
        f"{'files/s':>10} "
        f"{'RSS MiB':>8} {'%limit':>7} {'%go':>5} {'x sha1sum':>9} {'x split':>8} "
        f"{'x pythr':>8}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        if r.status != "ok":
            out.append(f"{r.dataset:<8} {r.tool:<14} {r.status}")
            continue
        out.append(
            f"{r.dataset:<8} {r.tool:<14} {fmt(r.median_s, '9.3f')} "
            f"{fmt(r.median_cpu_s, '7.2f')} {fmt(r.mb_s, '8.0f')} "
            f"{fmt(r.files_s, '10,.0f')} {fmt(r.peak_rss_mib, '8.1f')} "
            f"{fmt(r.pct_limit, '6.0f', '%')} {fmt(r.pct_go, '4.0f', '%')} "
            f"{fmt(r.vs.get('sha1sum'), '8.2f', 'x')} "
            f"{fmt(r.vs.get('sha1sum-split'), '7.2f', 'x')} "
            f"{fmt(r.vs.get('py-threads'), '7.2f', 'x')}"
        )
    out.append("")
    out.append(
        "hashing limit (single core, OpenSSL via hashlib, x cores used): "
        + ", ".join(
            f"{k} {v['single_core_mb_s']:.0f} x{v['limit_cores']} = {v['limit_mb_s']:.0f} MB/s"
            for k, v in limits.items()
        )
    )
    api = [r for r in rows if r.tool == "checksig-api" and r.median_call_s is not None]
    if api:
        out.append(
            "checksig-api wall time split (medians, measured inside the child): "
            "import checksig / check_signatures call / the rest (interpreter); "
            "'paired': the median over repetitions of the call's speed against one "
            "core's Go crypto/sha1 and OpenSSL speeds, each probed just before that run, "
            "x the cores used; 'whole process paired': the same for the whole process "
            "against OpenSSL's"
        )
        for r in api:
            rest = r.median_s - r.median_import_s - r.median_call_s
            nbytes = r.mb_s * r.median_s
            call_mb_s = nbytes / r.median_call_s
            lim = limits.get(r.dataset, {}).get("limit_mb_s")
            shares = [f"{100 * call_mb_s / lim:.0f}% of the limit"] if lim else []
            paired = [
                f"{v:.0f}% {name}"
                for v, name in [(r.pct_call_paired, "Go"), (r.pct_call_paired_ossl, "OpenSSL")]
                if v is not None
            ]
            if paired:
                shares.append("paired: " + ", ".join(paired))
            pct = f" ({'; '.join(shares)})" if shares else ""
            whole = ""
            if r.pct_paired_ossl is not None:
                whole = f"; whole process paired: {r.pct_paired_ossl:.0f}% OpenSSL"
            out.append(
                f"  {r.dataset:<8} {r.median_import_s:.3f} / {r.median_call_s:.3f} / "
                f"{rest:.3f} s; the call alone: {call_mb_s:,.0f} MB/s{pct}, "
                f"{r.files_s * r.median_s / r.median_call_s:,.0f} files/s{whole}; "
                f"big files read: {io_summary(r.io)}"
            )
    if any(v["go_single_core_mb_s"] for v in limits.values()):
        out.append(
            "Go crypto/sha1, single core (the %go column's base): "
            + ", ".join(
                f"{k} {v['go_single_core_mb_s']:.0f}"
                for k, v in limits.items()
                if v["go_single_core_mb_s"]
            )
            + " MB/s"
        )
    return "\n".join(out)


def io_summary(runs: list[str]) -> str:
    """How checksig-api read the big files over its runs (Report.io of each run):
    "mmap x5", "read,mmap,calibrating x5"; "-" for none."""
    counts: dict[str, int] = {}
    for io in runs:
        counts[io] = counts.get(io, 0) + 1
    return "; ".join(f"{io} x{n}" for io, n in counts.items()) or "-"


def ds_mb(sc: dict, seconds: float) -> float:
    """MB/s of the scaling dataset done in seconds."""
    row = sc["rows"][0]
    return row["mb_s"] * row["median_s"] / seconds


def targets(rows: list[Row], limits: dict, start: dict, pf: dict, sc: dict) -> list[dict]:
    """Issue 7's targets, each with the measured value and met / missed / not measured."""
    by = {(r.dataset, r.tool): r for r in rows}
    out = []

    def add(name, goal, value, met, paired=None):
        out.append(
            {
                "target": name,
                "goal": goal,
                "measured": value,
                "met": None if value is None else bool(met),
                # big-file targets: the same read against the OpenSSL probe taken
                # just before each run (information: the target reads "measured")
                "paired_openssl": None if paired is None else round(paired, 1),
            }
        )

    def api(ds):
        r = by.get((ds, "checksig-api"))
        return r if r and r.median_s else None

    def best_peer(ds):
        peers = [by[(ds, p)] for p in PEERS if (ds, p) in by and by[(ds, p)].median_s]
        return min(peers, key=lambda r: r.median_s) if peers else None

    for ds, label in [("large", "Large files (1 MiB)"), ("huge", "Large files (4 huge)")]:
        r = api(ds)
        add(
            f"{label}: >= 90% of nproc x one core",
            ">= 90%",
            None if r is None else round(r.pct_limit, 1),
            r and r.pct_limit >= 90,
            r and r.pct_paired_ossl,
        )
    r = api("huge1")
    add(
        "One huge file: >= 90% of one core",
        ">= 90%",
        None if r is None else round(r.pct_limit, 1),
        r and r.pct_limit >= 90,
        r and r.pct_paired_ossl,
    )
    for ds, goal in [("small", 1.5), ("mixed", 1.3)]:
        r, p = api(ds), best_peer(ds)
        v = p.median_s / r.median_s if r and p else None
        add(
            f"{ds}: >= {goal}x the fastest peer ({p.tool if p else '?'})",
            f">= {goal}x",
            None if v is None else round(v, 2),
            v is not None and v >= goal,
        )
    r = api("million")
    add(
        "million entries: peak RSS of the whole process",
        "< 250 MiB",
        None if r is None else round(r.peak_rss_mib, 1),
        r and r.peak_rss_mib < 250,
    )
    fc = start.get("import checksig + file_digest", {}).get("over_baseline_ms")
    add(
        "import checksig + first call, over bare python",
        "< 30 ms",
        None if fc is None else round(fc, 1),
        fc is not None and fc < 30,
    )
    ratio = pf.get("checksig.file_digest", {}).get("ratio_to_hashlib") if pf else None
    add(
        "per-file API vs hashlib.file_digest (tiny file)",
        "<= 1.5x",
        None if ratio is None else round(ratio, 2),
        ratio is not None and ratio <= 1.5,
    )
    if sc and "rows" in sc:
        mb = {x["workers"]: x["mb_s"] for x in sc["rows"]}
        upto = [w for w in sorted(mb) if w <= NPROC]
        grows = all(mb[b] > mb[a] for a, b in zip(upto, upto[1:]))
        # Slower only beyond the noise: a median in the slowest quarter of the
        # workers=nproc runs (more seconds than their upper quartile).
        q3 = {x["workers"]: x["q3_s"] for x in sc["rows"]}
        med = {x["workers"]: x["median_s"] for x in sc["rows"]}
        never_slower = all(med[w] <= q3[NPROC] for w in med if w > NPROC)
        add(
            "scaling: grows up to nproc workers",
            "monotonic",
            " < ".join(f"{mb[w]:.0f}" for w in upto),
            grows,
        )
        add(
            "scaling: more workers than cores never slower",
            f">= workers={NPROC} within its runs' noise (its lower quartile, "
            f"{ds_mb(sc, q3[NPROC]):.0f})",
            ", ".join(f"w{w}: {mb[w]:.0f}" for w in sorted(mb) if w >= NPROC),
            never_slower,
        )
    else:
        add("scaling", "monotonic", None, None)
    return out


#: Issue 22: checksig against the fastest peer on the big datasets, API and CLI.
TARGETS_22 = [("large", 1.1), ("huge1", 1.15), ("huge", 1.0)]


def targets_22(rows: list[Row], limits: dict) -> list[dict]:
    """Issue 22's targets: the fastest peer's median / checksig's, API and CLI;
    for the big files, the ceilings beside: nproc x OpenSSL, and the copy-bound
    figure (one core reading and hashing a file as py-threads does, x nproc)."""
    by = {(r.dataset, r.tool): r for r in rows}
    out = []
    for ds, goal in TARGETS_22:
        peers = [by[(ds, p)] for p in PEERS if (ds, p) in by and by[(ds, p)].median_s]
        best = min(peers, key=lambda r: r.median_s) if peers else None
        lim = limits.get(ds, {})
        ceiling = None
        if lim.get("copy_bound_single_mb_s"):
            cores = lim["limit_cores"]
            ceiling = (
                f"ceiling: {cores} x OpenSSL {lim['limit_mb_s']:,.0f} MB/s, copy-bound "
                f"{cores} x {lim['copy_bound_single_mb_s']:,.0f} = "
                f"{cores * lim['copy_bound_single_mb_s']:,.0f} MB/s"
            )
        for tool in CHECKSIG_TOOLS:
            r = by.get((ds, tool))
            v = best.median_s / r.median_s if r and r.median_s and best else None
            out.append(
                {
                    "target": f"{ds} {tool}: >= {goal}x the fastest peer "
                    f"({best.tool if best else '?'})",
                    "goal": f">= {goal}x",
                    "measured": None if v is None else round(v, 3),
                    "mb_s": None if r is None else r.mb_s,
                    "met": None if v is None else v >= goal,
                    "ceiling": ceiling,
                }
            )
    return out


#: Issue 20: many small files against split `sha1sum -c`, whole processes.
TARGETS_20 = [
    ("small", "checksig-api", 1.6),
    ("small", "checksig-cli", 1.5),
    ("million", "checksig-api", 1.3),
]


def floors_20(rows: list[Row], limits: dict, floors: dict[str, dict | None]) -> dict[str, dict]:
    """For issue 20's datasets: the kernel's floor per file (benchmarks/floor.py)
    and the best ratio checksig-api could reach against split sha1sum -c in this
    run with an engine that did nothing but that floor and the hashing."""
    by = {(r.dataset, r.tool): r for r in rows}
    out = {}
    for ds, fl in floors.items():
        api, peer = by.get((ds, "checksig-api")), by.get((ds, "sha1sum-split"))
        if fl is None or api is None or not api.call_s or peer is None or not peer.median_s:
            continue
        outside = statistics.median(s - c for s, c in zip(api.seconds, api.call_s))
        lim = limits[ds]
        out[ds] = floor.ceiling(
            fl, outside, peer.median_s, lim["single_core_mb_s"] * MB, lim["limit_cores"]
        )
        out[ds]["checksig_call_s"] = round(api.median_call_s, 4)
    return out


def targets_20(rows: list[Row]) -> list[dict]:
    """Issue 20's targets: split sha1sum's median / checksig's, and the peak RSS
    of the million-entry run."""
    by = {(r.dataset, r.tool): r for r in rows}
    out = []
    for ds, tool, goal in TARGETS_20:
        r = by.get((ds, tool))
        v = r.vs.get("sha1sum-split") if r else None
        out.append(
            {
                "target": f"{ds} {tool}: >= {goal}x split sha1sum -c",
                "goal": f">= {goal}x",
                "measured": None if v is None else round(v, 3),
                "met": None if v is None else v >= goal,
            }
        )
    r = by.get(("million", "checksig-api"))
    rss = r.peak_rss_mib if r else None
    out.append(
        {
            "target": "million checksig-api: peak RSS",
            "goal": "< 250 MiB",
            "measured": None if rss is None else round(rss, 1),
            "met": None if rss is None else rss < 250,
        }
    )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="datasets ~10-20x smaller")
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="tiny datasets, 1 repetition: checks the harness, not speed",
    )
    ap.add_argument(
        "--datasets",
        default=",".join(datasets.ALL),
        help=f"comma-separated, from {','.join(datasets.ALL)}",
    )
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    ap.add_argument(
        "--algorithms",
        default=",".join(algorithms.ALGORITHMS),
        help="per-algorithm rows (benchmarks/algorithms.py), comma-separated from "
        f"{','.join(algorithms.ALGORITHMS)}; '' for none",
    )
    ap.add_argument("--repeat", type=int, default=None, help="repetitions (default 5; smoke 1)")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="evict the dataset's pages from the page cache before every run, without "
        "root (sync, then posix_fadvise DONTNEED per file, checked with mincore); the "
        "dentry and inode caches stay warm",
    )
    ap.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("TMPDIR") or "/tmp") / "checksig-bench"
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument(
        "--cli",
        help="CLI command prefix, e.g. '/path/to/python -m checksig', used instead "
        "of the default: the checksig script beside the measured Python (the "
        "venv's, or --python), else that Python's -m checksig",
    )
    ap.add_argument(
        "--no-extras", action="store_true", help="skip start-up, per-file and scaling measurements"
    )
    ap.add_argument(
        "--python",
        help="run every Python child with this interpreter as it "
        "is (default: a venv in DATA_DIR with checksig installed from this "
        "tree; --smoke: the interpreter running this script)",
    )
    a = ap.parse_args(argv)

    scale = "smoke" if a.smoke else "quick" if a.quick else "full"
    repeat = a.repeat or (1 if a.smoke else 5)
    limit_secs = 0.1 if a.smoke else 0.5
    names = [n for n in a.datasets.split(",") if n]
    tool_names = [t for t in a.tools.split(",") if t]
    for n in names:
        if n not in datasets.ALL:
            ap.error(f"unknown dataset {n!r}")
    for t in tool_names:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}")
    alg_names = [x for x in a.algorithms.split(",") if x]
    for x in alg_names:
        if x not in algorithms.ALGORITHMS:
            ap.error(f"unknown algorithm {x!r}")
    data_dir = a.data_dir.resolve()
    if data_dir == REPO or REPO in data_dir.parents:
        ap.error("--data-dir must be outside the repository")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    command = " ".join(
        [
            Path(sys.argv[0]).name if argv is None else "run.py",
            *(sys.argv[1:] if argv is None else argv),
        ]
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    # Paths the user gave relative to where they ran this, resolved before the chdir.
    if a.json:
        a.json = a.json.resolve()
    if a.python:
        a.python = shutil.which(a.python) or os.path.abspath(a.python)
    # Every child inherits this working directory. Not the repository: `python -c`
    # puts the working directory first on sys.path, so a child started from the
    # repository would import the checkout's checksig, not the installed one.
    os.chdir(data_dir)
    global PY
    if a.python:
        PY = a.python
    elif not a.smoke:
        PY = user_venv(data_dir, log)
    facts = machine_facts(data_dir)
    facts["rss_method"] = RSS_METHOD
    log("machine: " + json.dumps(facts))
    tools = Tools(a.cli)
    for t, why in tools.why_not.items():
        log(f"{t}: {why}")
    if a.python and "checksig-api" not in tools.why_not:
        # An interpreter given as it is may hold checksig as an editable install:
        # byte-compile it once, untimed, as `pip install` does (the venv's copy
        # was). Importing would not (modules that only jobs need load later, and
        # with PYTHONDONTWRITEBYTECODE set, as on some CI and sandbox machines,
        # nothing is written): every fresh process would compile it from source.
        pkg = subprocess.run(
            [PY, "-c", "import checksig, os; print(os.path.dirname(checksig.__file__))"],
            capture_output=True,
            text=True,
        )
        if pkg.returncode == 0:
            subprocess.run([PY, "-m", "compileall", "-q", pkg.stdout.strip()], check=False)
            log(f"byte-compiled {pkg.stdout.strip()} (as pip install does)")

    go_exe = build_go_limit(data_dir, log)
    floor_names = set(names) & {ds for ds, _, _ in TARGETS_20}
    floor_exe = build_go_probe("floor", floor.FLOOR_SRC, data_dir, log) if floor_names else None
    floors: dict[str, dict | None] = {}
    all_rows: list[Row] = []
    limits: dict[str, dict] = {}
    t_start = time.time()
    for n in names:
        ds = datasets.ensure(data_dir, scale, n, log=log)
        if a.cold:
            log(f"{n}: {ds.entries:,} entries, {ds.nbytes / MB:,.0f} MB; evicted before each run")
        else:
            log(f"{n}: {ds.entries:,} entries, {ds.nbytes / MB:,.0f} MB; warming the page cache")
            datasets.warm(ds)
        rows, limits[n] = run_dataset(
            ds, tools, tool_names, repeat, limit_secs, log, go_exe, cold=a.cold
        )
        all_rows.extend(rows)
        if n in floor_names:
            floors[n] = floor.measure(floor_exe, ds.root, ds.manifest)

    alg_rows, alg_limits = run_algorithms(
        data_dir, scale, alg_names, tools, repeat, limit_secs, log
    )

    start = pf = sc = {}
    if not a.no_extras:
        tiny = _tiny(data_dir, log)
        log("start-up and per-file API")
        start = startup(tools, tiny, max(5, 4 * repeat))
        pf = per_file(tools, tiny, 3 if a.smoke else 7)
        large = datasets.ensure(data_dir, scale, "large", log=log)
        if not a.cold:
            datasets.warm(large)
        log("scaling with workers on " + large.name)
        # Twice the repetitions: the differences looked for are smaller than
        # one fresh process's noise here (+-13% between runs of the same count).
        sc = scaling(tools, large, 2 * repeat, log, cold=a.cold)

    tg = targets(all_rows, limits, start, pf, sc)
    tg22 = targets_22(all_rows, limits)
    tg20 = targets_20(all_rows)
    fl20 = floors_20(all_rows, limits, floors)
    facts["loadavg_end"] = os.getloadavg()
    print(f"checksig benchmarks: {command}")
    engine = facts["engine"] or {}
    print(
        f"machine: {facts['nproc']} x {facts['cpu_model']} (sha_ni={facts['sha_ni']}), "
        f"kernel {facts['kernel']}, virtualisation {facts['virtualisation']}, "
        f"Python {facts['python']}, {facts['coreutils']}, "
        f"{facts['go']}, {facts['openssl']}; load {facts['loadavg_start']} -> "
        f"{facts['loadavg_end']}"
    )
    if engine:
        tuned = " ".join(f"{k}={v}" for k, v in engine["tune"].items())
        print(
            f"engine: big files CHECKSIG_IO={engine['io']['mode']}"
            + (f" (refused: {'; '.join(engine['refused'])})" if engine["refused"] else "")
            + f"; tuning {tuned}"
        )
    cache = (
        "cold cache: each dataset's pages evicted before every run (dentries and inodes "
        "stay cached)"
        if a.cold
        else "warm page cache"
    )
    print(f"scale {scale}, median of {repeat}, {cache}, data in {data_dir}\n")
    print(table(all_rows, limits))
    busy = {
        k: max(v["loadavg_1min"]) for k, v in limits.items() if max(v["loadavg_1min"]) > 1.5 * NPROC
    }
    if busy:
        print(
            f"\nWARNING: the machine was busy (1-min load average on {NPROC} cores: "
            + ", ".join(f"{k} {v:.1f}" for k, v in busy.items())
            + "); other work competed for the cores, so ratios are noisy."
        )
    if alg_rows:
        print("\nper algorithm (issue 18; benchmarks/algorithms.py):")
        print(algorithms.table(alg_rows, alg_limits, fmt))
    if start:
        print("\nstart-up (fresh process, median):")
        for k, v in start.items():
            print(
                f"  {k:<36} "
                + (
                    f"{v['median_ms']:7.1f} ms  (+{v['over_baseline_ms']:.1f})"
                    if "median_ms" in v
                    else f"error: {v['error']}"
                )
            )
    if pf:
        print("\nper-file API on a tiny file (in-process, best of timeit repeats):")
        if "error" in pf:
            print(f"  error: {pf['error']}")
        for k, v in pf.items():
            if isinstance(v, dict):
                print(
                    f"  {k:<24} "
                    + (
                        f"{v['us_per_call']:8.1f} us  x{v.get('ratio_to_hashlib', 0):.2f}"
                        if "us_per_call" in v
                        else f"error: {v['error']}"
                    )
                )
    if sc:
        print(f"\nscaling on {sc.get('dataset', '?')} (checksig-api, workers=N):")
        for x in sc.get("rows", []):
            print(f"  workers={x['workers']:<3} {x['mb_s']:8.0f} MB/s  x{x['speedup_vs_1']:.2f}")
        if "error" in sc:
            print(f"  error: {sc['error']}")
    print("\ntargets (issue 7):")
    for x in tg:
        mark = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
        paired = ""
        if x["paired_openssl"] is not None:
            paired = f"; paired with the OpenSSL probe before each run: {x['paired_openssl']}"
        print(f"  [{mark:^12}] {x['target']}: {x['measured']} (goal {x['goal']}{paired})")
    print("\ntargets (issue 22: whole processes against the fastest peer):")
    for x in tg22:
        mark = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
        extra = f"; {x['mb_s']:,.0f} MB/s; {x['ceiling']}" if x["ceiling"] and x["mb_s"] else ""
        print(f"  [{mark:^12}] {x['target']}: {x['measured']} (goal {x['goal']}{extra})")
    print("\ntargets (issue 20: many small files, whole processes against split sha1sum -c):")
    for x in tg20:
        mark = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
        print(f"  [{mark:^12}] {x['target']}: {x['measured']} (goal {x['goal']})")
    for ds, c in fl20.items():
        print(
            f"  ceiling on this machine, {ds}: {c['ceiling_x']}x split sha1sum -c for checksig-api"
            f" (open+fstat+read+close {c['ns_per_file'] / 1000:.2f} us/file of CPU ="
            f" {c['kernel_cpu_s']:.3f} s, SHA-1 at the OpenSSL limit {c['hash_cpu_s']:.3f} s,"
            f" over every core: a call of {c['best_call_s']:.3f} s, against checksig's"
            f" {c['checksig_call_s']:.3f}; plus {c['outside_call_s']:.3f} s outside the call)"
        )
    alg_tg = algorithms.targets(alg_rows) if alg_rows else []
    if alg_tg:
        print("\ntargets (issue 18):")
        for x in alg_tg:
            mark = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
            print(f"  [{mark:^12}] {x['target']}: {x['measured']} (goal {x['goal']})")
    print(f"\n({time.time() - t_start:.0f} s)")

    if a.json:
        a.json.write_text(
            json.dumps(
                {
                    "command": command,
                    "scale": scale,
                    "repeat": repeat,
                    "cold": a.cold,
                    "machine": facts,
                    "tools": {
                        "cli": tools.cli,
                        "cli_flags": tools.cli_flags,
                        "unavailable": tools.why_not,
                    },
                    "limits": limits,
                    "results": [asdict(r) for r in all_rows],
                    "startup": start,
                    "per_file": pf,
                    "scaling": sc,
                    "targets": tg + alg_tg,
                    "targets_22": tg22,
                    "targets_20": tg20,
                    "floor_20": fl20,
                    "algorithms": {
                        "results": [asdict(r) for r in alg_rows],
                        "limits": alg_limits,
                    },
                },
                indent=1,
            )
            + "\n"
        )
    return 0


def run_algorithms(data_dir, scale, names, tools, repeat, limit_secs, log):
    """The per-algorithm rows (issue 18): benchmarks/algorithms.py, given the
    pieces of this harness it needs."""
    if not names:
        return [], {}
    from types import SimpleNamespace

    ctx = SimpleNamespace(
        py=PY,
        spawn=spawn,
        api_src=API_SRC,
        nproc=NPROC,
        api_why_not=tools.why_not.get("checksig-api"),
    )
    return algorithms.run(ctx, data_dir, scale, names, repeat, limit_secs, log)


def user_venv(data_dir: Path, log) -> str:
    """A venv with checksig installed from this tree the way a user installs it.

    Measured in the interpreter a developer happens to run, start-up would
    carry whatever that environment adds to every process: an editable
    install's import hook (~15 ms here), other packages' .pth files (a
    sandbox's certificate hook: ~10 ms), ... A user who ran `pip install
    checksig` into a venv pays none of that, and neither do the peers that
    are not Python. So checksig is installed (not editable, numpy from the
    index) into DATA_DIR/venv, re-installed from the working tree on every
    run so that what is measured is the code in front of you.
    """
    venv = data_dir / "venv"
    py = venv / "bin" / "python"  # the harness runs on Linux only
    if not py.exists():
        log(f"creating {venv}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    log(f"installing checksig from {REPO} into {venv} (pip install, not editable)")
    # pip builds and re-installs a local directory every time (numpy only once).
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(REPO)],
        capture_output=True,
        text=True,
    )
    if r.returncode:
        sys.exit(
            f"installing checksig into {venv} failed:\n{r.stderr.strip()}\n"
            "(use --python to run with an interpreter that has checksig)"
        )
    return str(py)


def _tiny(data_dir: Path, log) -> datasets.Dataset:
    """A root with one 100-byte file and its sha1sum.txt, for start-up measurements."""
    root = data_dir / "tiny" / "root"
    if not (root / datasets.MANIFEST).exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / "tiny.txt").write_bytes(b"checksig\n" * 11 + b"x")
        with open(root / datasets.MANIFEST, "wb") as f:
            subprocess.run(["sha1sum", "tiny.txt"], cwd=root, check=True, stdout=f)
    return datasets.Dataset("tiny", root, root / datasets.MANIFEST, 1, 100, ["tiny.txt"])


if __name__ == "__main__":
    sys.exit(main())
