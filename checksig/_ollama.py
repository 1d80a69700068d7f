"""Ollama's models (issue 23; FORMATS.md part M): the "ollama" store kind.

Layout (ollama's ``manifest/paths.go``, ``manifest/manifest.go``,
``server/download.go``)::

    <models>/blobs/sha256-<hex>                      a blob, named by the sha256 of its content
    <models>/blobs/sha256-<hex>-partial[-N]          a download in progress
    <models>/manifests/<host>/<namespace>/<model>/<tag>      a manifest (JSON)
    <models>/manifests-v2/<host>/<namespace>/<model>/<tag>   a link to the manifest's blob

A manifest is Docker's image manifest (schema 2: ``config`` and ``layers``,
each a descriptor with ``digest`` and ``size``) or Ollama's manifest list
(``manifests``: manifests inline, or references to manifest blobs). The root
is the models directory; rows are the blobs each model's manifest lists
(``blobs/sha256-<hex>``, labelled with the model and the tag), each blob
hashed once however many models use it.
"""

from __future__ import annotations

import hashlib
import json
import os

from . import _native
from ._errors import ManifestError
from ._store import (
    BlobPlan,
    ReadError,
    is_hex,
    is_real_dir,
    lstat,
    read_beneath,
    resolve_link,
    scan,
    walk_files,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._options import VerifyOptions

__all__ = ["NAME", "default_models_dir", "detect_store", "for_path", "plan"]

NAME = "ollama"

MANIFEST_DIRS = ("manifests-v2", "manifests")
LIST_TYPE = "application/vnd.ollama.manifest.list.v2+json"
#: The registry hosts Ollama calls its own (their models are shown without host).
DEFAULT_HOSTS = frozenset({"registry.ollama.ai", "ollama.com"})
#: The most a manifest may hold: Ollama itself reads at most 1 MiB of one.
MANIFEST_LIMIT = 4 << 20
#: The largest size a descriptor may give: a file's size is an int64.
MAX_SIZE = 2**63 - 1


def default_models_dir() -> str:
    """Where Ollama keeps its models: ``$OLLAMA_MODELS`` (as Ollama reads it:
    blanks and quotes around it dropped), else ``~/.ollama/models``."""
    value = os.environ.get("OLLAMA_MODELS", "").strip().strip("\"'")
    return value or os.path.join(os.path.expanduser("~"), ".ollama", "models")


def detect_store(path: str) -> bool:
    """Whether path has Ollama's ``blobs/`` beside ``manifests/`` (or ``manifests-v2/``)."""
    return is_real_dir(path, "blobs") and any(is_real_dir(path, d) for d in MANIFEST_DIRS)


def for_path(path: str) -> tuple[str, Callable[[bytes, VerifyOptions], BlobPlan]]:
    """(root, plan maker) of the models directory at path."""
    return path, plan


def model_label(host: str, namespace: str, model: str) -> str:
    """A model as ``ollama list`` names it: ``llama3``, ``namespace/model``, or
    ``host/namespace/model`` for other registries."""
    if host.lower() in DEFAULT_HOSTS:
        return model if namespace.lower() == "library" else f"{namespace}/{model}"
    return f"{host}/{namespace}/{model}"


def _wanted(selector: str | None) -> Callable[[str, str, str, str], bool]:
    """model= as a test of (host, namespace, model, tag), case-insensitive as Ollama's names."""
    if selector is None:
        return lambda *_: True
    if not isinstance(selector, str) or not selector.strip():
        raise ValueError(f"model must be a non-empty string, got {selector!r}")
    name, tag = selector.strip().lower(), None
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        name, tag = head, tail

    def wanted(host: str, namespace: str, model: str, this_tag: str) -> bool:
        names = {model_label(host, namespace, model).lower(), f"{host}/{namespace}/{model}".lower()}
        return name in names and (tag is None or tag == this_tag.lower())

    return wanted


class _Models:
    def __init__(self, models: str, plan: BlobPlan) -> None:
        self.models = models
        self.plan = plan
        self.used: set[str] = set()  # blob names (lower case) the manifests list
        self.matched = 0

    def blob_name(self, hexdigest: str) -> str:
        """The path of the blob of a digest: ``blobs/sha256-<hex>`` (or the
        ``sha256:`` form older Ollamas wrote, when only that one is there)."""
        name = f"blobs/sha256-{hexdigest}"
        if lstat(self.models, name) is None and lstat(self.models, f"blobs/sha256:{hexdigest}"):
            return f"blobs/sha256:{hexdigest}"
        return name

    def manifest(self, rel: str, entry: os.DirEntry[str], labels: dict[str, str]) -> None:
        """The rows of one manifest file (or manifests-v2 link)."""
        plan = self.plan
        self.matched += 1
        if entry.is_symlink():
            try:
                target = os.readlink(os.path.join(self.models, rel))
            except OSError as exc:
                plan.problem(rel, exc.strerror or str(exc))
                return
            resolved = resolve_link(rel, target)
            hexdigest = _blob_hex(resolved[len("blobs/") :]) if resolved else None
            if not resolved or not resolved.startswith("blobs/") or hexdigest is None:
                plan.problem(rel, f"a link to {target!r}, not to a blob (not followed)")
                return
            self._row(hexdigest, labels)
            data = self._read(resolved, hexdigest, rel)
        elif entry.is_file(follow_symlinks=False):
            try:
                data = read_beneath(self.models, rel, MANIFEST_LIMIT, follow=plan.follow)
            except ReadError as exc:
                plan.problem(rel, str(exc))
                return
        else:
            plan.problem(rel, "not a regular file")
            return
        if data is not None:
            self._descriptors(rel, data, labels, top=True)

    def _read(self, name: str, hexdigest: str, where: str) -> bytes | None:
        """A manifest blob's bytes, when it is there and matches its name
        (else its row says what is wrong, and there is nothing to follow)."""
        try:
            data = read_beneath(self.models, name, MANIFEST_LIMIT, follow=self.plan.follow)
        except ReadError as exc:
            if str(exc) != "no such file":
                self.plan.problem(where, f"{name}: {exc}")
            return None
        if hashlib.sha256(data).hexdigest() != hexdigest:
            return None
        return data

    def _descriptors(self, where: str, data: bytes, labels: dict[str, str], *, top: bool) -> None:
        plan = self.plan
        try:
            doc = json.loads(data)
        except ValueError as exc:
            plan.problem(where, f"not JSON ({exc})")
            return
        if not isinstance(doc, dict):
            plan.problem(where, "not a JSON object")
            return
        if doc.get("mediaType") == LIST_TYPE:
            if not top:
                plan.problem(where, "a manifest list inside a manifest list")
                return
            children = doc.get("manifests")
            if not isinstance(children, list):
                plan.problem(where, "manifests: expected a list")
                return
            for i, child in enumerate(children):
                at = f"{where}: manifests[{i}]"
                if not isinstance(child, dict):
                    plan.problem(at, "expected an object")
                elif "config" in child or "layers" in child:
                    self._manifest_body(at, child, labels)
                else:  # a reference to a manifest stored as a blob
                    hexdigest = self._descriptor(at, child, labels, sized=False)
                    if hexdigest is not None:
                        body = self._read(self.blob_name(hexdigest), hexdigest, at)
                        if body is not None:
                            self._descriptors(at, body, labels, top=False)
            return
        self._manifest_body(where, doc, labels)

    def _manifest_body(self, where: str, doc: dict[str, Any], labels: dict[str, str]) -> None:
        config = doc.get("config")
        if config is not None and not (isinstance(config, dict) and not config.get("digest")):
            self._descriptor(f"{where}: config", config, labels, sized=True)
        layers = doc.get("layers", [])
        if not isinstance(layers, list):
            self.plan.problem(where, "layers: expected a list")
            return
        for i, layer in enumerate(layers):
            self._descriptor(f"{where}: layers[{i}]", layer, labels, sized=True)

    def _descriptor(self, at: str, desc: Any, labels: dict[str, str], *, sized: bool) -> str | None:
        """The row of one descriptor; its hex digest, or None when it is malformed."""
        plan = self.plan
        if not isinstance(desc, dict):
            plan.problem(at, "expected an object")
            return None
        digest = desc.get("digest")
        hexdigest = _blob_hex(digest) if isinstance(digest, str) else None
        if hexdigest is None:
            plan.problem(at, f"digest: expected sha256: and 64 hex digits, found {digest!r:.80}")
            return None
        size = desc.get("size")
        if "size" in desc and not (
            isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_SIZE
        ):
            plan.problem(at, f"size: expected a number of bytes, found {size!r:.40}")
            return None
        row = self._row(hexdigest, labels)
        if sized and isinstance(size, int) and "size" in desc:
            plan.expect_size(row, size, f"{at} {digest}")
        return hexdigest

    def _row(self, hexdigest: str, labels: dict[str, str]) -> int:
        name = self.blob_name(hexdigest)
        self.used.add(name.lower())
        digest = bytes.fromhex(hexdigest)
        return self.plan.blob(name, _native.ALG_SHA256, digest, name, **labels)

    def unused(self) -> None:
        """Every blob no manifest lists, checked against its name; partial downloads listed."""
        plan = self.plan
        partial = []
        unused = 0
        for entry in scan(self.models, "blobs"):
            rel = f"blobs/{entry.name}"
            if rel.lower() in self.used:
                continue
            head, sep, rest = entry.name.partition("-partial")
            if sep and _blob_hex(head) is not None and (not rest or rest[1:].isdigit()):
                partial.append(rel)
                plan.unchecked(rel, model=None, tag=None)
                continue
            hexdigest = _blob_hex(entry.name)
            if hexdigest is None:
                plan.problem(rel, "not a content address (expected sha256- and 64 hex digits)")
                continue
            unused += 1
            digest = bytes.fromhex(hexdigest)
            plan.unused(rel, _native.ALG_SHA256, digest, rel, model=None, tag=None)
        if partial:
            plan.notes.append(
                f"{len(partial)} partial download file(s), listed as not checked: "
                "ollama pull resumes them"
            )
        if unused:
            said = "failures (extra=True)" if plan.want_extra else "checked against their names"
            plan.notes.append(f"{unused} blob(s) no manifest lists: {said}")


def _blob_hex(name: str) -> str | None:
    """The hex digest (lower case) of ``sha256-<hex>`` or ``sha256:<hex>``, else None."""
    if (
        len(name) == 71
        and name[:7].lower() in ("sha256-", "sha256:")
        and is_hex(name[7:], 64, lower=False)
    ):
        return name[7:].lower()
    return None


def plan(root: bytes, options: VerifyOptions, *, model: str | None = None) -> BlobPlan:
    """The rows of Ollama's models directory, optionally of one model."""
    wanted = _wanted(model)
    models, made = BlobPlan.of(root, options, "Ollama models", ("model", "tag"))
    if not is_real_dir(models, "blobs"):
        raise ManifestError(f"{models}: no blobs/ directory: not Ollama's models", path=models)
    run = _Models(models, made)
    for top in MANIFEST_DIRS:
        if not is_real_dir(models, top):
            continue
        for rel, entry in walk_files(models, top):
            parts = rel.split("/")
            if len(parts) != 5:
                made.notes.append(
                    f"{rel}: not at manifests/<host>/<namespace>/<model>/<tag>, ignored"
                )
                continue
            host, namespace, name, tag = parts[1:]
            if not wanted(host, namespace, name, tag):
                continue
            run.manifest(rel, entry, {"model": model_label(host, namespace, name), "tag": tag})
    if model is not None and not run.matched:
        raise ValueError(f"model {model!r} is not in {models}")
    if model is None:
        run.unused()
    if not len(made) and not made.problems:
        raise ManifestError(f"{models}: no manifest and no blob: nothing to check", path=models)
    return made
