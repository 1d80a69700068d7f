"""Hostile input: manifests and trees written by someone who wants checksig to
read outside its root, block forever, crash, or exhaust memory (issue 6).

Every case runs in a fresh interpreter with a timeout (``run_json``), so a
hang fails the test instead of stalling the suite, and a crash fails it with
the child's exit status instead of taking pytest down. The outside "secret"
files hold content whose digest is checked never to appear in a report: a
report's ``actual`` digest is only ever computed from bytes actually read.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import hexdigest, run_json, write_manifest

#: Content of every file outside the root: its digest must never be reported.
SECRET = b"SECRET: this file lives outside the root\n" * 10
INSIDE = b"inside the root\n" * 10


#: A child that holds a FIFO open for writing, with data in it, until killed: a
#: reader would get the data and then block waiting for more. O_RDWR opens a
#: FIFO on Linux without waiting for the other end.
HOLD_FIFO = (
    "import os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); os.write(fd, b'x' * 100); "
    "print('ready', flush=True); time.sleep(120)"
)


def hold_fifo(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_FIFO, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    return proc


#: Child code defining peak_kib(): the child's own peak RSS in KiB. Not
#: getrusage's ru_maxrss: Linux carries it over execve, so a child of pytest
#: starts with pytest's high-water mark. VmHWM belongs to the new image.
PEAK = """
def peak_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def with_peak(code: str) -> str:
    """Child code with peak_kib() defined before it."""
    return PEAK + textwrap.dedent(code)


def rows(root: Path, manifest: str = "sha1sum.txt", timeout: float = 60, **options) -> list:
    """verify() in a child; returns the rows as lists (Row field order)."""
    opts = "".join(f", {k}={v!r}" for k, v in options.items())
    return run_json(
        f"""
        import json, checksig
        report = checksig.verify({str(root)!r}, {manifest!r}{opts})
        print(json.dumps([list(r) for r in report]))
        """,
        timeout=timeout,
    )


def statuses(result: list) -> dict[str, str]:
    return {r[0]: r[1] for r in result}


def never_read(result: list, secret: bytes = SECRET) -> None:
    """No row's computed digest is the secret's, in any algorithm."""
    digests = {hexdigest(secret, a) for a in ("md5", "sha1", "sha256")}
    leaked = [r for r in result if r[4] in digests]
    assert not leaked, f"read outside the root: {leaked}"


