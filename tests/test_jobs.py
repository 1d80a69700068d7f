"""Jobs: start_* in the background, progress, cancel, timeouts, asyncio.

The long-running cases hash sparse files (zeros the kernel makes up without
disk I/O), big enough that the engine is still working when the test looks.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from conftest import hexdigest, write_manifest, write_tree

import checksig
from checksig import _feedback, _native


def sparse_tree(root: Path, files: int = 2, size: int = 4 << 30) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(root / f"big{i}", "wb") as f:
            f.truncate(size)
    (root / "sha1sum.txt").write_text("".join(f"{'0' * 40}  big{i}\n" for i in range(files)))
    return root


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sparse_tree(tmp_path_factory.mktemp("big"))


def idle() -> dict[str, int]:
    """The engine's counters once it is idle (waiting a moment for the runtime)."""
    deadline = time.monotonic() + 2
    while True:
        counters = _native.debug_counters()
        quiet = counters["handles"] == counters["jobs"] == counters["open_files"] == 0
        if quiet or time.monotonic() > deadline:
            return counters


def wait_until(condition: Callable[[], bool], polls: int = 600) -> bool:
    """Whether condition() became true within a bounded number of 50 ms
    looks (30 s): a wait for an event, never a verdict on how long it took."""
    for _ in range(polls):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def assert_idle() -> None:
    counters = idle()
    assert counters["handles"] == 0 and counters["jobs"] == 0, counters
    assert counters["open_files"] == 0, counters


# --- the job API ---------------------------------------------------------------------


def test_start_verify_then_result(tree: Path, workers: int) -> None:
    job = checksig.start_verify(tree, workers=workers)
    assert isinstance(job, checksig.Job)
    report = job.result(timeout=30)
    assert isinstance(report, checksig.Report) and report.ok and len(report) == 4
    assert job.done() and not job.cancelled()
    assert job.result() is report  # the outcome is kept
    p = job.progress
    assert isinstance(p, checksig.Progress)
    assert (p.phase, p.files_done, p.files_total, p.eta) == ("done", 4, 4, 0.0)
    assert p.bytes_done == p.bytes_total == report.bytes_hashed
    assert report.elapsed is not None and 0 < report.elapsed < 30
    assert "verify sha1sum.txt: done, 4/4 files" in repr(job)
    assert_idle()


def test_each_start_function(tree: Path, tmp_path: Path) -> None:
    path = checksig.start_make_manifest(tree, "md5", output="MD5SUMS").result(timeout=30)
    assert path == tree / "MD5SUMS" and path.read_text().count("\n") == 5  # with sha1sum.txt
    digests = checksig.start_digest_files([tree / "a.txt", tree / "empty"]).result(timeout=30)
    assert digests == [hexdigest(b"alpha\n"), hexdigest(b"")]
    assert checksig.start_digest_files([]).result(timeout=30) == []
    assert checksig.digest_files([]) == []
    assert checksig.start_check_signatures(tree).result(timeout=30).ok
    (tree / "a.txt").write_bytes(b"changed")
    job = checksig.start_check_signatures(tree)
    with pytest.raises(checksig.SignatureError) as info:
        job.result(timeout=30)
    assert [r.path for r in info.value.report.failures] == ["a.txt"]
    assert job.done() and not job.cancelled()
    assert "failed (SignatureError)" in repr(job)
    assert_idle()


def test_argument_errors_are_raised_by_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown algorithm"):
        checksig.start_verify(tmp_path, algorithm="crc32")
    with pytest.raises(TypeError, match="progress"):
        checksig.start_verify(tmp_path, progress="yes")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        checksig.start_verify(tmp_path / "no such root")
    with pytest.raises(TypeError, match="single path"):
        checksig.start_digest_files(tmp_path)  # type: ignore[arg-type]


def test_run_errors_are_raised_by_result(tmp_path: Path) -> None:
    job = checksig.start_verify(tmp_path)  # no sha1sum.txt: found out while enumerating
    with pytest.raises(FileNotFoundError):
        job.result(timeout=30)
    assert job.done() and not job.cancelled()
    with pytest.raises(FileNotFoundError):
        job.result()  # the same outcome again
    job = checksig.start_digest_files([tmp_path / "nope"])
    with pytest.raises(FileNotFoundError) as info:
        job.result(timeout=30)
    assert info.value.filename == str(tmp_path / "nope")
    assert_idle()


