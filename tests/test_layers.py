"""The package's layers: every import in checksig/ goes down, never up.

README's Architecture section lists the modules top to bottom; LAYERS below
is that list. Every import of one checksig module by another counts: at the
top, inside a function, under TYPE_CHECKING, and a module named in a string
(``_LazyModule("checksig._html")``, ``import_module``, ``_kinds.KINDS``). So
the import graph has no cycle, and a newcomer reading the list bottom-up
meets every module after all it depends on.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import checksig

PACKAGE = Path(checksig.__file__).resolve().parent

#: Top to bottom, as README's Architecture section lists them.
LAYERS = [
    "__main__",
    "_conda_plugin",
    "_cli",
    "_cmd_check",
    "_cmd_make",
    "_cmd_digest",
    "_cmd_bag",
    "_cmd_env",
    "_cmd_hf",
    "_cmd_ollama",
    "_cmd_store",
    "_report_cli",
    "_console",
    "__init__",
    "_ecosystems",
    "_stores",
    "_api",
    "_dask",
    "_kinds",
    "_oci",
    "_ollama",
    "_hflocal",
    "_hfcache",
    "_store",
    "_bagit",
    "_record",
    "_conda",
    "_gnu",
    "_jobs",
    "_feedback",
    "_report",
    "_html",
    "_rows",
    "_row",
    "_options",
    "_progress",
    "_plan",
    "_algorithms",
    "_chunks",
    "_native",
    "_errors",
    "_words",
    "_lazy",
]


def imports(path: Path) -> set[str]:
    """The checksig modules a module's source imports or names, however."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from ._x import y
                found.add(node.module)
            elif node.level == 1:  # from . import _x, _y (or __version__: the package)
                for alias in node.names:
                    is_module = (PACKAGE / f"{alias.name}.py").exists()
                    found.add(alias.name if is_module else "__init__")
            elif node.module == "checksig":
                found.add("__init__")
            elif node.module and node.module.startswith("checksig."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "checksig":
                    found.add("__init__")
                elif alias.name.startswith("checksig."):
                    found.add(alias.name.split(".")[1])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = re.fullmatch(r"(?:checksig)?\.(_\w+)", node.value)
            if m and (PACKAGE / f"{m.group(1)}.py").exists():
                found.add(m.group(1))
    found.discard(path.stem)
    return found


def test_the_layers_name_every_module() -> None:
    assert sorted(LAYERS) == sorted(p.stem for p in PACKAGE.glob("*.py"))


def test_every_import_goes_down() -> None:
    up = []
    for name in LAYERS:
        for target in sorted(imports(PACKAGE / f"{name}.py")):
            if LAYERS.index(target) < LAYERS.index(name):
                up.append(f"{name} -> {target}")
    assert not up, f"imports that go up a layer (or round a cycle): {up}"


def test_the_readme_lists_the_layers_in_order() -> None:
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme[readme.index("checksig/        the Python package") : readme.index("\nrecipe/")]
    listed = list(dict.fromkeys(re.findall(r"\b(_\w+)\.py", block)))
    assert listed == LAYERS


def test_the_report_a_signature_error_carries_is_typed_as_the_report() -> None:
    # _errors sits below _report, so it types SignatureError.report with a
    # Protocol of the Report's public members (for type checkers only): it
    # must name exactly those, or a checked program would be told a real
    # member does not exist (or trust one that does not).
    tree = ast.parse((PACKAGE / "_errors.py").read_text())
    protocol = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name == "ReportLike"
    )
    declared = set()
    for node in protocol.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.FunctionDef):
            declared.add(node.name)
    from checksig import _report

    report = _report.Report
    public = {
        name
        for klass in report.__mro__[:-1]
        for name in vars(klass)
        if not name.startswith("_") or name in ("__len__", "__getitem__", "__iter__", "_repr_html_")
    }
    public -= {"__slots__", "__module__", "__doc__", "__annotations__"}
    assert declared == public, (sorted(public - declared), sorted(declared - public))
