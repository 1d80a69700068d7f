"""Report: numpy columns filled by the engine, Row objects only on demand."""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import hexdigest, manifest_line, write_manifest, write_tree

import checksig
from checksig import _html, _report, _row, _rows


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """10 entries: 8 ok, 1 mismatch, 1 missing."""
    files = write_tree(tmp_path, {f"f{i}": f"file {i}".encode() for i in range(9)})
    entries = [(n, d) for n, d in files.items()]
    entries[3] = ("f3", b"not f3")
    entries.append(("gone", b""))
    write_manifest(tmp_path / "sha1sum.txt", entries)
    return tmp_path


def test_columns_are_numpy_arrays(mixed: Path, workers: int) -> None:
    report = checksig.verify(mixed, workers=workers)
    c = report.columns
    n = len(report)
    assert n == 10
    expect = {
        "status": (np.uint8, (n,)),
        "algorithm": (np.uint8, (n,)),
        "errnum": (np.int32, (n,)),
        "size": (np.int64, (n,)),
        "line": (np.int64, (n,)),
        "expected": (np.uint8, (n, 20)),
        "actual": (np.uint8, (n, 20)),
        "path_offsets": (np.int64, (n + 1,)),
    }
    for name, (dtype, shape) in expect.items():
        assert isinstance(c[name], np.ndarray), name
        assert c[name].dtype == dtype and c[name].shape == shape, name
    assert c["paths"].dtype == np.uint8 and c["paths"].shape == (int(c["path_offsets"][-1]),)
    assert report.status is c["status"]
    assert report.status.tolist() == [1, 1, 1, 2, 1, 1, 1, 1, 1, 3]
    assert c["line"].tolist() == list(range(1, 11))
    assert bytes(c["expected"][3]).hex() == hexdigest(b"not f3")
    assert bytes(c["actual"][3]).hex() == hexdigest(b"file 3")
    assert not c["actual"][9].any()  # not hashed
    assert c["size"][9] == -1
    assert c["errnum"][9] == errno.ENOENT


def test_numpy_columns_are_views_of_the_engine_buffers(mixed: Path) -> None:
    report = checksig.verify(mixed)
    rows = list(report)  # read from the engine's buffers: no numpy column exists yet
    c = report.columns
    assert c["status"].tolist() == [checksig.STATUSES.index(r.status) for r in rows]
    assert c["size"].tolist() == [-1 if r.size is None else r.size for r in rows]
    assert [bytes(d).hex() for d in c["expected"]] == [r.expected for r in rows]
    # Zero-copy: a write through an array is what the report reads from then on.
    c["status"][0] = checksig.STATUSES.index("changed")
    c["size"][1] = 12345
    assert report[0].status == "changed" and report[1].size == 12345
    assert report.counts() == {"ok": 7, "mismatch": 1, "missing": 1, "changed": 1}
    # So is an array put in place of another, or a whole new dict.
    c["status"] = np.ones(10, dtype=np.uint8)
    assert report.ok and report.counts() == {"ok": 10}
    report.columns = {name: a.copy() for name, a in c.items()}
    report.columns["status"][9] = checksig.STATUSES.index("missing")
    assert [r.path for r in report.failures] == ["gone"]
    # A Report made from numpy arrays, and a pickled one, read the same rows.
    fresh = checksig.verify(mixed)
    copied = {name: a.copy() for name, a in fresh.columns.items()}
    assert list(checksig.Report(copied, root=fresh.root, manifest=fresh.manifest)) == rows
    assert list(pickle.loads(pickle.dumps(fresh))) == rows
    assert list(pickle.loads(pickle.dumps(checksig.verify(mixed)))) == rows  # no arrays made


def test_repr_counts_ok_failures(mixed: Path) -> None:
    report = checksig.verify(mixed)
    assert repr(report) == "<Report sha1sum.txt: 10 entries, 8 ok, 1 mismatch, 1 missing>"
    assert report.counts() == {"ok": 8, "mismatch": 1, "missing": 1}
    assert report.counts()["unreadable"] == 0
    assert list(report.counts()) == ["ok", "mismatch", "missing"]
    assert not report.ok
    assert [r.path for r in report.failures] == ["f3", "gone"]
    report_ignoring = checksig.verify(mixed, ignore_missing=True)
    assert [r.path for r in report_ignoring.failures] == ["f3"]
    assert not report_ignoring.ok


