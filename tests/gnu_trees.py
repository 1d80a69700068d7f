"""Helpers for the command-line and GNU differential tests.

Trees with awkward file names, manifests in every form GNU coreutils reads
(most of them written by GNU itself), and runners that give GNU's
``sha256sum -c`` and ``checksig check`` the same manifest in the same
directory and capture stdout, stderr and the exit status as bytes.

GNU runs with ``LC_ALL=C.UTF-8``: its messages are then untranslated and it
quotes file names as in a UTF-8 locale, which is what checksig emulates
(FORMATS.md E10). The only normalisation is the program name at the start of
each stderr line (``sha256sum: `` -> ``checksig: ``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Seconds any subprocess may take before it counts as hung.
TIMEOUT = 60

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
TAGS = {a: a.upper() for a in ALGORITHMS}

GNU_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
GNU_ENV["LC_ALL"] = "C.UTF-8"


def gnu_tool(algorithm: str) -> str | None:
    """The path of GNU's ``ALGOsum`` (or ``cksum``), if it is GNU coreutils >= 9."""
    path = shutil.which("cksum" if algorithm == "cksum" else f"{algorithm}sum")
    if path is None:
        return None
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, timeout=TIMEOUT, env=GNU_ENV
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(rb"\(GNU coreutils\) (\d+)\.", out)
    if not m or int(m.group(1)) < 9:
        return None
    return path


HAVE_GNU = all(gnu_tool(a) for a in ALGORITHMS)
needs_gnu = pytest.mark.skipif(
    not HAVE_GNU, reason="needs GNU coreutils >= 9 (md5sum ... sha512sum) on PATH"
)

#: Names GNU and checksig must treat identically: spaces, tabs, leading
#: spaces, '*', unicode, bytes that are not UTF-8, newline and backslash
#: (escaped by GNU), shell metacharacters (quoted by GNU in messages).
AWKWARD_NAMES: tuple[bytes, ...] = (
    b"plain.txt",
    b"with space",
    b"two  spaces",
    b"tab\tname",
    b" leading space",
    b"trailing space ",
    b"*star",
    b"unicod\xc3\xa9 \xe2\x9c\x93",
    b"latin1-\xe9\xff",
    b"new\nline",
    b"back\\slash",
    b"both\\and\nnewline",
    b"quo'te",
    b"dollar$sign",
    b"colon:name",
    b"#hash",
    b"paren (1) = x",
    b"sub/dir/nested file",
)

#: Names checksig shows differently from GNU on purpose (FORMATS.md F3):
#: GNU writes these control characters raw to stdout.
UNSAFE_NAMES: tuple[bytes, ...] = (
    b"cr\rname",
    b"esc\x1b[31mred",
    b"bell\x07",
    b"c1-\xc2\x9b-csi",
)


def content(name: bytes) -> bytes:
    return b"content of " + name + b"\n"


def make_tree(root: Path, names: tuple[bytes, ...] | list[bytes]) -> None:
    """Create each name under root (bytes paths, '/' separated) with content(name)."""
    base = os.fsencode(root)
    for name in names:
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content(name))


def hexdigest(algorithm: str, data: bytes) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def gnu_sum(
    algorithm: str,
    names: list[bytes] | tuple[bytes, ...],
    cwd: Path,
    *,
    tag: bool = False,
    binary: bool = False,
) -> bytes:
    """What GNU's ``ALGOsum [--tag] [-b] -- NAMES`` prints: a manifest GNU wrote."""
    tool = gnu_tool(algorithm)
    assert tool, f"no GNU {algorithm}sum"
    cmd = [tool] + (["--tag"] if tag else []) + (["-b"] if binary else []) + ["--"]
    proc = subprocess.run(
        cmd + [os.fsdecode(n) for n in names],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
        check=True,
    )
    return proc.stdout


@dataclass(frozen=True)
class Result:
    stdout: bytes
    stderr: bytes
    status: int

    def lines(self) -> tuple[list[bytes], list[bytes]]:
        return self.stdout.split(b"\n"), self.stderr.split(b"\n")


def normalize(result: Result, prog: str) -> Result:
    """GNU's result with its program name replaced by checksig's, and nothing else."""
    pattern = re.compile(rb"^" + re.escape(prog.encode()) + rb": ", re.M)
    return Result(result.stdout, pattern.sub(b"checksig: ", result.stderr), result.status)


def run_gnu_check(tool: str, manifest: str, cwd: Path, options: list[str]) -> Result:
    """``ALGOsum -c OPTIONS MANIFEST`` (tool: an algorithm or "cksum") in cwd, normalised."""
    path = gnu_tool(tool)
    assert path, f"no GNU {tool}"
    prog = "cksum" if tool == "cksum" else f"{tool}sum"
    proc = subprocess.run(
        [prog, "-c", *options, manifest],  # argv[0] is the name GNU puts in messages
        executable=path,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
    )
    return normalize(Result(proc.stdout, proc.stderr, proc.returncode), prog)


def run_gnu(tool: str, args: list[str], cwd: Path, stdin: bytes = b"") -> Result:
    """GNU's ``tool ARGS`` (tool: an algorithm or "cksum") in cwd, stdin given, normalised."""
    path = gnu_tool(tool)
    assert path, f"no GNU {tool}"
    prog = "cksum" if tool == "cksum" else f"{tool}sum"
    return run_tool([path, *args], cwd, stdin, prog=prog)


def run_tool(argv: list[str], cwd: Path, stdin: bytes = b"", *, prog: str | None = None) -> Result:
    """The program ``argv[0]`` run as ``prog`` (default: its file name) in cwd with
    GNU's environment, stdin given; its name in messages normalised to checksig's."""
    prog = prog or os.path.basename(argv[0])
    proc = subprocess.run(
        [prog, *argv[1:]],
        executable=argv[0],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
    )
    return normalize(Result(proc.stdout, proc.stderr, proc.returncode), prog)


def run_checksig(args: list[str], cwd: Path, stdin: bytes = b"") -> Result:
    """Run ``checksig ARGS`` in this process (checksig._cli.main) in cwd.

    The same code as the console script, minus the interpreter start-up, so
    that hundreds of differential cases stay fast; tests/test_cli.py runs the
    real ``python -m checksig`` in subprocesses.
    """
    from checksig._cli import main

    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    here = os.getcwd()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout = io.TextIOWrapper(out, write_through=True)
    sys.stderr = io.TextIOWrapper(err, write_through=True)
    try:
        os.chdir(cwd)
        try:
            status = main(args)
        except SystemExit as exc:  # argparse: usage errors, --help, --version
            status = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(here)
        sys.stdout.flush()
        sys.stderr.flush()
        captured = out.getvalue(), err.getvalue()  # before the wrappers close them
        sys.stdin, sys.stdout, sys.stderr = streams
    return Result(*captured, status)


def run_checksig_subprocess(args: list[str], cwd: Path, stdin: bytes = b"") -> Result:
    """Run the real ``python -m checksig ARGS`` in cwd."""
    proc = subprocess.run(
        [sys.executable, "-m", "checksig", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
    )
    return Result(proc.stdout, proc.stderr, proc.returncode)
