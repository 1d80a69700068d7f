"""Ctrl-C: every long call stops the engine and raises KeyboardInterrupt
within 200 ms, with every file closed and no engine goroutine left working.

Each case runs in a child interpreter with a timeout (a deadlock fails the
test instead of stalling the suite). The child works on sparse files of
8 GiB, so it is still hashing when the signal comes, however fast the
machine. The delay is measured from the parent's time.monotonic() when it
sends SIGINT to the child's when it catches KeyboardInterrupt; on Linux
both read the same CLOCK_MONOTONIC. 200 ms is the issue's bound; the
expected delay is one 50 ms poll slice plus the engine's stop (one 256 KiB
read), so the bound is generous and only a real regression crosses it.
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

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="needs /proc and a shared CLOCK_MONOTONIC"
)

#: The issue's bound on the delay from Ctrl-C to KeyboardInterrupt.
BOUND = 0.2
#: A busy machine (the engine hashes on every core meanwhile) may starve the
#: child once; a real regression misses the bound every time.
ATTEMPTS = 2
#: Seconds a child may take in all before it counts as hung.
TIMEOUT = 60


def sparse_tree(root: Path, files: int = 4, size: int = 8 << 30) -> Path:
    """files sparse files of size bytes and a sha1sum.txt listing them (wrong digests)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(root / f"big{i}", "wb") as f:
            f.truncate(size)
    # The digests are never reached: the test interrupts long before.
    (root / "sha1sum.txt").write_text("".join(f"{'0' * 40}  big{i}\n" for i in range(files)))
    return root


CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time
    import checksig
    from checksig import _native

    root, call, warm = sys.argv[1], sys.argv[2], sys.argv[3]
    checksig.verify(warm, progress=False)  # load the engine, start its runtime
    # and the watcher thread of start_* jobs (it enters Go once, for good)
    checksig.start_verify(warm).result()

    def open_paths():
        out = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                out.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass  # the listing's own descriptor
        return out

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
        caught = time.monotonic()
        counters = _native.debug_counters()
        deadline = time.monotonic() + 1
        while counters["goroutines"] > base["goroutines"] and time.monotonic() < deadline:
            time.sleep(0.01)  # a goroutine of the Go runtime itself may take a moment
            counters = _native.debug_counters()
        print(json.dumps({
            "caught": caught,
            "counters": counters,
            "base": base,
            "open_paths": open_paths(),
            "threads": [t.name for t in threading.enumerate()],
        }), flush=True)
    """
)


def interrupt_child(root: Path, warm: Path, call: str) -> tuple[dict, float]:
    """Run CHILD, send SIGINT once it hashes; return its report and the send time."""
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
        time.sleep(0.2)  # well into the hashing
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), sent


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
def test_ctrl_c_stops_the_engine_within_200_ms(big: Path, warm: Path, call: str) -> None:
    delays = []
    for _ in range(ATTEMPTS):
        result, sent = interrupt_child(big, warm, call)
        assert "caught" in result, f"the call finished before Ctrl-C: {result}"
        delays.append(result["caught"] - sent)
        if delays[-1] < BOUND:
            break
    delay = delays[-1]
    assert 0 <= delay < BOUND, (
        f"KeyboardInterrupt came {[round(d * 1000) for d in delays]} ms after SIGINT"
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