@pytest.fixture
def jail(tmp_path: Path) -> Path:
    """base/root with one file inside; base/secret and base/secrets.json outside."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "in").write_bytes(INSIDE)
    (tmp_path / "secret").write_bytes(SECRET)
    (tmp_path / "secrets.json").write_bytes(SECRET)
    return root


# --- confinement ---------------------------------------------------------------


DANGEROUS = [
    # bagit-python's dangerous paths
    "../../../secrets.json",
    "../secrets.json",
    "/dev/null",
    # parent references, spelled every way
    "..",
    "../secret",
    "sub/../../secret",
    "./../secret",
    "sub/./../../secret",
    "sub//..//..//secret",
    # absolute names
    "/etc/passwd",
    "//etc/passwd",
    "/proc/self/environ",
]


def test_dangerous_names_are_outside_root(jail: Path, workers: int) -> None:
    names = DANGEROUS + [str(jail.parent / "secret")]  # the secret's absolute path
    write_manifest(jail / "sha1sum.txt", [(n, SECRET) for n in names] + [("in", INSIDE)])
    result = rows(jail, workers=workers)
    got = statuses(result)
    assert got.pop("in") == "ok"
    assert got == {n: "outside_root" for n in names}
    assert all(r[4] is None and r[2] is None for r in result if r[1] == "outside_root")
    never_read(result)


WINDOWS_SPELLINGS = [
    "C:\\secret",
    "c:secret",
    "C:/secret",
    "..\\secret",
    "sub\\..\\..\\secret",
    "\\secret",
    "\\\\server\\share\\secret",
]


def test_windows_spellings_are_literal_names_inside_the_root(jail: Path) -> None:
    # On POSIX a backslash or a colon is an ordinary character: these are
    # single path components (or "C:" a directory) inside the root, as GNU
    # reads them, never a way out. One of them exists inside the root.
    (jail / "C:\\secret").write_bytes(INSIDE)
    entries = [(n, SECRET) for n in WINDOWS_SPELLINGS[1:]] + [("C:\\secret", INSIDE)]
    write_manifest(jail / "sha1sum.txt", entries)
    result = rows(jail)
    got = statuses(result)
    assert got.pop("C:\\secret") == "ok"
    assert got == {n: "missing" for n in WINDOWS_SPELLINGS[1:]}
    never_read(result)


def test_tilde_is_a_literal_name_inside_the_root(jail: Path) -> None:
    # "~" is not expanded: "~/.ssh/id_rsa" names root/~/.ssh/id_rsa, never $HOME's.
    write_manifest(jail / "sha1sum.txt", [("~/.ssh/id_rsa", SECRET), ("~root/.profile", SECRET)])
    assert statuses(rows(jail)) == {"~/.ssh/id_rsa": "missing", "~root/.profile": "missing"}
    (jail / "~" / ".ssh").mkdir(parents=True)
    (jail / "~" / ".ssh" / "id_rsa").write_bytes(INSIDE)
    write_manifest(jail / "sha1sum.txt", [("~/.ssh/id_rsa", INSIDE)])
    assert statuses(rows(jail)) == {"~/.ssh/id_rsa": "ok"}


def test_backslash_and_dots_inside_a_name_are_ordinary(jail: Path) -> None:
    # "a\b" is one file name on POSIX and "x..y" is not a parent reference.
    (jail / "a\\b").write_bytes(INSIDE)
    (jail / "sub" / "x..y").write_bytes(INSIDE)
    write_manifest(jail / "sha1sum.txt", [("a\\b", INSIDE), ("sub/x..y", INSIDE)])
    got = run_json(
        f"""
        import json, checksig
        print(json.dumps(dict(checksig.verify({str(jail)!r}).counts())))
        """
    )
    assert got == {"ok": 2}


def test_symlinks_leading_out(jail: Path, workers: int) -> None:
    base = jail.parent
    (base / "outdir").mkdir()
    (base / "outdir" / "f").write_bytes(SECRET)
    (jail / "abs-out").symlink_to(base / "secret")  # absolute, leading out
    (jail / "rel-out").symlink_to("../secret")  # relative, leading out
    (jail / "dir-out").symlink_to(base / "outdir")  # an intermediate directory
    (jail / "sub" / "deep-out").symlink_to("../../outdir")  # intermediate, relative
    (jail / "chain1").symlink_to("chain2")  # a chain that ends outside
    (jail / "chain2").symlink_to("sub/../../secret")
    (jail / "reenter").symlink_to(f"../{jail.name}/in")  # leaves the root and comes back
    (jail / "abs-in").symlink_to(jail / "in")  # absolute, but pointing inside
    (jail / "rel-in").symlink_to("sub/../in")  # relative, staying inside
    (jail / "loop").symlink_to("loop")
    entries = {
        "abs-out": SECRET,
        "rel-out": SECRET,
        "dir-out/f": SECRET,
        "sub/deep-out/f": SECRET,
        "chain1": SECRET,
        "reenter": INSIDE,
        "abs-in": INSIDE,
        "rel-in": INSIDE,
        "loop": INSIDE,
    }
    write_manifest(jail / "sha1sum.txt", entries)
    result = rows(jail, workers=workers)
    got = statuses(result)
    # Resolution never leaves the root, not even to come back: the kernel
    # (openat2 RESOLVE_BENEATH) refuses absolute symlinks and any step above
    # the root, whatever the final target.
    # An absolute symlink is refused even when it points inside: where it
    # leads depends on the root's own path, which a manifest cannot know.
    escaping = ("abs-out", "rel-out", "dir-out/f", "sub/deep-out/f", "chain1", "reenter", "abs-in")
    for name in escaping:
        assert got[name] == "outside_root", (name, got)
    assert got["rel-in"] == "ok"
    assert got["loop"] == "unreadable"  # ELOOP: a status, not a hang
    never_read(result)


def test_allow_outside_root_reads_what_the_user_asked_for(jail: Path) -> None:
    (jail / "rel-out").symlink_to("../secret")
    write_manifest(jail / "sha1sum.txt", [("../secret", SECRET), ("rel-out", SECRET)])
    assert statuses(rows(jail, allow_outside_root=True)) == {"../secret": "ok", "rel-out": "ok"}


def test_progress_total_never_counts_files_outside_the_root(jail: Path) -> None:
    base = jail.parent
    (base / "outdir").mkdir()
    (base / "outdir" / "big").write_bytes(b"s" * 123457)
    (jail / "dir-out").symlink_to(base / "outdir")
    (jail / "link-out").symlink_to(base / "outdir" / "big")
    write_manifest(jail / "sha1sum.txt", [("dir-out/big", b""), ("link-out", b""), ("in", INSIDE)])
    totals = run_json(
        f"""
        import json, checksig
        seen = set()
        checksig.verify({str(jail)!r}, progress=lambda p: seen.add(p["bytes_total"]))
        print(json.dumps(sorted(seen)))
        """
    )
    assert 123457 not in totals and max(totals) == len(INSIDE), totals


RACE_CHILD = """
import hashlib, json, os, threading, time
from pathlib import Path
import checksig

