"""Faults: permission denied, vanishing files, full and read-only disks while
writing a manifest, and process safety (signals, threads, leaks) with the Go
runtime loaded (issue 6).

Everything that could hang or leak runs in a fresh interpreter with a
timeout. Permission tests drop to nobody (65534) in the child after loading
the library as root, since root reads every file. Disk tests mount a small
tmpfs and skip, saying why, where mounting is not permitted.

A manifest being written must never be left half written nor replace the old
one unless complete: after every failure below the old manifest is byte for
byte what it was and no temporary file is left beside it.

fork() in a child of a process that loaded the engine is tested in
test_native.py (test_forked_child_refuses_and_explains), Ctrl-C during engine
work in test_concurrency.py; this file tests the rest of issue 6's list.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from conftest import (
    IO_PATHS,
    OPEN_FD_PATHS_SRC,
    hexdigest,
    io_env,
    needs_root,
    run_json,
    run_python,
    write_manifest,
)

OLD_MANIFEST = b"0" * 64 + b"  the old manifest, which must survive\n"

#: Child code (one line, to sit in any indented block): load the engine, mmap,
#: numpy and the modules only jobs need (checksig imports them on first use) as
#: root, since they may live in a private checkout, then become nobody.
DROP = (
    "import os, mmap, numpy; from checksig import Job, Report, _native; _native.lib(); "
    "os.setgroups([]); os.setgid(65534); os.setuid(65534)"
)


@pytest.fixture
def shared_dir():
    """A directory nobody (65534) can enter: pytest's tmp_path is root's alone."""
    d = Path(tempfile.mkdtemp(prefix="checksig-faults-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    """Files in directory other than keep: a temporary manifest left behind."""
    return sorted(set(os.listdir(directory)) - keep)


def make_in_child(root: Path, output: Path, *, drop: bool = False, timeout: float = 60) -> list:
    """make_manifest in a child; returns ["ok"] or [exception type, errno, filename]."""
    return run_json(
        f"""
        import json, os
        {DROP if drop else ""}
        import checksig
        try:
            checksig.make_manifest({str(root)!r}, "sha256", {str(output)!r})
            print(json.dumps(["ok"]))
        except OSError as e:
            print(json.dumps([type(e).__name__, e.errno, e.filename, str(e)]))
        """,
        timeout=timeout,
    )


# --- permission denied -------------------------------------------------------------


@needs_root
def test_unreadable_directory_in_a_path(shared_dir: Path, workers: int) -> None:
    (shared_dir / "private").mkdir(mode=0o700)
    (shared_dir / "private" / "f").write_bytes(b"private")
    (shared_dir / "public").write_bytes(b"public")
    (shared_dir / "public").chmod(0o644)
    write_manifest(
        shared_dir / "sha1sum.txt",
        [("private/f", b"private"), ("private/gone", b""), ("public", b"public")],
    )
    (shared_dir / "sha1sum.txt").chmod(0o644)
    out = run_json(
        f"""
        import json
        {DROP}
        import checksig
        r = checksig.verify({str(shared_dir)!r}, workers={workers})
        rows = [list(x) for x in r]
        try:
            checksig.verify({str(shared_dir)!r}, extra=True)
            extra = "returned"
        except OSError as e:
            extra = [type(e).__name__, e.errno, e.filename]
        print(json.dumps([rows, extra]))
        """
    )
    rows, extra = out
    got = {r[0]: (r[1], r[7]) for r in rows}
    eacces = os.strerror(errno.EACCES)
    # A file behind a directory we may not search: unreadable (not missing:
    # we cannot know), with the reason.
    assert got == {
        "private/f": ("unreadable", eacces),
        "private/gone": ("unreadable", eacces),
        "public": ("ok", None),
    }
    # extra=True must list the whole tree: a directory it cannot read is a
    # clear error naming it, not a silently incomplete answer.
    assert extra == ["PermissionError", errno.EACCES, str(shared_dir / "private")]


@needs_root
def test_make_manifest_with_an_unreadable_file(shared_dir: Path) -> None:
    root = shared_dir / "root"
    root.mkdir(mode=0o755)
    (root / "a").write_bytes(b"a")
    (root / "a").chmod(0o644)
    (root / "secret").write_bytes(b"s")
    (root / "secret").chmod(0o600)
    (root / "out.sha256").write_bytes(OLD_MANIFEST)
    (root / "out.sha256").chmod(0o666)
    root.chmod(0o777)  # nobody may write the manifest: only the file is in the way
    out = make_in_child(root, root / "out.sha256", drop=True)
    assert out[:3] == ["PermissionError", errno.EACCES, str(root / "secret")]
    assert (root / "out.sha256").read_bytes() == OLD_MANIFEST
    assert leftovers(root, {"a", "secret", "out.sha256"}) == []


@needs_root
def test_make_manifest_with_an_unreadable_directory(shared_dir: Path) -> None:
    root = shared_dir / "root"
    (root / "private").mkdir(parents=True)
    (root / "private").chmod(0o700)
    (root / "a").write_bytes(b"a")
    (root / "a").chmod(0o644)
    (shared_dir / "out.sha256").write_bytes(OLD_MANIFEST)
    (shared_dir / "out.sha256").chmod(0o666)
    shared_dir.chmod(0o777)
    root.chmod(0o755)
    out = make_in_child(root, shared_dir / "out.sha256", drop=True)
    assert out[:3] == ["PermissionError", errno.EACCES, str(root / "private")]
    assert (shared_dir / "out.sha256").read_bytes() == OLD_MANIFEST
    assert leftovers(shared_dir, {"root", "out.sha256"}) == []


@needs_root
def test_make_manifest_into_an_unwritable_directory(shared_dir: Path) -> None:
    root = shared_dir / "root"
    root.mkdir()
    (root / "a").write_bytes(b"a")
    (root / "a").chmod(0o644)
    target = shared_dir / "locked"
    target.mkdir()
    (target / "sha256sum.txt").write_bytes(OLD_MANIFEST)
    (target / "sha256sum.txt").chmod(0o666)  # writable itself: the directory is not
    target.chmod(0o755)
    out = make_in_child(root, target / "sha256sum.txt", drop=True)
    assert out[:2] == ["PermissionError", errno.EACCES]
    assert out[2] is not None and str(target) in out[2]
    assert (target / "sha256sum.txt").read_bytes() == OLD_MANIFEST
    assert leftovers(target, {"sha256sum.txt"}) == []


# --- unwritable targets -------------------------------------------------------------


def test_make_manifest_target_is_a_directory(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_bytes(b"a")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_bytes(b"k")
    out = make_in_child(root, tmp_path / "out")
    assert out[0] in ("IsADirectoryError", "FileExistsError"), out
    assert out[1] in (errno.EISDIR, errno.EEXIST), out
    assert (tmp_path / "out" / "keep").read_bytes() == b"k"
    assert leftovers(tmp_path, {"root", "out"}) == []


def test_make_manifest_target_error_names_the_target(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_bytes(b"a")
    (tmp_path / "out").mkdir()
    out = make_in_child(root, tmp_path / "out")
    assert out[2] == str(tmp_path / "out"), out


def test_make_manifest_target_directory_missing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_bytes(b"a")
    out = make_in_child(root, tmp_path / "no" / "such" / "dir" / "sha256sum.txt")
    assert out[:2] == ["FileNotFoundError", errno.ENOENT], out
    assert leftovers(tmp_path, {"root"}) == []


# --- full and read-only disks ---------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A 1 MiB tmpfs at tmp_path/disk, or a skip saying why there is none."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a small tmpfs")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip() or proc.returncode}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _many_long_names(root: Path, count: int = 6000) -> None:
    """Empty files whose manifest lines add up to well over 1 MiB."""
    root.mkdir()
    for i in range(count):
        (root / f"{i:06d}-{'n' * 200}").touch()


def test_full_disk_while_writing_a_manifest(tmp_path: Path, small_tmpfs: Path) -> None:
    root = tmp_path / "root"
    _many_long_names(root)
    (small_tmpfs / "sha256sum.txt").write_bytes(OLD_MANIFEST)
    out = make_in_child(root, small_tmpfs / "sha256sum.txt")
    assert out[:2] == ["OSError", errno.ENOSPC], out
    assert (small_tmpfs / "sha256sum.txt").read_bytes() == OLD_MANIFEST
    assert leftovers(small_tmpfs, {"sha256sum.txt"}) == []
    # The space the partial temporary file took is given back.
    st = os.statvfs(small_tmpfs)
    assert st.f_bfree * st.f_frsize > 900 << 10


def test_read_only_disk(tmp_path: Path, small_tmpfs: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_bytes(b"a")
    (small_tmpfs / "sha256sum.txt").write_bytes(OLD_MANIFEST)
    proc = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_tmpfs)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot remount read-only: {proc.stderr.strip()}")
    out = make_in_child(root, small_tmpfs / "sha256sum.txt")
    assert out[:2] == ["OSError", errno.EROFS], out
    assert (small_tmpfs / "sha256sum.txt").read_bytes() == OLD_MANIFEST
    assert leftovers(small_tmpfs, {"sha256sum.txt"}) == []


# --- vanishing files ----------------------------------------------------------------


VANISH_CHILD = """
import json, os, threading, time
from pathlib import Path
import checksig
from checksig import _native

