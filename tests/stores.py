"""Stores built in the tests by their documented layouts (issue 23).

A Hugging Face hub cache as huggingface_hub 2.x lays it out
(``file_download.py``: blobs named by etag, snapshot links made relative
with ``os.path.relpath``, refs written without a newline;
``utils/_shared_blobs.py``: the shared store, its marker and ``.refs``;
``_local_folder.py``: a local dir's ``.metadata`` files), Ollama's models
(``blobs/sha256-<hex>``, ``manifests/<host>/<namespace>/<model>/<tag>``, the
manifest JSON of ``manifest/manifest.go``), and OCI image layouts by hand
(image-spec ``image-layout.md``) where umoci cannot write what a test needs.

Digests come from the oracles: ``git hash-object`` for git's blob ids and
``sha256sum`` for sha256 (hashlib where a test makes thousands), never
from checksig.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

#: A repo folder's name prefix by repo type.
PREFIX = {"model": "models", "dataset": "datasets", "space": "spaces", "kernel": "kernels"}


def git_blob_id(path: Path) -> str:
    """``git hash-object`` of a file: git's blob id (the oracle for 40-hex etags)."""
    out = subprocess.run(
        ["git", "hash-object", "--no-filters", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def sha256sum(path: Path) -> str:
    """GNU ``sha256sum`` of a file (the oracle for 64-hex etags)."""
    out = subprocess.run(["sha256sum", "-b", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def git_blob_id_of(data: bytes) -> str:
    """git's blob id computed with hashlib (for many files; checked against git once)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubCache:
    """A hub cache under construction at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def folder(self, repo_id: str, repo_type: str = "model") -> Path:
        return self.root / "--".join([PREFIX[repo_type], *repo_id.split("/")])

    def add(
        self,
        repo_id: str,
        commit: str,
        files: dict[str, bytes],
        *,
        repo_type: str = "model",
        lfs: tuple[str, ...] = (),
        ref: str | None = "main",
        oracle: bool = True,
        shared: tuple[str, ...] = (),
    ) -> dict[str, str]:
        """Cache ``files`` of one revision; return each file's etag.

        A file named in ``lfs`` is stored under its sha256, others under git's
        blob id, as the Hub's etags are. Files named in ``shared`` go to the
        shared store as huggingface_hub 2.x publishes Xet files: the payload
        moves to ``blobs/<2 hex>/<xet hash>`` and the repo blob becomes a
        relative link to it (a made-up xet hash here: the layout, not Xet,
        is under test). ``oracle``: etags from git and sha256sum, else hashlib.
        """
        folder = self.folder(repo_id, repo_type)
        (folder / "blobs").mkdir(parents=True, exist_ok=True)
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        etags = {}
        for name, data in files.items():
            staging = folder / "blobs" / "staging.tmp"
            staging.write_bytes(data)
            if name in lfs or name in shared:
                etag = sha256sum(staging) if oracle else hashlib.sha256(data).hexdigest()
            else:
                etag = git_blob_id(staging) if oracle else git_blob_id_of(data)
            blob = folder / "blobs" / etag
            if blob.exists() or blob.is_symlink():
                staging.unlink()
            else:
                os.replace(staging, blob)
            if name in shared and not blob.is_symlink():
                self.share(blob, hashlib.sha256(b"xet" + data).hexdigest())
            pointer = folder / "snapshots" / commit / name
            pointer.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(blob, pointer.parent), pointer)
            etags[name] = etag
        if ref is not None:
            (folder / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
            (folder / "refs" / ref).write_text(commit)  # no newline, as huggingface_hub
        return etags

    def share(self, blob: Path, xet_hash: str) -> Path:
        """Move a repo blob into the shared store and link it back."""
        store = self.root / "blobs"
        store.mkdir(exist_ok=True)
        (store / ".huggingface-shared-blobs").write_text("1\n")
        entry = store / xet_hash[:2] / xet_hash
        entry.parent.mkdir(exist_ok=True)
        if entry.exists():
            blob.unlink()
        else:
            os.replace(blob, entry)
        with open(entry.with_name(xet_hash + ".refs"), "a") as refs:
            refs.write(blob.relative_to(self.root).as_posix() + "\n")
        os.symlink(os.path.relpath(entry, blob.parent), blob)
        return entry


def local_dir(
    root: Path, commit: str, files: dict[str, bytes], *, lfs: tuple[str, ...] = ()
) -> None:
    """What ``hf download --local-dir root`` leaves: the files, and a
    ``.cache/huggingface/download/<path>.metadata`` for each."""
    (root / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)
    (root / ".cache" / "huggingface" / ".gitignore").write_text("*")
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        etag = sha256sum(path) if name in lfs else git_blob_id(path)
        meta = root / ".cache" / "huggingface" / "download" / f"{name}.metadata"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(f"{commit}\n{etag}\n1712656091.123\n")


# --- Ollama -----------------------------------------------------------------------------------


def ollama_blob(models: Path, data: bytes) -> str:
    """Store a blob as Ollama does (``blobs/sha256-<hex>``); return its digest ``sha256:<hex>``."""
    (models / "blobs").mkdir(parents=True, exist_ok=True)
    staging = models / "blobs" / "staging"
    staging.write_bytes(data)
    hexdigest = sha256sum(staging)
    os.replace(staging, models / "blobs" / f"sha256-{hexdigest}")
    return f"sha256:{hexdigest}"


def ollama_model(
    models: Path,
    name: str,
    tag: str,
    layers: dict[str, bytes],
    *,
    host: str = "registry.ollama.ai",
    namespace: str = "library",
) -> dict:
    """Pull a model as Ollama leaves it: the config and each layer a blob, and
    the manifest (Docker's schema 2 JSON) at manifests/<host>/<namespace>/<name>/<tag>."""
    config = json.dumps({"model_format": "gguf", "model_family": "llama"}).encode()
    cdigest = ollama_blob(models, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": cdigest,
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": media_type,
                "digest": ollama_blob(models, data),
                "size": len(data),
            }
            for media_type, data in layers.items()
        ],
    }
    path = models / "manifests" / host / namespace / name / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return manifest


# --- OCI image layouts ------------------------------------------------------------------------


def oci_blob(layout: Path, data: bytes, algorithm: str = "sha256") -> str:
    """Write a blob at ``blobs/<alg>/<hex>`` (image-layout.md); return its digest."""
    hexdigest = hashlib.new(algorithm, data).hexdigest()
    path = layout / "blobs" / algorithm / hexdigest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"{algorithm}:{hexdigest}"


def oci_layout(
    layout: Path, images: dict[str, dict[str, bytes]], algorithm: str = "sha256"
) -> dict:
    """An OCI image layout written by hand to the spec: for each tag, a
    config, its layers and an image manifest, all listed in index.json with
    ``org.opencontainers.image.ref.name``. Returns the index."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    descriptors = []
    for tag, layers in images.items():
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": oci_blob(layout, config, algorithm),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": oci_blob(layout, data, algorithm),
                    "size": len(data),
                }
                for data in layers.values()
            ],
        }
        raw = json.dumps(manifest).encode()
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": oci_blob(layout, raw, algorithm),
                "size": len(raw),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        )
    index = {"schemaVersion": 2, "manifests": descriptors}
    (layout / "index.json").write_text(json.dumps(index))
    return index
