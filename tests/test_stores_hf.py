"""verify_hf_cache and checksig hf (issue 23; FORMATS.md part L).

Caches are built by the layout huggingface_hub 2.x writes (tests/stores.py);
etags come from ``git hash-object`` and ``sha256sum``; which repos, revisions
and files a cache holds is what ``huggingface_hub.scan_cache_dir()`` says.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_python
from hypothesis import example, given
from hypothesis import strategies as st
from stores import HubCache, git_blob_id, local_dir, sha256sum

import checksig
from checksig import _native, _store

huggingface_hub = pytest.importorskip("huggingface_hub")

C1, C2, C3, C4 = "1" * 40, "2" * 40, "3" * 40, "4" * 40
WEIGHTS = bytes(range(256)) * 4096  # 1 MiB: hashed through the engine's mapping path
CONFIG = b'{"architectures": ["GPT2LMHeadModel"]}\n'


@pytest.fixture
def hub(tmp_path: Path) -> HubCache:
    """A cache of two revisions of a model (sharing two blobs), a dataset whose
    file sits in the shared store with another dataset's, and a space."""
    cache = HubCache(tmp_path / "hub")
    files = {"config.json": CONFIG, "model.safetensors": WEIGHTS, "tokenizer/vocab.txt": b"a\nb\n"}
    cache.add("org/gpt", C1, files, lfs=("model.safetensors",), ref="v1")
    newer = dict(files, **{"README.md": b"# gpt\n", "tokenizer/vocab.txt": b"a\nb\nc\n"})
    cache.add("org/gpt", C2, newer, lfs=("model.safetensors",), ref="main")
    cache.add(
        "org/squad",
        C3,
        {"train.parquet": b"PAR1" * 999},
        repo_type="dataset",
        shared=("train.parquet",),
    )
    cache.add(
        "org/squad2",
        C4,
        {"train.parquet": b"PAR1" * 999},
        repo_type="dataset",
        shared=("train.parquet",),
    )
    cache.add("org/demo", C1, {"app.py": b"print('hi')\n"}, repo_type="space")
    return cache


class Labelled:
    """A report's Row with its labels (Row has none: they are in to_dict()'s entries)."""

    def __init__(self, row: checksig.Row, labels: dict[str, str | None]) -> None:
        self.row, self.labels = row, labels

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


def labelled(report: checksig.Report) -> list[Labelled]:
    entries = report.to_dict()["entries"]
    return [Labelled(row, e.get("labels") or {}) for row, e in zip(report, entries)]


def failing(report: checksig.Report) -> list[Labelled]:
    bad = {row.path for row in report.failures}
    return [r for r in labelled(report) if r.path in bad]


def rows(report: checksig.Report) -> dict[str, Labelled]:
    return {row.path: row for row in labelled(report)}


def snap(repo: str, commit: str, name: str) -> str:
    return f"{repo}/snapshots/{commit}/{name}"


GPT = "models--org--gpt"


# --- a clean cache -------------------------------------------------------------------------------


def test_a_clean_cache_is_ok_and_lists_what_scan_cache_dir_lists(
    hub: HubCache, workers: int
) -> None:
    report = checksig.verify_hf_cache(hub.root, workers=workers)
    assert report.ok, str(report)
    assert set(report.counts()) == {"ok"}
    info = huggingface_hub.scan_cache_dir(hub.root)
    assert not info.warnings
    want = set()
    for repo in info.repos:
        label = repo.repo_id if repo.repo_type == "model" else f"{repo.repo_type}s/{repo.repo_id}"
        for rev in repo.revisions:
            for f in rev.files:
                want.add((label, rev.commit_hash, f.file_path.relative_to(hub.root).as_posix()))
    got = {(r.labels["repo"], r.labels["revision"], r.path) for r in labelled(report)}
    assert got == want
    assert len(report) == len(want)  # one row per snapshot file, none twice


def test_expected_digests_are_the_oracles(hub: HubCache) -> None:
    report = checksig.verify_hf_cache(hub.root)
    for row in report:
        target = hub.root / row.path
        if row.algorithm == "sha256":
            assert row.expected == row.actual == sha256sum(target)
        else:
            assert row.algorithm == "git-sha1"
            assert row.expected == row.actual == git_blob_id(target)
    algs = {posixpath.basename(r.path): r.algorithm for r in report}
    assert algs["model.safetensors"] == algs["train.parquet"] == "sha256"
    assert algs["config.json"] == algs["app.py"] == "git-sha1"