root = Path({root!r})
names = [f"f{{i}}" for i in range(50)]
stop = threading.Event()

staging = root.parent / "staging"
staging.mkdir()

def churn():
    # Delete every file and bring it back whole (written aside, renamed in),
    # endlessly: a name is missing or complete, never half written.
    while not stop.is_set():
        for n in names:
            try:
                os.unlink(root / n)
            except FileNotFoundError:
                pass
            (staging / n).write_bytes(n.encode())
            os.replace(staging / n, root / n)

t = threading.Thread(target=churn)
t.start()
seen, bad, made = set(), [], {{"ok": 0, "errors": []}}
deadline = time.monotonic() + {seconds!r}
try:
    while time.monotonic() < deadline:
        for r in checksig.verify(root, "sha1sum.txt", workers=4):
            seen.add(r.status)
            if r.status == "ok" and r.actual != r.expected:
                bad.append(list(r))
        try:
            checksig.make_manifest(root, "sha1", "../made.sha1", workers=4)
            made["ok"] += 1
            text = (root.parent / "made.sha1").read_text()
            assert text.endswith("\\n") and all(len(l.split("  ", 1)[0]) == 40
                                                 for l in text.splitlines()), text
        except FileNotFoundError as e:
            made["errors"].append(e.filename)
finally:
    stop.set()
    t.join()
