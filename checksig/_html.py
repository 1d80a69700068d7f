"""The notebook view of a Report (and of a SignatureError): HTML for Jupyter.

Everything that comes from outside (names, manifest paths, warning
messages) goes through html.escape; only the markup below is trusted. The
view stays small for any report: the summary is computed from the
engine's columns, and only the first HTML_MAX_FAILURES failures become rows.
Styles are inline and use no background colours, so the view reads in
light and dark notebook themes alike.
"""

from __future__ import annotations

import html

from ._words import DIGEST_DIFFERS, display_name, entries, human_bytes, human_seconds, reason

# The report is passed in, never imported (not even for type checkers): the
# Report calls this view, so this module sits below it.
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

    from ._rows import Rows

#: How many failures the HTML view lists before "... and N more".
HTML_MAX_FAILURES = 50
#: How many skipped manifest lines it lists.
HTML_MAX_WARNINGS = 20
#: Hex digits of a digest shown in a cell; the whole digest is its tooltip.
DIGEST_CHARS = 16

_RED = "#d62728"
_GREEN = "#2ca02c"
_CELL = "padding:2px 8px;text-align:left;vertical-align:top;"
_NUM = "padding:2px 8px;text-align:right;vertical-align:top;"
_MONO = "font-family:monospace;"

e = html.escape


def _digest(hexdigest: str | None, other: str | None = None) -> str:
    if not hexdigest:
        return ""
    shown = hexdigest if len(hexdigest) <= DIGEST_CHARS else hexdigest[:DIGEST_CHARS] + "\u2026"
    style = _MONO + (f"color:{_RED};" if other and other != hexdigest else "")
    return f"<code style='{style}' title='{e(hexdigest)}'>{e(shown)}</code>"


def _summary_table(report: Any, rows: Rows) -> str:
    counts = rows.counts()
    heads: list[str] = ["entries"]
    cells: list[str] = [f"{len(report):,}"]
    ok = counts.get("ok", 0)
    heads.append("ok")
    cells.append(f"<span style='color:{_GREEN}'>{ok:,}</span>" if ok else "0")
    for name, n in counts.items():
        if name == "ok":
            continue
        forgiven = name == "missing" and report.ignore_missing
        heads.append(e(name) + (" (ignored)" if forgiven else ""))
        cells.append(f"{n:,}" if forgiven else f"<span style='color:{_RED}'>{n:,}</span>")
    if report.bytes_hashed is not None:
        heads.append("bytes hashed")
        cells.append(human_bytes(report.bytes_hashed))
    if report.elapsed is not None:
        heads.append("elapsed")
        cells.append(human_seconds(report.elapsed))
    if report.throughput is not None:
        heads.append("throughput")
        cells.append(f"{human_bytes(report.throughput)}/s")
    return (
        "<table style='border-collapse:collapse;margin:4px 0'><thead><tr>"
        + "".join(f"<th style='{_NUM}'>{h}</th>" for h in heads)
        + "</tr></thead><tbody><tr>"
        + "".join(f"<td style='{_NUM}'>{c}</td>" for c in cells)
        + "</tr></tbody></table>"
    )


def _failures_table(rows: Rows, bad: list[int]) -> str:
    parts = [
        "<table class='checksig-failures' style='border-collapse:collapse;margin:4px 0'>"
        "<thead><tr>"
        + "".join(
            f"<th style='{_CELL}'>{e(h)}</th>"
            for h in (
                "line",
                *rows.labels,
                "path",
                "status",
                "reason",
                "algorithm",
                "expected",
                "actual",
            )
        )
        + "</tr></thead><tbody>"
    ]
    errnum = rows.columns["errnum"]
    for i in bad[:HTML_MAX_FAILURES]:
        r = rows.row(i)
        why = DIGEST_DIFFERS if r.status == "mismatch" else reason(r.status, errnum[i])
        labels = "".join(
            f"<td style='{_CELL}'>{e(display_name(v or ''))}</td>"
            for v in rows.row_labels(i).values()
        )
        parts.append(
            "<tr>"
            f"<td style='{_NUM}'>{r.line or ''}</td>"
            f"{labels}"
            f"<td style='{_CELL}{_MONO}'>{e(display_name(r.path))}</td>"
            f"<td style='{_CELL}color:{_RED}'>{e(r.status)}</td>"
            f"<td style='{_CELL}'>{e(why or '')}</td>"
            f"<td style='{_CELL}'>{e(r.algorithm)}</td>"
            f"<td style='{_CELL}'>{_digest(r.expected)}</td>"
            f"<td style='{_CELL}'>{_digest(r.actual, r.expected)}</td>"
            "</tr>"
        )
    parts.append("</tbody></table>")
    if len(bad) > HTML_MAX_FAILURES:
        parts.append(
            f"<p style='margin:2px 0'>\u2026 and {len(bad) - HTML_MAX_FAILURES:,} more "
            "failures: <code>report.failures</code> or <code>report.to_pandas()</code> "
            "has them all.</p>"
        )
    return "".join(parts)