base = Path({base!r})
root = base / "root"
allow = {allow!r}
inside_digest = hashlib.sha1({inside!r}).hexdigest()
stop = threading.Event()
flips = [0]
errors = []

def flipper():
    # Swap names atomically (rename over them) between an inside target and
    # a symlink leading out, as fast as possible, while verify runs.
    variants = [
        lambda p: os.link(root / "real", p),              # the inside file itself
        lambda p: os.symlink(base / "outside" / "f", p),  # absolute, leading out
        lambda p: os.symlink("real", p),                  # relative, inside
        lambda p: os.symlink("../outside/f", p),          # relative, leading out
    ]
    dirs = [
        lambda p: os.symlink("dreal", p),                 # an inside directory
        lambda p: os.symlink(base / "outside", p),        # a directory outside
    ]
    try:
        i = 0
        while not stop.is_set():
            variants[i % 4](root / "flip.tmp")
            os.replace(root / "flip.tmp", root / "flip")
            dirs[i % 2](root / "d.tmp")
            os.replace(root / "d.tmp", root / "d")
            i += 1
            flips[0] = i
    except BaseException as e:
        errors.append(repr(e))

actual, seen = set(), set()
t = threading.Thread(target=flipper)
t.start()
deadline = time.monotonic() + {seconds!r}
runs = 0
try:
    while time.monotonic() < deadline and (flips[0] < {min_flips!r} or runs < 20):
        report = checksig.verify(root, "sha1sum.txt", workers=4, allow_outside_root=allow)
        runs += 1
        for r in report:
            seen.add(r.status)
            if r.status in ("ok", "mismatch"):
                actual.add(r.actual)
finally:
    stop.set()
    t.join()
print(json.dumps({{"flips": flips[0], "runs": runs, "seen": sorted(seen),
                   "actual": sorted(actual), "errors": errors}}))
