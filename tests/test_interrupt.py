"""Ctrl-C: every long call stops the engine and raises KeyboardInterrupt at
the end of the 50 ms poll the signal arrives in, with every file closed and
no engine goroutine left working.

Each case runs in a child interpreter with a timeout (a deadlock fails the
test instead of stalling the suite). The child works on sparse files of
8 GiB, so it is still hashing when the signal comes, however fast the
machine. No clock is read for a verdict (a busy machine delays a process
for any length of time); the child counts instead:

* its main thread's waiting polls of the engine (each at most 50 ms): the
  call was being polled, and no further poll began between the signal's
  arrival (seen at once through ``signal.set_wakeup_fd``) and Python's
  handler, which raised KeyboardInterrupt: Ctrl-C acted within the poll it
  arrived in, not when the work ended;
* the bytes the engine had hashed when its cancelled job reported done:
  far below the total, so the engine stopped long before the work would
  have finished (a cancel that did not reach the workers hashes it all).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import OPEN_FD_PATHS_SRC

from checksig import _native

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

#: Seconds a child may take in all before it counts as hung.
TIMEOUT = 60


#: Each sparse file's size: far more than the engine hashes before Ctrl-C.
FILE_SIZE = 8 << 30


def sparse_tree(root: Path, files: int = 4, size: int = FILE_SIZE) -> Path:
    """files sparse files of size bytes and a sha1sum.txt listing them (wrong digests)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(root / f"big{i}", "wb") as f:
            f.truncate(size)
    # The digests are never reached: the test interrupts long before.
    (root / "sha1sum.txt").write_text("".join(f"{'0' * 40}  big{i}\n" for i in range(files)))
    return root


# open_fd_paths() first (conftest.py), then the child proper.
CHILD = f"exec({OPEN_FD_PATHS_SRC!r})\n" + textwrap.dedent(
    """
    import json, os, signal, sys, threading, time
    import checksig
    from checksig import _native

    root, call, warm = sys.argv[1], sys.argv[2], sys.argv[3]
    checksig.verify(warm, progress=False)  # load the engine, start its runtime
    # and the watcher thread of start_* jobs (it enters Go once, for good)
    checksig.start_verify(warm).result()

    # The main thread's waiting polls of the engine, counted until the
    # KeyboardInterrupt (the watcher thread's are not the caller's).
    main = threading.get_ident()
    polls = {"slices": 0, "longest_ms": 0, "counting": True}
    real_poll = _native._Job._poll_once

    def counted_poll(self, handle, timeout_ms):
        if polls["counting"] and timeout_ms > 0 and threading.get_ident() == main:
            polls["slices"] += 1
            polls["longest_ms"] = max(polls["longest_ms"], timeout_ms)
        return real_poll(self, handle, timeout_ms)

    _native._Job._poll_once = counted_poll

    # The signal's arrival: CPython's C handler writes to the wakeup fd at
    # once, whatever the main thread is doing; a thread notes the polls so far.
    arrived = {}
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)

    def on_arrival():
        os.read(wake_r, 1)
        arrived["slices"] = polls["slices"]

    arrival = threading.Thread(target=on_arrival, daemon=True)
    arrival.start()

    # Python's handler, in the main thread: the default one's KeyboardInterrupt.
    handled = {}

    def on_sigint(signum, frame):
        polls["counting"] = False
        handled["slices"] = polls["slices"]
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)

    # Where the engine stopped: the cancelled job's counters once it says it
    # is done, read just before it is freed.
    stopped = {}
    real_free = _native._Job.free

    def noting_free(self):
        if self.cancel_requested and not self.freed and not stopped:
            for _ in range(600):  # a bound on polls, never a verdict
                p = self.poll_counters(_native.POLL_MS)
                if p[_native.P_PHASE] == _native.PH_DONE:
                    break
            stopped.update(
                done=p[_native.P_PHASE] == _native.PH_DONE,
                bytes_done=p[_native.P_BYTES_DONE],
                bytes_total=p[_native.P_BYTES_TOTAL],
            )
        real_free(self)

    _native._Job.free = noting_free

    base = _native.debug_counters()

    def announce():
        # "started" once the engine holds a file open: it is hashing.
        while _native.debug_counters()["open_files"] == 0:
            time.sleep(0.005)
        print("started", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    big = [os.path.join(root, f"big{i}") for i in range(4)]
    calls = {
        "verify": lambda: checksig.verify(root, workers=2),
        "check_signatures": lambda: checksig.check_signatures(root, workers=2),
        "make_manifest": lambda: checksig.make_manifest(root, "sha256", "out.sha256", workers=2),
        "digest_files": lambda: checksig.digest_files(big, workers=2),
        "file_digest": lambda: checksig.file_digest(big[0]),
        "start_result": lambda: checksig.start_verify(root, workers=2).result(),
    }
    try:
        calls[call]()
        print(json.dumps({"finished": True}), flush=True)
    except KeyboardInterrupt:
        arrival.join()  # the C handler wrote before Python's handler ran
        counters = _native.debug_counters()
        deadline = time.monotonic() + 1
        while counters["goroutines"] > base["goroutines"] and time.monotonic() < deadline:
            time.sleep(0.01)  # a goroutine of the Go runtime itself may take a moment
            counters = _native.debug_counters()
        print(json.dumps({
            "arrived": arrived,
            "handled": handled,
            "longest_poll_ms": polls["longest_ms"],
            "stopped": stopped,
            "counters": counters,
            "base": base,
            "open_paths": open_fd_paths(),
            "threads": [t.name for t in threading.enumerate()],
        }), flush=True)
    """
)


