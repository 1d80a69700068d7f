"""Verify what users already have: BagIt bags and installed environments
(issue 19).

* :func:`verify_bag`: a BagIt bag (RFC 8493) by its own manifests (``_bagit``).
* :func:`verify_environment`: every installed Python distribution's RECORD
  under a prefix (``_record``) and, in a conda environment, every
  ``conda-meta`` record (``_conda``), as one Report with a ``package``
  label column.

Each comes in the three forms of every batch call (blocking, ``start_``,
``a``), takes the verify options of ``_options.FIELDS`` and hands them,
with a plan maker, to ``_api._start_verify``: the rows are given to the
engine in memory (entries), so they are confined, hashed, reported,
watched and cancelled exactly as a manifest's.
"""

from __future__ import annotations

import os
import sys

from . import _algorithms, _api, _bagit, _conda, _record
from ._errors import ManifestError
from ._lazy import _LazyModule
from ._options import START_PROGRESS, VerifyOptions
from ._plan import Plan

# As in _api: only a job needs _jobs (and threading with it), so `import
# checksig` does not pay for it (tests/test_startup.py).
_jobs = _LazyModule("checksig._jobs")

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Callable

    from ._api import PathArg
    from ._jobs import Job
    from ._options import ProgressArg
    from ._report import Report

__all__ = [
    "averify_bag",
    "averify_environment",
    "start_verify_bag",
    "start_verify_environment",
    "verify_bag",
    "verify_environment",
]


# --- BagIt ------------------------------------------------------------------------------------


def _start_bag(path: PathArg, options: VerifyOptions, fast: bool) -> Job[Report]:
    """Start a bag's verify job: its plan handed to _api's one verify body."""

    def make(root: bytes, options: VerifyOptions) -> Plan:
        return _bagit.plan(os.path.abspath(root), options, fast=fast)

    return _api._start_verify(path, None, options, check=False, plan=make, kind="bag")


