"""OCI image layouts and Ollama's models (issue 23; FORMATS.md parts M, N, O).

OCI layouts are written by umoci and skopeo (Debian's packages, offline:
``umoci init/new/insert``, ``skopeo copy oci:... oci:...``) where they are
installed, and by hand to the image-spec (tests/stores.py) for what they do
not write (sha512, hostile descriptors). Ollama's models are laid out as
ollama's manifest/ and server/ code writes them. Every blob's expected
digest is its name; the oracle for what a layout reaches is its JSON, read
here with json and hashed with sha256sum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_python
from stores import oci_blob, oci_layout, ollama_blob, ollama_model, sha256sum

import checksig

needs_umoci = pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")
needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")


def entries(report: checksig.Report) -> list[dict]:
    """The report's rows with their labels (checksig.report/1 entries)."""
    return report.to_dict()["entries"]


def by_path(report: checksig.Report) -> dict[str, dict]:
    return {e["path"]: e for e in entries(report)}


def failures(report: checksig.Report) -> dict[str, str]:
    return {r.path: r.status for r in report.failures}


def reachable(layout: Path) -> set[tuple[str | None, str]]:
    """(tag, blob path) of every descriptor index.json reaches, by reading the JSON here."""
    out = set()

    def visit(desc: dict, tag: str | None) -> None:
        alg, hexdigest = desc["digest"].split(":")
        path = f"blobs/{alg}/{hexdigest}"
        out.add((tag, path))
        media = desc.get("mediaType", "")
        if media.endswith("index.v1+json") or media.endswith("list.v2+json"):
            for child in json.loads((layout / path).read_bytes())["manifests"]:
                visit(child, tag)
        elif media.endswith("manifest.v1+json") or media.endswith("manifest.v2+json"):
            doc = json.loads((layout / path).read_bytes())
            for child in [doc["config"], *doc["layers"]]:
                visit(child, tag)

    for desc in json.loads((layout / "index.json").read_text())["manifests"]:
        visit(desc, desc.get("annotations", {}).get("org.opencontainers.image.ref.name"))
    return out


def umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def umoci_layout(tmp_path: Path) -> Path:
    """An image umoci made from a local root filesystem: two layers, two tags."""
    layout = tmp_path / "image"
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "hello").write_text("hello\n")
    (rootfs / "model.bin").write_bytes(os.urandom(300_000))
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:v1")
    umoci("insert", "--rootless", "--image", f"{layout}:v1", str(rootfs / "etc"), "/etc")
    umoci(
        "insert", "--rootless", "--image", f"{layout}:v1", str(rootfs / "model.bin"), "/model.bin"
    )
    umoci("tag", "--image", f"{layout}:v1", "latest")
    return layout


# --- OCI ----------------------------------------------------------------------------------------


@needs_umoci
def test_an_image_umoci_wrote(umoci_layout: Path, workers: int) -> None:
    report = checksig.verify_store(umoci_layout, workers=workers)
    assert report.ok, str(report)
    got = {(e["labels"]["tag"], e["path"]) for e in entries(report) if e["labels"]["tag"]}
    assert got == reachable(umoci_layout)
    assert {tag for tag, _ in got} == {"v1", "latest"}
    for e in entries(report):
        assert e["expected"] == e["actual"] == sha256sum(umoci_layout / e["path"])
        assert e["path"] == f"blobs/sha256/{e['expected']}"
    # umoci insert leaves the replaced manifests and configs behind: checked, noted.
    unused = [e for e in entries(report) if e["labels"]["tag"] is None]
    assert unused and all(e["status"] == "ok" for e in unused)
    assert any("nothing in index.json reaches" in n for n in report.notes)
    # The blobs both tags reach are read once.
    assert report.bytes_hashed == sum(
        (umoci_layout / p).stat().st_size for p in {e["path"] for e in entries(report)}
    )
    umoci("gc", "--layout", str(umoci_layout))
    clean = checksig.verify_store(umoci_layout)
    assert clean.ok and not clean.notes