def test_a_blob_shared_by_snapshots_and_repos_is_hashed_once(hub: HubCache) -> None:
    report = checksig.verify_hf_cache(hub.root)
    physical = set()
    for row in report:
        physical.add(os.path.realpath(hub.root / row.path))
    assert len(physical) < len(report)  # the fixture shares blobs
    assert report.bytes_hashed == sum(os.path.getsize(p) for p in physical)


def test_labels_in_every_view(hub: HubCache) -> None:
    report = checksig.verify_hf_cache(hub.root)
    frame = report.to_pandas()
    assert {"repo", "revision"} <= set(frame.columns)
    assert set(frame["repo"]) == {
        "org/gpt",
        "datasets/org/squad",
        "datasets/org/squad2",
        "spaces/org/demo",
    }
    doc = json.loads(report.to_json())
    entry = next(e for e in doc["entries"] if e["path"].endswith("model.safetensors"))
    assert entry["labels"]["repo"] == "org/gpt"
    assert doc["title"].startswith("Hugging Face cache ")
    blob_of(hub, GPT, C1, "config.json").write_bytes(b"{}")
    html = checksig.verify_hf_cache(hub.root)._repr_html_()  # failures are shown with labels
    assert "org/gpt" in html and C1 in html
    assert report.summary_by("repo")["org/gpt"]["ok"] == 7


# --- each failure kind, found and named ----------------------------------------------------------


def blob_of(hub: HubCache, repo: str, commit: str, name: str) -> Path:
    return Path(os.path.realpath(hub.root / snap(repo, commit, name)))


def test_a_changed_byte_in_a_lfs_blob_is_a_mismatch_in_every_snapshot(
    hub: HubCache, workers: int
) -> None:
    blob = blob_of(hub, GPT, C1, "model.safetensors")
    data = bytearray(blob.read_bytes())
    data[12345] ^= 1  # same size, as huggingface_hub#3643
    blob.write_bytes(bytes(data))
    report = checksig.verify_hf_cache(hub.root, workers=workers)
    assert not report.ok
    bad = {r.path: r for r in failing(report)}
    assert set(bad) == {snap(GPT, C1, "model.safetensors"), snap(GPT, C2, "model.safetensors")}
    for row in bad.values():
        assert row.status == "mismatch"
        assert row.actual == sha256sum(blob) != row.expected
        assert row.labels["repo"] == "org/gpt"
    assert "mismatch" in str(report) and "org/gpt" in str(report)


def test_a_changed_git_blob_is_a_mismatch(hub: HubCache) -> None:
    blob = blob_of(hub, GPT, C2, "README.md")
    blob.write_bytes(b"# GPT\n")
    row = rows(checksig.verify_hf_cache(hub.root))[snap(GPT, C2, "README.md")]
    assert row.status == "mismatch"
    assert row.actual == git_blob_id(blob)


def test_a_blob_overwritten_through_its_snapshot_link_is_found(hub: HubCache) -> None:
    # A program that opened the snapshot path for writing changed the blob in place.
    (hub.root / snap(GPT, C2, "config.json")).write_bytes(b"{}")
    report = checksig.verify_hf_cache(hub.root)
    assert {r.path for r in report.failures} == {
        snap(GPT, C1, "config.json"),
        snap(GPT, C2, "config.json"),
    }


def test_a_dangling_snapshot_link_is_missing(hub: HubCache) -> None:
    blob_of(hub, GPT, C1, "config.json").unlink()
    report = checksig.verify_hf_cache(hub.root)
    assert {r.path: r.status for r in report.failures} == {
        snap(GPT, C1, "config.json"): "missing",
        snap(GPT, C2, "config.json"): "missing",
    }
    assert checksig.verify_hf_cache(hub.root, ignore_missing=True).ok