def interrupt_child(root: Path, warm: Path, call: str) -> dict:
    """Run CHILD, send SIGINT once it hashes; return its report."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), call, str(warm)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(TIMEOUT, proc.kill)
    timer.start()
    try:
        line = proc.stdout.readline()
        assert line.strip() == "started", line + proc.stderr.read()
        time.sleep(0.2)  # well into the hashing (how far is measured, not assumed)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sparse_tree(tmp_path_factory.mktemp("big"))


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warm")
    (root / "a").write_bytes(b"a")
    (root / "sha1sum.txt").write_text("86f7e437faa5a7fce15d1ddcb9eaeaea377667b8  a\n")
    return root


@pytest.mark.parametrize(
    "call",
    [
        "verify",
        "check_signatures",
        "make_manifest",
        "digest_files",
        "file_digest",
        "start_result",
    ],
)
def test_ctrl_c_stops_the_engine_within_the_poll_it_arrives_in(
    big: Path, warm: Path, call: str
) -> None:
    result = interrupt_child(big, warm, call)
    assert "handled" in result, f"the call finished before Ctrl-C: {result}"
    # The call was a polled job, in slices of at most one poll each ...
    assert 0 < result["longest_poll_ms"] <= _native.POLL_MS, result
    arrived, handled = result["arrived"]["slices"], result["handled"]["slices"]
    assert arrived >= 1, f"no poll had begun when the signal arrived: {result}"
    # ... and Ctrl-C acted at the end of the slice it arrived in: no further
    # poll began before KeyboardInterrupt (one tolerated for the moment
    # between the C handler and Python's).
    assert handled - arrived <= 1, f"{handled - arrived} polls began after SIGINT arrived"
    # The engine stopped long before the work would have finished.
    stopped = result["stopped"]
    total = (1 if call == "file_digest" else 4) * FILE_SIZE
    assert stopped["done"], f"the cancelled job never ended: {stopped}"
    assert stopped["bytes_done"] < total // 2, (
        f"the engine hashed {stopped['bytes_done']:,} of {total:,} bytes: it did not stop"
    )
    counters, base = result["counters"], result["base"]
    assert counters["handles"] == 0 and counters["jobs"] == 0, counters
    assert counters["open_files"] == 0, counters
    assert counters["goroutines"] <= base["goroutines"], (counters, base)
    # Nothing under the dataset is open any more (the Go runtime's own
    # epoll and eventfd descriptors, made once on first use, are not files).
    leaked = [p for p in result["open_paths"] if p.startswith(str(big))]
    assert leaked == [], leaked
    if call == "make_manifest":
        # Written atomically: an interrupted run leaves neither the manifest
        # nor its temporary file behind.
        assert sorted(os.listdir(big)) == ["big0", "big1", "big2", "big3", "sha1sum.txt"]
