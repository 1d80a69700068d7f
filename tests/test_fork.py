"""fork(): a Go runtime does not survive it.

A child forked from a process that had loaded the engine must refuse every
call with a RuntimeError that names the fix ("spawn" or "forkserver"),
never hang or crash; the library loads lazily, so a child of a process
that never used checksig works; and the spawn and forkserver start methods
work even when the parent has used checksig. Every case runs in a fresh
interpreter with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import hexdigest, run_json, run_python

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


@needs_fork
def test_forked_child_refuses_and_explains() -> None:
    out = run_json(
        """
        import json, os, sys, checksig

        def in_child():
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                try:
                    checksig.file_digest(sys.executable)
                    msg = "ok"
                except RuntimeError as e:
                    msg = "RuntimeError: " + str(e)
                except BaseException as e:
                    msg = type(e).__name__ + ": " + str(e)
                os.write(w, msg.encode())
                os._exit(0)
            os.close(w)
            chunks = []
            while True:
                b = os.read(r, 65536)
                if not b:
                    break
                chunks.append(b)
            os.waitpid(pid, 0)
            return b"".join(chunks).decode()

        before = in_child()  # the parent never loaded the engine: the child may
        checksig.file_digest(sys.executable)
        after = in_child()
        print(json.dumps([before, after]))
        """,
        timeout=60,
    )
    before, after = out
    assert before == "ok"
    assert after.startswith("RuntimeError: ")
    assert "fork()" in after and '"spawn"' in after and '"forkserver"' in after


def test_spawned_children_work(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"spawned")
    proc = run_python(
        f"""
        import multiprocessing as mp, checksig
        if __name__ == "__main__":
            checksig.file_digest({str(tmp_path / "f")!r})  # loaded in the parent too
            with mp.get_context("spawn").Pool(2) as pool:
                print(pool.map(checksig.file_digest, [{str(tmp_path / "f")!r}] * 4))
        """,
        timeout=120,
    )
    assert proc.stdout.strip() == repr([hexdigest(b"spawned")] * 4)


@needs_fork
def test_fork_pool_after_use_raises_instead_of_hanging(tmp_path: Path) -> None:
    # What a notebook user does first: a default ("fork" on Linux before
    # Python 3.14) Pool after checksig ran in the kernel. Every task must
    # fail fast with the explanation, for every entry point.
    (tmp_path / "f").write_bytes(b"forked")
    (tmp_path / "sha1sum.txt").write_text(f"{hexdigest(b'forked')}  f\n")
    out = run_json(
        f"""
        import json, multiprocessing as mp, checksig

        def attempt(what):
            try:
                if what == "file_digest":
                    checksig.file_digest({str(tmp_path / "f")!r})
                elif what == "verify":
                    checksig.verify({str(tmp_path)!r}, progress=False)
                elif what == "start_verify":
                    checksig.start_verify({str(tmp_path)!r}).result(timeout=10)
                return "ok"
            except RuntimeError as e:
                return "RuntimeError: " + str(e)

        if __name__ == "__main__":
            checksig.verify({str(tmp_path)!r}, progress=False)  # the parent loads the engine
            with mp.get_context("fork").Pool(2) as pool:
                got = pool.map_async(attempt, ["file_digest", "verify", "start_verify"])
                print(json.dumps(got.get(timeout=60)))
        """,
        timeout=120,
    )
    assert len(out) == 3
    for msg in out:
        assert msg.startswith("RuntimeError: "), msg
        assert '"spawn"' in msg and '"forkserver"' in msg


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawn_and_forkserver_pools_verify(tmp_path: Path, method: str) -> None:
    if method == "forkserver" and sys.platform == "win32":
        pytest.skip("no forkserver on Windows")
    for i in range(4):
        (tmp_path / f"f{i}").write_bytes(f"file {i}".encode())
    (tmp_path / "sha1sum.txt").write_text(
        "".join(f"{hexdigest(f'file {i}'.encode())}  f{i}\n" for i in range(4))
    )
    # A script file, not -c: spawn and forkserver children import __main__ by path.
    script = tmp_path / "pool.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import multiprocessing as mp, checksig

            def check(root):
                return checksig.verify(root, progress=False).ok

            if __name__ == "__main__":
                checksig.verify({str(tmp_path)!r}, progress=False)  # loaded in the parent too
                with mp.get_context({method!r}).Pool(2) as pool:
                    print(pool.map_async(check, [{str(tmp_path)!r}] * 4).get(timeout=60))
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[True, True, True, True]"