def test_links_out_are_outside_root_and_never_read(hub: HubCache, tmp_path: Path) -> None:
    # Each target has exactly the content its name promises: a read would say ok.
    outside = tmp_path / "outside"
    outside.mkdir()
    etag = git_blob_id(hub.root / snap(GPT, C1, "config.json"))
    (outside / etag).write_bytes(CONFIG)
    snapshot = hub.root / GPT / "snapshots" / C1
    (snapshot / "passwd").symlink_to("/etc/passwd")
    (snapshot / "absolute").symlink_to(outside / etag)
    (snapshot / "climbs").symlink_to(f"../../../../outside/{etag}")
    # Into the cache, but another repo's blobs: also refused.
    other = hub.root / "spaces--org--demo" / "blobs"
    shutil.copy(outside / etag, other / etag)
    (snapshot / "other-repo").symlink_to(f"../../../spaces--org--demo/blobs/{etag}")
    (snapshot / "not-a-blob").symlink_to("../../refs/v1")
    report = checksig.verify_hf_cache(hub.root)
    got = {r.path: r.status for r in report.failures}
    assert got == {
        snap(GPT, C1, n): "outside_root"
        for n in ("passwd", "absolute", "climbs", "other-repo", "not-a-blob")
    }
    assert rows(report)[snap(GPT, C1, "absolute")].actual is None


