"""Start-up cost: what ``import checksig`` and a first per-file call import.

Issue 7 asks for ``import checksig`` plus a first call on a tiny file in under
30 ms over bare Python. What decides it is which modules load, so that is what
these tests pin down, deterministically: numpy (tens of ms), the modules only
jobs need, json, html and importlib.metadata are each imported on first use
only, and a first blocking call on a small folder (what every CLI run and
many scripts are) imports no standard module that costs more than a
millisecond: not typing, dataclasses (which imports inspect), pathlib (re,
urllib.parse) or sysconfig. Measured in fresh processes here, those four
together were ~45 ms on top of a ~20 ms bare start-up. Nothing here
measures time. Each check runs in a fresh interpreter started without site
(``-S``: no .pth hook can import a watched module first and hide it) and
counts only the modules that checksig added.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SUBPROCESS_TIMEOUT, run_json, write_manifest

import checksig

#: Modules `import checksig` must leave for later, and why they are costly.
LAZY = {
    "numpy": "tens of ms and BLAS threads; loaded when a batch call allocates its columns",
    "checksig._jobs": "only jobs need it",
    "checksig._feedback": "only jobs need it",
    "checksig._report": "only jobs need it",
    "checksig._progress": "checksig.Progress objects only: it imports dataclasses",
    "checksig._row": "checksig.Row objects only: it imports typing",
    "checksig._html": "the notebook view",
    "checksig._ecosystems": "verify_bag and verify_environment only: ~2 ms with _bagit",
    "checksig._stores": "verify_hf_cache, verify_ollama and verify_store only",
    "checksig._bagit": "BagIt bags only",
    "typing": "~10 ms; annotations only, or Row",
    "pathlib": "Path results only (report.root, make_manifest); imports re, urllib.parse",
    "re": "~5 ms; display names and the CLI only",
    "urllib.parse": "imported by pathlib",
    "dataclasses": "imports inspect; loaded with checksig.Progress",
    "inspect": "imported by dataclasses",
    "json": "Report.to_json and the CLI's --json only",
    "html": "the notebook view only",
    "importlib.metadata": "checksig.__version__ only",
    "sysconfig": "costs ~3 ms; the engine library's suffix comes from importlib",
    "shutil": "imports bz2 and lzma; the CLI's stdout copy only",
    "tempfile": "the CLI's stdin and stdout modes only",
    "string": "it imports re",
    "tqdm": "progress bars only",
    "checksig._dask": "verify(..., client=) only (issue 17)",
    "distributed": "Dask: seconds of imports; only with client= or --scheduler",
    "dask": "imported by distributed",
    "asyncio": "the a* functions and await job only",
    "threading": "~5 ms with functools and collections; start_* jobs' watcher only",
    "collections": "Report.counts() only (a Counter)",
    "functools": "imported by threading",
}


#: What a job needs beyond `import checksig` (the engine's columns live in an mmap).
JOB_MODULES = {"checksig._jobs", "checksig._feedback", "checksig._report"}


def new_modules(setup: str, code: str) -> list[str]:
    """The modules a fresh interpreter without site imported while running code (after setup)."""
    # json is imported after the second snapshot: it is one of the modules watched.
    child = textwrap.dedent(
        f"""
        import sys
        {setup}
        before = set(sys.modules)
        {code}
        added = sorted(set(sys.modules) - before)
        import json
        print(json.dumps(added))
        """
    )
    here = os.path.dirname(os.path.dirname(os.path.abspath(checksig.__file__)))
    env = {**os.environ, "PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", child],
        capture_output=True,
        text=True,
        env=env,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_checksig_leaves_the_costly_modules_for_later() -> None:
    added = new_modules("", "import checksig")
    assert "checksig._api" in added  # the snapshot saw the import
    loaded = {m: why for m, why in LAZY.items() if m in added}
    assert not loaded, f"import checksig imported modules meant for first use: {loaded}"


def test_a_first_file_digest_needs_neither_numpy_nor_dataclasses(tmp_path: Path) -> None:
    f = tmp_path / "tiny"
    f.write_bytes(b"tiny\n")
    added = new_modules(
        "",
        f"import checksig; assert checksig.file_digest({str(f)!r}, 'sha1')",
    )
    assert "checksig._native" in added
    loaded = sorted(set(LAZY) & set(added))
    assert not loaded, f"a first file_digest imported {loaded}"


@pytest.mark.parametrize(
    "call",
    [
        "checksig.check_signatures(root)",
        "assert checksig.verify(root).ok",
        "assert checksig.verify(root, ignore_missing=True).failures == []",
        "assert checksig.digest_files([root + '/a'])",
    ],
)
def test_a_first_blocking_call_imports_no_costly_module(tmp_path: Path, call: str) -> None:
    (tmp_path / "a").write_bytes(b"a\n")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a\n")])
    added = new_modules("", f"import checksig; root = {str(tmp_path)!r}; {call}")
    assert "checksig._native" in added  # the snapshot saw the import
    loaded = {m: why for m, why in LAZY.items() if m in added and m not in JOB_MODULES}
    assert not loaded, f"a first {call} imported: {loaded}"


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--quiet", "--no-progress", "ROOT"],
        ["check", "--no-progress", "ROOT"],
        ["digest", "ROOT/a"],
    ],
)
def test_a_plain_cli_run_imports_no_costly_module(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "a").write_bytes(b"a\n")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a\n")])
    args = [a.replace("ROOT", str(tmp_path)) for a in argv]
    added = new_modules("", f"import checksig._cli; assert checksig._cli.main({args!r}) == 0")
    assert "argparse" in added  # the snapshot saw the CLI start
    needed = JOB_MODULES | {"re", "functools", "collections"}  # argparse imports re, re them
    loaded = {m: why for m, why in LAZY.items() if m in added and m not in needed}
    assert not loaded, f"checksig {' '.join(argv)} imported: {loaded}"


def test_json_reports_need_no_numpy(tmp_path: Path) -> None:
    # to_json and ``checksig check --json`` read the engine's columns directly.
    (tmp_path / "a").write_bytes(b"a\n")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a\n")])
    root = str(tmp_path)
    for code in (
        f"import checksig; checksig.verify({root!r}).to_json()",
        f"import checksig._cli; checksig._cli.main(['check', '--json', {root!r}])",
    ):
        added = new_modules("", code)
        assert "json" in added and "numpy" not in added, code


def test_the_report_hands_out_paths(tmp_path: Path) -> None:
    # root and manifest are kept as strings so that a report needs no pathlib.
    (tmp_path / "a").write_bytes(b"a\n")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a\n")])
    report = checksig.verify(os.fsencode(tmp_path))
    assert report.root == tmp_path and isinstance(report.root, Path)
    assert report.manifest == tmp_path / "sha1sum.txt"
    assert report.to_dict()["manifest"] == str(tmp_path / "sha1sum.txt")


@pytest.mark.parametrize(
    ("code", "module"),
    [
        ("checksig.Job", "checksig._jobs"),
        ("checksig.Progress", "dataclasses"),
        ("from checksig import Report", "checksig._report"),
        ("checksig.Row", "checksig._row"),
        ("checksig.__version__", "importlib.metadata"),
        ("checksig.verify_bag", "checksig._ecosystems"),
        ("from checksig import averify_environment", "checksig._ecosystems"),
        ("checksig.verify_hf_cache", "checksig._stores"),
        ("from checksig import start_verify_store", "checksig._stores"),
    ],
)
def test_lazy_names_import_their_module_on_first_use(code: str, module: str) -> None:
    added = new_modules("import checksig", code)
    assert module in added


def test_lazy_names_are_the_objects_their_modules_define() -> None:
    result = run_json(
        """
        import dataclasses, json, checksig
        names = ["Job", "Progress", "Report", "Row"]
        looked_up = {n: getattr(checksig, n) for n in names}
        from checksig import _jobs, _progress, _report, _row
        print(json.dumps([
            looked_up == {"Job": _jobs.Job, "Progress": _progress.Progress,
                          "Report": _report.Report, "Row": _row.Row},
            checksig.STATUSES is _report.STATUSES,
            dataclasses.is_dataclass(checksig.Progress),
            set(names) <= set(dir(checksig)),
        ]))
        """
    )
    assert result == [True, True, True, True]


def test_the_ecosystem_and_store_functions_load_on_use_and_stay_documented() -> None:
    # They left `import checksig` (~2 ms); every name their modules export
    # must still be checksig's, be the function its module defines, and show
    # in dir() and help(checksig).
    result = run_json(
        """
        import json, pydoc, sys, checksig
        before = {m: m in sys.modules for m in ("checksig._ecosystems", "checksig._stores")}
        from checksig import _ecosystems, _stores
        names = {n: m for m in (_ecosystems, _stores) for n in m.__all__}
        text = pydoc.render_doc(checksig, renderer=pydoc.plaintext)
        print(json.dumps([
            before,
            sorted(names),
            [n for n in names if n not in checksig.__all__ or n not in dir(checksig)],
            [n for n, m in names.items() if getattr(checksig, n) is not getattr(m, n)],
            [n for n in names if n + "(" not in text],
        ]))
        """
    )
    before, names, unlisted, others, undocumented = result
    assert before == {"checksig._ecosystems": False, "checksig._stores": False}
    assert {"verify_bag", "averify_environment", "verify_hf_cache", "start_verify_store"} <= set(
        names
    )
    assert unlisted == [] and others == [] and undocumented == []


def test_the_cli_parser_does_not_look_the_version_up() -> None:
    added = new_modules("import checksig._cli", "checksig._cli.build_parser()")
    assert "importlib.metadata" not in added


def test_a_run_builds_only_its_commands_parser(tmp_path: Path, monkeypatch) -> None:
    # Every run pays for the parsers it builds: a run that names its command
    # first builds that one alone, and --help still lists every command.
    from checksig import _cli

    built: list[str] = []
    for command in _cli.COMMANDS:
        add = command.add_arguments
        monkeypatch.setattr(
            command,
            "add_arguments",
            lambda p, add=add, name=command.NAME: (built.append(name), add(p)),
        )
    (tmp_path / "f").write_bytes(b"x")
    assert _cli.main(["digest", str(tmp_path / "f")]) == 0
    assert built == ["digest"]
    built.clear()
    parser = _cli.build_parser()  # what --help, --version and usage errors get
    assert built == [c.NAME for c in _cli.COMMANDS]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == built
