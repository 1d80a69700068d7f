"""verify(..., client=client) on a real Dask cluster (issue 17).

A ``distributed.LocalCluster`` of two process workers (spawned, one thread
each: this machine has two cores), shared by the module. No mocks: the
workers run the real engine on real files. Every cluster run is held to a
local run of the same tree, column for column, and through every view of a
Report. Nothing waits on a fixed sleep: runs are long where a test must act
in their middle (sparse files of a few GiB, hashed at ~1 GB/s, read as zeros
without touching a disk), and the test acts when the run's own progress says
the work is under way. Every wait is bounded, and a watchdog ends the whole
process should a test hang.
"""

from __future__ import annotations

import faulthandler
import gc
import hashlib
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import hexdigest
from hypothesis import given, settings
from hypothesis import strategies as st

import checksig
from checksig import _native

distributed = pytest.importorskip("distributed")
_dask = pytest.importorskip("checksig._dask")

#: Seconds any single test may take before the watchdog ends the process.
WATCHDOG = 240
#: A bound on every wait for a job here.
TIMEOUT = 120

GiB = 1 << 30
#: Seconds the workers' engines may take to stop after a cancel: far less
#: than the minute of hashing each of the endless files holds, so an engine
#: the cancel did not reach is still working then (a hang guard, not a
#: measure of promptness: the engine polls its cancel flag between reads).
STOP_GUARD = 20


@pytest.fixture(autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            timeout=60,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False, timeout=60) as c,
    ):
        assert distributed.get_worker is not None
        c.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture
def fine(monkeypatch):
    """Shards of a row or a few bytes, walks split three levels deep: every
    boundary the cuts have, on a small tree."""
    monkeypatch.setattr(_dask, "SCAN_MIN_ROWS", 1)
    monkeypatch.setattr(_dask, "SHARDS_PER_THREAD", 8)
    monkeypatch.setattr(_dask, "DEFER_MIN", 5)
    monkeypatch.setattr(_dask, "HASH_MIN_BYTES", 1)
    monkeypatch.setattr(_dask, "WALK_PARTS_PER_THREAD", 100)


def sha(algorithm: str, data: bytes) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def tag(algorithm: str, name: str, data: bytes) -> str:
    return f"{algorithm.upper()} ({name}) = {sha(algorithm, data)}\n"


@pytest.fixture
def status_tree(tmp_path: Path) -> Path:
    """A root whose sha1sum.txt gives every status a local run can give
    without faults (changed has a test of its own), with mixed algorithms, a
    name that is not UTF-8, an escaped name, a malformed line, big files the
    scan defers, and extra files at every depth, named to sort around the
    directories they sit beside ("a-b", "a.txt", "a0" around "a/")."""
    root = tmp_path / "root"
    files = {
        "ok.txt": b"fine",
        "sub dir/ok 2.bin": b"also fine",
        "bad.txt": b"changed",
        "big.bin": b"B" * (3 << 20),
        "big-bad.bin": b"b" * (2 << 20),
        "nested/a/b/c.txt": b"deep",
        "new\nline": b"nl",
        # not listed:
        "unlisted": b"extra",
        "sub dir/unlisted too": b"extra",
        "nested/a/unlisted": b"extra",
        "nested/x/y/z": b"extra",
        "a-b/x": b"extra",
        "a/y": b"extra",
        "a.txt": b"extra",
        "a0": b"extra",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"latin-1 name")
    (root / "dir").mkdir()
    os.mkfifo(root / "fifo")
    (tmp_path / "secret").write_bytes(b"secret")
    os.symlink(tmp_path / "secret", root / "link-out")
    os.symlink(root / "nested", root / "link-in")
    text = "".join(
        [
            "# every status\n",
            f"{sha('sha1', b'fine')}  ok.txt\n",
            tag("md5", "sub dir/ok 2.bin", b"also fine"),
            "not a checksum line\n",
            tag("sha512", "bad.txt", b"original"),
            tag("sha224", "big.bin", b"B" * (3 << 20)),
            f"{sha('sha1', b'not it')}  big-bad.bin\n",
            tag("sha256", "nested/a/b/c.txt", b"deep"),
            f"{sha('sha256', b'untagged lines are sha1 here')}  nested/a/b/c.txt\n",
            f"\\{sha('sha1', b'nl')}  new\\nline\n",
            f"{sha('sha1', b'x')}  gone.txt\n",
            f"{sha('sha1', b'x')}  dir\n",
            f"{sha('sha1', b'x')}  fifo\n",
            f"{sha('sha1', b'secret')}  ../secret\n",
            f"{sha('sha1', b'secret')}  {tmp_path / 'secret'}\n",
            f"{sha('sha1', b'secret')}  link-out\n",
            f"{sha('sha1', b'x')}  ok.txt/below\n",
        ]
    ).encode()
    text += b"SHA256 (caf\xe9.txt) = " + sha("sha256", b"latin-1 name").encode() + b"\n"
    (root / "sha1sum.txt").write_bytes(text)
    return root


