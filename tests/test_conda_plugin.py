"""The conda doctor health check (checksig/_conda_plugin.py), loaded as conda
loads plugins: pluggy's PluginManager("conda") reading the installed
distribution's ``conda`` entry points, then the check's action run on a
hand-made conda prefix (tests/test_ecosystems.py's documented format).

conda itself cannot be installed from PyPI (its last upload there is 4.3.16,
from 2017, yanked, with no plugin system), so where it is missing the
subprocess puts a stand-in of the three names the plugin imports first on
sys.path: ``conda.plugins.hookimpl`` (pluggy's marker for project "conda",
as conda's own), ``conda.plugins.types.CondaHealthCheck`` and
``conda.base.constants``' marks. With a real conda (>= 24.x) the same test
uses it. Checked by hand with a real conda: conda 26.5.0 built from its
source (conda/conda at 0f64223fb, pip-installed with its PyPI dependencies
but menuinst, which PyPI lacks) lists ``checksig-files`` in ``conda doctor
--list`` and prints on this module's prefix what the test expects.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_ecosystems import conda_prefix

pytest.importorskip("pluggy")

STAND_IN = {
    "conda/__init__.py": "",
    "conda/base/__init__.py": "",
    "conda/base/constants.py": 'OK_MARK = "OK:"\nX_MARK = "X:"\n',
    "conda/plugins/__init__.py": 'import pluggy\nhookimpl = pluggy.HookimplMarker("conda")\n',
    "conda/plugins/types.py": textwrap.dedent(
        """
        from dataclasses import dataclass
        from typing import Callable, Optional

        @dataclass
        class CondaHealthCheck:
            name: str
            action: Callable
            fixer: Optional[Callable] = None
            summary: Optional[str] = None
            fix: Optional[str] = None
        """
    ),
}

DRIVER = textwrap.dedent(
    """
    import sys
    import pluggy

    class Specs:
        @pluggy.HookspecMarker("conda")
        def conda_health_checks(self):
            "conda's hook: yields CondaHealthCheck"

    pm = pluggy.PluginManager("conda")
    pm.add_hookspecs(Specs)
    pm.load_setuptools_entrypoints("conda")  # as conda's plugin manager does
    checks = [c for gen in pm.hook.conda_health_checks() for c in gen]
    (check,) = [c for c in checks if c.name == "checksig-files"]
    assert check.summary
    check.action(sys.argv[1], sys.argv[2] == "verbose")
    """
)


def run_doctor(tmp_path: Path, prefix: Path, verbose: bool) -> str:
    stand_in = tmp_path / "stand-in"
    try:
        import conda.plugins.types  # noqa: F401  a real conda: use it
    except ImportError:
        for name, text in STAND_IN.items():
            path = stand_in / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    code = f"import sys; sys.path.insert(0, {str(stand_in)!r})\n" + DRIVER
    out = subprocess.run(
        [sys.executable, "-c", code, str(prefix), "verbose" if verbose else "quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_health_check_on_a_conda_prefix(tmp_path: Path) -> None:
    prefix = conda_prefix(tmp_path)
    out = run_doctor(tmp_path, prefix, verbose=False)
    assert "checksig: 5 installed files match their packages' records" in out
    (prefix / "share" / "doc" / "readme").write_bytes(b"altered")
    (prefix / "lib" / "libz.so.1.3").unlink()
    out = run_doctor(tmp_path, prefix, verbose=False)
    assert "files that differ from their packages' records" in out
    assert "zlib 1.3: 2 missing, 1 mismatch" in out
    assert "share/doc/readme" not in out
    out = run_doctor(tmp_path, prefix, verbose=True)
    assert "[package=zlib 1.3] share/doc/readme: mismatch (expected" in out
    assert "[package=zlib 1.3] lib/libz.so: missing (No such file or directory)" in out


def test_the_plugin_is_registered() -> None:
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="conda") if ep.name == "checksig"]
    assert [ep.value for ep in found] == ["checksig._conda_plugin"]
