"""Smoke test of benchmarks/run.py: every tool gets a row. No timing is asserted."""

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


def test_benchmark_harness_smoke(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "run.py"),
        "--quick",
        "--smoke",
        "--repeat",
        "1",
        "--data-dir",
        str(tmp_path / "data"),
        "--json",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr

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


def test_ab_harness_smoke(tmp_path):
    """benchmarks/ab.py runs a decision's two settings and checks the engine took
    each (a refused setting would exit non-zero)."""
    out = tmp_path / "ab.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "ab.py"),
        "--smoke",
        "io_vs_read",
        "map_window",
        "--data-dir",
        str(tmp_path / "data"),
        "--json",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
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
    listing = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "ab.py"), "--list"],
        capture_output=True,
        text=True,
    )
    assert listing.returncode == 0 and "private_table_min" in listing.stdout
