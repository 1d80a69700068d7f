"""Start-up cost: what ``import checksig`` and a first per-file call import.

Issue 7 asks for ``import checksig`` plus a first call on a tiny file in under
30 ms over bare Python. What decides it is which modules load, so that is what
these tests pin down, deterministically: numpy (tens of ms), the modules only
jobs need (they import typing, and dataclasses, which imports inspect), json,
html and importlib.metadata are each imported on first use only. Nothing here
measures time. Each check runs in a fresh interpreter and counts only the
modules that checksig added, so a site hook that imports one of them first
cannot fail it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_json

#: Modules `import checksig` must leave for later, and why they are costly.
LAZY = {
    "numpy": "tens of ms and BLAS threads; loaded when a batch call allocates its columns",
    "checksig._jobs": "only jobs need it; it imports typing",
    "checksig._progress": "only jobs need it; it imports dataclasses",
    "checksig._report": "only jobs need it",
    "checksig._html": "the notebook view",
    "typing": "~7 ms where site has not imported it",
    "pathlib": "Path results of jobs only",
    "dataclasses": "imports inspect; loaded with checksig.Progress",
    "inspect": "imported by dataclasses",
    "json": "Report.to_json and the CLI's --json only",
    "html": "the notebook view only",
    "importlib.metadata": "checksig.__version__ only",
    "sysconfig": "finding the engine library, on the first call",
    "string": "it imports re",
    "tqdm": "progress bars only",
    "asyncio": "the a* functions and await job only",
}


def new_modules(setup: str, code: str) -> list[str]:
    """The modules a fresh interpreter imported while running code (after setup)."""
    # json is imported after the second snapshot: it is one of the modules watched.
    return run_json(
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
    lazy = set(LAZY) - {"sysconfig"}  # the first call looks the library up
    loaded = sorted(lazy & set(added))
    assert not loaded, f"a first file_digest imported {loaded}"


@pytest.mark.parametrize(
    ("code", "module"),
    [
        ("checksig.Job", "checksig._jobs"),
        ("checksig.Progress", "dataclasses"),
        ("from checksig import Report", "checksig._report"),
        ("checksig.Row", "checksig._report"),
        ("checksig.__version__", "importlib.metadata"),
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
        from checksig import _jobs, _progress, _report
        print(json.dumps([
            looked_up == {"Job": _jobs.Job, "Progress": _progress.Progress,
                          "Report": _report.Report, "Row": _report.Row},
            checksig.STATUSES is _report.STATUSES,
            dataclasses.is_dataclass(checksig.Progress),
            set(names) <= set(dir(checksig)),
        ]))
        """
    )
    assert result == [True, True, True, True]


def test_the_cli_parser_does_not_look_the_version_up() -> None:
    added = new_modules("import checksig._cli", "checksig._cli.build_parser()")
    assert "importlib.metadata" not in added
