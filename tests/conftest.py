"""Shared fixtures for the Python suite.

The suite runs against the installed package (``pip install -e ".[test]"``).
Digests always come from hashlib, never from the engine under test. Anything
that could hang (FIFOs, signals, fork, threads) runs in a subprocess with a
timeout, so a deadlock fails the test instead of stalling the suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: Seconds a subprocess test may take before it counts as hung.
SUBPROCESS_TIMEOUT = 120


@pytest.fixture(params=[1, 4], ids=["workers=1", "workers=4"])
def workers(request: pytest.FixtureRequest) -> int:
    """Every batch test runs with one worker and with several."""
    return request.param


def hexdigest(data: bytes, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, data).hexdigest()


def write_tree(root: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    """Create files (names relative to root, '/' separated) and return them."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def manifest_line(name: str, data: bytes, algorithm: str = "sha1", *, binary: bool = False) -> str:
    return f"{hexdigest(data, algorithm)} {'*' if binary else ' '}{name}\n"


def write_manifest(
    path: Path,
    entries: list[tuple[str, bytes]] | dict[str, bytes],
    algorithm: str = "sha1",
    *,
    binary: bool = False,
    extra_lines: str = "",
) -> Path:
    """Write a GNU manifest listing (name, the data its digest is of)."""
    items = entries.items() if isinstance(entries, dict) else entries
    text = "".join(manifest_line(n, d, algorithm, binary=binary) for n, d in items)
    path.write_text(text + extra_lines, encoding="utf-8", errors="surrogateescape")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A root with a few files and a correct sha1sum.txt listing them."""
    root = tmp_path / "root"
    root.mkdir()
    files = write_tree(
        root,
        {
            "a.txt": b"alpha\n",
            "data/b.bin": bytes(range(256)) * 64,
            "with space.txt": b"spaces are fine",
            "empty": b"",
        },
    )
    write_manifest(root / "sha1sum.txt", files)
    return root


#: Every way the engine can read and hash a big file (go/io.go, go/hashimpl.go),
#: forced through its environment: (CHECKSIG_IO, CHECKSIG_TUNE, workers, the
#: Report.io it gives). "readahead" is read(2) with a CPU to spare (one worker,
#: GOMAXPROCS=2) from the first byte, "mapahead" the same for mappings; "auto"
#: never ends its calibration, so windows alternate; the "openssl" ones hash with
#: the libcrypto that hashlib loaded, so their children must import hashlib before
#: the first job.
IO_PATHS = {
    "mmap": ("mmap", "mapahead_min=1T,openssl=0", 2, ["mmap"]),
    "mapahead": ("mmap", "mapahead_min=0,openssl=0", 1, ["mapahead"]),
    "read": ("read", "readahead_min=1T,openssl=0", 2, ["read"]),
    "readahead": ("read", "readahead_min=0,openssl=0", 1, ["readahead"]),
    "auto": ("auto", "calibrate_samples=1000000,openssl=0", 2, ["read", "mmap", "calibrating"]),
    "openssl": ("read", "readahead_min=1T,openssl=2", 2, ["read", "openssl"]),
    "openssl-readahead": ("read", "readahead_min=0,openssl=2", 1, ["readahead", "openssl"]),
}


def io_env(path: str) -> dict[str, str]:
    mode, tune, _, _ = IO_PATHS[path]
    return {**os.environ, "CHECKSIG_IO": mode, "CHECKSIG_TUNE": tune, "GOMAXPROCS": "2"}


def run_python(
    code: str, *, timeout: float = SUBPROCESS_TIMEOUT, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter; fail (not hang) after timeout seconds."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if check:
        assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def run_json(code: str, **kwargs) -> object:
    """run_python, then parse the child's last stdout line as JSON."""
    proc = run_python(code, **kwargs)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def oracle_digest(alg: str, data: bytes) -> bytes:
    """An independent digest of data for checksig's algorithm name: hashlib, PyPI's
    blake3, or git's header + SHA-1 (the length of blake2b-N from its name)."""
    if alg == "blake3":
        blake3 = pytest.importorskip("blake3", reason="pip install blake3: the BLAKE3 oracle")
        return blake3.blake3(data).digest()
    if alg == "git-sha1":
        return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
    if alg.startswith("blake2b"):
        bits = int(alg.partition("-")[2] or 512)
        return hashlib.blake2b(data, digest_size=bits // 8).digest()
    return hashlib.new(alg, data).digest()


def tool_or_skip(name: str) -> str:
    """The path of the program ``name`` on PATH, or skip the test saying it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


needs_root = pytest.mark.skipif(
    not is_root(),
    reason="needs root to run a check as an unprivileged user (root reads every file)",
)


def open_fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


#: Defines ``open_fd_paths()`` when run with exec(): the paths this process's
#: descriptors name, sorted. For code that runs in another process (a child
#: interpreter, a Jupyter kernel) and cannot import this file: it carries
#: ``exec(OPEN_FD_PATHS_SRC)`` spelled out with the source's repr.
OPEN_FD_PATHS_SRC = """\
import os
def open_fd_paths():
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return sorted(out)
"""