print(json.dumps({{"seen": sorted(seen), "bad": bad, "made": made,
                   "counters": _native.debug_counters()}}))
"""


def test_files_vanishing_during_verify_and_make(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    names = [f"f{i}" for i in range(50)]
    for n in names:
        (root / n).write_bytes(n.encode())
    write_manifest(root / "sha1sum.txt", [(n, n.encode()) for n in names])
    out = run_json(VANISH_CHILD.format(root=str(root), seconds=4.0), timeout=90)
    assert out["bad"] == []
    assert set(out["seen"]) <= {"ok", "missing"}, out
    assert all(f is None or f.startswith(str(root)) for f in out["made"]["errors"]), out
    c = out["counters"]
    assert c["handles"] == c["jobs"] == c["open_files"] == 0, c
    assert leftovers(tmp_path, {"root", "made.sha1", "staging"}) == []


def test_make_manifest_of_a_file_changing_while_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "grow").write_bytes(b"g" * (3 << 20))
    (tmp_path / "out.sha256").write_bytes(OLD_MANIFEST)
    out = run_json(
        f"""
        import json, os, threading
        import checksig
        stop = threading.Event()
        def grow():
            while not stop.is_set():
                with open({str(root / "grow")!r}, "ab") as f:
                    f.write(b"x" * 4096)
                os.truncate({str(root / "grow")!r}, 3 << 20)
        t = threading.Thread(target=grow)
        t.start()
        errors = []
        try:
            for _ in range(300):
                try:
                    checksig.make_manifest({str(root)!r}, "sha256", "../out.sha256")
                except OSError as e:
                    errors.append([e.errno, e.filename, str(e)])
                    break
        finally:
            stop.set()
            t.join()
        print(json.dumps(errors))
        """,
        timeout=120,
    )
    assert out, "the file never changed during a read: the race was not hit"
    errnum, filename, message = out[0]
    assert filename == str(root / "grow")
    assert "changed" in message and "errno 0" not in message.lower(), message


# --- process safety: signals ------------------------------------------------------------


def test_python_signal_handling_survives_the_go_runtime(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    out = run_json(
        f"""
        import json, os, signal, time
        import checksig
        res = {{}}
        before = signal.getsignal(signal.SIGINT)
        checksig.file_digest({str(tmp_path / "f")!r})  # loads the library, starts Go
        checksig.digest_files([{str(tmp_path / "f")!r}] * 8, workers=4)
        now = signal.getsignal(signal.SIGINT)
        res["handler_kept"] = now is before is signal.default_int_handler
        # Ctrl-C in pure Python code still raises KeyboardInterrupt.
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10_000_000):
                pass
            res["sigint"] = "not delivered"
        except KeyboardInterrupt:
            res["sigint"] = "KeyboardInterrupt"
        # A handler installed after Go started is called.
        got = []
        signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.05)
        res["sigusr1"] = got == [signal.SIGUSR1]
        # SIGPIPE stays ignored (Python's choice): a broken pipe is an exception.
        r, w = os.pipe()
        os.close(r)
        try:
            os.write(w, b"x")
            res["sigpipe"] = "wrote"
        except BrokenPipeError:
            res["sigpipe"] = "BrokenPipeError"
        print(json.dumps(res))
        """,
        timeout=60,
    )
    assert out == {
        "handler_kept": True,
        "sigint": "KeyboardInterrupt",
        "sigusr1": True,
        "sigpipe": "BrokenPipeError",
    }


def test_sigint_and_sigterm_from_outside_after_go_started(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    code = textwrap.dedent(
        f"""
        import sys, time
        import checksig
        checksig.file_digest({str(tmp_path / "f")!r})
        try:
            print("ready", flush=True)  # inside the try: the signal may come at once
            while True:
                time.sleep(0.01)  # pure Python, no engine call under way
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
            sys.exit(3)
        """
    )
    for sig, want_rc, want_out in (
        (signal.SIGINT, 3, "KeyboardInterrupt"),
        (signal.SIGTERM, -15, ""),
    ):
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout.readline().strip() == "ready"
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == want_rc, (sig, proc.returncode, err)
        assert out.strip() == want_out


# --- process safety: threads -----------------------------------------------------------


def test_sixteen_threads_with_cancellations(tmp_path: Path) -> None:
    out = run_json(
        f"""
        import hashlib, json, os, threading
        from pathlib import Path
        import checksig
        from checksig import _native

        base = Path({str(tmp_path)!r})
        big = base / "big"
        with open(big, "wb") as f:
            f.truncate(4 << 30)  # sparse: only ever partly read, then cancelled
        errors = []

        class Stop(Exception):
            pass

        def stop_when_running(p):
            if p["phase"] == "running":
                raise Stop

        def work(t):
            try:
                root = base / f"t{{t}}"
                root.mkdir()
                blobs = {{f"f{{i}}": os.urandom(97 * i + t) for i in range(24)}}
                for n, d in blobs.items():
                    (root / n).write_bytes(d)
                algo = ("md5", "sha1", "sha256", "sha512")[t % 4]
                lines = "".join(f"{{hashlib.new(algo, d).hexdigest()}}  {{n}}\\n"
                                for n, d in blobs.items())
                (root / f"{{algo}}sum.txt").write_text(lines)
                for rep in range(8):
                    r = checksig.verify(root, f"{{algo}}sum.txt", workers=rep % 4)
                    assert r.ok and len(r) == 24, str(r)
                    got = checksig.digest_files([root / n for n in blobs], algo, workers=2)
                    assert got == [hashlib.new(algo, d).hexdigest() for d in blobs.values()]
                    try:
                        checksig.digest_files([big], progress=stop_when_running)
                        raise AssertionError("a 4 GiB digest finished before it was cancelled")
                    except Stop:
                        pass
                    out = checksig.make_manifest(root, algo, f"../t{{t}}.{{algo}}")
                    assert checksig.verify(root, out).ok
            except BaseException as e:
                errors.append(f"thread {{t}}: {{type(e).__name__}}: {{e}}")

        threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        print(json.dumps([errors, _native.debug_counters()]))
        """,
        timeout=240,
    )
    errors, counters = out
    assert errors == []
    assert counters["handles"] == counters["jobs"] == counters["open_files"] == 0, counters


# --- process safety: leaks ---------------------------------------------------------------


#: The leak check, shared with benchmarks/soak.py's idea: run many calls and
#: cancelled jobs, then compare fds, engine counters, goroutines and RSS with
#: a baseline taken after a warm-up.
LEAK_CHILD = """
import gc, hashlib, json, os, time
from pathlib import Path
import checksig
from checksig import _native

