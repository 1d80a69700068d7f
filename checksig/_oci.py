"""OCI image layouts (issue 23; FORMATS.md part N): the "oci" store kind.

What ``skopeo copy ... oci:DIR``, ``umoci`` and ``docker buildx --output
type=oci`` write (OCI image-spec ``image-layout.md``)::

    <layout>/oci-layout              {"imageLayoutVersion": "1.0.0"}
    <layout>/index.json              an image index: descriptors of the images
    <layout>/blobs/<alg>/<encoded>   a blob, named by its digest <alg>:<encoded>

Every descriptor reachable from ``index.json`` (indexes, manifests, their
configs and layers) must be present with its size and digest; every blob is
checked against its name. The root is the layout; rows are the blobs each
tag (the ``org.opencontainers.image.ref.name`` annotation of an index.json
entry) reaches, labelled with the tag and the descriptor's media type, each
blob hashed once however many images share it.
"""

from __future__ import annotations

import hashlib
import json
import re

from . import _native
from ._store import BlobPlan, ReadError, is_hex, is_real_dir, lstat, read_beneath, scan

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._options import VerifyOptions

__all__ = ["NAME", "detect_store", "for_path", "plan"]

NAME = "oci"

#: Digest algorithms checksig checks, with their engine code and hex length
#: (image-spec descriptor.md: sha256 and sha512 registered, lower-case hex;
#: blake3 is registered in image-spec 1.1).
ALGORITHMS = {
    "sha256": (_native.ALG_SHA256, 64),
    "sha512": (_native.ALG_SHA512, 128),
    "blake3": (_native.ALG_BLAKE3, 64),
}

#: descriptor.md's grammar of a digest: algorithm ":" encoded.
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
REF_NAME = "org.opencontainers.image.ref.name"

#: The most an index or a manifest may hold to be read and followed.
JSON_LIMIT = 16 << 20
#: How deep indexes may nest (an index of indexes of ...).
MAX_DEPTH = 16
#: The largest size a descriptor may give: a file's size is an int64.
MAX_SIZE = 2**63 - 1


def detect_store(path: str) -> bool:
    """Whether path has an ``oci-layout`` file (the layout's marker)."""
    st = lstat(path, "oci-layout")
    return st is not None and not is_real_dir(path, "oci-layout")


def for_path(path: str) -> tuple[str, Callable[[bytes, VerifyOptions], BlobPlan]]:
    """(root, plan maker) of the layout at path."""
    return path, plan


