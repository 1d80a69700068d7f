"""Report: numpy columns filled by the engine, Row objects only on demand."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import hexdigest, write_manifest, write_tree

import checksig
from checksig import _report


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
    assert lines[0] == f"{mixed / 'sha1sum.txt'}: 10 entries, 8 ok, 1 mismatch, 1 missing"
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

    monkeypatch.setattr(_report, "Row", CountingRow)
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