def test_links_out_are_never_opened_strace(hub: HubCache) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    snapshot = hub.root / GPT / "snapshots" / C1
    (snapshot / "evil-link").symlink_to("/etc/passwd")
    trace = hub.root.parent / "trace.txt"
    code = f"import checksig; print(checksig.verify_hf_cache({str(hub.root)!r}, workers=2))"
    subprocess.run(
        [
            strace,
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2",
            "-o",
            str(trace),
            sys.executable,
            "-c",
            code,
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    text = trace.read_text()
    assert "config.json" in text  # the engine's opens are traced
    assert "evil-link" not in text and "/etc/passwd" not in text


def test_a_blob_that_is_a_fifo_is_not_regular(hub: HubCache) -> None:
    blob = blob_of(hub, GPT, C2, "README.md")
    blob.unlink()
    os.mkfifo(blob)
    proc = run_python(
        f"""
        import checksig
        r = checksig.verify_hf_cache({str(hub.root)!r})
        print([(x.path, x.status) for x in r.failures])
        """,
        timeout=60,
    )
    assert f"('{snap(GPT, C2, 'README.md')}', 'not_regular')" in proc.stdout


def test_incomplete_downloads_are_reported_as_such(hub: HubCache) -> None:
    blobs = hub.root / GPT / "blobs"
    (blobs / ("a" * 64 + ".0badc0de.incomplete")).write_bytes(b"half a download")
    (blobs / ("b" * 40 + ".incomplete")).write_bytes(b"")
    report = checksig.verify_hf_cache(hub.root)
    assert report.ok  # an interrupted download is no corruption
    assert report.counts()["not_checked"] == 2
    assert any("2 interrupted download(s)" in n for n in report.notes)


def test_unused_blobs_are_checked_and_listed(hub: HubCache) -> None:
    blobs = hub.root / GPT / "blobs"
    good = b"an older revision's file\n"
    (blobs / "tmp").write_bytes(good)
    unused = blobs / git_blob_id(blobs / "tmp")
    (blobs / "tmp").rename(unused)
    corrupt = blobs / ("c" * 64)
    corrupt.write_bytes(b"not what c*64 says")
    report = checksig.verify_hf_cache(hub.root)
    got = {r.path: (r.status, r.labels) for r in labelled(report) if r.labels["revision"] is None}
    assert got == {
        f"{GPT}/blobs/{unused.name}": ("ok", {"repo": "org/gpt", "revision": None}),
        f"{GPT}/blobs/{corrupt.name}": ("mismatch", {"repo": "org/gpt", "revision": None}),
    }
    assert any("2 blob(s) no snapshot uses" in n for n in report.notes)
    corrupt.unlink()
    assert checksig.verify_hf_cache(hub.root).ok
    extra = checksig.verify_hf_cache(hub.root, extra=True)
    assert [(r.path, r.status) for r in extra.failures] == [(f"{GPT}/blobs/{unused.name}", "extra")]


@pytest.mark.parametrize("name", ["c" * 63, "c" * 65, "g" * 64, "model.bin", "c" * 40 + "x"])
def test_a_blob_name_that_is_no_digest_is_a_problem(hub: HubCache, name: str) -> None:
    blob = hub.root / GPT / "blobs" / name
    blob.write_bytes(b"x")
    (hub.root / GPT / "snapshots" / C2 / "odd.bin").symlink_to(f"../../blobs/{name}")
    report = checksig.verify_hf_cache(hub.root)
    assert not report.ok
    assert report.problems == [
        f"{GPT}/blobs/{name}: not a content address (expected 64 or 40 hex digits)"
    ]
    assert rows(report)[snap(GPT, C2, "odd.bin")].status == "not_checked"
    with pytest.raises(checksig.ManifestError, match="not a content address"):
        checksig.verify_hf_cache(hub.root, strict=True)


def test_refs_name_their_snapshot(hub: HubCache) -> None:
    refs = hub.root / GPT / "refs"
    (refs / "stale").write_text("9" * 40)
    (refs / "junk").write_text("not a commit")
    (refs / "refs" / "pr").mkdir(parents=True)
    (refs / "refs" / "pr" / "1").write_text(C1 + "\n")
    report = checksig.verify_hf_cache(hub.root)
    assert sorted(report.problems) == [
        f"{GPT}/refs/junk: expected a commit hash (40 hex digits), found 'not a commit'",
        f"{GPT}/refs/stale: names commit {'9' * 40}, which has no snapshot",
    ]
    pr = checksig.verify_hf_cache(hub.root, repo_id="org/gpt", revision="refs/pr/1")
    assert {r.labels["revision"] for r in labelled(pr)} == {C1}


def test_the_shared_store(hub: HubCache) -> None:
    squad = blob_of(hub, "datasets--org--squad", C3, "train.parquet")
    assert "/blobs/" in str(squad) and squad.parent.parent.name == "blobs"  # in the store
    report = checksig.verify_hf_cache(hub.root)
    assert report.ok and not report.notes
    # Corrupt the one payload: both datasets' files fail, hashed once.
    squad.chmod(0o644)
    squad.write_bytes(b"PAR1" * 998 + b"PAR2")
    report = checksig.verify_hf_cache(hub.root)
    assert {r.labels["repo"]: r.status for r in failing(report)} == {
        "datasets/org/squad": "mismatch",
        "datasets/org/squad2": "mismatch",
    }
    # A store entry no repo uses: listed, never checked (named by its Xet hash).
    orphan = hub.root / "blobs" / "ab" / ("ab" + "0" * 62)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left behind")
    report = checksig.verify_hf_cache(hub.root)
    assert rows(report)[f"blobs/ab/{orphan.name}"].status == "not_checked"
    assert checksig.verify_hf_cache(hub.root, extra=True).counts()["extra"] == 1


def test_a_refs_file_missing_a_user_is_noted(hub: HubCache) -> None:
    store_entry = blob_of(hub, "datasets--org--squad", C3, "train.parquet")
    refs = store_entry.with_name(store_entry.name + ".refs")
    refs.write_text(refs.read_text().splitlines()[0] + "\n")  # drop squad2's line
    report = checksig.verify_hf_cache(hub.root)
    assert report.ok
    assert any("does not list datasets--org--squad2/blobs/" in n for n in report.notes)


def test_a_repo_blob_linking_anywhere_but_the_store_is_outside_root(
    hub: HubCache, tmp_path: Path
) -> None:
    readme = hub.root / snap(GPT, C2, "README.md")
    repo_blob = hub.root / GPT / "blobs" / os.readlink(readme).split("/")[-1]
    content = repo_blob.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(content)  # the right content: a read would say ok
    repo_blob.unlink()
    repo_blob.symlink_to(os.path.relpath(elsewhere, repo_blob.parent))
    report = checksig.verify_hf_cache(hub.root)
    assert {r.path: r.status for r in report.failures} == {
        snap(GPT, C2, "README.md"): "outside_root"
    }
    target = os.readlink(repo_blob)
    assert report.problems == [
        f"{GPT}/blobs/{repo_blob.name}: a link to {target!r}, not into the shared blob store"
    ]
    # allow_outside_root: the engine follows it (blobs moved to another disk).
    assert checksig.verify_hf_cache(hub.root, allow_outside_root=True).ok


def test_links_to_directories_are_not_followed(hub: HubCache, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "x").mkdir(parents=True)
    (elsewhere / "x" / "file").write_bytes(b"secret")
    (hub.root / GPT / "snapshots" / C1 / "tokenizer" / "linked").symlink_to(elsewhere / "x")
    (hub.root / "spaces--org--demo" / "snapshots").rename(tmp_path / "moved")
    (hub.root / "spaces--org--demo" / "snapshots").symlink_to(tmp_path / "moved")
    report = checksig.verify_hf_cache(hub.root)
    assert (
        "spaces--org--demo: snapshots is not a directory (or a link to one, not followed)"
        in report.problems
    )
    assert not any("secret" in r.path or r.path.endswith("/file") for r in report)
    assert rows(report)[snap(GPT, C1, "tokenizer/linked")].status == "outside_root"


def test_copies_instead_of_links_are_not_checked(hub: HubCache) -> None:
    pointer = hub.root / snap(GPT, C2, "README.md")
    data = pointer.read_bytes()
    pointer.unlink()
    pointer.write_bytes(data)  # huggingface_hub's mode without symlinks
    report = checksig.verify_hf_cache(hub.root)
    assert report.ok
    assert rows(report)[snap(GPT, C2, "README.md")].status == "not_checked"
    assert any("copies, not links" in n for n in report.notes)


def test_a_hostile_cache_never_hangs(hub: HubCache) -> None:
    # FIFOs and links where metadata is read: each is a problem, nothing blocks.
    refs = hub.root / GPT / "refs"
    os.mkfifo(refs / "fifo")
    (refs / "zero").symlink_to("/dev/zero")
    os.mkfifo(hub.root / "blobs" / ".huggingface-shared-blobs.fifo")
    os.mkfifo(hub.root / GPT / "snapshots" / C2 / "fifo")
    proc = run_python(
        f"""
        import checksig
        r = checksig.verify_hf_cache({str(hub.root)!r})
        print(sorted(r.problems)); print(r.counts())
        """,
        timeout=60,
    )
    assert f"{GPT}/refs/fifo: not a regular file" in proc.stdout
    assert f"{GPT}/refs/zero: a symbolic link (not followed)" in proc.stdout
    assert "'not_regular': 1" in proc.stdout


# --- selecting ----------------------------------------------------------------------------------


def test_one_repo_and_one_revision(hub: HubCache) -> None:
    one = checksig.verify_hf_cache(hub.root, repo_id="org/gpt")
    assert {r.labels["repo"] for r in labelled(one)} == {"org/gpt"}
    main = checksig.verify_hf_cache(hub.root, repo_id="org/gpt", revision="main")
    assert {r.labels["revision"] for r in labelled(main)} == {C2}
    by_commit = checksig.verify_hf_cache(hub.root, repo_id="org/gpt", revision=C1)
    assert {r.labels["revision"] for r in labelled(by_commit)} == {C1}
    datasets = checksig.verify_hf_cache(hub.root, repo_type="dataset")
    assert {r.labels["repo"] for r in labelled(datasets)} == {
        "datasets/org/squad",
        "datasets/org/squad2",
    }
    with pytest.raises(ValueError, match=r"org/nope is not in the cache .*cached: .*org/gpt"):
        checksig.verify_hf_cache(hub.root, repo_id="org/nope")
    with pytest.raises(ValueError, match="revision 'v9' is not cached"):
        checksig.verify_hf_cache(hub.root, repo_id="org/gpt", revision="v9")
    with pytest.raises(ValueError, match="repo_type must be one of"):
        checksig.verify_hf_cache(hub.root, repo_type="models")


def test_not_a_cache(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        checksig.verify_hf_cache(tmp_path / "nowhere")
    with pytest.raises(checksig.ManifestError, match="no Hugging Face cache here"):
        checksig.verify_hf_cache(tmp_path)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HF_HOME": "/data/hf"},
        {"HF_HUB_CACHE": "/x/hub"},
        {"HUGGINGFACE_HUB_CACHE": "/legacy/hub", "HF_HOME": "/data/hf"},
        {"XDG_CACHE_HOME": "/xdg"},
        {"HF_HOME": "~/hf", "HF_HUB_CACHE": "$HOME/y"},
    ],
)
def test_the_default_cache_is_huggingface_hubs(env: dict[str, str]) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME")
    }
    code = """
        import json, huggingface_hub.constants as c
        from checksig import _hfcache
        print(json.dumps([c.HF_HUB_CACHE, _hfcache.default_cache_dir()]))
    """
    proc = run_python(code, env={**clean, **env})
    theirs, ours = json.loads(proc.stdout.splitlines()[-1])
    assert ours == theirs


