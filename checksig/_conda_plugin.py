"""A ``conda doctor`` health check backed by :func:`checksig.verify_environment`.

conda loads this module through the ``conda`` entry point group
(``pyproject.toml``: ``[project.entry-points.conda] checksig = ...``) when
checksig is installed in conda's own environment, and ``conda doctor``
then runs the check ``checksig-files`` with the others: every file of
every package in the environment (conda-meta records, and the RECORD of
each distribution pip put there) is hashed in parallel by checksig's
engine, and every altered, missing or unreadable file is named with its
package. conda's own ``altered-files`` check hashes them one by one in
Python.

Like tqdm.contrib's integrations, this module imports its optional
package at its top: nothing else in checksig imports it. The words it
prints come from :func:`report_lines`, which needs no conda (tests run it
on hand-made conda prefixes; tests/test_conda_plugin.py).
"""

from __future__ import annotations

from conda.base.constants import OK_MARK, X_MARK
from conda.plugins import hookimpl
from conda.plugins.types import CondaHealthCheck

from . import _ecosystems

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._report import Report

__all__ = ["checksig_files", "conda_health_checks", "report_lines"]

#: The health check's name (``conda doctor --list``).
NAME = "checksig-files"


def report_lines(report: Report, *, verbose: bool, ok_mark: str, x_mark: str) -> list[str]:
    """What the health check prints for a report, line by line."""
    counts = report.counts()
    checked = counts.get("ok", 0)
    if report.ok:
        return [
            f"{ok_mark} checksig: {checked:,} installed files match their packages' records "
            f"({counts.get('not_checked', 0):,} listed without a digest).",
            "",
        ]
    lines = [f"{x_mark} checksig: files that differ from their packages' records:", ""]
    lines += [f"  problem: {p}" for p in report.problems]
    by_package = report.summary_by("package")
    failing = {r.path for r in report.failures}
    rows = report._rows
    labels = report._labels.get("package", [])
    for package, statuses in by_package.items():
        bad = {k: n for k, n in statuses.items() if k not in ("ok", "not_checked")}
        if not bad:
            continue
        said = ", ".join(f"{n} {k}" for k, n in bad.items())
        lines.append(f"{package or '(no package)'}: {said}")
        if verbose:
            for i in rows.failing(report.ignore_missing):
                if labels and labels[i] == package and rows.row(i).path in failing:
                    lines.append(f"  {rows.shown_path(i)}: {rows.row(i).describe()}")
    lines.append("")
    return lines


def checksig_files(prefix: str, verbose: bool) -> None:
    """The health check's action: verify the environment, print the verdict."""
    report = _ecosystems.verify_environment(prefix, progress=False)
    for line in report_lines(report, verbose=verbose, ok_mark=OK_MARK, x_mark=X_MARK):
        print(line)


@hookimpl
def conda_health_checks() -> Iterable[CondaHealthCheck]:
    """Register checksig's health check with ``conda doctor``."""
    yield CondaHealthCheck(
        name=NAME,
        action=checksig_files,
        summary="Verify every installed file against its package's record, in parallel",
    )