def assert_same_report(got: checksig.Report, want: checksig.Report) -> None:
    """got is want in every view a user has of a Report."""
    assert set(got.columns) == set(want.columns)
    for name, column in want.columns.items():
        assert got.columns[name].dtype == column.dtype, name
        assert got.columns[name].shape == column.shape, name
        assert np.array_equal(got.columns[name], column), (name, got.columns[name], column)
    assert got.warnings == want.warnings
    assert got.bytes_hashed == want.bytes_hashed
    assert (got.ok, got.counts(), got.root, got.manifest) == (
        want.ok,
        want.counts(),
        want.root,
        want.manifest,
    )
    # What differs: the time, and how big files were read (each worker process
    # calibrates its own way of reading them, the local run its own).
    assert got.io is not None and set(got.io) <= {
        "read",
        "mmap",
        "readahead",
        "mapahead",
        "openssl",
        "calibrating",
    }
    got.elapsed, got.io = want.elapsed, want.io
    assert str(got) == str(want)
    assert got._repr_html_() == want._repr_html_()
    assert got.to_json() == want.to_json()
    assert got.to_pandas().equals(want.to_pandas())
    assert list(got) == list(want)


@pytest.mark.parametrize("cuts", ["default", "fine"])
@pytest.mark.parametrize(
    "options",
    [{}, {"extra": True}, {"extra": True, "allow_outside_root": True, "ignore_missing": True}],
    ids=["plain", "extra", "extra-outside-ignore"],
)
def test_a_cluster_run_is_a_local_run(
    client, status_tree: Path, cuts: str, options: dict, request: pytest.FixtureRequest
) -> None:
    if cuts == "fine":
        request.getfixturevalue("fine")
    want = checksig.verify(status_tree, progress=False, **options)
    assert [line for line, _ in want.warnings] == [4, 9]
    assert {r.algorithm for r in want if r.status != "extra"} == {
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha512",
    }
    statuses = {s for s in want.columns["status"]}
    assert {checksig.STATUSES[s] for s in statuses} >= {
        "ok",
        "mismatch",
        "missing",
        "unreadable",
        "not_regular",
    } | ({"extra"} if options else set()) | (
        set() if options.get("allow_outside_root") else {"outside_root"}
    )
    job = checksig.start_verify(status_tree, client=client, **options)
    got = job.result(timeout=TIMEOUT)
    assert_same_report(got, want)
    run = job._native
    if cuts == "fine":  # the cuts were exercised: many shards of each kind
        assert run.stats.shards["scan"] >= 10 and run.stats.shards["hash"] >= 3
        if options:
            assert run.stats.shards["walk"] >= 8
    # check_signatures: the same SignatureError, naming the same failures.
    with pytest.raises(checksig.SignatureError) as local:
        checksig.check_signatures(status_tree, progress=False, **options)
    with pytest.raises(checksig.SignatureError) as remote:
        checksig.check_signatures(status_tree, progress=False, client=client, **options)
    assert str(remote.value) == str(local.value)