class _Layout:
    def __init__(self, layout: str, plan: BlobPlan) -> None:
        self.layout = layout
        self.plan = plan
        self.used: set[str] = set()
        self.content: dict[str, Any] = {}  # blob name -> its parsed JSON (None: not followed)
        self.foreign = 0
        self.unknown_algorithms: set[str] = set()

    def read_json(self, rel: str, where: str) -> Any:
        """A metadata file's JSON (index.json, oci-layout); None after saying why not."""
        try:
            data = read_beneath(self.layout, rel, JSON_LIMIT, follow=self.plan.follow)
        except ReadError as exc:
            self.plan.problem(where, str(exc))
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            self.plan.problem(where, f"not JSON ({exc})")
            return None

    def visit(self, desc: Any, where: str, tag: str | None, seen: set[str], depth: int) -> None:
        """The row of a descriptor, then (an index, a manifest) of what it lists."""
        plan = self.plan
        if not isinstance(desc, dict):
            plan.problem(where, "expected a descriptor (an object)")
            return
        digest, size, media = desc.get("digest"), desc.get("size"), desc.get("mediaType")
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            plan.problem(where, f"digest: expected <algorithm>:<encoded>, found {digest!r:.80}")
            return
        if not (isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_SIZE):
            plan.problem(where, f"size: expected a number of bytes, found {size!r:.40}")
            return
        if media is not None and not isinstance(media, str):
            plan.problem(where, f"mediaType: expected a string, found {media!r:.40}")
            return
        alg, encoded = digest.split(":", 1)
        labels = {"tag": tag, "media_type": media}
        name = f"blobs/{alg}/{encoded}"
        known = ALGORITHMS.get(alg)
        if known is not None and not is_hex(encoded, known[1]):
            plan.problem(where, f"digest: a {alg} digest is {known[1]} lower-case hex digits")
            return
        if digest in seen:
            return  # this tag reaches it twice: one row
        seen.add(digest)
        self.used.add(name)
        if known is None:
            self.unknown_algorithms.add(alg)
            plan.unchecked(name, **labels)
            return
        urls = desc.get("urls")
        if urls and lstat(self.layout, name) is None:
            # A foreign (non-distributable) layer: fetched from its urls, not kept here.
            self.foreign += 1
            plan.unchecked(name, **labels)
            return
        row = plan.blob(name, known[0], bytes.fromhex(encoded), name, **labels)
        plan.expect_size(row, size, f"{where} {digest}")
        if media in INDEX_TYPES or media in MANIFEST_TYPES:
            if depth >= MAX_DEPTH:
                plan.problem(where, f"indexes nested deeper than {MAX_DEPTH}: not followed")
                return
            doc = self.blob_json(name, alg, encoded, size, where)
            if doc is None:
                return
            if media in INDEX_TYPES:
                children = doc.get("manifests")
                if not isinstance(children, list):
                    plan.problem(f"{name}", "manifests: expected a list")
                    return
                for i, child in enumerate(children):
                    self.visit(child, f"{name}: manifests[{i}]", tag, seen, depth + 1)
            else:
                self.visit(doc.get("config"), f"{name}: config", tag, seen, depth + 1)
                layers = doc.get("layers")
                if not isinstance(layers, list):
                    plan.problem(f"{name}", "layers: expected a list")
                    return
                for i, layer in enumerate(layers):
                    self.visit(layer, f"{name}: layers[{i}]", tag, seen, depth + 1)

    def blob_json(
        self, name: str, alg: str, encoded: str, size: int, where: str
    ) -> dict[str, Any] | None:
        """An index's or manifest's JSON, read once, when the blob is there and
        matches its digest (else its row says what is wrong)."""
        if name in self.content:
            return self.content[name]
        self.content[name] = None
        if size > JSON_LIMIT:
            self.plan.problem(where, f"an index or manifest of {size:,} bytes: not followed")
            return None
        try:
            data = read_beneath(self.layout, name, JSON_LIMIT, follow=self.plan.follow)
        except ReadError as exc:
            if str(exc) != "no such file":
                self.plan.problem(name, str(exc))
            return None
        if alg in hashlib.algorithms_available and hashlib.new(alg, data).hexdigest() != encoded:
            return None  # corrupt: its row is a mismatch; nothing in it is trusted
        try:
            doc = json.loads(data)
        except ValueError as exc:
            self.plan.problem(name, f"not JSON ({exc})")
            return None
        if not isinstance(doc, dict):
            self.plan.problem(name, "not a JSON object")
            return None
        self.content[name] = doc
        return doc

    def unused(self) -> None:
        """Every blob nothing reaches: checked against its name."""
        plan = self.plan
        unused = 0
        for top in scan(self.layout, "blobs"):
            if not top.is_dir(follow_symlinks=False):
                plan.problem(f"blobs/{top.name}", "not a blob: blobs hold <algorithm>/<encoded>")
                continue
            known = ALGORITHMS.get(top.name)
            if known is None:
                self.unknown_algorithms.add(top.name)
                continue
            for entry in scan(self.layout, f"blobs/{top.name}"):
                rel = f"blobs/{top.name}/{entry.name}"
                if rel in self.used:
                    continue
                if not is_hex(entry.name, known[1]):
                    plan.problem(
                        rel, f"not a content address (a {top.name} digest is {known[1]} hex digits)"
                    )
                    continue
                unused += 1
                digest = bytes.fromhex(entry.name)
                plan.unused(rel, known[0], digest, rel, tag=None, media_type=None)
        if unused:
            said = "failures (extra=True)" if plan.want_extra else "checked against their names"
            plan.notes.append(f"{unused} blob(s) nothing in index.json reaches: {said}")
        if self.foreign:
            plan.notes.append(
                f"{self.foreign} foreign layer(s) not in the layout (fetched from their urls): "
                "listed as not checked"
            )
        if self.unknown_algorithms:
            plan.notes.append(
                "digests of algorithms checksig does not check, listed as not checked: "
                + ", ".join(sorted(self.unknown_algorithms))
            )


def plan(root: bytes, options: VerifyOptions) -> BlobPlan:
    """The rows of an OCI image layout."""
    layout, made = BlobPlan.of(root, options, "OCI image layout", ("tag", "media_type"))
    run = _Layout(layout, made)
    marker = run.read_json("oci-layout", "oci-layout")
    if marker is not None:
        version = marker.get("imageLayoutVersion") if isinstance(marker, dict) else None
        if not isinstance(version, str):
            made.problem("oci-layout", "expected an object with imageLayoutVersion")
        elif version.split(".")[0] != "1":
            made.notes.append(f"oci-layout: imageLayoutVersion {version!r}, read as 1.0.0")
    index = run.read_json("index.json", "index.json")
    if isinstance(index, dict):
        manifests = index.get("manifests")
        if not isinstance(manifests, list):
            made.problem("index.json", "manifests: expected a list")
        else:
            for i, desc in enumerate(manifests):
                annotations = desc.get("annotations") if isinstance(desc, dict) else None
                tag = annotations.get(REF_NAME) if isinstance(annotations, dict) else None
                tag = tag if isinstance(tag, str) else None
                run.visit(desc, f"index.json: manifests[{i}]", tag, set(), 0)
    elif index is not None:
        made.problem("index.json", "not a JSON object")
    if is_real_dir(layout, "blobs"):
        run.unused()
    elif lstat(layout, "blobs") is not None:
        made.problem("blobs", "not a directory (or a link to one, not followed)")
    return made