@needs_umoci
@needs_skopeo
def test_an_image_skopeo_copied(umoci_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    subprocess.run(
        ["skopeo", "copy", f"oci:{umoci_layout}:v1", f"oci:{out}:copied"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    report = checksig.verify_store(out)
    assert report.ok, str(report)
    assert {(e["labels"]["tag"], e["path"]) for e in entries(report)} == reachable(out)


@needs_skopeo
def test_an_image_index_skopeo_copied(tmp_path: Path) -> None:
    # An index of two platform manifests (hand-written), copied whole by skopeo --all.
    src = tmp_path / "src"
    index = oci_layout(src, {"amd64": {"a": b"layer-a" * 100}, "arm64": {"b": b"layer-b" * 100}})
    nested = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}
    nested["manifests"] = [
        {k: v for k, v in d.items() if k != "annotations"} for d in index["manifests"]
    ]
    raw = json.dumps(nested).encode()
    top = {
        "mediaType": nested["mediaType"],
        "digest": oci_blob(src, raw),
        "size": len(raw),
        "annotations": {"org.opencontainers.image.ref.name": "multi"},
    }
    (src / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    assert checksig.verify_store(src).ok
    out = tmp_path / "out"
    subprocess.run(
        ["skopeo", "copy", "--all", f"oci:{src}:multi", f"oci:{out}:multi"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    report = checksig.verify_store(out)
    assert report.ok, str(report)
    assert {(e["labels"]["tag"], e["path"]) for e in entries(report)} == reachable(out)
    media = {e["labels"]["media_type"] for e in entries(report)}
    assert "application/vnd.oci.image.index.v1+json" in media


def test_a_sha512_layout(tmp_path: Path, workers: int) -> None:
    layout = tmp_path / "image"
    oci_layout(layout, {"v1": {"a": b"1" * 5000, "b": b"2"}, "v2": {"a": b"1" * 5000}}, "sha512")
    report = checksig.verify_store(layout, workers=workers)
    assert report.ok, str(report)
    assert {e["algorithm"] for e in entries(report)} == {"sha512"}
    for e in entries(report):
        assert e["actual"] == hashlib.sha512((layout / e["path"]).read_bytes()).hexdigest()
    assert {(e["labels"]["tag"], e["path"]) for e in entries(report)} == reachable(layout)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    oci_layout(root, {"v1": {"a": b"a" * 4096, "b": b"b" * 100}, "v2": {"a": b"a" * 4096}})
    return root


def layer(layout: Path, tag: str, i: int) -> Path:
    index = json.loads((layout / "index.json").read_text())
    desc = next(
        d
        for d in index["manifests"]
        if d["annotations"]["org.opencontainers.image.ref.name"] == tag
    )
    manifest = json.loads((layout / "blobs" / "sha256" / desc["digest"][7:]).read_bytes())
    return layout / "blobs" / "sha256" / manifest["layers"][i]["digest"][7:]


def test_each_oci_failure_is_found_and_named(layout: Path) -> None:
    shared = layer(layout, "v1", 0)
    data = bytearray(shared.read_bytes())
    data[7] ^= 0x20
    shared.write_bytes(bytes(data))
    layer(layout, "v1", 1).unlink()
    report = checksig.verify_store(layout)
    rows = entries(report)
    assert {(e["labels"]["tag"], e["status"]) for e in rows if e["status"] != "ok"} == {
        ("v1", "mismatch"),
        ("v2", "mismatch"),
        ("v1", "missing"),
    }
    bad = next(e for e in rows if e["status"] == "mismatch")
    assert bad["actual"] == sha256sum(shared)


def test_a_corrupt_manifest_is_not_followed(layout: Path) -> None:
    index = json.loads((layout / "index.json").read_text())
    manifest = layout / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]
    doc = json.loads(manifest.read_bytes())
    doc["layers"].append({"mediaType": "x", "digest": "sha256:" + "0" * 64, "size": 1})
    manifest.write_bytes(json.dumps(doc).encode())  # now it lies, and is no longer its name
    report = checksig.verify_store(layout)
    assert failures(report) == {f"blobs/sha256/{manifest.name}": "mismatch"}
    assert f"blobs/sha256/{'0' * 64}" not in by_path(report)  # nothing in it was trusted


BAD_DESCRIPTORS = {
    "climbs": (
        {"digest": "sha256:../../../etc/passwd", "size": 1},
        "digest: expected <algorithm>:<encoded>",
    ),
    "short": (
        {"digest": "sha256:" + "a" * 63, "size": 1},
        "a sha256 digest is 64 lower-case hex digits",
    ),
    "upper": (
        {"digest": "sha256:" + "A" * 64, "size": 1},
        "a sha256 digest is 64 lower-case hex digits",
    ),
    "not hex": (
        {"digest": "sha256:" + "g" * 64, "size": 1},
        "a sha256 digest is 64 lower-case hex digits",
    ),
    "huge": ({"digest": "sha256:" + "a" * 64, "size": 2**70}, "size: expected a number of bytes"),
    "negative": ({"digest": "sha256:" + "a" * 64, "size": -1}, "size: expected a number of bytes"),
    "float": ({"digest": "sha256:" + "a" * 64, "size": 1.5}, "size: expected a number of bytes"),
    "bool": ({"digest": "sha256:" + "a" * 64, "size": True}, "size: expected a number of bytes"),
    "text": ({"digest": "sha256:" + "a" * 64, "size": "1"}, "size: expected a number of bytes"),
    "no digest": ({"size": 1}, "digest: expected <algorithm>:<encoded>"),
    "not an object": ("sha256:" + "a" * 64, "expected a descriptor"),
}


@pytest.mark.parametrize("case", sorted(BAD_DESCRIPTORS))
def test_hostile_descriptors_are_problems(layout: Path, case: str) -> None:
    desc, message = BAD_DESCRIPTORS[case]
    index = json.loads((layout / "index.json").read_text())
    if isinstance(desc, dict):
        desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", **desc}
    index["manifests"].append(desc)
    (layout / "index.json").write_text(json.dumps(index))
    report = checksig.verify_store(layout)
    assert not report.ok
    assert len(report.problems) == 1 and message in report.problems[0], report.problems
    assert report.problems[0].startswith("index.json: manifests[2]")
    assert all(e["status"] == "ok" for e in entries(report))  # no row made of it
    with pytest.raises(checksig.ManifestError):
        checksig.verify_store(layout, strict=True)


def test_sizes_and_nesting(layout: Path) -> None:
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["size"] += 1
    (layout / "index.json").write_text(json.dumps(index))
    report = checksig.verify_store(layout)
    [problem] = report.problems
    assert problem.startswith("index.json: manifests[0] sha256:")
    assert "the descriptor says" in problem and "(its content matches its digest)" in problem
    # Indexes nested deeper than 16: not followed, said.
    desc = index["manifests"][1]
    for _ in range(20):
        raw = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
        desc = {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": oci_blob(layout, raw),
            "size": len(raw),
        }
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    deep = checksig.verify_store(layout)
    assert any("nested deeper than 16" in p for p in deep.problems)


def test_unused_blobs_names_and_foreign_layers(layout: Path) -> None:
    oci_blob(layout, b"left over")
    bad = layout / "blobs" / "sha256" / ("z" * 64)
    bad.write_bytes(b"x")
    report = checksig.verify_store(layout)
    assert report.problems == [
        f"blobs/sha256/{bad.name}: not a content address (a sha256 digest is 64 hex digits)"
    ]
    bad.unlink()
    assert checksig.verify_store(layout).ok
    assert list(failures(checksig.verify_store(layout, extra=True)).values()) == ["extra"]
    index = json.loads((layout / "index.json").read_text())
    manifest = layout / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]
    doc = json.loads(manifest.read_bytes())
    doc["layers"].append(
        {
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": "sha256:" + "f" * 64,
            "size": 10,
            "urls": ["https://example.com/layer"],
        }
    )
    raw = json.dumps(doc).encode()
    index["manifests"][0].update(digest=oci_blob(layout, raw), size=len(raw))
    (layout / "index.json").write_text(json.dumps(index))
    report = checksig.verify_store(layout)
    assert report.ok
    assert by_path(report)[f"blobs/sha256/{'f' * 64}"]["status"] == "not_checked"
    assert any("1 foreign layer(s)" in n for n in report.notes)


def test_hostile_layout_files_never_hang(layout: Path, tmp_path: Path) -> None:
    # Metadata that is a FIFO or a link is never read; a blob that is one never opened.
    (layout / "index.json").rename(tmp_path / "index.json")
    (layout / "index.json").symlink_to(tmp_path / "index.json")
    fifo_layout = tmp_path / "fifo"
    oci_layout(fifo_layout, {"v1": {"a": b"a"}})
    os.unlink(fifo_layout / "index.json")
    os.mkfifo(fifo_layout / "index.json")
    blob_layout = tmp_path / "blob-fifo"
    oci_layout(blob_layout, {"v1": {"a": b"a", "b": b"b"}})
    target = layer(blob_layout, "v1", 1)
    target.unlink()
    os.mkfifo(target)
    proc = run_python(
        f"""
        import checksig
        for path in {[str(layout), str(fifo_layout), str(blob_layout)]!r}:
            r = checksig.verify_store(path)
            print(r.problems, sorted(r.counts().items()))
        """,
        timeout=60,
    )
    lines = proc.stdout.splitlines()
    assert "index.json: a symbolic link (not followed)" in lines[0]
    assert "index.json: not a regular file" in lines[1]
    assert "('not_regular', 1)" in lines[2]


def test_a_blob_linking_out_is_outside_root(layout: Path, tmp_path: Path) -> None:
    blob = layer(layout, "v1", 1)
    moved = tmp_path / "moved"
    blob.rename(moved)  # the right content, elsewhere
    blob.symlink_to(moved)
    report = checksig.verify_store(layout)
    assert failures(report) == {f"blobs/sha256/{blob.name}": "outside_root"}
    assert checksig.verify_store(layout, allow_outside_root=True).ok


def test_a_layout_without_index_still_checks_its_blobs(layout: Path) -> None:
    (layout / "index.json").unlink()
    (layout / "oci-layout").write_text("[]")
    report = checksig.verify_store(layout)
    assert sorted(report.problems) == [
        "index.json: no such file",
        "oci-layout: expected an object with imageLayoutVersion",
    ]
    assert len(report) == len(list((layout / "blobs" / "sha256").iterdir()))
    assert all(e["status"] == "ok" for e in entries(report))


# --- Ollama -------------------------------------------------------------------------------------

LICENSE = b"MIT License\n" * 50


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    weights = os.urandom(1 << 20)
    ollama_model(
        root,
        "llama3",
        "latest",
        {
            "application/vnd.ollama.image.model": weights,
            "application/vnd.ollama.image.license": LICENSE,
        },
    )
    ollama_model(
        root,
        "llama3",
        "8b",
        {
            "application/vnd.ollama.image.model": weights,
            "application/vnd.ollama.image.license": LICENSE,
        },
    )
    ollama_model(
        root,
        "tiny",
        "v1",
        {
            "application/vnd.ollama.image.model": b"gguf",
            "application/vnd.ollama.image.license": LICENSE,
        },
        namespace="me",
    )
    ollama_model(
        root,
        "other",
        "latest",
        {"application/vnd.ollama.image.model": b"x"},
        host="hf.co",
        namespace="org",
    )
    return root


def test_ollama_models(models: Path, workers: int) -> None:
    report = checksig.verify_ollama(models, workers=workers)
    assert report.ok, str(report)
    labels = {(e["labels"]["model"], e["labels"]["tag"]) for e in entries(report)}
    assert labels == {
        ("llama3", "latest"),
        ("llama3", "8b"),
        ("me/tiny", "v1"),
        ("hf.co/org/other", "latest"),
    }
    for e in entries(report):
        assert e["path"] == f"blobs/sha256-{e['expected']}"
        assert e["actual"] == sha256sum(models / e["path"])
    blobs = list((models / "blobs").iterdir())
    assert report.bytes_hashed == sum(b.stat().st_size for b in blobs)  # each blob once
    assert checksig.verify_store(models).ok
    assert {
        e["labels"]["tag"] for e in entries(checksig.verify_ollama(models, model="llama3"))
    } == {"latest", "8b"}
    assert {
        e["labels"]["tag"] for e in entries(checksig.verify_ollama(models, model="llama3:8b"))
    } == {"8b"}
    assert len(checksig.verify_ollama(models, model="registry.ollama.ai/me/tiny:v1")) == 3
    with pytest.raises(ValueError, match="model 'mistral' is not in"):
        checksig.verify_ollama(models, model="mistral")


def test_ollama_failures(models: Path) -> None:
    license_blob = models / "blobs" / f"sha256-{hashlib.sha256(LICENSE).hexdigest()}"
    license_blob.write_bytes(LICENSE[:-1] + b"?")
    manifest = models / "manifests" / "registry.ollama.ai" / "me" / "tiny" / "v1"
    doc = json.loads(manifest.read_text())
    (models / "blobs" / f"sha256-{doc['layers'][0]['digest'][7:]}").unlink()
    doc["config"]["size"] += 5
    manifest.write_text(json.dumps(doc))
    report = checksig.verify_ollama(models)
    assert {
        (e["labels"]["model"], e["labels"]["tag"], e["status"])
        for e in entries(report)
        if e["status"] != "ok"
    } == {
        ("llama3", "latest", "mismatch"),
        ("llama3", "8b", "mismatch"),
        ("me/tiny", "v1", "mismatch"),
        ("me/tiny", "v1", "missing"),
    }
    [problem] = report.problems
    assert problem.startswith("manifests/registry.ollama.ai/me/tiny/v1: config sha256:")
    assert "the descriptor says" in problem


@pytest.mark.parametrize(
    "digest",
    ["sha256:../../../etc/passwd", "sha256:" + "a" * 63, "sha512:" + "a" * 64, "../x", 42],
)
def test_ollama_hostile_manifests(models: Path, digest: object) -> None:
    manifest = models / "manifests" / "registry.ollama.ai" / "library" / "llama3" / "8b"
    doc = json.loads(manifest.read_text())
    doc["layers"].append({"mediaType": "x", "digest": digest, "size": 1})
    manifest.write_text(json.dumps(doc))
    report = checksig.verify_ollama(models)
    [problem] = report.problems
    assert problem.startswith("manifests/registry.ollama.ai/library/llama3/8b: layers[2]: digest:")
    assert all(e["status"] == "ok" for e in entries(report))


def test_ollama_store_files(models: Path, tmp_path: Path) -> None:
    blobs = models / "blobs"
    unused = ollama_blob(models, b"an old model")
    (blobs / f"sha256-{'e' * 64}-partial").write_bytes(b"half")
    (blobs / f"sha256-{'e' * 64}-partial-0").write_text("{}")
    report = checksig.verify_ollama(models)
    assert report.ok, str(report)
    assert by_path(report)[f"blobs/sha256-{unused[7:]}"]["labels"] == {"model": None, "tag": None}
    assert report.counts()["not_checked"] == 2
    assert any("2 partial download file(s)" in n for n in report.notes)
    assert any("1 blob(s) no manifest lists" in n for n in report.notes)
    assert failures(checksig.verify_ollama(models, extra=True)) == {
        f"blobs/sha256-{unused[7:]}": "extra"
    }
    (blobs / "sha256-xyz").write_bytes(b"")
    (blobs / ("sha256-" + "a" * 60)).write_bytes(b"")
    problems = checksig.verify_ollama(models).problems
    assert problems == [
        f"blobs/sha256-{'a' * 60}: not a content address (expected sha256- and 64 hex digits)",
        "blobs/sha256-xyz: not a content address (expected sha256- and 64 hex digits)",
    ]


def test_ollama_manifests_v2_and_lists(models: Path) -> None:
    # manifests-v2: a link to the manifest's blob; a manifest list referring to it.
    legacy = models / "manifests" / "registry.ollama.ai" / "me" / "tiny" / "v1"
    digest = ollama_blob(models, legacy.read_bytes())
    v2 = models / "manifests-v2" / "ollama.com" / "me" / "tiny" / "v1"
    v2.parent.mkdir(parents=True)
    v2.symlink_to(os.path.relpath(models / "blobs" / f"sha256-{digest[7:]}", v2.parent))
    listed = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.ollama.manifest.list.v2+json",
        "manifests": [
            {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": digest,
                "runner": "ollama",
            }
        ],
    }
    lst = models / "manifests" / "registry.ollama.ai" / "me" / "tiny" / "multi"
    lst.write_text(json.dumps(listed))
    report = checksig.verify_ollama(models, model="me/tiny")
    assert report.ok, str(report)
    tags = {}
    for e in entries(report):
        tags.setdefault(e["labels"]["tag"], set()).add(e["path"])
    assert tags["multi"] == tags["v1"]  # the list's child is v1's manifest and its blobs
    assert f"blobs/sha256-{digest[7:]}" in tags["v1"]
    # A v2 link that leads anywhere but a blob: a problem, never read.
    v2.unlink()
    v2.symlink_to("/etc/passwd")
    report = checksig.verify_ollama(models, model="me/tiny")
    assert report.problems == [
        "manifests-v2/ollama.com/me/tiny/v1: a link to '/etc/passwd', not to a blob (not followed)"
    ]


def test_ollama_blob_fifo_and_bad_manifest(models: Path) -> None:
    manifest = models / "manifests" / "registry.ollama.ai" / "library" / "llama3" / "latest"
    doc = json.loads(manifest.read_text())
    blob = models / "blobs" / f"sha256-{doc['layers'][0]['digest'][7:]}"
    blob.unlink()
    os.mkfifo(blob)
    bad = models / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    bad.parent.mkdir()
    bad.write_text("{not json")
    proc = run_python(
        f"""
        import checksig
        r = checksig.verify_ollama({str(models)!r})
        print(r.problems); print(sorted(r.counts().items()))
        """,
        timeout=60,
    )
    assert "manifests/registry.ollama.ai/library/broken/latest: not JSON" in proc.stdout
    assert "('not_regular', 2)" in proc.stdout  # llama3:latest and llama3:8b share it


def test_ollama_default_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from checksig import _ollama

    monkeypatch.setenv("OLLAMA_MODELS", f' "{tmp_path}" ')
    assert _ollama.default_models_dir() == str(tmp_path)
    monkeypatch.delenv("OLLAMA_MODELS")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _ollama.default_models_dir() == str(tmp_path / ".ollama" / "models")


# --- recognising the kind ------------------------------------------------------------------------


def test_verify_store_recognises_each_kind(tmp_path: Path, models: Path, layout: Path) -> None:
    assert checksig.verify_store(layout).manifest is None
    assert str(checksig.verify_store(layout)).startswith("OCI image layout ")
    assert str(checksig.verify_store(models)).startswith("Ollama models ")
    with pytest.raises(ValueError, match="not a store checksig knows"):
        checksig.verify_store(tmp_path)
    with pytest.raises(NotADirectoryError):
        checksig.verify_store(layout / "index.json")
    with pytest.raises(FileNotFoundError):
        checksig.verify_store(tmp_path / "nowhere")


def test_cli(models: Path, layout: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "checksig", *args], capture_output=True, text=True, timeout=120
        )

    assert cli("ollama", "--models", str(models)).returncode == 0
    assert cli("store", str(layout), "--quiet").stdout == ""
    layer(layout, "v2", 0).write_bytes(b"b" * 4096)
    bad = cli("store", str(layout), "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert {e["labels"]["tag"] for e in doc["entries"] if e["status"] == "mismatch"} == {"v1", "v2"}
    gone = cli("ollama", "mistral", "--models", str(models))
    assert gone.returncode == 1 and "model 'mistral' is not in" in gone.stderr