# --- the local_dir form --------------------------------------------------------------------------


def test_a_local_dir(tmp_path: Path, workers: int) -> None:
    root = tmp_path / "Llama"
    files = {"config.json": CONFIG, "model.safetensors": WEIGHTS, "sub/a.txt": b"a\n"}
    local_dir(root, C1, files, lfs=("model.safetensors",))
    report = checksig.verify_hf_cache(local_dir=root, workers=workers)
    assert report.ok, str(report)
    assert {r.path: r.algorithm for r in report} == {
        "config.json": "git-sha1",
        "model.safetensors": "sha256",
        "sub/a.txt": "git-sha1",
    }
    assert {r.labels["revision"] for r in labelled(report)} == {C1}
    assert checksig.verify_store(root).ok  # recognised by its .cache/huggingface/download
    (root / "sub" / "a.txt").write_bytes(b"b\n")
    (root / "config.json").unlink()
    (root / "notes.txt").write_bytes(b"mine")
    meta = root / ".cache" / "huggingface" / "download"
    (meta / "broken.bin.metadata").write_text("not\nmetadata\n")
    report = checksig.verify_hf_cache(local_dir=root)
    assert {r.path: r.status for r in report.failures} == {
        "config.json": "missing",
        "sub/a.txt": "mismatch",
    }
    assert report.problems == [
        ".cache/huggingface/download/broken.bin.metadata: expected three lines: a commit hash "
        "(40 hex digits), an etag (64 or 40 hex digits) and a time stamp"
    ]
    extra = checksig.verify_hf_cache(local_dir=root, extra=True)
    assert {r.path for r in extra if r.status == "extra"} == {
        "notes.txt"
    }  # not .cache/huggingface/*
    with pytest.raises(ValueError, match="not both"):
        checksig.verify_hf_cache(root, local_dir=root)