def test_a_started_job_runs_without_being_polled(big: Path) -> None:
    # Nobody touches the job: the watcher thread alone hands the engine its
    # columns, so hashing has started by the time we look.
    job = checksig.start_verify(big, workers=2)
    t0 = time.monotonic()
    # The manifest counts as an open file while it is read; two open files are the
    # two big ones, which the workers open only once the watcher attached the columns.
    assert wait_until(lambda: _native.debug_counters()["open_files"] >= 2), "never hashed"
    waited = time.monotonic() - t0
    p = job.progress
    assert p.phase == "running", p
    assert wait_until(lambda: job.progress.bytes_done > 0), job.progress
    p = job.progress
    assert p.bytes_total == 2 * (4 << 30) and p.files_total == 2
    assert p.rate and p.rate > 0 and p.eta is not None and p.eta > 0
    assert 0 < p.fraction < 1 and p.elapsed >= waited
    assert job.cancel() is True
    with pytest.raises(checksig.Cancelled):
        job.result(timeout=10)
    assert job.cancelled() and job.done()
    assert job.cancel() is False  # already over
    assert "cancelled" in repr(job)
    assert_idle()


def test_result_timeout_leaves_the_job_running(big: Path) -> None:
    with checksig.start_verify(big, workers=1) as job:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="still running"):
            job.result(timeout=0.2)
        # It waited its timeout (the same clock: never less), and no longer
        # than the work: the job is still running.
        assert time.monotonic() - t0 >= 0.2
        assert not job.done()
        before = job.progress.bytes_done
        assert wait_until(lambda: job.progress.bytes_done > before)  # still hashing
        with pytest.raises(TimeoutError):
            job.result(timeout=0)
    # Leaving the block cancelled and released it.
    assert job.cancelled()
    with pytest.raises(checksig.Cancelled):
        job.result()
    assert_idle()


def test_close_while_another_thread_waits(big: Path) -> None:
    job = checksig.start_verify(big, workers=2)
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            job.result(timeout=60)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    job.close()
    waiter.join(10)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], checksig.Cancelled), outcome
    assert_idle()