def _groups_table(label: str, failing: list[tuple[str, dict[str, int]]], passing: int) -> str:
    """The failing rows summed up by a label (a package): one row per value."""
    parts = [
        f"<details open><summary>by {e(label)}: {passing:,} without a failure, "
        f"{len(failing):,} with</summary>"
        "<table class='checksig-groups' style='border-collapse:collapse;margin:4px 0'>"
        f"<thead><tr><th style='{_CELL}'>{e(label)}</th><th style='{_CELL}'>failures</th>"
        "</tr></thead><tbody>"
    ]
    for value, counts in failing[:HTML_MAX_FAILURES]:
        said = ", ".join(f"{k:,} {name}" for name, k in counts.items())
        parts.append(
            f"<tr><td style='{_CELL}'>{e(display_name(value))}</td>"
            f"<td style='{_CELL}color:{_RED}'>{e(said)}</td></tr>"
        )
    parts.append("</tbody></table>")
    if len(failing) > HTML_MAX_FAILURES:
        more = len(failing) - HTML_MAX_FAILURES
        parts.append(f"<p style='margin:2px 0'>\u2026 and {more:,} more</p>")
    parts.append("</details>")
    return "".join(parts)


def report_html(report: Any, rows: Rows, *, title: str, heading: str | None = None) -> str:
    """The HTML summary of report (read through rows); heading (text) replaces
    the verdict line."""
    bad = rows.failing(report.ignore_missing)
    problems = report.problems
    n = entries(len(rows), grouped=True)
    if heading is not None:
        verdict = f"<span style='color:{_RED}'>{e(display_name(heading))}</span>"
    elif len(bad):
        verdict = f"<span style='color:{_RED}'>\u2718 {len(bad):,} of {n} failed</span>"
    elif problems:
        said = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        verdict = f"<span style='color:{_RED}'>\u2718 {said}; {n}, none failed</span>"
    else:
        verdict = f"<span style='color:{_GREEN}'>\u2714 all {n} ok</span>"
    parts = [
        "<div class='checksig-report'>",
        f"<div><strong>{verdict}</strong> &mdash; <code>{e(title)}</code></div>",
        _summary_table(report, rows),
    ]
    if problems:
        parts.append("<ul class='checksig-problems' style='margin:4px 0'>")
        parts += [f"<li style='color:{_RED}'>{e(display_name(p))}</li>" for p in problems]
        parts.append("</ul>")
    warning = report.algorithm_warning
    if warning:
        parts.append(
            f"<p class='checksig-algorithm-warning' style='margin:4px 0;color:{_RED}'>"
            f"&#9888; {e(warning)}</p>"
        )
    label, failing, passing = report._failing_groups()
    if failing:
        parts.append(_groups_table(label, failing, passing))
    if len(bad):
        parts.append(_failures_table(rows, bad))
    if report.notes:
        parts.append("<ul class='checksig-notes' style='margin:4px 0'>")
        parts += [f"<li>{e(display_name(note))}</li>" for note in report.notes]
        parts.append("</ul>")
    if report.warnings:
        shown = report.warnings[:HTML_MAX_WARNINGS]
        parts.append(
            f"<details><summary>{len(report.warnings):,} malformed manifest line(s) "
            "skipped</summary><ul>"
        )
        parts += [f"<li>line {line}: {e(display_name(msg))}</li>" for line, msg in shown]
        if len(report.warnings) > len(shown):
            parts.append(f"<li>\u2026 and {len(report.warnings) - len(shown):,} more</li>")
        parts.append("</ul></details>")
    parts.append("</div>")
    return "".join(parts)