@pytest.mark.parametrize(
    ("cuts", "parts"),
    [
        # Two workers of one thread: 4 parts wanted, the top level has them.
        (
            "default",
            [(b"", True), (b"caf\xe9", False), (b"n\xff", False), (b"ok", False), (b"z", False)],
        ),
        # 200 wanted: cut three levels deep, as far as _parts goes.
        (
            "fine",
            [
                (b"", True),
                (b"caf\xe9", True),
                (b"n\xff", True),
                (b"caf\xe9/d\xff", True),
                (b"ok", False),
                (b"z", False),
                (b"n\xff/m", False),
                (b"caf\xe9/d\xff/e\xfe", False),
            ],
        ),
    ],
    ids=["default", "fine"],
)
def test_a_walk_in_parts_named_by_bytes_that_are_not_utf8_lists_alike(
    client, tmp_path: Path, cuts: str, parts: list, request: pytest.FixtureRequest
) -> None:
    # Directories whose names are not UTF-8 at every level the walk is cut
    # at, and below, with listed files (ok, mismatch, missing) and extra ones
    # in them, named to sort around them: each is a part of its own, walked
    # by a task of its own, and the cluster's rows are one process's.
    if cuts == "fine":
        request.getfixturevalue("fine")
    root = tmp_path / "root"
    files = {
        b"a": b"a",
        b"caf\xe9-b": b"extra",
        b"caf\xe9/listed": b"listed",
        b"caf\xe9/bad": b"changed",
        b"caf\xe9/x\xfe": b"extra",
        b"caf\xe9/d\xff/listed": b"listed deeper",
        b"caf\xe9/d\xff/y": b"extra",
        b"caf\xe9/d\xff0": b"extra",
        b"caf\xe9/d\xff/e\xfe/z": b"extra",
        b"caf\xe9/d\xff/e\xfe/f\xfd/w": b"extra, below the cuts",
        b"caf\xe90": b"extra",
        b"n\xff/m/v": b"extra",
        b"ok/b": b"b",
        b"z/u": b"extra",
    }
    for name, data in files.items():
        path = os.fsencode(root) + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    listed = [
        (b"a", b"a", "ok"),
        (b"caf\xe9/listed", b"listed", "ok"),
        (b"caf\xe9/bad", b"original", "mismatch"),
        (b"caf\xe9/gone", b"x", "missing"),
        (b"caf\xe9/d\xff/listed", b"listed deeper", "ok"),
        (b"caf\xe9/d\xff/e\xfe/gone\xfe", b"x", "missing"),
        (b"n\xff/m/gone", b"x", "missing"),
        (b"ok/b", b"b", "ok"),
    ]
    (root / "sha1sum.txt").write_bytes(
        b"".join(hexdigest(data).encode() + b"  " + name + b"\n" for name, data, _ in listed)
    )
    extra = sorted(set(files) - {name for name, _, _ in listed})
    want = [(os.fsdecode(n), s) for n, _, s in listed] + [(os.fsdecode(n), "extra") for n in extra]
    local = checksig.verify(root, extra=True, progress=False)
    assert [(r.path, r.status) for r in local] == want
    # The parts the workers cut, these directories among them.
    target = max(_dask.WALK_PARTS_PER_THREAD * sum(client.nthreads().values()), 2)
    assert _dask._parts(os.fsencode(root), target) == parts
    job = checksig.start_verify(root, extra=True, client=client)
    remote = job.result(timeout=TIMEOUT)
    assert [(r.path, r.status) for r in remote] == want
    assert_same_report(remote, local)
    assert job._native.stats.shards["walk"] == len(parts)


def test_asyncio_and_the_dashboards_names(client, status_tree: Path) -> None:
    import asyncio

    want = checksig.verify(status_tree, extra=True, progress=False)
    got = asyncio.run(
        asyncio.wait_for(checksig.averify(status_tree, extra=True, client=client), TIMEOUT)
    )
    assert_same_report(got, want)
    prefixes = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert {"checksig-scan", "checksig-hash", "checksig-walk", "checksig-plan-walk"} <= set(
        prefixes
    )


# --- long runs: sparse files read as zeros ------------------------------------------------