base = Path({base!r})
tiny, big = base / "tiny", base / "big"

class Stop(Exception):
    pass

def stop_when_running(p):
    if p["phase"] == "running":
        raise Stop

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def snapshot():
    gc.collect()
    c = _native.debug_counters()
    for _ in range(100):  # goroutines of freed jobs may take a moment to exit
        if c["goroutines"] <= baseline_g:
            break
        time.sleep(0.02)
        c = _native.debug_counters()
    return dict(c, fds=len(os.listdir("/proc/self/fd")), rss_kib=rss_kib())

def cancelled_job(i):
    try:
        if i % 2:
            checksig.digest_files([big], progress=stop_when_running)
        else:
            checksig.verify(base, "big.sha1", workers=2, progress=stop_when_running)
    except Stop:
        return
    raise AssertionError("the job finished before it was cancelled")

want = checksig.file_digest(tiny)
baseline_g = 1 << 30
for i in range(200):  # warm up: Go's threads, pools, the allocator
    checksig.file_digest(tiny)
for i in range(10):
    cancelled_job(i)
baseline_g = _native.debug_counters()["goroutines"]
before = snapshot()
t = time.monotonic()
for i in range({calls!r}):
    assert checksig.file_digest(tiny) == want
calls_s = time.monotonic() - t
t = time.monotonic()
for i in range({cancelled!r}):
    cancelled_job(i)
