"""Smoke tests of the benchmark harnesses in benchmarks/: every tool gets a
row, the peers agree on what fails. No timing is asserted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATASETS = ["small", "large", "huge", "huge1", "mixed", "million"]
TOOLS = ["checksig-api", "checksig-cli", "sha1sum", "sha1sum-split", "py-threads"]

pytestmark = [
    pytest.mark.skipif(shutil.which("sha1sum") is None, reason="needs GNU sha1sum"),
    pytest.mark.skipif(sys.version_info < (3, 11), reason="peers need hashlib.file_digest"),
]


def run_script(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """benchmarks/SCRIPT run with this interpreter; it must exit 0."""
    r = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, r.stderr
    return r


def test_benchmark_harness_smoke(tmp_path):
    out = tmp_path / "bench.json"
    r = run_script(
        "run.py",
        *("--quick", "--smoke", "--repeat", "1"),
        *("--data-dir", str(tmp_path / "data"), "--json", str(out)),
        timeout=180,
    )

    data = json.loads(out.read_text())
    rows = {(x["dataset"], x["tool"]): x for x in data["results"]}
    for ds in DATASETS:
        for tool in TOOLS:
            row = rows.get((ds, tool))
            assert row is not None, f"no row for {ds}/{tool}"
            # A tool may be missing from this checkout, but none may fail: a failure
            # means a wrong command line or a real verification error.
            assert not row["status"].startswith("failed"), f"{ds}/{tool}: {row['status']}"
            if tool not in ("checksig-api", "checksig-cli"):
                assert row["status"] == "ok", f"{ds}/{tool}: {row['status']}"
            if row["status"] == "ok":
                assert len(row["seconds"]) == 1 and row["peak_rss_mib"] is not None
            assert f"{ds:<8} {tool:<14}" in r.stdout
    if "checksig-api" not in data["tools"]["unavailable"]:
        assert data["startup"]["import checksig + file_digest"].get("median_ms") is not None
        assert "us_per_call" in data["per_file"]["checksig.file_digest"]
        assert [x["workers"] for x in data["scaling"]["rows"]][:2] == [1, 2]
    assert {t["target"] for t in data["targets"]}
    if "checksig-api" not in data["tools"]["unavailable"]:
        # The big-file targets are also read against the probe taken before each run.
        big = [t for t in data["targets"] if t["goal"] == ">= 90%"]
        assert len(big) == 3 and all(t["paired_openssl"] > 0 for t in big), big
    assert data["machine"]["nproc"] >= 1
    # Issue 22: the header names the kernel, the virtualisation and the engine's
    # I/O mode; every big dataset row says how checksig read the big files.
    assert data["machine"]["virtualisation"] in r.stdout
    assert "big files CHECKSIG_IO=" in r.stdout
    if "checksig-api" not in data["tools"]["unavailable"]:
        assert data["machine"]["engine"]["io"]["mode"] in ("auto", "read", "mmap")
        for ds in ("large", "huge", "huge1"):
            io = rows[(ds, "checksig-api")]["io"]
            assert io and all(x != "-" for x in io), (ds, io)
        assert data["limits"]["huge1"]["copy_bound_single_mb_s"] is None  # smoke files are small
        assert {t["target"].split()[0] for t in data["targets_22"]} == {"large", "huge1", "huge"}
        assert all(t["measured"] > 0 for t in data["targets_22"]), data["targets_22"]
        # Issue 20's floor: the kernel's work per file, measured by a Go probe where
        # a Go toolchain and Linux are there, and the ceiling it puts on the ratio.
        if shutil.which("go") and sys.platform == "linux":
            floors = data["floor_20"]
            assert set(floors) == {"small", "million"}, floors
            for c in floors.values():
                assert c["ns_per_file"] > 0 and c["ceiling_x"] > 0, c
                assert c["best_s"] > c["outside_call_s"] >= 0, c
            assert "ceiling on this machine, small:" in r.stdout

    # The per-algorithm rows (issue 18): one per dataset, algorithm and tool; a tool
    # may be missing here (b3sum), none may fail.
    alg_rows = data["algorithms"]["results"]
    peers = {"sha256": "sha256sum", "blake2b": "b2sum", "blake3": "b3sum"}
    for ds in ("large", "big1"):
        for alg, peer in peers.items():
            for tool in ("checksig-api", peer, "py-threads"):
                row = [
                    x
                    for x in alg_rows
                    if (x["dataset"], x["algorithm"], x["tool"]) == (ds, alg, tool)
                ]
                assert len(row) == 1, (ds, alg, tool)
                assert not row[0]["status"].startswith("failed"), (ds, alg, tool, row[0]["status"])
    assert {t["target"] for t in data["targets"]} >= {
        "blake3, one big file: >= b3sum --check's speed",
        "blake3, 1,000 x 1 MiB: >= b3sum --check's speed",
    }


def test_floor_ceiling_arithmetic():
    # The ceiling is the peer's time over the best a tool could do: its time
    # outside the engine plus the floor's CPU time and the hashing over every core.
    sys.path.insert(0, str(REPO / "benchmarks"))
    import floor

    probe = {"files": 1000, "bytes": 2_000_000, "ns_per_file": 1000.0}
    c = floor.ceiling(probe, outside_s=0.0005, peer_s=0.004, sha1_bytes_s=1e9, cores=2)
    # kernel 1 ms + hashing 2 ms of CPU, over 2 cores: 1.5 ms; plus 0.5 ms outside.
    assert c["kernel_cpu_s"] == 0.001 and c["hash_cpu_s"] == 0.002
    assert c["best_call_s"] == 0.0015 and c["best_s"] == 0.002
    assert c["ceiling_x"] == 2.0


def test_ecosystems_benchmark_smoke(tmp_path):
    # benchmarks/ecosystems.py (issue 19): every tool gets a row and agrees on
    # the failures; no timing is asserted.
    pytest.importorskip("bagit")
    out = tmp_path / "eco.json"
    run_script("ecosystems.py", "--smoke", "--prefix", sys.prefix, "--json", str(out), timeout=600)
    rows = json.loads(out.read_text())["results"]
    tools = {(x["benchmark"], x["tool"].split("(")[0]): x for x in rows}
    assert set(tools) == {
        ("environment", "checksig"),
        ("environment", "serial"),
        ("environment", "threads"),
        ("bag", "checksig"),
        ("bag", "bagit-python"),
    }
    env = [x["failures"] for (bench, _), x in tools.items() if bench == "environment"]
    assert len(set(env)) == 1  # the peers agree with checksig on what fails
    assert tools[("bag", "checksig")]["failures"] == tools[("bag", "bagit-python")]["failures"] == 0


def test_dask_benchmark_harness_smoke(tmp_path):
    # benchmarks/dask_run.py (issue 17) on tiny data: every table has its rows.
    pytest.importorskip("distributed")
    out = tmp_path / "dask.json"
    r = run_script(
        "dask_run.py",
        *("--smoke", "--data-dir", str(tmp_path / "data"), "--json", str(out)),
        timeout=300,
    )
    data = json.loads(out.read_text())
    assert {(x["dataset"], x["workers"]) for x in data["efficiency"]} == {
        ("mixed", 1),
        ("million", 1),
    }
    assert all(x["efficiency"] > 0 and x["shards"]["scan"] >= 1 for x in data["efficiency"])
    assert data["overhead"]["ms_per_shard"] == data["overhead"]["ms_per_shard"]  # not NaN
    assert [x["entries"] for x in data["client"]] == [2000]
    assert "efficiency" in r.stdout and "per-shard overhead" in r.stdout


def test_ab_harness_smoke(tmp_path):
    """benchmarks/ab.py runs a decision's two settings and checks the engine took
    each (a refused setting would exit non-zero)."""
    out = tmp_path / "ab.json"
    r = run_script(
        "ab.py",
        *("--smoke", "io_vs_read", "map_window"),
        *("--data-dir", str(tmp_path / "data"), "--json", str(out)),
        timeout=180,
    )
    results = json.loads(out.read_text())["results"]
    assert [(x["decision"], x["dataset"]) for x in results] == [
        ("io_vs_read", "huge1"),
        ("io_vs_read", "large"),
        ("map_window", "huge1"),
    ]
    by = {(x["decision"], x["dataset"]): x for x in results}
    assert by[("map_window", "huge1")]["io"] == {"A": ["mmap"], "B": ["mmap"]}
    assert by[("io_vs_read", "huge1")]["engine_io"]["B"]["mode"] == "read"
    assert "verdict:" in r.stdout and "virtualisation" in r.stdout
    assert "private_table_min" in run_script("ab.py", "--list", timeout=60).stdout


def test_stores_benchmark_smoke(tmp_path):
    # benchmarks/stores.py (issue 23): every tool gets a row and all agree on
    # the failures (one flipped byte); no timing is asserted.
    out = tmp_path / "stores.json"
    run_script("stores.py", "--smoke", "--corrupt", "--json", str(out), timeout=600)
    rows = {x["tool"].split("(")[0]: x for x in json.loads(out.read_text())["results"]}
    assert set(rows) == {"checksig", "hf-serial", "threads"}
    assert {x["failures"] for x in rows.values()} == {1}


def test_cold_runs_evict_the_dataset(tmp_path):
    # run.py --cold (issue 20): the dataset's pages leave the page cache before
    # each run, without root; util-linux's fincore is the independent witness.
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import datasets
    finally:
        sys.path.pop(0)
    ds = datasets.ensure(tmp_path / "data", "smoke", "small", log=lambda *_: None)
    datasets.warm(ds)
    fincore = shutil.which("fincore")
    sample = [str(ds.root / n) for n in ds.files[:20]]

    def resident() -> int:
        out = subprocess.run(
            [fincore, "--noheadings", "--raw", "--output", "PAGES", *sample],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sum(int(x) for x in out.split())

    if fincore:
        assert resident() > 0  # warm: the witness can see cached pages
    assert datasets.evict(ds) == 0
    if fincore:
        assert resident() == 0

    out = tmp_path / "cold.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--cold"]
    cmd += ["--datasets", "small,million", "--tools", "checksig-api,checksig-cli,sha1sum-split"]
    cmd += ["--no-extras", "--algorithms", "", "--data-dir", str(tmp_path / "data")]
    cmd += ["--json", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["cold"] is True and "cold cache" in r.stdout
    assert "still cached" not in r.stderr
    rows = {(x["dataset"], x["tool"]): x for x in data["results"]}
    assert not [k for k, x in rows.items() if x["status"].startswith("failed")], rows
    assert [t["target"] for t in data["targets_20"]] == [
        "small checksig-api: >= 1.6x split sha1sum -c",
        "small checksig-cli: >= 1.5x split sha1sum -c",
        "million checksig-api: >= 1.3x split sha1sum -c",
        "million checksig-api: peak RSS",
    ]
