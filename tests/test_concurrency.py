"""Threads, Ctrl-C and resource leaks. Whatever could deadlock runs in a
subprocess with a timeout, so a hang fails the test instead of the suite."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SUBPROCESS_TIMEOUT, open_fd_count, run_json, write_manifest

import checksig
from checksig import _api, _native


def test_eight_threads_get_correct_results(tmp_path: Path) -> None:
    # Each thread has its own tree, with its own content, and checks every API.
    out = run_json(
        f"""
        import hashlib, json, os, threading
        from pathlib import Path
        import checksig

        base = Path({str(tmp_path)!r})
        errors = []

        def work(t):
            try:
                root = base / f"t{{t}}"
                root.mkdir()
                blobs = {{f"f{{i}}": os.urandom(1000 * i + t) for i in range(20)}}
                for name, data in blobs.items():
                    (root / name).write_bytes(data)
                lines = "".join(
                    f"{{hashlib.sha256(d).hexdigest()}}  {{n}}\\n" for n, d in blobs.items()
                )
                (root / "sha256sum.txt").write_text(lines)
                paths = [root / n for n in blobs]
                for rep in range(10):
                    workers = rep % 3
                    report = checksig.check_signatures(root, "sha256sum.txt", workers=workers)
                    assert len(report) == 20 and report.ok
                    got = checksig.digest_files(paths, "md5", workers=workers)
                    assert got == [hashlib.md5(d).hexdigest() for d in blobs.values()]
                    n = f"f{{rep}}"
                    want = hashlib.sha1(blobs[n]).hexdigest()
                    assert checksig.file_digest(root / n, "sha1") == want
                    assert checksig.check_file(root / n, hashlib.sha512(blobs[n]).hexdigest())
                    out = checksig.make_manifest(root, "sha1", f"../t{{t}}.sha1")
                    assert checksig.verify(root, out).ok
            except BaseException as e:
                errors.append(f"thread {{t}}: {{type(e).__name__}}: {{e}}")

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        from checksig import _native
        print(json.dumps([errors, _native.debug_counters()]))
        """,
        timeout=SUBPROCESS_TIMEOUT,
    )
    errors, counters = out
    assert errors == []
    assert counters["handles"] == 0 and counters["jobs"] == 0 and counters["open_files"] == 0


def test_threads_share_one_tree(tmp_path: Path, workers: int) -> None:
    blobs = {f"f{i}": os.urandom(5000 + i) for i in range(50)}
    for name, data in blobs.items():
        (tmp_path / name).write_bytes(data)
    write_manifest(tmp_path / "sha1sum.txt", blobs)
    out = run_json(
        f"""
        import json
        from concurrent.futures import ThreadPoolExecutor
        import checksig
        def one(_):
            return checksig.verify({str(tmp_path)!r}, workers={workers}).counts()["ok"]
        with ThreadPoolExecutor(8) as ex:
            print(json.dumps(list(ex.map(one, range(32)))))
        """
    )
    assert out == [50] * 32


def test_no_leaked_file_descriptors_over_500_calls(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "dir").mkdir()
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a"), ("gone", b""), ("dir", b"")])
    # Warm up: the library, Go's runtime threads and its epoll descriptor.
    checksig.verify(tmp_path)
    checksig.file_digest(tmp_path / "a")
    before = open_fd_count()
    for i in range(500):
        k = i % 5
        if k == 0:
            assert len(checksig.verify(tmp_path, workers=i % 3)) == 3
        elif k == 1:
            assert checksig.file_digest(tmp_path / "a") == hashlib.sha1(b"a").hexdigest()
        elif k == 2:
            with pytest.raises(FileNotFoundError):
                checksig.digest_files([tmp_path / "a", tmp_path / "gone"])
        elif k == 3:
            with pytest.raises(checksig.SignatureError):
                checksig.check_signatures(tmp_path)
        else:
            with pytest.raises(FileNotFoundError):
                checksig.verify(tmp_path, "no-such-manifest")
    assert open_fd_count() == before
    counters = _native.debug_counters()
    assert counters["handles"] == 0 and counters["jobs"] == 0 and counters["open_files"] == 0


def test_no_leaks_in_the_job_path_of_file_digest(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_api, "SYNC_DIGEST_LIMIT", 0)
    (tmp_path / "a").write_bytes(b"a")
    checksig.file_digest(tmp_path / "a")
    before = open_fd_count()
    for _ in range(200):
        checksig.file_digest(tmp_path / "a")
        with pytest.raises(IsADirectoryError):
            checksig.file_digest(tmp_path)
    assert open_fd_count() == before
    assert _native.debug_counters()["handles"] == 0


def _sparse_tree(root: Path, files: int = 4, size: int = 8 << 30) -> None:
    for i in range(files):
        with open(root / f"big{i}", "wb") as f:
            f.truncate(size)
    # The digest is never reached: the test interrupts long before.
    (root / "sha1sum.txt").write_text("".join(f"{'0' * 40}  big{i}\n" for i in range(files)))


@pytest.mark.parametrize("call", ["verify", "digest_files", "file_digest"])
def test_ctrl_c_cancels_promptly_and_cleanly(tmp_path: Path, call: str) -> None:
    _sparse_tree(tmp_path)
    invocation = {
        "verify": f"checksig.verify({str(tmp_path)!r}, workers=2, progress=started)",
        "digest_files": (
            f"checksig.digest_files([{str(tmp_path / 'big0')!r}, {str(tmp_path / 'big1')!r}],"
            " workers=2, progress=started)"
        ),
        # file_digest has no progress: a big file goes through a job anyway.
        "file_digest": f"started(None); checksig.file_digest({str(tmp_path / 'big0')!r})",
    }[call]
    code = textwrap.dedent(
        f"""
        import json, sys, time
        import checksig
        from checksig import _native
        said = []
        def started(p):
            if not said:
                said.append(1)
                print("started", flush=True)
        t0 = time.monotonic()
        try:
            {invocation}
            print(json.dumps({{"finished": time.monotonic() - t0}}))
        except KeyboardInterrupt:
            print(json.dumps({{"interrupted": True, "counters": _native.debug_counters()}}))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "started", line + proc.stderr.read()
        time.sleep(0.3)  # let the workers get going
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result.get("interrupted"), f"the call finished before Ctrl-C: {result}"
    counters = result["counters"]
    # (How promptly, in polls: tests/test_interrupt.py; no clock decides here.)
    assert counters["handles"] == 0 and counters["jobs"] == 0 and counters["open_files"] == 0