cancel_s = time.monotonic() - t
after = snapshot()
print(json.dumps({{"before": before, "after": after, "calls_s": calls_s, "cancel_s": cancel_s}}))
"""


def leak_tree(base: Path) -> None:
    (base / "tiny").write_bytes(b"tiny")
    with open(base / "big", "wb") as f:
        f.truncate(4 << 30)
    (base / "big.sha1").write_text(f"{'0' * 40}  big\n{hexdigest(b'tiny')}  tiny\n")


def check_no_leaks(out: dict, rss_growth_kib: int) -> None:
    before, after = out["before"], out["after"]
    assert after["fds"] == before["fds"], out
    assert after["handles"] == after["jobs"] == after["open_files"] == 0, out
    assert after["goroutines"] <= before["goroutines"], out
    assert after["rss_kib"] - before["rss_kib"] < rss_growth_kib, out


@pytest.mark.parametrize("path", IO_PATHS)
def test_no_leaks_after_10000_calls_and_200_cancelled_jobs(tmp_path: Path, path: str) -> None:
    # The cancelled jobs hash a big file: through each way of reading it.
    leak_tree(tmp_path)
    out = run_json(
        LEAK_CHILD.format(base=str(tmp_path), calls=10_000, cancelled=200),
        timeout=120,
        env=io_env(path),
    )
    check_no_leaks(out, rss_growth_kib=32 << 10)


def test_the_first_call_opens_every_descriptor_the_runtime_keeps(tmp_path: Path) -> None:
    # Go's network poller (an epoll and an eventfd) starts with the library, not
    # at the first job whose progress poll waits on a timer: a caller counting
    # the process's descriptors around later work sees none appear (it did, one
    # CI run in a few, as "2 descriptors leaked").
    with open(tmp_path / "big", "wb") as f:
        f.truncate(256 << 20)
    (tmp_path / "tiny").write_bytes(b"tiny")
    out = run_json(
        f"""
        import json, checksig
        exec({OPEN_FD_PATHS_SRC!r})
        checksig.file_digest({str(tmp_path / "tiny")!r})
        before = open_fd_paths()
        seen = []
        checksig.digest_files([{str(tmp_path / "big")!r}], progress=seen.append)
        print(json.dumps([before, open_fd_paths(), len(seen)]))
        """
    )
    before, after, polls = out
    assert polls > 0, out
    assert after == before, out


@pytest.mark.parametrize("path", IO_PATHS)
def test_big_files_are_exact_through_every_path(tmp_path: Path, path: str) -> None:
    # Files of 512 KiB and more are hashed 4 MiB at a time, each window mapped or
    # read; odd sizes around both boundaries must hash exactly, and the report says
    # which way they were read.
    sizes = [(512 << 10) - 1, 512 << 10, (4 << 20) - 1, 4 << 20, (4 << 20) + 1, (9 << 20) + 12345]
    sizes += [(16 << 20) + 1, 40 << 20]  # read ahead from 16 MiB
    blobs = {}
    for s in sizes:
        data = os.urandom(s)
        (tmp_path / f"s{s}").write_bytes(data)
        blobs[f"s{s}"] = data
    write_manifest(tmp_path / "sha256sum.txt", blobs, "sha256")
    workers = IO_PATHS[path][2]
    algorithms = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
    out = run_json(
        f"""
        import hashlib, json, checksig
        r = checksig.verify({str(tmp_path)!r}, "sha256sum.txt", workers={workers})
        paths = [{str(tmp_path)!r} + "/" + n for n in {list(blobs)!r}]
        d = {{a: checksig.digest_files(paths, a, workers={workers}) for a in {algorithms!r}}}
        print(json.dumps([dict(r.counts()), d, r.io, r.to_dict()["summary"]["io"], str(r)]))
        """,
        env=io_env(path),
    )
    counts, digests, io, json_io, text = out
    assert counts == {"ok": len(sizes)}
    for a in algorithms:
        assert digests[a] == [hexdigest(d, a) for d in blobs.values()], a
    assert io == json_io == IO_PATHS[path][3]
    assert ", ".join(io) + ")" in text.splitlines()[0]


@pytest.mark.parametrize("path", IO_PATHS)
def test_a_file_truncated_while_hashed_is_changed_not_a_crash(tmp_path: Path, path: str) -> None:
    # A big file is hashed window by window; truncating it under a mapped window
    # makes the next page touched raise SIGBUS, under a read one the next read
    # comes back short. The engine must turn either into the row status "changed"
    # and go on, in the real library, with Python's faulthandler enabled before
    # the library loads (as pytest and Jupyter do: the Go runtime then owns SIGBUS
    # for faults in Go code and forwards the others to faulthandler). The file is
    # sparse: 2 GiB to hash, so the truncation lands while the job is mid-file
    # (checked, not hoped).
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(2 << 30)
    (tmp_path / "small").write_bytes(b"s")
    write_manifest(tmp_path / "sha1sum.txt", {"big": b"not it", "small": b"s"})
    out = run_json(
        f"""
        import faulthandler, hashlib, json, os, time, checksig
        from checksig import _native
        faulthandler.enable()
        _native.lib()
        job = checksig.start_verify({str(tmp_path)!r}, workers=1)
        while job.progress.bytes_done < (64 << 20) and not job.done():
            time.sleep(0.002)
        mid = not job.done() and job.progress.bytes_done < (2 << 30)
        os.truncate({str(big)!r}, 1 << 20)
        report = job.result()
        print(json.dumps({{"mid": mid, "rows": {{r.path: r.status for r in report}},
                          "io": report.io, "counters": _native.debug_counters()}}))
        """,
        timeout=120,
        env=io_env(path),
    )
    assert out["mid"], "the job ended before the file was truncated: make the file bigger"
    assert out["rows"] == {"big": "changed", "small": "ok"}
    assert out["io"] == IO_PATHS[path][3]
    c = out["counters"]
    assert c["jobs"] == c["open_files"] == 0, c


def test_engine_info_reports_the_choice_and_the_tuning() -> None:
    out = run_json(
        """
        import json
        from checksig import _native
        print(json.dumps(_native.engine_info()))
        """,
        env={**os.environ, "CHECKSIG_IO": "read", "CHECKSIG_TUNE": "map_window=8M,nope=1"},
    )
    assert out["io"]["mode"] == out["io"]["chosen"] == "read"
    assert out["tune"]["map_window"] == 8 << 20 and out["tune"]["mmap_min"] == 512 << 10
    assert out["refused"] == ['CHECKSIG_TUNE: unknown name "nope"']


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="descriptor tables of their own: Linux"
)
def test_every_worker_of_a_big_job_takes_a_table_of_its_own(tmp_path: Path) -> None:
    # A worker that runs on the runtime's first thread cannot take a table of
    # its own, nor, with it, scan through io_uring (go/capi/main.go's init
    # keeps that thread out of engine work): one of two workers landed there
    # in about one run in four before it. Six jobs of 4,096+ files, two
    # workers each: twelve tables.
    for i in range(4100):
        (tmp_path / f"f{i}").write_bytes(b"%d" % i)
    manifest = tmp_path / "SUMS"
    manifest.write_text(
        "".join(f"{hashlib.sha1(b'%d' % i).hexdigest()}  f{i}\n" for i in range(4100))
    )
    out = run_json(
        f"""
        import json
        import checksig
        from checksig import _native
        for _ in range(6):
            report = checksig.check_signatures({str(tmp_path)!r}, {str(manifest)!r}, workers=2)
            assert report.ok, report
        print(json.dumps(_native.engine_info()))
        """
    )
    if out["tables_taken"] == 0:
        pytest.skip("this kernel or sandbox refuses unshare(CLONE_FILES)")
    assert out["tables_taken"] == 12, out


def test_openssl_is_the_one_hashlib_loaded_and_only_then(tmp_path: Path) -> None:
    # The engine never loads a libcrypto: it uses the one the process has, once
    # hashlib is imported, and times it against Go's code per algorithm.
    (tmp_path / "big").write_bytes(os.urandom(3 << 20))
    child = """
        import json, sys, checksig
        from checksig import _native
        if sys.argv[1] == "hashlib":
            import hashlib
        checksig.digest_files([sys.argv[2]], "sha512")
        maps = open("/proc/self/maps").read()
        print(json.dumps(dict(_native.engine_info()["hash"], mapped="/libcrypto.so" in maps)))
        """
    env = {**os.environ, "CHECKSIG_IO": "", "CHECKSIG_TUNE": ""}
    outs = {}
    for mode in ("none", "hashlib"):
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(child), mode, str(tmp_path / "big")],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        outs[mode] = json.loads(proc.stdout)
    if not outs["none"]["mapped"]:  # (a site hook may have loaded it already)
        assert outs["none"]["openssl"] == "" and outs["none"]["timed_go_openssl_ns_per_mb"] == {}
    if not outs["hashlib"]["mapped"]:
        pytest.skip("this Python's hashlib has OpenSSL linked in statically: nothing to find")
    assert "libcrypto" in os.path.basename(outs["hashlib"]["openssl"])
    go_ns, ssl_ns = outs["hashlib"]["timed_go_openssl_ns_per_mb"]["sha512"]
    assert go_ns > 0 and ssl_ns > 0


def test_an_unknown_io_mode_warns_and_runs_auto(tree: Path) -> None:
    proc = run_python(
        f"""
        import json, checksig
        from checksig import _native
        checksig.check_signatures({str(tree)!r})
        print(json.dumps(_native.engine_info()["io"]))
        """,
        env={**os.environ, "CHECKSIG_IO": "mapped"},
    )
    assert "CHECKSIG_IO='mapped' is not one of auto, read, mmap" in proc.stderr
    assert json.loads(proc.stdout)["mode"] == "auto"


@pytest.mark.skipif(not Path("/proc/thread-self/fd").exists(), reason="Linux /proc needed")
def test_big_jobs_hold_no_descriptor_of_the_program(tmp_path: Path) -> None:
    """A job of thousands of files runs its workers on descriptor tables of their own
    (go/fdtable_linux.go): a pipe the program closes meanwhile must still reach its end
    at once, and once the job is over every thread of the process must see a file
    opened afterwards (no worker's thread, the Go runtime's first one included, may
    outlive its job with a private table), and no descriptor may be left behind."""
    root = tmp_path / "root"
    root.mkdir()
    lines = []
    for i in range(5000):
        (root / f"f{i}").write_bytes(b"%d" % i)
        lines.append(f"{hashlib.sha1(b'%d' % i).hexdigest()}  f{i}\n")
    with open(root / "big", "wb") as f:
        f.truncate(256 << 20)  # sparse: hashed last (largest first, after the scan)
    zeros = hashlib.sha1()
    for _ in range(256):
        zeros.update(bytes(1 << 20))
    lines.append(f"{zeros.hexdigest()}  big\n")
    (root / "sha1sum.txt").write_text("".join(lines))
    out = run_json(
        f"""
        import json, os, time, checksig
        checksig.check_signatures({str(root)!r})  # the engine's own descriptors: no leak
        before = len(os.listdir("/proc/self/fd"))
        r, w = os.pipe()
        os.set_blocking(r, False)
        job = checksig.start_check_signatures({str(root)!r})
        while job.progress.files_done == 0 and not job.done():
            time.sleep(0.001)
        os.close(w)
        got = os.read(r, 1)
        running = not job.done()
        ok = job.result().ok
        probe = os.open({str(root)!r}, os.O_RDONLY)
        want = os.readlink(f"/proc/self/fd/{{probe}}")
        deadline = time.monotonic() + 10
        while True:  # the workers' threads end just after their goroutines
            blind = []
            for task in os.listdir("/proc/self/task"):
                try:
                    if os.readlink(f"/proc/self/task/{{task}}/fd/{{probe}}") != want:
                        blind.append(task)
                except FileNotFoundError:
                    if os.path.exists(f"/proc/self/task/{{task}}"):
                        blind.append(task)
            if not blind or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        os.close(probe)
        os.close(r)
        after = len(os.listdir("/proc/self/fd"))
        print(json.dumps({{"eof": got == b"", "running": running, "ok": ok, "blind": blind,
                          "fds": [before, after]}}))
        """
    )
    assert out["ok"], out
    assert out["running"], f"the job ended before the pipe was closed: nothing tested ({out})"
    assert out["eof"], f"a worker kept the pipe's write end open: {out}"
    assert out["blind"] == [], f"threads kept a table of their own: {out}"
    before, after = out["fds"]
    assert after == before, f"descriptors left in the process: {out}"