def big_tree(
    root: Path, sizes: dict[str, int], algorithm: str = "sha1", *, digests: bool = True
) -> int:
    """Sparse files of the given sizes and a manifest for them (BSD tag
    lines; hashlib's digests, computed a MiB at a time, or with digests=False
    made up: for runs that are never to end), plus 20 small files."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, size in sizes.items():
        with open(root / name, "wb") as f:
            f.truncate(size)
        digest = _zeros_digest(algorithm, size) if digests else "0" * 128
        lines.append(f"{algorithm.upper()} ({name}) = {digest[: 2 * _dask_len(algorithm)]}\n")
    for i in range(20):
        data = b"small %d" % i
        (root / f"small-{i}").write_bytes(data)
        lines.append(tag(algorithm, f"small-{i}", data))
    (root / "sha1sum.txt").write_text("".join(lines))
    return sum(sizes.values()) + sum(len(b"small %d" % i) for i in range(20))


_ZEROS: dict[tuple[str, int], str] = {}


def _zeros_digest(algorithm: str, size: int) -> str:
    """hashlib's digest of size zero bytes, a MiB at a time, computed once."""
    if (algorithm, size) not in _ZEROS:
        h = hashlib.new(algorithm)
        zeros = bytes(1 << 20)
        for _ in range(size >> 20):
            h.update(zeros)
        h.update(bytes(size & ((1 << 20) - 1)))
        _ZEROS[algorithm, size] = h.hexdigest()
    return _ZEROS[algorithm, size]


def _dask_len(algorithm: str) -> int:
    return hashlib.new(algorithm).digest_size


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, int]:
    """Two 1 GiB sparse files (~0.7 s of SHA-1 each here), made once."""
    root = tmp_path_factory.mktemp("big") / "root"
    return root, big_tree(root, {"zeros-1": GiB, "zeros-2": GiB})


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> Path:
    """Two 64 GiB sparse files (a minute of SHA-512 each, at least): a run
    that only a cancel ends within the tests' time."""
    root = tmp_path_factory.mktemp("endless") / "root"
    big_tree(root, {"zeros-1": 64 * GiB, "zeros-2": 64 * GiB}, "sha512", digests=False)
    return root