"""


def _race_tree(base: Path) -> Path:
    root = base / "root"
    (root / "dreal").mkdir(parents=True)
    (base / "outside").mkdir()
    (base / "outside" / "f").write_bytes(SECRET)
    (root / "real").write_bytes(INSIDE)
    (root / "dreal" / "f").write_bytes(INSIDE)
    (root / "flip").symlink_to("real")
    (root / "d").symlink_to("dreal")
    write_manifest(root / "sha1sum.txt", [("flip", INSIDE), ("d/f", INSIDE)] * 32)
    return root


def test_swap_race_never_reads_outside(tmp_path: Path) -> None:
    _race_tree(tmp_path)
    out = run_json(
        RACE_CHILD.format(
            base=str(tmp_path), allow=False, inside=INSIDE, seconds=20.0, min_flips=3000
        ),
        timeout=90,
    )
    assert out["errors"] == []
    assert out["flips"] >= 1000, out  # the race was really run
    assert "ok" in out["seen"] and "outside_root" in out["seen"], out
    secret = hexdigest(SECRET)
    assert secret not in out["actual"], "a swapped-in symlink was followed out of the root"
    # Nothing but the inside file was ever read: no mismatch either.
    assert out["actual"] == [hexdigest(INSIDE)], out
    assert set(out["seen"]) <= {"ok", "outside_root", "missing"}, out


def test_swap_race_control_allow_outside_root_does_read_outside(tmp_path: Path) -> None:
    # The same race with confinement off must see the outside file, or the
    # test above proves nothing.
    _race_tree(tmp_path)
    out = run_json(
        RACE_CHILD.format(
            base=str(tmp_path), allow=True, inside=INSIDE, seconds=10.0, min_flips=500
        ),
        timeout=60,
    )
    assert out["errors"] == []
    assert hexdigest(SECRET) in out["actual"], out


# --- special files -------------------------------------------------------------


def test_special_files_are_never_read_and_never_block(jail: Path, workers: int) -> None:
    os.mkfifo(jail / "fifo")
    os.mkfifo(jail / "fifo-with-writer")
    (jail / "dir").mkdir()
    (jail / "zero-link").symlink_to("/dev/zero")
    (jail / "fifo-link").symlink_to("fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(jail / "sock"))
    names = ["fifo", "fifo-with-writer", "fifo-link", "dir", "sub/", ".", "sock"]
    mknod = True
    try:
        os.mknod(jail / "zero", 0o666 | 0o020000, os.makedev(1, 5))  # /dev/zero's twin
        os.mknod(jail / "null", 0o666 | 0o020000, os.makedev(1, 3))
        os.mknod(jail / "random", 0o666 | 0o020000, os.makedev(1, 8))
        os.mknod(jail / "tty", 0o666 | 0o020000, os.makedev(5, 0))  # /dev/tty
        os.mknod(jail / "nodrv", 0o666 | 0o020000, os.makedev(250, 250))  # no driver
        names += ["zero", "null", "random", "tty", "nodrv"]
    except (PermissionError, OSError):
        mknod = False
    write_manifest(jail / "sha1sum.txt", [(n, b"") for n in names] + [("zero-link", b"")])
    writer = hold_fifo(jail / "fifo-with-writer")
    try:
        result = rows(jail, workers=workers, timeout=60)
    finally:
        writer.kill()
        writer.wait()
        sock.close()
    got = statuses(result)
    assert got.pop("zero-link") == "outside_root"
    assert got == {n: "not_regular" for n in names}, got
    assert all(r[4] is None for r in result)
    if not mknod:
        pytest.skip("mknod not permitted: device nodes inside the root were not tested")


def test_special_files_outside_the_root_when_allowed(jail: Path) -> None:
    os.mkfifo(jail.parent / "fifo")
    (jail / "zero-link").symlink_to("/dev/zero")
    names = ["/dev/zero", "/dev/null", "/dev/urandom", "/dev/tty", "../fifo", "zero-link", "/"]
    write_manifest(jail / "sha1sum.txt", [(n, b"") for n in names])
    got = statuses(rows(jail, allow_outside_root=True))
    assert got == {n: "not_regular" for n in names}


def test_per_file_api_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero-link").symlink_to("/dev/zero")
    out = run_json(
        f"""
        import json, checksig
        res = []
        for p in ["/dev/zero", "/dev/urandom", {str(tmp_path / "fifo")!r},
                  {str(tmp_path / "zero-link")!r}, "/dev/stdin"]:
            for call in (lambda: checksig.file_digest(p),
                         lambda: checksig.digest_files([p]),
                         lambda: checksig.check_file(p, "0" * 40)):
                try:
                    call()
                    res.append([p, "returned"])
                except OSError as e:
                    res.append([p, type(e).__name__])
        print(json.dumps(res))
        """,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert len(out) == 15
    assert all(kind == "NotRegularFileError" for _, kind in out), out


# --- files that change while they are read -------------------------------------


CHANGING_CHILD = """
import hashlib, json, os, threading, time
from pathlib import Path
import checksig
from checksig import _native

root = Path({root!r})
size = {size!r}
stop = threading.Event()
errors = []

