"""The soak test (issue 6): benchmarks/soak.py at full size, as a test.

Not part of the default suite: it takes a minute or more. Run it with

    python -m pytest -m soak tests/test_soak.py     (or CHECKSIG_SOAK=1)

It runs 100,000 file_digest calls, 1,000 cancelled jobs, 2,000 verify/cancel
cycles on 8 threads and 200 verifies of a 5,000-file tree in a fresh
interpreter, once per way of reading big files (CHECKSIG_IO), then requires file
descriptors and goroutines back at their baseline, no engine handle, job or
open file left, and RSS grown by less than 64 MiB. tests/test_faults.py runs
a smaller leak check in the default suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IO_PATHS, io_env

SOAK = Path(__file__).resolve().parent.parent / "benchmarks" / "soak.py"

pytestmark = [pytest.mark.soak, pytest.mark.slow]


@pytest.fixture(autouse=True)
def only_when_asked(request: pytest.FixtureRequest) -> None:
    markexpr = request.config.getoption("markexpr", "") or ""
    if "soak" not in markexpr and not os.environ.get("CHECKSIG_SOAK"):
        pytest.skip("soak test: run with -m soak or CHECKSIG_SOAK=1")
    if not Path("/proc/self/status").exists():
        pytest.skip("the soak test reads /proc/self (Linux)")


@pytest.mark.parametrize("path", IO_PATHS)
def test_soak_nothing_leaks(tmp_path: Path, path: str) -> None:
    # Once per way of reading big files (the cancelled jobs' sparse file and a
    # 5 MiB file in every cycle's tree go through it).
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(SOAK), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
        env=io_env(path),
    )
    print(proc.stdout)  # the before/after table, shown with -s or on failure
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["engine"]["io"]["mode"] == IO_PATHS[path][0]
    before, after = result["before"], result["after"]
    assert result["problems"] == []
    assert after["fds"] <= before["fds"]
    assert after["goroutines"] <= before["goroutines"]
    assert after["handles"] == after["jobs"] == after["open_files"] == 0
    assert after["rss_kib"] - before["rss_kib"] < 64 << 10