def test_str_summary_then_failures(mixed: Path) -> None:
    text = str(checksig.verify(mixed))
    lines = text.splitlines()
    head, _, timing = lines[0].partition("; ")
    assert head == f"{mixed / 'sha1sum.txt'}: 10 entries, 8 ok, 1 mismatch, 1 missing"
    assert timing.startswith("54 B hashed in ") and timing.endswith("/s)")
    assert lines[1] == "2 failed:"
    assert lines[2].startswith("  f3: mismatch (expected ")
    assert lines[3] == "  gone: missing (No such file or directory)"


def test_str_when_ok(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"a"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a")])
    report = checksig.verify(tmp_path)
    assert str(report).splitlines()[-1] == "all entries ok"
    assert repr(report) == "<Report sha1sum.txt: 1 entry, 1 ok>"


def test_rows(mixed: Path) -> None:
    report = checksig.verify(mixed)
    row = report[0]
    assert isinstance(row, checksig.Row)
    assert row == checksig.Row(
        path="f0",
        status="ok",
        size=6,
        expected=hexdigest(b"file 0"),
        actual=hexdigest(b"file 0"),
        algorithm="sha1",
        line=1,
        reason=None,
    )
    assert report[-1].path == "gone" and report[-1] == report[9]
    assert report[-1].reason == os.strerror(errno.ENOENT)
    assert report[-1].size is None and report[-1].actual is None
    assert [r.path for r in report[2:5]] == ["f2", "f3", "f4"]
    assert [r.path for r in report] == [f"f{i}" for i in range(9)] + ["gone"]
    with pytest.raises(IndexError):
        report[10]
    with pytest.raises(IndexError):
        report[-11]
    with pytest.raises(TypeError):
        report["f0"]  # type: ignore[call-overload]
    with pytest.raises((AttributeError, TypeError)):
        row.status = "mismatch"  # type: ignore[misc]


def test_undecodable_names_survive(tmp_path: Path) -> None:
    raw = b"caf\xe9"  # latin-1, not UTF-8
    (tmp_path / os.fsdecode(raw)).write_bytes(b"x")
    (tmp_path / "sha1sum.txt").write_bytes(hexdigest(b"x").encode() + b"  " + raw + b"\n")
    (row,) = checksig.check_signatures(tmp_path)
    assert os.fsencode(row.path) == raw


def test_no_row_objects_until_indexed(tmp_path: Path, monkeypatch) -> None:
    n = 10_000
    (tmp_path / "present").write_bytes(b"p")
    entries = [("present", b"p")] + [(f"missing/{i}", b"") for i in range(n - 1)]
    write_manifest(tmp_path / "sha1sum.txt", entries)

    made = []

    class CountingRow(checksig.Row):
        def __new__(cls, *args, **kwargs):
            made.append(1)
            return super().__new__(cls, *args, **kwargs)

    monkeypatch.setattr(_rows, "_ROW_CLASSES", (CountingRow, _row.LabelledRow))
    report = checksig.verify(tmp_path, ignore_missing=True)
    assert len(report) == n
    assert report.ok
    assert report.counts() == {"ok": 1, "missing": n - 1}
    assert report.failures == []
    repr(report)
    report._repr_html_()
    assert made == []
    assert report[5000].path == "missing/4999"
    assert len(made) == 1


def test_html_is_escaped(tmp_path: Path) -> None:
    write_manifest(tmp_path / "sha1sum.txt", [("<script>alert(1)</script>", b"")])
    (tmp_path / "sha1sum.txt").write_text((tmp_path / "sha1sum.txt").read_text() + "bad & line\n")
    html = checksig.verify(tmp_path)._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "missing" in html and "<table" in html


def test_warnings_in_report(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a")], extra_lines="junk\n\nmore junk\n")
    report = checksig.verify(tmp_path)
    assert [line for line, _ in report.warnings] == [2, 4]
    assert all(isinstance(msg, str) and msg for _, msg in report.warnings)
    assert "2 malformed manifest line(s) skipped" in str(report)


def test_to_pandas(mixed: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = checksig.verify(mixed).to_pandas()
    assert list(df.columns) == [
        "path",
        "status",
        "size",
        "expected",
        "actual",
        "algorithm",
        "line",
        "reason",
    ]
    assert len(df) == 10
    assert df["status"].value_counts()[["ok", "mismatch", "missing"]].tolist() == [8, 1, 1]
    assert df.loc[9, "path"] == "gone" and pd.isna(df.loc[9, "size"])
    assert df.loc[3, "actual"] == hexdigest(b"file 3")
    assert df["line"].tolist() == list(range(1, 11))


def test_to_pandas_agrees_with_rows(tmp_path: Path) -> None:
    """to_pandas builds its cells from the columns; every cell is the Row's."""
    pd = pytest.importorskip("pandas")
    write_tree(tmp_path, {"a": b"a", "b": b"b", "c": b"c", "unlisted": b"u"})
    (tmp_path / "dir").mkdir()
    raw = os.fsdecode(b"caf\xe9")
    (tmp_path / raw).write_bytes(b"x")
    lines = [
        manifest_line("a", b"a", "md5"),
        manifest_line("b", b"not b", "sha512"),
        manifest_line("gone", b"", "sha1"),
        manifest_line("dir", b"", "sha256"),
        manifest_line(raw, b"x", "sha1"),
        manifest_line("c", b"c", "sha224"),
    ]
    (tmp_path / "MANIFEST").write_text("".join(lines), errors="surrogateescape")
    report = checksig.verify(tmp_path, tmp_path / "MANIFEST", extra=True)
    df = report.to_pandas()
    assert {r.status for r in report} >= {"ok", "mismatch", "missing", "not_regular", "extra"}
    assert len(df) == len(report)
    for i, row in enumerate(report):
        cells = df.iloc[i].to_dict()
        for field in ("path", "status", "expected", "actual", "algorithm", "reason"):
            got = cells[field]
            assert (None if pd.isna(got) else got) == getattr(row, field), (i, field)
        assert (None if pd.isna(cells["size"]) else cells["size"]) == row.size
        assert (None if pd.isna(cells["line"]) else cells["line"]) == row.line


def test_to_pandas_without_pandas(mixed: Path, monkeypatch) -> None:
    report = checksig.verify(mixed)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        report.to_pandas()


def test_statuses_constant() -> None:
    assert checksig.STATUSES[:7] == (
        "pending",
        "ok",
        "mismatch",
        "missing",
        "unreadable",
        "not_regular",
        "outside_root",
    )


def test_signature_error_pickles(mixed: Path) -> None:
    import pickle

    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(mixed)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert again.report.counts() == info.value.report.counts()


# --- display and conversions -------------------------------------------------------------


def test_report_times_the_run(mixed: Path) -> None:
    report = checksig.verify(mixed)
    assert report.elapsed is not None and 0 < report.elapsed < 60
    assert report.bytes_hashed == sum(len(f"file {i}") for i in range(9))
    assert report.throughput == pytest.approx(report.bytes_hashed / report.elapsed)


def test_html_summary_and_failure_rows(mixed: Path) -> None:
    report = checksig.verify(mixed)
    html = report._repr_html_()
    assert "\u2718 2 of 10 entries failed" in html
    for head in ("entries", "ok", "mismatch", "missing", "bytes hashed", "elapsed", "throughput"):
        assert f">{head}</th>" in html, head
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("checksig-failures", 1)[1])[1:]  # no head
    assert len(rows) == 2
    assert ">f3</td>" in rows[0] and ">mismatch</td>" in rows[0] and "digest differs" in rows[0]
    # digests shortened in the cell, whole in the tooltip
    assert f"title='{hexdigest(b'not f3')}'" in rows[0]
    assert f"title='{hexdigest(b'file 3')}'" in rows[0]
    assert ">gone</td>" in rows[1] and ">missing</td>" in rows[1]
    assert "No such file or directory" in rows[1]
    ok_html = checksig.verify(mixed, ignore_missing=True)._repr_html_()
    assert "missing (ignored)" in ok_html


def test_html_of_a_huge_report_is_truncated(tmp_path: Path) -> None:
    n = 5000
    write_manifest(tmp_path / "sha1sum.txt", [(f"gone/{i}", b"") for i in range(n)])
    html = checksig.verify(tmp_path)._repr_html_()
    # the summary's head and row, the failures' head and rows
    assert html.count("<tr>") == 2 + 1 + _html.HTML_MAX_FAILURES
    assert f"and {n - _html.HTML_MAX_FAILURES:,} more failures" in html
    assert len(html) < 50_000
    text = str(checksig.verify(tmp_path))
    assert len(text.splitlines()) == 2 + _report.STR_MAX_FAILURES + 1
    assert f"and {n - _report.STR_MAX_FAILURES} more" in text


def test_html_ok_report(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"a"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a")])
    html = checksig.verify(tmp_path)._repr_html_()
    assert "\u2714 all 1 entry ok" in html and "checksig-failures" not in html


def test_signature_error_renders_the_report(mixed: Path) -> None:
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(mixed)
    html = info.value._repr_html_()
    assert "SignatureError: 2 of 10 files failed verification" in html
    assert "checksig-failures" in html and ">f3</td>" in html


def test_to_json_is_the_cli_schema(mixed: Path) -> None:
    report = checksig.verify(mixed)
    doc = json.loads(report.to_json())
    assert doc == report.to_dict()
    assert doc["schema"] == "checksig.report/1"
    assert doc["root"] == str(mixed) and doc["manifest"] == str(mixed / "sha1sum.txt")
    summary = doc["summary"]
    assert summary["entries"] == 10 and summary["passed"] is False
    assert summary["counts"] == {
        s: {"ok": 8, "mismatch": 1, "missing": 1}.get(s, 0) for s in checksig.STATUSES
    }
    assert summary["could_not_be_read"] == 1 and summary["ignored_missing"] == 0
    assert summary["bytes_hashed"] == report.bytes_hashed
    assert summary["elapsed_seconds"] == report.elapsed
    assert summary["io"] == list(report.io) == []  # no file big enough to say how it was read
    f3, gone = doc["entries"][3], doc["entries"][9]
    assert f3 == {
        "path": "f3",
        "line": 4,
        "status": "mismatch",
        "algorithm": "sha1",
        "expected": hexdigest(b"not f3"),
        "actual": hexdigest(b"file 3"),
        "size": 6,
        "reason": None,
    }
    assert gone["status"] == "missing" and gone["actual"] is None and gone["size"] is None
    assert gone["reason"] == os.strerror(errno.ENOENT)
    assert "\n" in report.to_json(indent=2)


def test_to_json_matches_checksig_check_json(mixed: Path) -> None:
    # The CLI writes the same document (FORMATS.md E12; its summary adds
    # exit_status), so the entries must agree, reasons included.
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "checksig", "check", "--json", str(mixed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode not in (0, 1) or not proc.stdout.startswith("{"):
        pytest.skip(f"checksig check --json is not available: {proc.stderr[:200]}")
    cli = json.loads(proc.stdout)
    lib = checksig.verify(mixed).to_dict()
    assert cli["schema"] == lib["schema"]
    assert set(lib["summary"]) - {"bytes_hashed", "elapsed_seconds", "io"} <= set(cli["summary"])
    assert cli["summary"]["counts"] == lib["summary"]["counts"]
    assert cli["entries"] == lib["entries"]
    for key in ("improperly_formatted", "could_not_be_read", "ignored_missing", "passed"):
        assert cli["summary"][key] == lib["summary"][key], key


@pytest.mark.parametrize("batch", [1, 3, 1 << 16])
def test_entries_agree_with_rows_across_batches(
    mixed: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # to_dict and the CLI read the columns a batch of rows at a time: every
    # entry must describe its own row whatever the batch boundaries.
    monkeypatch.setattr(_rows, "BATCH", batch)
    report = checksig.verify(mixed, ignore_missing=True)
    doc = report.to_dict()
    assert len(doc["entries"]) == len(report)
    for row, entry in zip(report, doc["entries"]):
        assert (entry["path"], entry["status"], entry["line"], entry["size"]) == (
            row.path,
            row.status,
            row.line,
            row.size,
        )
        assert (entry["expected"], entry["actual"], entry["algorithm"]) == (
            row.expected,
            row.actual,
            row.algorithm,
        )
    # The missing file is forgiven: counted as ignored, not as unreadable.
    assert doc["summary"]["ignored_missing"] == 1
    assert doc["summary"]["could_not_be_read"] == 0


def test_codes_this_version_does_not_know_read_the_same_everywhere(mixed: Path) -> None:
    # Columns written by a newer engine (or by hand): a row, to_dict and the CLI's
    # batches name an unknown status alike and show no digest for an unknown algorithm.
    report = checksig.verify(mixed)
    report.columns["status"][3] = 99
    report.columns["algorithm"][3] = 200  # beyond CHECKSIG_ALG_COUNT (9 is sha3_384 since ABI 2)
    row, entry = report[3], report.to_dict()["entries"][3]
    assert row.status == entry["status"] == "unknown(99)"
    assert row.expected is entry["expected"] is None and entry["algorithm"] is None
    assert [r[2] for r in report._rows.raw([3])] == ["unknown(99)"]


def test_to_json_undecodable_name(tmp_path: Path) -> None:
    raw = b"caf\xe9"
    (tmp_path / os.fsdecode(raw)).write_bytes(b"x")
    (tmp_path / "sha1sum.txt").write_bytes(hexdigest(b"x").encode() + b"  " + raw + b"\n")
    (entry,) = checksig.verify(tmp_path).to_dict()["entries"]
    assert entry["path"] == "caf\ufffd" and entry["path_bytes"] == raw.hex()
    json.loads(checksig.verify(tmp_path).to_json())


def test_extra_rows_have_no_expected_digest(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"a", "new": b"n"})
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a")])
    report = checksig.verify(tmp_path, extra=True)
    (row,) = report.failures
    assert (row.path, row.status, row.expected) == ("new", "extra", None)
    (entry,) = [e for e in report.to_dict()["entries"] if e["status"] == "extra"]
    assert entry["expected"] is None and entry["reason"] == "not listed in the manifest"


def test_text_views_escape_control_characters_and_undecodable_bytes(tmp_path: Path) -> None:
    raw = b"evil\x1b[31m\xff"
    (tmp_path / "sha1sum.txt").write_bytes(b"0" * 40 + b"  " + raw + b"\n")
    report = checksig.verify(tmp_path)
    assert os.fsencode(report[0].path) == raw  # the row keeps the exact name
    shown = "evil\\x1b[31m\\xff"
    assert report.failure_lines()[0].startswith(shown + ": missing")
    assert f"  {shown}: missing" in str(report)
    str(report).encode("utf-8")  # printable: no lone surrogate left
    assert shown in report._repr_html_() and "\x1b" not in report._repr_html_()
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(tmp_path)
    assert "\x1b" not in str(info.value) and shown in str(info.value)


def test_every_view_says_why_a_row_failed_in_the_same_words(tmp_path: Path) -> None:
    # One vocabulary (checksig/_words.py): str(), Row.describe(), the
    # SignatureError, the notebook view, JSON and the CLI's stderr line all give
    # a failed row the same reason.
    import html
    import subprocess

    from checksig import _words

    write_tree(tmp_path, {"a": b"a", "new": b"n", "dir/x": b"x"})
    os.mkfifo(tmp_path / "fifo")
    (tmp_path.parent / "secret").write_bytes(b"s")
    write_manifest(
        tmp_path / "sha1sum.txt",
        [("a", b"other"), ("gone", b""), ("fifo", b""), ("../secret", b"s"), ("dir", b"")],
    )
    report = checksig.verify(tmp_path, extra=True)
    by_path = {e["path"]: e for e in report.to_dict()["entries"]}
    statuses = {r.path: r.status for r in report}
    assert statuses == {
        "a": "mismatch",
        "gone": "missing",
        "fifo": "not_regular",
        "../secret": "outside_root",
        "dir": "not_regular",
        "dir/x": "extra",
        "new": "extra",
    }
    text, page = str(report), report._repr_html_()
    with pytest.raises(checksig.SignatureError) as info:
        checksig.check_signatures(tmp_path, extra=True)
    cli = subprocess.run(
        [sys.executable, "-m", "checksig", "check", "--no-progress", "--extra", str(tmp_path)],
        capture_output=True,
        timeout=60,
    )
    for row in report.failures:
        why = by_path[row.path]["reason"]
        if row.status == "mismatch":
            assert why is None and _words.DIGEST_DIFFERS in page
            continue
        errnum = report.columns["errnum"][list(report).index(row)]
        assert why == _words.reason(row.status, int(errnum)), row
        assert why in row.describe() and row.describe() in text, row
        assert f"{row.path}: {row.describe()}" in str(info.value), row
        assert html.escape(why) in page, row
        if row.status != "extra":  # an extra file says "FAILED not listed" on stdout
            assert f"checksig: {row.path}: {why}\n".encode() in cli.stderr, row
    # A row's own words, not two ways of saying one thing.
    assert by_path["fifo"]["reason"] == "not a regular file (never read)"
    assert by_path["dir"]["reason"] == os.strerror(errno.EISDIR)
    rows = {r.path: r for r in report}
    assert rows["dir"].describe() == f"not a regular file ({os.strerror(errno.EISDIR)})"
    assert rows["gone"].describe() == f"missing ({os.strerror(errno.ENOENT)})"
    assert rows["new"].describe() == "extra (not listed in the manifest)"


def test_label_columns_show_in_every_view(mixed: Path) -> None:
    # Extra per-row columns (a package, a repo and revision) ride along with
    # the engine's: str(), the HTML, JSON, pandas and pickling carry them.
    pd = pytest.importorskip("pandas")
    base = checksig.verify(mixed)
    packages = [f"pkg{i % 3}" for i in range(len(base))]
    packages[-1] = None
    report = _report.Report(
        base._raw_columns(), root=mixed, manifest=base.manifest, labels={"package": packages}
    )
    assert "  [package=pkg0] f3: mismatch (" in str(report)
    assert report.failure_lines()[1] == f"gone: missing ({os.strerror(errno.ENOENT)})"
    page = report._repr_html_()
    assert ">package</th>" in page and ">pkg0</td>" in page
    entries = report.to_dict()["entries"]
    assert [e["labels"]["package"] for e in entries] == packages
    assert "labels" not in base.to_dict()["entries"][0]  # no label columns, no key
    frame = report.to_pandas()
    assert list(frame.columns[:2]) == ["path", "package"]
    assert frame["package"].tolist()[:3] == packages[:3] and pd.isna(frame["package"].iloc[-1])
    assert pickle.loads(pickle.dumps(report)).to_dict()["entries"] == entries
    with pytest.raises(ValueError, match="3 values for 10 rows"):
        _report.Report(base._raw_columns(), labels={"package": ["a", "b", "c"]})


def test_rows_carry_their_labels_and_stay_8_field_tuples(mixed: Path) -> None:
    # `for row in report` sees a row's labels (row.labels), while a Row stays
    # what it was: 8 fields to unpack, compare, _asdict() and _replace().
    base = checksig.verify(mixed)
    packages = [f"pkg{i % 3}" for i in range(len(base))]
    packages[-1] = None
    report = _report.Report(base._raw_columns(), root=mixed, labels={"package": packages})
    rows = list(report)
    assert [r.labels for r in rows] == [{"package": p} for p in packages]
    assert [r.labels for r in report.failures] == [
        {"package": packages[i]} for i, r in enumerate(rows) if r in report.failures
    ]
    plain = list(base)
    assert rows == plain and all(isinstance(r, checksig.Row) for r in rows)
    path, status, size, expected, actual, algorithm, line, reason = rows[0]
    assert (path, status, line) == (plain[0].path, plain[0].status, plain[0].line)
    assert rows[0]._fields == checksig.Row._fields and len(rows[0]) == 8
    assert rows[0]._asdict() == plain[0]._asdict()
    changed = rows[0]._replace(status="missing")
    assert changed.status == "missing" and changed.labels == {"package": packages[0]}
    again = pickle.loads(pickle.dumps(rows[0]))
    assert again == rows[0] and again.labels == rows[0].labels
    assert "labels={'package': 'pkg0'}" in repr(rows[0])
    rows[0].labels["package"] = "changed"  # a copy: the report is not changed
    assert report[0].labels == {"package": "pkg0"}
    assert plain[0].labels == {} and type(plain[0]) is checksig.Row