def mutate():
    # Truncate, grow, rewrite in place and replace the files, endlessly.
    try:
        i = 0
        while not stop.is_set():
            for name in ("a", "b"):
                p = root / name
                k = i % 4
                if k == 0:
                    os.truncate(p, size // 3)
                elif k == 1:
                    with open(p, "ab") as f:
                        f.write(b"g" * (size // 2))
                elif k == 2:
                    with open(p, "r+b") as f:
                        f.write(os.urandom(4096))
                else:
                    (root / (name + ".tmp")).write_bytes(b"r" * size)
                    os.replace(root / (name + ".tmp"), p)
            i += 1
    except BaseException as e:
        errors.append(repr(e))

t = threading.Thread(target=mutate)
t.start()
seen, bad = set(), []
deadline = time.monotonic() + {seconds!r}
try:
    while time.monotonic() < deadline:
        report = checksig.verify(root, "sha1sum.txt", workers=4)
        for r in report:
            seen.add(r.status)
            if r.status == "ok" and r.actual != r.expected:
                bad.append(list(r))
            if r.status in ("ok", "mismatch", "changed") and r.size is None:
                bad.append(list(r))
        for p in ("a", "b"):
            try:
                checksig.file_digest(root / p)
            except FileNotFoundError:
                pass
            except OSError as e:
                # Truncated or appended to mid-read: refused, never a wrong digest.
                if "changed size while it was read" not in str(e):
                    raise
finally:
    stop.set()
    t.join()
print(json.dumps({{"seen": sorted(seen), "bad": bad, "errors": errors,
                   "counters": _native.debug_counters()}}))
"""


@pytest.mark.parametrize("size", [256 << 10, 12 << 20], ids=["read", "mapped"])
def test_files_changing_while_read(tmp_path: Path, size: int) -> None:
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(b"x" * size)
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"x" * size), ("b", b"x" * size)] * 4)
    out = run_json(CHANGING_CHILD.format(root=str(tmp_path), size=size, seconds=5.0), timeout=90)
    assert out["errors"] == [] and out["bad"] == []
    assert set(out["seen"]) <= {"ok", "mismatch", "changed", "missing"}, out
    c = out["counters"]
    assert c["handles"] == c["jobs"] == c["open_files"] == 0, c


# --- manifest abuse --------------------------------------------------------------


def test_megabyte_lines_nul_bytes_and_binary_junk(tmp_path: Path, workers: int) -> None:
    (tmp_path / "f").write_bytes(b"f")
    good = f"{hexdigest(b'f')}  f\n".encode()
    rng = np.random.default_rng(6)
    junk = rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    manifest = b"".join(
        [
            good,
            b"0" * 40 + b"  " + b"n" * (8 << 20) + b"\n",  # an 8 MiB line
            good,
            b"0" * 40 + b"  a\0b\n",  # a NUL in the name
            b"\0" * 1000 + b"\n",
            junk,
            b"\n",
            good,
            b"x" * (3 << 20),  # a last line of megabytes without a newline
        ]
    )
    (tmp_path / "sha1sum.txt").write_bytes(manifest)
    out = run_json(
        with_peak(
            f"""
        import json, checksig
        r = checksig.verify({str(tmp_path)!r}, workers={workers})
        print(json.dumps({{"counts": dict(r.counts()), "warnings": r.warnings[:3],
                           "nwarn": len(r.warnings), "rss": peak_kib()}}))
        """
        ),
        timeout=60,
    )
    assert out["counts"] == {"ok": 3}
    assert out["warnings"][0] == [2, "line longer than 65536 bytes"]
    assert out["warnings"][1] == [4, "file name contains a NUL byte"]
    assert 3 <= out["nwarn"] <= 1000
    # Lines of megabytes are drained, never held: peak RSS stays far below
    # the manifest's size times any buffering factor (ru_maxrss is KiB).
    assert out["rss"] < 200 * 1024, out["rss"]


def test_only_junk_is_a_clear_manifest_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    (tmp_path / "sha1sum.txt").write_bytes(
        rng.integers(0, 256, 4 << 20, dtype=np.uint8).tobytes().replace(b"\n", b"\r")
        + b"\n" * 100_000
        + b"\0" * (1 << 20)
    )
    out = run_json(
        f"""
        import json, checksig
        res = []
        for strict in (False, True):
            try:
                checksig.verify({str(tmp_path)!r}, strict=strict)
                res.append("returned")
            except checksig.ManifestError as e:
                res.append([str(e), e.path, e.line])
        print(json.dumps(res))
        """,
        timeout=60,
    )
    manifest = str(tmp_path / "sha1sum.txt")
    (lenient, path, line), (strict, spath, sline) = out
    assert "no properly formatted checksum lines found" in lenient
    assert path == spath == manifest
    assert line is None  # the whole file: no line to name
    assert sline == 1 and "line longer than 65536 bytes" in strict


def test_a_million_duplicate_lines(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"dup")
    (tmp_path / "sha1sum.txt").write_bytes(f"{hexdigest(b'dup')}  f\n".encode() * 1_000_000)
    out = run_json(
        with_peak(
            f"""
        import json, checksig
        from checksig import _native
        r = checksig.verify({str(tmp_path)!r})
        print(json.dumps({{"counts": dict(r.counts()), "first": list(r[0]), "last": list(r[-1]),
                           "rss": peak_kib(), "counters": _native.debug_counters()}}))
        """
        ),
        timeout=120,
    )
    assert out["counts"] == {"ok": 1_000_000}
    assert out["first"][6] == 1 and out["last"][6] == 1_000_000
    assert out["rss"] < 600 * 1024, out["rss"]  # KiB: ~600 bytes per entry at most
    assert out["counters"]["open_files"] == 0


MANIFEST_CHILD = """
import errno, json, checksig
res = {{}}
for name, m in {manifests!r}:
    try:
        checksig.verify({root!r}, m)
        res[name] = "returned"
    except OSError as e:
        res[name] = [type(e).__name__, e.filename]
    except ValueError as e:
        res[name] = [type(e).__name__, str(e)]
print(json.dumps(res))
"""


def test_manifest_that_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.sha1")
    os.mkfifo(tmp_path / "fifo-with-writer.sha1")
    (tmp_path / "zero.sha1").symlink_to("/dev/zero")
    (tmp_path / "dir.sha1").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.sha1"))
    manifests = [
        ("fifo", str(tmp_path / "fifo.sha1")),
        ("fifo-with-writer", str(tmp_path / "fifo-with-writer.sha1")),
        ("dev-zero", "/dev/zero"),
        ("dev-urandom", "/dev/urandom"),
        ("zero-link", str(tmp_path / "zero.sha1")),
        ("socket", str(tmp_path / "sock.sha1")),
        ("stdin", "/dev/stdin"),
    ]
    writer = hold_fifo(tmp_path / "fifo-with-writer.sha1")
    try:
        out = run_json(
            MANIFEST_CHILD.format(
                manifests=manifests + [("dir", str(tmp_path / "dir.sha1"))], root=str(tmp_path)
            ),
            timeout=60,
            stdin=subprocess.PIPE,  # /dev/stdin is a pipe nobody writes to
        )
    finally:
        writer.kill()
        writer.wait()
        sock.close()
    for name, path in manifests:
        assert out[name] == ["NotRegularFileError", path], (name, out[name])
    assert out["dir"][0] == "IsADirectoryError"


def _fast_manifest(path: Path, n: int, prefix: bytes, chunk: int = 1_000_000) -> None:
    """Write n lines "<32 zeros>  <prefix><7 digits>" fast, with numpy."""
    head = b"0" * 32 + b"  " + prefix
    width = 7
    length = len(head) + width + 1
    with open(path, "wb") as f:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            a = np.empty((m, length), dtype=np.uint8)
            a[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
            idx = np.arange(start, start + m, dtype=np.int64)
            for k in range(width):
                a[:, len(head) + width - 1 - k] = 48 + (idx // 10**k) % 10
            a[:, -1] = 10
            f.write(a.tobytes())


def _mem_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


BIG_CHILD = (
    PEAK
    + """
import json, time, checksig
from checksig import _native
_native.lib()
base = peak_kib()
t = time.monotonic()
r = checksig.verify({root!r}, {manifest!r}, workers=2)
print(json.dumps({{"rows": len(r), "counts": dict(r.counts()), "seconds": time.monotonic() - t,
                   "base": base, "peak": peak_kib()}}))
"""
)

#: Bytes of peak RSS a manifest entry may cost, all in: Go's rows, names and
#: digests while parsing, plus the report's columns. The engine needs about
#: 120 at 10 million md5 entries with 10-byte names (225 before issue 7).
BYTES_PER_ENTRY = 400


@pytest.mark.parametrize(
    "n, prefix, status",
    [
        (1_000_000, b"", "missing"),  # every name is looked up (and missing)
        pytest.param(10_000_000, b"../", "outside_root", id="10M"),  # refused lexically: fast
    ],
    ids=["1M-missing", "10M-outside"],
)
def test_huge_manifest_has_bounded_memory(
    tmp_path: Path, n: int, prefix: bytes, status: str
) -> None:
    need = n * BYTES_PER_ENTRY + (1 << 30)
    if _mem_available() < need:
        pytest.skip(f"needs {need >> 20} MiB of available memory")
    _fast_manifest(tmp_path / "big.md5", n, prefix)
    out = run_json(BIG_CHILD.format(root=str(tmp_path), manifest="big.md5"), timeout=240)
    assert out["rows"] == n and out["counts"] == {status: n}
    grown = (out["peak"] - out["base"]) * 1024
    assert grown < n * BYTES_PER_ENTRY, f"{grown / n:.0f} bytes per entry"


def test_ten_million_junk_lines_is_a_manifest_error_in_little_memory(tmp_path: Path) -> None:
    (tmp_path / "sha1sum.txt").write_bytes(b"not a checksum line\n" * 10_000_000)
    out = run_json(
        with_peak(
            f"""
        import json, checksig
        try:
            checksig.verify({str(tmp_path)!r})
        except checksig.ManifestError as e:
            print(json.dumps([str(e), peak_kib()]))
        """
        ),
        timeout=120,
    )
    message, rss = out
    assert "no properly formatted checksum lines" in message
    assert rss < 150 * 1024  # KiB: warnings are capped at 1000, the lines never kept


# --- names printed to a terminal ---------------------------------------------------


EVIL_NAMES = [
    "title\x1b]0;pwned\x07.txt",  # set the terminal title
    "red\x1b[31mRED\x1b[0m.txt",  # colours
    "clear\x1b[2J\x1b[H.txt",  # clear the screen
    "bell\x07.txt",
    "back\bspace.txt",
    "cr\rhidden.txt",
    "nl\nfake: ok.txt",
    "c1\u009b31m.txt",  # the 8-bit CSI
]


def _evil_tree(root: Path) -> None:
    root.mkdir(exist_ok=True)
    entries = []
    for name in EVIL_NAMES:
        (root / name).write_bytes(b"data")
        entries.append((name, b"other data"))  # every entry is a mismatch
    text = "".join(
        ("\\" if "\n" in n or "\r" in n else "")
        + hexdigest(d)
        + "  "
        + n.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        + "\n"
        for n, d in entries
    )
    (root / "sha1sum.txt").write_text(text, encoding="utf-8")


def _terminal_safe(text: str) -> bool:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
    return not bad


def test_report_text_cannot_inject_escape_sequences(tmp_path: Path) -> None:
    _evil_tree(tmp_path)
    out = run_json(
        f"""
        import json, checksig
        r = checksig.verify({str(tmp_path)!r})
        try:
            checksig.check_signatures({str(tmp_path)!r})
            err = ""
        except checksig.SignatureError as e:
            err = str(e)
        print(json.dumps([str(r), repr(r), err, r.failure_lines()]))
        """
    )
    text, rep, err, lines = out
    assert len(lines) == len(EVIL_NAMES)
    for s in (text, rep, err, *lines):
        assert _terminal_safe(s), repr(s)


def _cli_available() -> bool:
    return importlib.util.find_spec("checksig._cli") is not None


needs_cli = pytest.mark.skipif(not _cli_available(), reason="the CLI (checksig/_cli.py) is absent")


def _cli(*args: str, cwd: Path, tty: bool = False) -> tuple[int, bytes, bytes]:
    """Run ``python -m checksig ARGS``; with tty, stdout is a pseudo-terminal."""
    if not tty:
        proc = subprocess.run(
            [sys.executable, "-m", "checksig", *args], cwd=cwd, capture_output=True, timeout=60
        )
        return proc.returncode, proc.stdout, proc.stderr
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "checksig", *args],
            cwd=cwd,
            stdout=slave,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not b:
                break
            chunks.append(b)
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    return proc.returncode, b"".join(chunks).replace(b"\r\n", b"\n"), err


@needs_cli
@pytest.mark.parametrize("extra", [[], ["--quiet"], ["--json"], ["--warn", "--strict"]])
def test_cli_check_cannot_inject_escape_sequences(tmp_path: Path, extra: list[str]) -> None:
    _evil_tree(tmp_path)
    (tmp_path / "unreadable\x1b[8m").mkdir()  # a directory: "FAILED open or read" on stderr
    with open(tmp_path / "sha1sum.txt", "a", encoding="utf-8") as f:
        f.write(f"{hexdigest(b'')}  unreadable\x1b[8m\n")
        f.write("garbage \x1b[5m line\n")
    code, out, err = _cli("check", str(tmp_path), *extra, cwd=tmp_path)
    assert code == 1, err
    for stream in (out, err):
        text = stream.decode("utf-8", "surrogateescape")
        assert _terminal_safe(text), repr(text)
    if not extra:
        # Every name is still shown, escaped, one line each.
        assert out.count(b": FAILED") == len(EVIL_NAMES) + 1, out


@needs_cli
@pytest.mark.parametrize("command", ["make", "digest"])
def test_cli_names_on_a_terminal_are_escaped(tmp_path: Path, command: str) -> None:
    root = tmp_path / "root"
    _evil_tree(root)
    (root / "sha1sum.txt").unlink()
    if command == "make":
        args = ["make", str(root), "-a", "sha1", "-o", "-"]
    else:
        args = ["digest", "-a", "sha1", *sorted(EVIL_NAMES)]
    code, out, err = _cli(*args, cwd=root, tty=True)
    assert code == 0, err
    text = out.decode("utf-8", "surrogateescape")
    assert _terminal_safe(text), repr(text)
    assert text.count("\n") == len(EVIL_NAMES), text


@needs_cli
def test_cli_manifest_from_endless_stdin(tmp_path: Path) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.Popen(
            [sys.executable, "-m", "checksig", "check", "-m", "-"],
            cwd=tmp_path,
            stdin=zero,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ, TMPDIR=str(spool)),
        )
    try:
        time.sleep(2)
        used = sum(f.stat().st_size for f in spool.rglob("*") if f.is_file())
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = list(spool.iterdir())
    shutil.rmtree(spool, ignore_errors=True)
    assert proc.returncode == 130
    assert left == [], "the spooled copy of stdin was left behind"
    assert used < 16 << 20, f"{used >> 20} MiB of /dev/zero spooled to disk in 2 s"


def test_manifest_error_messages_quote_hostile_bytes(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    lines = [
        b"SHA1 (x) = \x1b]0;t\x07" + b"0" * 32,  # a "digest" holding escapes
        b"\x1b[31m" + b"0" * 38 + b"  y",  # an untagged line starting with ESC
        b"SHA1 (\x1b[2J) = 00",  # a short digest after an evil name
        f"{hexdigest(b'f')}  f".encode(),
    ]
    (tmp_path / "sha1sum.txt").write_bytes(b"\n".join(lines) + b"\n")
    out = run_json(
        f"""
        import json, checksig
        r = checksig.verify({str(tmp_path)!r})
        msgs = [m for _, m in r.warnings] + [str(r)]
        try:
            checksig.verify({str(tmp_path)!r}, strict=True)
        except checksig.ManifestError as e:
            msgs.append(str(e))
        print(json.dumps(msgs))
        """
    )
    assert len(out) == 5
    for message in out:
        assert _terminal_safe(message), repr(message)