# --- forms, progress, cancel, command line -------------------------------------------------------


def test_start_and_async_forms_and_progress(hub: HubCache) -> None:
    import asyncio

    seen = []
    report = checksig.verify_hf_cache(hub.root, progress=seen.append)
    assert report.ok and seen and seen[-1].files_done == seen[-1].files_total
    job = checksig.start_verify_hf_cache(hub.root)
    assert job.result(timeout=60).ok
    assert asyncio.run(checksig.averify_hf_cache(hub.root, repo_id="org/gpt")).ok
    assert checksig.verify_store(hub.root).ok
    assert checksig.verify_store(hub.folder("org/gpt")).ok
    one = checksig.verify_store(hub.folder("org/gpt"))
    assert {r.labels["repo"] for r in labelled(one)} == {"org/gpt"}


def test_cancel(tmp_path: Path) -> None:
    cache = HubCache(tmp_path / "hub")
    cache.add("org/big", C1, {"w.bin": b"0"}, lfs=("w.bin",))
    blob = Path(os.path.realpath(cache.root / snap("models--org--big", C1, "w.bin")))
    os.truncate(blob, 2 << 30)  # sparse: 2 GiB to hash, no disk written
    job = checksig.start_verify_hf_cache(cache.root, workers=1)
    job.cancel()
    with pytest.raises(checksig.Cancelled):
        job.result(timeout=60)


