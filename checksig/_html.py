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
import re

from ._feedback import human_bytes, human_seconds

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from ._report import Report

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


def _unsafe_char(c: str) -> str:
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # an undecodable byte (os.fsdecode's surrogate escape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}"


# Control characters (C0, DEL, C1), lone surrogates and line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def display_name(name: str) -> str:
    """name, safe to print: control characters and undecodable bytes as ``\\xNN``.

    A manifest is input from outside: a name holding ESC could otherwise
    drive the terminal, and a lone surrogate (an undecodable byte) would
    make ``print`` raise UnicodeEncodeError. :attr:`Row.path` stays exact;
    only the text views (``str``, ``failure_lines``, the HTML) use this.
    """
    return _UNSAFE.sub(lambda m: _unsafe_char(m.group()), name)


def _digest(hexdigest: str | None, other: str | None = None) -> str:
    if not hexdigest:
        return ""
    shown = hexdigest if len(hexdigest) <= DIGEST_CHARS else hexdigest[:DIGEST_CHARS] + "\u2026"
    style = _MONO + (f"color:{_RED};" if other and other != hexdigest else "")
    return f"<code style='{style}' title='{e(hexdigest)}'>{e(shown)}</code>"


def _summary_table(report: Report) -> str:
    counts = report.counts()
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


def _failures_table(report: Report, bad: list[int]) -> str:
    parts = [
        "<table class='checksig-failures' style='border-collapse:collapse;margin:4px 0'>"
        "<thead><tr>"
        + "".join(
            f"<th style='{_CELL}'>{h}</th>"
            for h in ("line", "path", "status", "reason", "expected", "actual")
        )
        + "</tr></thead><tbody>"
    ]
    c = report._raw_columns()
    for i in bad[:HTML_MAX_FAILURES]:
        r = report._row(i, c)
        reason = (
            "digest differs" if r.status == "mismatch" else report._reason(c["errnum"][i], r.status)
        )
        parts.append(
            "<tr>"
            f"<td style='{_NUM}'>{r.line or ''}</td>"
            f"<td style='{_CELL}{_MONO}'>{e(display_name(r.path))}</td>"
            f"<td style='{_CELL}color:{_RED}'>{e(r.status)}</td>"
            f"<td style='{_CELL}'>{e(reason or '')}</td>"
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


def report_html(report: Report, *, heading: str | None = None) -> str:
    """The HTML summary of report; heading (already escaped) replaces the verdict line."""
    title = e(report._title())
    bad = report._failing_rows()
    n = len(report)
    if heading is None:
        if len(bad):
            heading = (
                f"<span style='color:{_RED}'>\u2718 {len(bad):,} of {n:,} "
                f"entr{'y' if n == 1 else 'ies'} failed</span>"
            )
        else:
            heading = (
                f"<span style='color:{_GREEN}'>\u2714 all {n:,} entr{'y' if n == 1 else 'ies'} ok"
                "</span>"
            )
    parts = [
        "<div class='checksig-report'>",
        f"<div><strong>{heading}</strong> &mdash; <code>{title}</code></div>",
        _summary_table(report),
    ]
    if len(bad):
        parts.append(_failures_table(report, bad))
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


def signature_error_html(exc: BaseException, report: Report) -> str:
    """A SignatureError in a notebook: its first line as the heading, then the report."""
    first = display_name(str(exc).split("\n", 1)[0])
    heading = f"<span style='color:{_RED}'>SignatureError: {e(first)}</span>"
    return report_html(report, heading=heading)