def test_progress_from_other_threads_while_result_waits(big: Path) -> None:
    job = checksig.start_verify(big, workers=2)
    seen: list[checksig.Progress] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(job.progress)
            time.sleep(0.01)

    threads = [threading.Thread(target=watch) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    job.cancel()
    with pytest.raises(checksig.Cancelled):
        job.result(timeout=10)
    stop.set()
    for t in threads:
        t.join(10)
    assert seen and all(isinstance(p, checksig.Progress) for p in seen)
    assert any(p.phase == "running" for p in seen)
    assert_idle()


def test_dropping_a_running_job_cancels_it(big: Path) -> None:
    job = checksig.start_verify(big, workers=2)
    time.sleep(0.2)
    del job
    import gc

    gc.collect()
    assert_idle()


def test_progress_snapshot_and_legacy_dict_view() -> None:
    counters = (_native.PH_RUNNING, 3, 10, 512, 2048, 10, 20, 40, 1)
    p = checksig.Progress._from_counters(counters, elapsed=2.0, hashing=1.0)
    assert (p.phase, p.files_done, p.files_total, p.bytes_done, p.bytes_total) == (
        "running",
        3,
        10,
        512,
        2048,
    )
    assert p.rate == 512.0 and p.eta == 3.0 and p.fraction == 0.25 and p.warnings == 1
    assert p["bytes_total"] == 2048 and p["phase"] == "running" and p.get("rows") == 10
    with pytest.raises(AttributeError):
        p.bytes_done = 0  # type: ignore[misc]
    enumerating = (_native.PH_ENUMERATING, 0, -1, 0, -1, 0, 0, 0, 0)
    q = checksig.Progress._from_counters(enumerating, elapsed=0.1, hashing=None)
    assert q.files_total is None and q.bytes_total is None and q.eta is None
    assert q.rate is None and q.fraction is None
    assert q["files_total"] == -1 and q.get("bytes_total") == -1
    # Scanning: files known, bytes not yet; the ETA goes by files (4 of 10 in 2 s).
    scanning = (_native.PH_RUNNING, 4, 10, 16384, -1, 10, 20, 40, 0)
    r = checksig.Progress._from_counters(scanning, elapsed=2.5, hashing=2.0)
    assert r.bytes_total is None and r.fraction is None and r.eta == 3.0


# --- cancel before the engine was handed its columns ----------------------------------


def test_cancel_in_ready_reports_cancelled_without_attaching(tree: Path) -> None:
    job = _native._Job(
        _native.JOB_VERIFY,
        root=str(tree).encode(),
        manifest=str(tree / "sha1sum.txt").encode(),
    )
    with job:
        # Wait for PH_READY through the raw poll, which never attaches.
        buf = (ctypes.c_int64 * _native.P_LEN)()
        err = _native.Error()
        deadline = time.monotonic() + 10
        while buf[0] != _native.PH_READY and time.monotonic() < deadline:
            job._lib.checksig_job_poll(job._handle, 10, buf, _native.P_LEN, ctypes.byref(err))
        assert buf[0] == _native.PH_READY
        job.cancel()
        assert job.poll_counters(50)[0] == _native.PH_DONE
        assert job.done()
        with pytest.raises(checksig.Cancelled):
            job.result()
        assert job._columns is None  # nothing was allocated for a cancelled job
    assert_idle()


# --- asyncio -----------------------------------------------------------------------------


def test_averify_and_friends(tree: Path) -> None:
    async def main() -> tuple:
        report = await checksig.averify(tree, progress=False)
        ok = await checksig.acheck_signatures(tree, progress=False)
        manifest = await checksig.amake_manifest(tree, "sha256", progress=False)
        digests = await checksig.adigest_files([tree / "a.txt"], progress=False)
        again = await checksig.start_verify(tree)  # a Job is awaitable
        return report, ok, manifest, digests, again

    report, ok, manifest, digests, again = asyncio.run(main())
    assert report.ok and ok.ok and again.ok and len(again) == 4
    assert manifest == tree / "sha256sum.txt" and manifest.is_file()
    assert digests == [hexdigest(b"alpha\n")]
    assert_idle()


def test_acheck_signatures_raises(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"a"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"not a")])
    with pytest.raises(checksig.SignatureError):
        asyncio.run(checksig.acheck_signatures(tmp_path))


