"""Seeded benchmark datasets, generated outside the repository and cached.

Each dataset lives in DATA_DIR/<scale>/<name>/ with:

    root/              the files, plus root/sha1sum.txt written by GNU sha1sum
    spec.json          what was generated; written last, so its presence means "complete"
    parts-<name>-<n>/  the manifest split round-robin into n parts (like `split -n r/n`)

A dataset is regenerated only when spec.json is missing or differs from what the
current code would generate (GEN_VERSION, sizes, seed).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# Bump when the way files are laid out or filled changes: cached data is rebuilt.
GEN_VERSION = 1
SEED = 20240507
MANIFEST = "sha1sum.txt"
FILES_PER_DIR = 1000
CHUNK = 4 << 20

KiB, MiB = 1 << 10, 1 << 20

# name -> parameters per scale. "quick" is ~10-20x smaller than "full"; "smoke" is
# just big enough to exercise every code path in a few seconds.
SCALES: dict[str, dict[str, dict]] = {
    "full": {
        "small": {"kind": "uniform", "count": 50_000, "size": 4 * KiB},
        "large": {"kind": "uniform", "count": 1_000, "size": 1 * MiB},
        "huge": {"kind": "uniform", "count": 4, "size": 512 * MiB},
        "mixed": {"kind": "lognormal", "count": 20_000, "total": 10**9, "sigma": 2.0},
        "million": {"kind": "links", "count": 10_000, "size": 256, "copies": 100},
    },
    "quick": {
        "small": {"kind": "uniform", "count": 5_000, "size": 4 * KiB},
        "large": {"kind": "uniform", "count": 100, "size": 1 * MiB},
        "huge": {"kind": "uniform", "count": 4, "size": 32 * MiB},
        "mixed": {"kind": "lognormal", "count": 2_000, "total": 10**8, "sigma": 2.0},
        "million": {"kind": "links", "count": 1_000, "size": 256, "copies": 100},
    },
    "smoke": {
        "small": {"kind": "uniform", "count": 200, "size": 4 * KiB},
        "large": {"kind": "uniform", "count": 8, "size": 1 * MiB},
        "huge": {"kind": "uniform", "count": 2, "size": 4 * MiB},
        "mixed": {"kind": "lognormal", "count": 100, "total": 4 * 10**6, "sigma": 2.0},
        "million": {"kind": "links", "count": 100, "size": 256, "copies": 20},
    },
}

# Datasets that are views of another one: a different manifest over the same root.
# "huge1" is one file of "huge": only one core can hash it.
VIEWS = {"huge1": "huge"}
ALL = ["small", "large", "huge", "huge1", "mixed", "million"]


@dataclass
class Dataset:
    """One thing to verify: a root, a manifest (absolute path) and its totals."""

    name: str
    root: Path
    manifest: Path
    entries: int
    nbytes: int
    files: list[str] = field(repr=False)  # names as listed, relative to root
    # One name per distinct file (what eviction walks): the names of "links"
    # datasets share 1/copies as many inodes.
    inodes: list[str] | None = field(default=None, repr=False)

    @property
    def default_manifest(self) -> bool:
        return self.manifest == self.root / MANIFEST

    def parts(self, n: int) -> list[Path]:
        """The manifest split round-robin into n parts (outside root), made once."""
        d = self.root.parent / f"parts-{self.name}-{n}"
        paths = [d / f"part{i}.txt" for i in range(n)]
        if all(p.exists() for p in paths):
            return paths
        d.mkdir(parents=True, exist_ok=True)
        lines = self.manifest.read_bytes().splitlines(keepends=True)
        for i, p in enumerate(paths):
            tmp = p.with_suffix(".tmp")
            tmp.write_bytes(b"".join(lines[i::n]))
            tmp.replace(p)
        return paths


def _layout(kind: str, params: dict) -> list[tuple[str, int]]:
    """(relative name, size) of every file to write, in manifest order."""
    n = params["count"]
    if kind == "uniform":
        if n <= 16:
            return [(f"f{i:02d}.bin", params["size"]) for i in range(n)]
        return [(f"d{i // FILES_PER_DIR:03d}/f{i:05d}.bin", params["size"]) for i in range(n)]
    if kind == "lognormal":
        rng = random.Random(SEED + 1)
        raw = [rng.lognormvariate(0.0, params["sigma"]) for _ in range(n)]
        scale = params["total"] / math.fsum(raw)
        return [
            (f"d{i // FILES_PER_DIR:03d}/f{i:05d}.bin", max(1, round(x * scale)))
            for i, x in enumerate(raw)
        ]
    if kind == "links":
        return [(f"c000/f{i:05d}.bin", params["size"]) for i in range(n)]
    raise ValueError(kind)


def _write_files(root: Path, layout: list[tuple[str, int]], seed: int) -> None:
    rng = random.Random(seed)
    made: set[Path] = set()
    for name, size in layout:
        p = root / name
        if p.parent not in made:
            p.parent.mkdir(parents=True, exist_ok=True)
            made.add(p.parent)
        with open(p, "wb") as f:
            left = size
            while left:
                k = min(left, CHUNK)
                f.write(rng.randbytes(k))
                left -= k


def _sha1sum(root: Path, names: list[str], out: Path, jobs: int) -> None:
    """Write out as GNU sha1sum writes it, running sha1sum in batches (in order)."""
    batches = [names[i : i + 4096] for i in range(0, len(names), 4096)]

    def run(batch: list[str]) -> bytes:
        return subprocess.run(
            ["sha1sum", "--", *batch], cwd=root, check=True, stdout=subprocess.PIPE
        ).stdout

    with ThreadPoolExecutor(jobs) as ex, open(out, "wb") as f:
        for chunk in ex.map(run, batches):
            f.write(chunk)


def _spec(scale: str, name: str) -> dict:
    return {
        "version": GEN_VERSION,
        "seed": SEED,
        "scale": scale,
        "name": name,
        **SCALES[scale][name],
    }


def ensure(data_dir: Path, scale: str, name: str, log=print) -> Dataset:
    """Return dataset name at scale, generating it under data_dir if needed."""
    base_name = VIEWS.get(name, name)
    params = SCALES[scale][base_name]
    d = data_dir / scale / base_name
    root = d / "root"
    spec = _spec(scale, base_name)
    spec_path = d / "spec.json"
    layout = _layout(params["kind"], params)
    names = [n for n, _ in layout]
    sizes = [s for _, s in layout]
    if params["kind"] == "links":
        copies = params["copies"]
        names = [f"c{c:03d}/{n[5:]}" for c in range(copies) for n in names]
        sizes = sizes * copies

    current = json.loads(spec_path.read_text()) if spec_path.exists() else None
    if current != spec:
        log(f"generating {scale}/{base_name} in {d} ...")
        if d.exists():
            shutil.rmtree(d)
        root.mkdir(parents=True)
        _write_files(root, layout, SEED + hash_name(base_name))
        if params["kind"] == "links":
            # Every entry is a distinct path to a real regular file: copy c000/ as
            # hard links (one inode, many names), so a million entries cost
            # a million directory entries but not a million data blocks.
            for c in range(1, params["copies"]):
                (root / f"c{c:03d}").mkdir()
                for n, _ in layout:
                    os.link(root / n, root / f"c{c:03d}" / n[5:])
        _sha1sum(root, names, root / MANIFEST, os.cpu_count() or 1)
        if base_name == "huge":
            _sha1sum(root, names[:1], d / "one.sha1sum.txt", 1)
        spec_path.write_text(json.dumps(spec, indent=1) + "\n")

    if name == "huge1":
        return Dataset(name, root, d / "one.sha1sum.txt", 1, sizes[0], names[:1])
    inodes = [n for n, _ in layout] if params["kind"] == "links" else None
    return Dataset(name, root, root / MANIFEST, len(names), sum(sizes), names, inodes)


def hash_name(name: str) -> int:
    """A stable small integer per dataset name (hash() is salted per process)."""
    return sum((i + 1) * b for i, b in enumerate(name.encode()))


def warm(ds: Dataset) -> None:
    """Read every listed file once so the page cache (and dentry cache) is warm."""
    buf = bytearray(1 << 20)
    for n in ds.files:
        with open(ds.root / n, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass
    ds.manifest.read_bytes()


# Cold cache (issue 20), without root: echo 1 > /proc/sys/vm/drop_caches would
# drop every clean page of the machine and needs root; a file's own pages go
# with posix_fadvise(POSIX_FADV_DONTNEED) once they are clean (hence a sync(2)
# first: an fsync per file cost ~0.5 ms each here) and not mapped. What stays
# warm: the kernel's dentry and inode caches (the names and sizes), which only
# drop_caches=2 evicts. mincore(2) says whether the pages really went.

_libc = None


def _mincore_resident(fd: int, size: int) -> int:
    """Pages of the open file fd (size bytes) in the page cache, by mincore(2)."""
    import ctypes
    import mmap

    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mmap.restype = ctypes.c_void_p
        _libc.mmap.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_long,
        ]
        _libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        _libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    if size == 0:
        return 0
    addr = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap for mincore failed")
    try:
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = ctypes.create_string_buffer(pages)
        if _libc.mincore(addr, size, vec) != 0:
            raise OSError(ctypes.get_errno(), "mincore failed")
        return sum(b & 1 for b in vec.raw)
    finally:
        _libc.munmap(addr, size)


def evict(ds: Dataset, check: bool = True) -> int:
    """Drop the dataset's pages (every file once, and the manifest) from the page
    cache, as an unprivileged user can: sync(2), then POSIX_FADV_DONTNEED. With
    check, return the pages that mincore(2) still finds resident in a sample of
    the files (0 when eviction worked)."""
    names = [*(ds.inodes or ds.files), str(ds.manifest)]
    os.sync()  # DONTNEED drops clean pages only: one sync(2), not an fsync per file
    for name in names:
        fd = os.open(ds.root / name, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    if not check:
        return 0
    # mincore costs a mapping per file: look at up to EVICT_CHECKS of them,
    # spread over the dataset, and the manifest.
    left = 0
    for name in names[:: max(len(names) // EVICT_CHECKS, 1)] + names[-1:]:
        fd = os.open(ds.root / name, os.O_RDONLY)
        try:
            left += _mincore_resident(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
    return left


#: How many files evict() looks at with mincore(2) to see that their pages went.
EVICT_CHECKS = 1000
