"""The build step pyproject.toml cannot declare: the Go library as an extension.

checksig._checksig is a placeholder Extension whose build_ext (GoBuildExt in
_build/gobuild.py) runs `go build -buildmode=c-shared ./capi` in go/. Being an
extension makes the wheel platform-specific, names the library with EXT_SUFFIX,
and lets `pip install -e .` build it in place. All metadata is in pyproject.toml.
"""

import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_build"))  # already there under the PEP 517 backend

from gobuild import make_build_ext  # noqa: E402


def _rel(paths):
    return sorted(p.relative_to(HERE).as_posix() for p in paths)


# The Go sources and the build's own files, so that an sdist carries everything a
# wheel is built from (setuptools puts every Extension source and in-tree
# `depends` entry in the sdist) and setuptools knows what the library depends on.
go_sources = _rel(
    p for p in (HERE / "go").rglob("*.go") if "testdata" not in p.relative_to(HERE).parts
)
go_depends = _rel(
    [HERE / "go" / "go.mod", *(HERE / "go").rglob("*.h"), *(HERE / "_build").glob("*.py")]
    + ([HERE / "go" / "go.sum"] if (HERE / "go" / "go.sum").exists() else [])
)

ext = Extension("checksig._checksig", sources=go_sources, depends=go_depends)
ext.go_package = "./capi"  # relative to go/, where go.mod is

setup(ext_modules=[ext], cmdclass={"build_ext": make_build_ext()})