def wait_for(predicate, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def engine_jobs(client) -> dict[str, int]:
    return {w: c["jobs"] for w, c in client.run(_native.debug_counters).items()}


def test_progress_is_fed_while_shards_run_and_reaches_the_total(client, big) -> None:
    root, total = big
    seen: list[checksig.Progress] = []
    job = checksig.start_verify(root, client=client, progress=seen.append)
    report = job.result(timeout=TIMEOUT)
    assert report.ok and report.bytes_hashed == total
    last = seen[-1]
    assert last.phase == "done"
    assert (last.bytes_done, last.bytes_total) == (total, total)
    assert (last.files_done, last.files_total) == (22, 22)
    # Fed while the shards ran, not only as each ended: a snapshot in the
    # middle of a big file (each is a shard of its own; the small ones are
    # hashed by the scan), which no set of whole shards adds up to.
    small = total - 2 * GiB
    ends = {0, small, GiB, 2 * GiB, small + GiB, total}
    middle = [p for p in seen if p.phase == "running" and p.bytes_done not in ends]
    assert middle, [(p.phase, p.bytes_done) for p in seen]
    done = [p.bytes_done for p in seen]
    assert done == sorted(done)  # no shard was run twice here


def test_a_progress_bar_by_bytes(client, tmp_path: Path, capsys) -> None:
    total = big_tree(tmp_path / "root", {"z": 64 << 20})
    checksig.start_verify(tmp_path / "root", client=client, progress=True).result(timeout=TIMEOUT)
    err = capsys.readouterr().err
    assert total > 64 << 20
    assert "100%" in err and "21/21 files" in err, err


def test_cancel_stops_every_workers_engine(client, endless, status_tree) -> None:
    job = checksig.start_verify(endless, client=client)
    run = job._native
    running = wait_for(
        lambda: [k for k, v in run.shards_running().items() if k[0] == "hash" and v[2] > 0],
        "a big file being hashed",
    )
    assert len(running) >= 1 and max(engine_jobs(client).values()) >= 1
    assert job.cancel()
    # A hang guard, not a speed verdict: the files hold a minute of hashing
    # each, so engines still working after STOP_GUARD seconds were not stopped.
    wait_for(lambda: not any(engine_jobs(client).values()), "the workers' engines", STOP_GUARD)
    with pytest.raises(checksig.Cancelled):
        job.result(timeout=TIMEOUT)
    # The cluster is as usable as before: no thread left busy, a run goes through.
    wait_for(lambda: not any(client.processing().values()), "the workers' threads", 5)
    want = checksig.verify(status_tree, extra=True, progress=False)
    got = checksig.start_verify(status_tree, extra=True, client=client).result(timeout=TIMEOUT)
    assert_same_report(got, want)


def test_ctrl_c_stops_the_cluster_run(client, endless, status_tree) -> None:
    # A separate client process, as a notebook kernel or a shell would be.
    root = endless
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import json, sys, time
                import checksig, distributed
                client = distributed.Client({client.scheduler.address!r}, set_as_default=False)
                said = []
                def progress(p):
                    if p.bytes_done > 0 and not said:
                        said.append(1)
                        print("hashing", flush=True)
                try:
                    checksig.verify({str(root)!r}, client=client, progress=progress)
                except KeyboardInterrupt:
                    print(json.dumps({{"interrupted": True}}), flush=True)
                client.close()
                """
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], TIMEOUT)
        assert ready, "the child never started hashing"
        assert child.stdout.readline().strip() == "hashing", child.stderr.read()
        wait_for(lambda: any(engine_jobs(client).values()), "the workers to hash")
        child.send_signal(signal.SIGINT)
        wait_for(lambda: not any(engine_jobs(client).values()), "the workers' engines", STOP_GUARD)
        out, err = child.communicate(timeout=TIMEOUT)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"interrupted": True}
    want = checksig.verify(status_tree, progress=False)
    assert_same_report(checksig.start_verify(status_tree, client=client).result(TIMEOUT), want)


def test_a_killed_workers_shard_is_run_again(client, big) -> None:
    root, total = big
    pids = client.run(os.getpid)
    job = checksig.start_verify(root, client=client)
    run = job._native
    running = wait_for(
        lambda: [(k, v) for k, v in run.shards_running().items() if k[0] == "hash" and v[2] > 0],
        "a big file being hashed",
    )
    (shard, (address, _, done)) = running[0]
    assert done < GiB  # killed mid-shard: its file is not hashed yet
    os.kill(pids[address], signal.SIGKILL)
    report = job.result(timeout=TIMEOUT)
    want = checksig.verify(root, progress=False)
    assert_same_report(report, want)  # complete: no row lost, none twice
    assert report.ok and len(report) == 22
    assert address not in client.nthreads()  # that worker is gone; its nanny starts another
    client.wait_for_workers(2, timeout=60)


def test_changed_while_hashed_on_a_worker(client, tmp_path: Path) -> None:
    # The engine's SIGBUS-safe read, on a worker: the file is truncated while
    # a shard hashes it (mid-file, checked by the run's own progress). A local
    # run cannot see the same moment, so its twin is in test_faults.py.
    root = tmp_path / "root"
    big_tree(root, {"shrinks": 2 * GiB}, algorithm="sha1", digests=False)
    job = checksig.start_verify(root, client=client)
    run = job._native
    wait_for(
        lambda: [k for k, v in run.shards_running().items() if k[0] == "hash" and v[2] > 64 << 20],
        "the file half read",
    )
    os.truncate(root / "shrinks", 1 << 20)
    report = job.result(timeout=TIMEOUT)
    by_path = {r.path: r.status for r in report}
    assert by_path.pop("shrinks") == "changed"
    assert set(by_path.values()) == {"ok"}


# --- wrong mounts, versions -------------------------------------------------------------


def test_a_root_the_workers_cannot_see_names_the_worker_and_the_path(client, tmp_path) -> None:
    manifest = tmp_path / "SUMS"
    manifest.write_text(f"{hexdigest(b'a')}  a\n")
    root = tmp_path / "not-mounted-here"
    with pytest.raises(FileNotFoundError) as info:
        checksig.start_verify(root, manifest, client=client).result(timeout=TIMEOUT)
    message = str(info.value)
    assert info.value.filename == str(root)
    assert "Dask worker tcp://" in message and "same path" in message, message
    assert any(w in message for w in client.nthreads()), message


def _can_mount() -> bool:
    try:
        subprocess.run(
            ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def test_a_worker_with_another_directory_at_the_root_is_refused(tmp_path: Path) -> None:
    # The classic wrong mount: the root's directory exists on the worker's
    # node but the shared file system is not mounted over it, so it is empty
    # there. A worker in a mount namespace of its own, with an empty tmpfs
    # over the root, is that node.
    if not _can_mount():
        pytest.skip("needs unshare -m and mount (a mount namespace) to simulate the node")
    root = tmp_path / "shared"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a").write_bytes(b"a")
    (root / "sha1sum.txt").write_text(f"{hexdigest(b'a')}  data/a\n")
    with (
        distributed.LocalCluster(n_workers=0, dashboard_address=":0", timeout=60) as cluster,
        distributed.Client(cluster, set_as_default=False, timeout=60) as client,
    ):
        worker = subprocess.Popen(
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                f"mount -t tmpfs none {root} && exec {sys.executable} -m "
                f"distributed.cli.dask_worker {cluster.scheduler_address} "
                "--nthreads 1 --no-nanny --no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client.wait_for_workers(1, timeout=60)
            (address,) = client.nthreads()
            with pytest.raises(OSError) as info:
                checksig.start_verify(root, client=client).result(timeout=TIMEOUT)
        finally:
            worker.kill()
            worker.wait(30)
    message = str(info.value)
    assert f"Dask worker {address}" in message and str(root) in message, message
    assert "sha1sum.txt" in message and "does not see it" in message, message


def test_a_worker_with_another_checksig_is_refused(client, tmp_path: Path) -> None:
    spec = _dask._Spec(
        run="x",
        root=os.fsencode(tmp_path),
        root_given=str(tmp_path),
        manifest=b"",
        probe=None,
        flags=0,
        workers=0,
        host_threads={},
        defer_min=0,
        version=(_native.ABI_VERSION, "0.0.0-other"),
    )
    shard = _native.Entries(b"a", [0, 1], hashlib.sha1(b"a").digest(), width=20)
    future = client.submit(_dask._scan, spec, 0, shard, pure=False)
    with pytest.raises(RuntimeError, match="install the same checksig on every worker") as info:
        future.result(timeout=TIMEOUT)
    assert "Dask worker tcp://" in str(info.value) and "0.0.0-other" in str(info.value)


def test_client_is_checked(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="distributed.Client"):
        checksig.verify(tmp_path, client="tcp://localhost:8786")


# --- memory -------------------------------------------------------------------------------


def test_a_million_entries_ship_as_compact_arrays(client, tmp_path: Path) -> None:
    # The client keeps the parse's columns and nothing per entry: shards go
    # out as arrays (~37 bytes a row beside its name), results come back as
    # arrays (~33 bytes a row), written into the columns; the Python objects
    # the client holds while the run goes on do not grow with the entries.
    # Counted, not timed. (Every file is missing: what is measured is what
    # travels, not hashing.)
    n = 1_000_000
    digest = hexdigest(b"x")
    names_len = 0
    with open(tmp_path / "SUMS", "w") as f:
        for start in range(0, n, 100_000):
            chunk = [f"d{i % 1000:03d}/file-{i:07d}" for i in range(start, start + 100_000)]
            names_len += sum(map(len, chunk))
            f.write("".join(f"{digest}  {name}\n" for name in chunk))
            del chunk
    gc.collect()
    baseline = len(gc.get_objects())
    peak = [0]
    last = [0.0]

    def sample(p: checksig.Progress) -> None:
        now = time.monotonic()
        if now - last[0] > 0.2:
            last[0] = now
            peak[0] = max(peak[0], len(gc.get_objects()))

    job = checksig.start_verify(tmp_path, "SUMS", client=client, progress=sample)
    report = job.result(timeout=TIMEOUT)
    assert report.counts() == {"missing": n}
    assert peak[0] > 0
    assert peak[0] - baseline < 20_000, f"{peak[0] - baseline} more Python objects while running"
    stats = job._native.stats
    shards = sum(stats.shards.values())
    per_row_out = 8 + 20 + 1 + 8  # offset, digest, algorithm, line
    least = names_len + n * per_row_out
    assert least <= stats.bytes_out <= least + 8 * shards  # offsets: one more a shard
    per_row_back = 1 + 4 + 8 + 20  # status, errno, size, digest
    assert stats.bytes_back == n * per_row_back
    assert shards >= 8  # several per worker thread
    # What Dask ships for a shard is those arrays (pickle 5, out of band) and
    # a few hundred bytes more.
    shard = _native.Entries.from_columns(report.columns, 0, 100_000)
    buffers: list = []
    inband = pickle.dumps(shard, protocol=5, buffer_callback=buffers.append)
    shipped = len(inband) + sum(b.raw().nbytes for b in buffers)
    assert shipped <= _dask._nbytes(shard) + 1024


# --- the cuts, alone ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 1 << 34), min_size=1, max_size=60),
    threads=st.integers(1, 64),
)
def test_byte_shards_cover_the_files_in_order(sizes: list[int], threads: int) -> None:
    cuts = _dask._hash_cuts(np.array(sizes, dtype=np.int64), threads)
    assert [lo for lo, _, _ in cuts] == [0] + [hi for _, hi, _ in cuts[:-1]]
    assert cuts[-1][1] == len(sizes)
    total = sum(sizes)
    share = min(total // (_dask.SHARDS_PER_THREAD * threads), _dask.HASH_MAX_BYTES)
    target = max(_dask.HASH_MIN_BYTES, share)
    for lo, hi, nbytes in cuts:
        assert nbytes == sum(sizes[lo:hi]) and hi > lo
        # A shard closes with the file that fills its share: without that
        # last file it held less than a share.
        assert sum(sizes[lo : hi - 1]) < target
    assert len(cuts) <= total // target + 1


# "\udcff" is the byte 0xff (os.fsencode's surrogateescape): not UTF-8.
_part_name = st.text(alphabet="ab-./0\x01é\udcff", min_size=1, max_size=3).filter(
    lambda s: "/" not in s and s not in (".", "..")
)


@settings(max_examples=200, deadline=None)
@given(
    files=st.lists(st.lists(_part_name, min_size=1, max_size=4), min_size=1, max_size=40),
    depth=st.integers(0, 3),
)
def test_the_walks_parts_merge_in_name_order(files: list[list[str]], depth: int) -> None:
    # Any tree of names, cut as _parts cuts it (directories' own files down
    # to a depth, whole subtrees below): the parts' sorted rows, put in order
    # by _extra_in_order, are the sorted names of the whole.
    paths = sorted({os.fsencode("/".join(p)) for p in files})
    # A name is a file or a directory, not both.
    paths = [p for p in paths if not any(p.startswith(f + b"/") for f in paths)]

    def parent(p: bytes) -> bytes:
        return p.rsplit(b"/", 1)[0] if b"/" in p else b""

    all_dirs = set()
    for p in paths:
        d = parent(p)
        while d:
            all_dirs.add(d)
            d = parent(d)
    flats = [b""] + sorted(d for d in all_dirs if d.count(b"/") < depth - 1)
    trees = sorted(d for d in all_dirs if d.count(b"/") == max(depth - 1, 0) and depth > 0)
    if depth == 0:
        flats, trees = [], [b""]

    def owner(p: bytes) -> tuple[bytes, bool]:
        for t in trees:
            if t == b"" or p.startswith(t + b"/"):
                return (t, False)
        return (parent(p), True)

    parts: dict[tuple[bytes, bool], list[bytes]] = {(d, True): [] for d in flats}
    parts.update({(t, False): [] for t in trees})
    for p in paths:
        parts[owner(p)].append(p)
    arrays = {}
    for key, names in parts.items():
        names.sort()
        blob = np.frombuffer(b"".join(names), dtype=np.uint8)
        offsets = np.cumsum([0] + [len(n) for n in names]).astype(np.int64)
        arrays[key] = (blob, offsets, np.arange(len(names), dtype=np.int64))
    merged = []
    for names, offsets, _, lo, hi in _dask._extra_in_order(arrays):
        merged += [names[offsets[i] : offsets[i + 1]].tobytes() for i in range(lo, hi)]
    assert merged == sorted(paths)


def test_parts_cover_the_tree_and_follow_no_symlink(tmp_path: Path) -> None:
    for d in ("a/x/1", "a/x/2", "a/y", "b", "c/z"):
        (tmp_path / d).mkdir(parents=True)
    os.symlink(tmp_path / "a", tmp_path / "link-a")  # not walked, as locally
    root = os.fsencode(tmp_path)
    assert _dask._parts(root, 6) == [
        (b"", True),
        (b"a", True),
        (b"c", True),
        (b"a/x", True),
        (b"b", False),
        (b"a/y", False),
        (b"c/z", False),
        (b"a/x/1", False),
        (b"a/x/2", False),
    ]
    assert _dask._parts(root, 3) == [(b"", True), (b"a", False), (b"b", False), (b"c", False)]
    # Names are bytes: directories whose names are not UTF-8 are parts like
    # any other, flat or whole, at every level (the engine walks them).
    (tmp_path / os.fsdecode(b"a/x/n\xe9")).mkdir()
    (tmp_path / os.fsdecode(b"n\xe9/m\xff")).mkdir(parents=True)
    assert _dask._parts(root, 6) == [
        (b"", True),
        (b"a", True),
        (b"c", True),
        (b"n\xe9", True),
        (b"a/x", True),
        (b"b", False),
        (b"a/y", False),
        (b"c/z", False),
        (b"n\xe9/m\xff", False),
        (b"a/x/1", False),
        (b"a/x/2", False),
        (b"a/x/n\xe9", False),
    ]


# --- the command line ---------------------------------------------------------------------


def run_cli(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checksig", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=TIMEOUT,
    )


def test_cli_scheduler(client, status_tree: Path) -> None:
    address = client.scheduler.address
    args = ["check", str(status_tree), "--extra"]
    local = run_cli(args)
    assert local.returncode == 1 and local.stdout and local.stderr
    remote = run_cli(args, {"CHECKSIG_SCHEDULER": address})
    assert (remote.returncode, remote.stdout, remote.stderr) == (
        local.returncode,
        local.stdout,
        local.stderr,
    )
    local = run_cli(args + ["--json"])
    remote = run_cli(args + ["--json", "--scheduler", address])
    assert remote.returncode == local.returncode == 1
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_cli_names_the_root_as_given(client, tmp_path: Path) -> None:
    # The manifest is read here (it lies outside the root), the root is
    # nowhere: the message names ROOT as typed and the worker.
    (tmp_path / "SUMS").write_text(f"{hexdigest(b'a')}  a\n")
    proc = subprocess.run(
        [sys.executable, "-m", "checksig", "check", "gone", "-m", "SUMS"]
        + ["--scheduler", client.scheduler.address],
        capture_output=True,
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(b"checksig: gone: No such file or directory (")
    assert b"on Dask worker tcp://" in proc.stderr


def test_cli_scheduler_errors(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "sha1sum.txt").write_text(f"{hexdigest(b'a')}  a\n")
    gone = run_cli(
        ["check", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"],
        {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )
    assert gone.returncode == 1
    assert gone.stderr.startswith(b"checksig: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    no_dask = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['distributed'] = None; from checksig._cli import main; "
            f"sys.exit(main(['check', {str(tmp_path)!r}, '--scheduler', 'tcp://x:1']))",
        ],
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert no_dask.returncode == 2
    assert b'pip install "checksig[dask]"' in no_dask.stderr


def test_a_manifest_read_with_the_wrong_algorithm_is_named_on_a_cluster(client, tmp_path: Path):
    # A b3sum manifest under a name that says nothing is read as sha256 (the
    # digest's length): every file mismatches, and the cluster's report says so
    # as a local run's does, naming the other algorithms of that length. (The
    # local run also re-hashes one file to name the one that matches; the client
    # of a cluster may not see the files, so it does not.)
    blake3 = pytest.importorskip("blake3")
    lines = []
    for i in range(3):
        data = f"payload {i}\n".encode() * 100
        (tmp_path / f"f{i}").write_bytes(data)
        lines.append(f"{blake3.blake3(data).hexdigest()}  f{i}\n")
    (tmp_path / "checksums.txt").write_text("".join(lines))
    local = checksig.verify(tmp_path, "checksums.txt", progress=False)
    remote = checksig.verify(tmp_path, "checksums.txt", progress=False, client=client)
    assert local.counts() == remote.counts() == {"mismatch": 3}
    assert local.algorithm_warning and remote.algorithm_warning
    assert "sha256" in remote.algorithm_warning and "blake3" in remote.algorithm_warning
    assert remote.inference.algorithm == local.inference.algorithm == "sha256"