def test_averify_does_not_block_the_loop_and_cancels_with_its_task(
    big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, not timed. The loop is never starved: every poll averify makes
    # on the loop's thread only looks (no wait in the engine), and another
    # task ran between every two of them. Cancelling the task stops the
    # engine long before the work would have finished.
    ticks = 0
    loop_thread = threading.get_ident()
    polls: list[tuple[int, int]] = []  # (timeout_ms, ticks so far), the loop thread's
    stopped: dict[str, int] = {}
    real_poll, real_free = _native._Job._poll_once, _native._Job.free

    def counted_poll(self: _native._Job, handle: int, timeout_ms: int) -> tuple[int, ...]:
        if threading.get_ident() == loop_thread and not self.cancel_requested:
            polls.append((timeout_ms, ticks))
        return real_poll(self, handle, timeout_ms)

    def noting_free(self: _native._Job) -> None:
        # Where the cancelled engine stopped: its counters once it says it is done.
        if self.cancel_requested and not self.freed and not stopped:
            for _ in range(600):
                p = self.poll_counters(_native.POLL_MS)
                if p[_native.P_PHASE] == _native.PH_DONE:
                    break
            stopped.update(phase=p[_native.P_PHASE], bytes_done=p[_native.P_BYTES_DONE])
        real_free(self)

    monkeypatch.setattr(_native._Job, "_poll_once", counted_poll)
    monkeypatch.setattr(_native._Job, "free", noting_free)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main() -> None:
        tick_task = asyncio.ensure_future(ticker())
        task = asyncio.ensure_future(checksig.averify(big, workers=2))
        for _ in range(3000):  # until the engine hashes and averify has polled a few times
            if _native.debug_counters()["open_files"] > 0 and len(polls) >= 4:
                break
            await asyncio.sleep(0.01)
        assert _native.debug_counters()["open_files"] > 0  # hashing
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        tick_task.cancel()

    asyncio.run(main())
    assert len(polls) >= 4, polls
    assert all(timeout == 0 for timeout, _ in polls), f"averify waited in the engine: {polls}"
    between = [b - a for (_, a), (_, b) in zip(polls, polls[1:])]
    assert min(between) >= 1, f"the event loop ran nothing between two polls: {polls}"
    assert stopped["phase"] == _native.PH_DONE, stopped
    assert stopped["bytes_done"] < (2 * (4 << 30)) // 2, f"the engine did not stop: {stopped}"
    assert_idle()


def test_async_progress_callable(tree: Path) -> None:
    seen: list[checksig.Progress] = []
    asyncio.run(checksig.averify(tree, progress=seen.append))
    assert seen and seen[-1].phase == "done" and seen[-1].files_done == 4


# --- progress= ------------------------------------------------------------------------------


def test_auto_progress_rule(monkeypatch) -> None:
    monkeypatch.setattr(_feedback, "_stderr_is_a_terminal", lambda: False)
    monkeypatch.setattr(_feedback, "in_jupyter_kernel", lambda: False)
    assert not _feedback.Reporter(None, "x").active
    assert not _feedback.Reporter(False, "x").active
    pytest.importorskip("tqdm")
    assert _feedback.Reporter(True, "x").active
    monkeypatch.setattr(_feedback, "_stderr_is_a_terminal", lambda: True)
    assert _feedback.Reporter(None, "x").active
    monkeypatch.setattr(_feedback, "_stderr_is_a_terminal", lambda: False)
    monkeypatch.setattr(_feedback, "in_jupyter_kernel", lambda: True)
    assert _feedback.Reporter(None, "x").active


def test_default_progress_is_silent_when_stderr_is_not_a_terminal(tree: Path, capsys) -> None:
    # pytest's captured stderr is not a terminal: the default draws nothing.
    assert checksig.verify(tree).ok
    checksig.make_manifest(tree)
    checksig.digest_files([tree / "a.txt"])
    assert capsys.readouterr().err == ""


def test_progress_true_draws_one_bar_by_bytes_with_files(tree: Path, capsys) -> None:
    pytest.importorskip("tqdm")
    assert checksig.verify(tree, progress=True).ok
    err = capsys.readouterr().err
    assert "sha1sum.txt" in err and "4/4 files" in err
    assert "16.0k" in err or "16.0kB" in err  # 16405 bytes, by bytes (tqdm's k is 1024 here)


def test_progress_bar_counts_bytes_until_the_total_is_known(capsys) -> None:
    # While the engine scans the list the byte total is unknown: a counter,
    # then a bar with a percentage once the total arrives, never losing count.
    pytest.importorskip("tqdm")
    reporter = _feedback.Reporter(True, "SUMS")

    def snap(files_done: int, bytes_done: int, bytes_total: int) -> _feedback.Snapshot:
        counters = (_native.PH_RUNNING, files_done, 10, bytes_done, bytes_total, 10, 20, 40, 0)
        return _feedback.Snapshot(counters, elapsed=1.0, hashing=1.0)

    reporter(snap(4, 4096, -1))
    assert reporter._bar.total is None and reporter._bar.n == 4096
    reporter(snap(6, 6144, 10240))
    assert reporter._bar.total == 10240 and reporter._bar.n == 6144
    reporter.close()
    assert "6/10 files" in capsys.readouterr().err


def test_auto_progress_in_a_terminal_waits_before_drawing(tree: Path, capsys, monkeypatch) -> None:
    pytest.importorskip("tqdm")
    monkeypatch.setattr(_feedback, "_stderr_is_a_terminal", lambda: True)
    assert checksig.verify(tree).ok  # quick: done before AUTO_DELAY, so no bar
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(_feedback, "AUTO_DELAY", 0.0)
    assert checksig.verify(tree).ok
    assert "4/4 files" in capsys.readouterr().err


def test_job_is_generic_at_run_time_without_typing() -> None:
    # Annotations like Job[Report] may be evaluated at run time (pydantic, ...).
    alias = checksig.Job[checksig.Report]
    assert alias.__origin__ is checksig.Job and alias.__args__ == (checksig.Report,)
