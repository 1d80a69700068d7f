"""numpy, imported on first use.

``import checksig`` must stay cheap: a per-file call such as
:func:`checksig.file_digest` needs no numpy, and importing numpy (with its
BLAS threads) costs tens of milliseconds, more than the call itself. Batch
calls need none either (the engine fills raw buffers, ``_native.Buffers``):
numpy is imported once something asks for a report's numpy columns or
``to_pandas`` (``to_dict`` and ``to_json`` read the raw buffers). ``_api``,
``_report``, ``_jobs`` and ``_cli`` reach the modules they need only sometimes
(``_jobs``, ``_feedback``, ``_report``, ``_html``, pathlib, threading, json,
shutil, tempfile) through the same proxy; each attribute lookup through it
costs ~1 us, so a loop binds what it uses once.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any


class _LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)


np: Any = _LazyModule("numpy")


def package_version() -> str:
    """checksig's installed version (``checksig.__version__``), "0+unknown" when
    no metadata is installed. importlib.metadata is imported here, on first
    use: it costs ~10 ms, a third of ``import checksig``."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version("checksig")
    except PackageNotFoundError:
        return "0+unknown"