def start_verify_bag(
    path: PathArg,
    *,
    fast: bool = False,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify_bag` in the background; return its :class:`Job`.

    The arguments are :func:`verify_bag`'s; ``progress`` defaults to
    ``False`` and is fed only when the job is observed, and errors in the
    arguments are raised here (see :func:`checksig.start_verify`).
    """
    return _start_bag(path, VerifyOptions.of(locals()), fast)


def verify_bag(
    path: PathArg,
    *,
    fast: bool = False,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Validate a BagIt bag (RFC 8493); return a Report, never raising for failures.

    Every line of every ``manifest-ALG.txt`` and (BagIt 0.97 and later)
    ``tagmanifest-ALG.txt`` is a row, checked with its algorithm; every
    file under ``data/`` that no payload manifest lists is a row with
    status "extra". What is wrong with the bag itself is in
    ``report.problems`` and makes ``report.ok`` false: a missing or bad
    ``bagit.txt``, no ``data/`` or no payload manifest, an unsafe path in
    a manifest or ``fetch.txt``, a malformed digest, a duplicate entry
    (BagIt 1.0), a ``Payload-Oxum`` that does not match the payload.
    ``fetch.txt`` is read, never downloaded: a listed file not fetched yet
    is "missing" in the manifests that list it, and ``report.notes`` says
    so. ``report.ok`` agrees with bagit-python's ``Bag(path).is_valid()``
    (FORMATS.md part K states the rules and the few differences).
    ``report.raise_if_failed()`` raises :class:`SignatureError` naming
    every problem and failure.

    Args:
        path: the bag's directory.
        fast: check only the ``Payload-Oxum`` (file count and bytes of
            ``data/``), as bagit-python's ``validate(fast=True)``: nothing is
            hashed, rows are "not_checked"; a bag without a Payload-Oxum is
            a problem.
        algorithm: read only the manifests of this algorithm (a bag made
            with sha256 and sha512 checks faster with ``"sha256"``).
        extra: also list the unlisted files outside ``data/`` (tag
            directories), besides the bag's own ``bagit.txt``,
            ``bag-info.txt``, ``fetch.txt`` and manifests.
        workers, strict, ignore_missing, allow_outside_root, progress: as
            for :func:`checksig.verify` (strict: a malformed manifest line
            raises ManifestError).

    Raises:
        FileNotFoundError, NotADirectoryError: no such directory.
        ValueError: a bad argument (``algorithm`` the bag has no manifest for).
        KeyboardInterrupt: as for :func:`checksig.verify`.
    """
    return _jobs.run(_start_bag, path, VerifyOptions.of(locals()), fast)


async def averify_bag(
    path: PathArg,
    *,
    fast: bool = False,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify_bag` for asyncio (see :func:`checksig.averify`)."""
    return await _start_bag(path, VerifyOptions.of(locals()), fast)


# --- environments -----------------------------------------------------------------------------


def _normalise(name: str) -> str:
    """A project name as PEP 503 compares them (``Foo_Bar`` is ``foo-bar``)."""
    out = []
    for ch in name.lower():
        out.append("-" if ch in "-_." else ch)
    text = "".join(out)
    while "--" in text:
        text = text.replace("--", "-")
    return text


def _start_environment(
    prefix: PathArg, options: VerifyOptions, packages: Iterable[str] | None
) -> Job[Report]:
    """Start an environment's verify job: its plan handed to _api's one verify body."""
    make = _environment_plan(packages)
    return _api._start_verify(prefix, None, options, check=False, plan=make, kind="environment")


def _environment_plan(packages: Iterable[str] | None) -> Callable[[bytes, VerifyOptions], Plan]:
    """The plan maker of an environment: its conda records, then the RECORD
    of each distribution conda did not install (FORMATS.md I6, I7, J)."""

    if isinstance(packages, str):
        raise TypeError("packages takes a list of names, not a single string")
    wanted = None if packages is None else {_normalise(p): p for p in packages}

    def make(root: bytes, options: VerifyOptions) -> Plan:
        prefix = os.path.abspath(os.fsdecode(root))
        if not os.path.isdir(prefix):
            os.listdir(prefix)  # the OSError that says why (FileNotFoundError, ...)
        only = _algorithms.code(options.algorithm, allow_none=True)
        plan = Plan(
            os.fsencode(prefix),
            title=f"environment {prefix}",
            labels=("package",),
            strict=options.strict,
            extra=options.extra,
        )
        found: set[str] = set()
        conda_files: set[str] = set()
        for rel in _conda.records(prefix):
            try:
                record = _conda.load(os.path.join(prefix, rel))
            except ManifestError as exc:
                plan.problems.append(str(exc))
                continue
            except OSError as exc:
                plan.problems.append(f"{rel}: {exc.strerror or exc}")
                continue
            files = record.get("files")
            if isinstance(files, list):
                conda_files.update(f for f in files if isinstance(f, str))
            name = record.get("name") if isinstance(record.get("name"), str) else rel
            if wanted is not None and _normalise(name) not in wanted:
                continue
            found.add(_normalise(name))
            label = _conda.package_label(record, os.path.basename(rel)[: -len(".json")])
            _conda.read_into(plan, record, shown=rel, installed=True, package=label, only=only)
        without_record = []
        for site in _record.site_packages(prefix):
            for dist in _record.distributions(prefix, site):
                record_path = f"{dist}/{_record.RECORD}"
                if record_path in conda_files:
                    continue  # installed by conda: its conda-meta record is checked
                label = _record.package_of(dist)
                name = label.split(" ", 1)[0]
                if wanted is not None and _normalise(name) not in wanted:
                    continue
                found.add(_normalise(name))
                try:
                    with open(os.path.join(prefix, record_path), "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    without_record.append(label)
                    continue
                except OSError as exc:
                    plan.problems.append(f"{record_path}: {exc.strerror or exc}")
                    continue
                _record.read_into(
                    plan,
                    data,
                    shown=record_path,
                    base=site,
                    prefix=os.fsencode(prefix),
                    package=label,
                    only=only,
                )
        if without_record:
            shown = ", ".join(without_record[:5]) + (", ..." if len(without_record) > 5 else "")
            plan.notes.append(
                f"{len(without_record)} distribution(s) have no RECORD to check ({shown})"
            )
        if wanted is not None:
            unknown = sorted(v for k, v in wanted.items() if k not in found)
            if unknown:
                raise ValueError(f"not installed in {prefix}: {', '.join(unknown)}")
        if not found:
            raise ManifestError(
                f"{prefix}: no installed distribution (*.dist-info/RECORD) nor conda "
                "record (conda-meta/*.json) found",
                path=prefix,
            )
        return plan

    return make


def start_verify_environment(
    prefix: PathArg = sys.prefix,
    *,
    packages: Iterable[str] | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = START_PROGRESS,
) -> Job[Report]:
    """Start :func:`verify_environment` in the background; return its :class:`Job`.

    The arguments are :func:`verify_environment`'s; ``progress`` defaults to
    ``False`` and is fed only when the job is observed, and errors in the
    arguments are raised here (see :func:`checksig.start_verify`).
    """
    return _start_environment(prefix, VerifyOptions.of(locals()), packages)


def verify_environment(
    prefix: PathArg = sys.prefix,
    *,
    packages: Iterable[str] | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """Check every installed file of an environment against what its installer recorded.

    Reads each ``*.dist-info/RECORD`` in the prefix's site-packages (pip,
    uv, ...: PEP 376/627) and, when the prefix is a conda environment,
    each ``conda-meta/*.json`` record, and verifies every listed file in
    one run: one :class:`Report` with a ``package`` label column (``numpy
    2.1.0``), a per-package summary of failures in ``str()`` and the HTML,
    ``report.summary_by("package")`` and ``to_pandas()``. Names are
    relative to the prefix (``report.root``); RECORD names that leave
    site-packages (``../../../bin/tool``) are followed within the prefix
    and refused ("outside_root") beyond it.

    Rows listed without a digest (a RECORD's own line, ``.pyc`` caches,
    files conda rewrote at install without recording their new digest)
    are "not_checked", which never fails. A distribution conda installed
    is checked by its conda record, not its RECORD. FORMATS.md parts I
    and J state every rule.

    Args:
        prefix: the environment's prefix (``sys.prefix`` by default: the
            running interpreter's venv or conda environment).
        packages: check only these distributions or conda packages (names
            compared as PEP 503 does: ``Foo_Bar`` is ``foo-bar``);
            ValueError names those not installed.
        algorithm: check only digests of this algorithm; others are
            listed as "not_checked".
        extra: also list every file under the prefix no record lists
            (status "extra": a failure).
        workers, strict, ignore_missing, allow_outside_root, progress: as
            for :func:`checksig.verify` (strict: a malformed RECORD line or
            conda entry raises ManifestError naming the file and line).

    Raises:
        FileNotFoundError: no such prefix.
        ManifestError: nothing installed to check under the prefix.
        ValueError: a bad argument, or packages that are not installed.
        KeyboardInterrupt: as for :func:`checksig.verify`.
    """
    return _jobs.run(_start_environment, prefix, VerifyOptions.of(locals()), packages)


async def averify_environment(
    prefix: PathArg = sys.prefix,
    *,
    packages: Iterable[str] | None = None,
    algorithm: str | None = None,
    workers: int | None = None,
    strict: bool = False,
    ignore_missing: bool = False,
    extra: bool = False,
    allow_outside_root: bool = False,
    progress: ProgressArg = None,
) -> Report:
    """:func:`verify_environment` for asyncio (see :func:`checksig.averify`)."""
    return await _start_environment(prefix, VerifyOptions.of(locals()), packages)