def test_cli(hub: HubCache) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "checksig", *args], capture_output=True, text=True, timeout=120
        )

    ok = cli("hf", "--cache-dir", str(hub.root))
    assert ok.returncode == 0, ok.stderr
    assert "all entries ok" in ok.stdout
    assert cli("hf", "--cache-dir", str(hub.root), "--quiet").stdout == ""
    blob_of(hub, GPT, C1, "config.json").write_bytes(b"{}")
    bad = cli("hf", "org/gpt", "--revision", "v1", "--cache-dir", str(hub.root), "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["summary"]["passed"] is False
    [failed] = [e for e in doc["entries"] if e["status"] != "ok"]
    assert failed["labels"] == {"repo": "org/gpt", "revision": C1}
    missing = cli("hf", "org/nope", "--cache-dir", str(hub.root))
    assert missing.returncode == 1 and "org/nope is not in the cache" in missing.stderr
    store = cli("store", str(hub.folder("org/gpt")))
    assert store.returncode == 1 and "config.json: mismatch" in store.stdout
    assert cli("hf", "--repo-type", "modelz").returncode == 2


# --- the link rule -------------------------------------------------------------------------------

_COMPONENT = st.sampled_from(["a", "b", "..", ".", "", "blobs", "x y"])


@given(
    link=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4).map("/".join),
    target=st.lists(_COMPONENT, min_size=1, max_size=6).map("/".join),
    absolute=st.booleans(),
)
def test_resolve_link_is_posix_normpath_and_never_climbs_out(
    link: str, target: str, absolute: bool
) -> None:
    # A link's text read lexically (FORMATS.md L5): what posixpath.normpath says,
    # and None for an absolute target or one that climbs above the root.
    if absolute:
        target = "/" + target
    got = _store.resolve_link(link, target)
    if target.startswith("/") or not target:
        assert got is None
        return
    joined = posixpath.normpath(posixpath.join("/root", posixpath.dirname(link), target))
    if joined == "/root":
        assert got == ""
    elif joined.startswith("/root/"):
        assert got == joined[len("/root/") :]
    else:
        assert got is None


@given(
    depth=st.integers(min_value=0, max_value=3),
    target=st.lists(st.sampled_from(["..", ".", "", "blobs", "e1", "snapshots"]), max_size=7).map(
        "/".join
    ),
)
@example(depth=0, target="../../blobs/./blobs")  # found by hypothesis: the fast read said ""
def test_the_fast_read_of_a_snapshot_link_is_the_general_rule(depth: int, target: str) -> None:
    from checksig import _hfcache

    folder = "models--o--n"
    rel = f"{folder}/snapshots/{C1}/" + "d/" * depth + "f"
    blobs = f"{folder}/blobs/"
    resolved = _store.resolve_link(rel, target) or ""
    name = resolved[len(blobs) :] if resolved.startswith(blobs) else ""
    want = "" if "/" in name else name
    assert _hfcache.link_etag(rel, blobs, target) == want
    fast = "../" * (depth + 2) + "blobs/e1"
    assert _hfcache.link_etag(rel, blobs, fast) == "e1"


def test_status_codes_used_here_exist() -> None:
    # The rows decided before the run take the engine's own statuses.
    assert _native.STATUSES[_native.ST_OUTSIDE_ROOT] == "outside_root"
    assert _native.STATUSES[_native.ST_EXTRA] == "extra"


def test_metadata_is_read_without_following_any_link(tmp_path: Path) -> None:
    # _store.read_beneath: what the kinds read in Python (refs, manifests, index.json).
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "sub" / "f").write_bytes(b"hi\n")
    (tmp_path / "link").symlink_to("real")
    (tmp_path / "real" / "sub" / "out").symlink_to("/etc/passwd")
    (tmp_path / "real" / "sub" / "in").symlink_to("f")
    os.mkfifo(tmp_path / "real" / "sub" / "fifo")
    cases = {
        "real/sub/f": b"hi\n",
        "link/sub/f": "a directory on its way is a link or a file (not followed)",
        "real/sub/out": "a symbolic link (not followed)",
        "real/sub/in": "a symbolic link (not followed)",
        "real/sub/fifo": "not a regular file",
        "real/sub/none": "no such file",
        "real/sub/f/x": "a directory on its way is a link or a file (not followed)",
        "../real/sub/f": "not a plain relative path",
        "real//sub/f": "not a plain relative path",
    }
    for rel, want in cases.items():
        try:
            got: object = _store.read_beneath(str(tmp_path), rel, 100)
        except _store.ReadError as exc:
            got = str(exc)
        assert got == want, rel
    with pytest.raises(_store.ReadError, match="larger than 2 bytes"):
        _store.read_beneath(str(tmp_path), "real/sub/f", 2)
    assert _store.read_beneath(str(tmp_path), "link/sub/f", 100, follow=True) == b"hi\n"
