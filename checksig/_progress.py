"""Progress: the public snapshot of a job's counters (see _feedback for how
it is fed). A module of its own because it is a dataclass: importing
``dataclasses`` costs a fresh process ~25 ms, which only code that asks for
a Progress pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _native

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Progress"]


@dataclass(frozen=True)
class Progress:
    """A snapshot of a job's progress: immutable, taken when the job was polled.

    Attributes:
        phase: "enumerating" (reading the manifest or walking the tree),
            "running" (hashing) or "done". ("ready", between
            the two, is passed through at once.)
        files_done: files finished so far (hashed, or found missing, ...).
        files_total: files to check, or None while enumerating.
        bytes_done: bytes hashed so far.
        bytes_total: bytes to hash, or None until the engine has opened every
            file (it hashes small files as it meets them and queues big ones,
            largest first: a manifest of many small files is mostly done by
            then). ``make_manifest``'s walk sizes the files as it goes.
        elapsed: seconds since the job started (until it ended, once done).
        rate: bytes hashed per second since hashing started, or None.
        eta: estimated seconds left (``(bytes_total - bytes_done) / rate``;
            before the byte total is known, from the files done so far), or
            None when unknown; 0.0 once done.
        warnings: malformed manifest lines skipped so far.

    For code written against checksig 0.1, whose callables received a
    dict, ``p["bytes_done"]`` and ``p.get("files_total")`` still work and
    return that dict's values (-1 for an unknown total).
    """

    phase: str
    files_done: int
    files_total: int | None
    bytes_done: int
    bytes_total: int | None
    elapsed: float
    rate: float | None
    eta: float | None
    warnings: int = 0
    _counters: tuple = field(default=(), repr=False, compare=False)

    @classmethod
    def _from_counters(
        cls, counters: tuple[int, ...], *, elapsed: float, hashing: float | None
    ) -> Progress:
        """Build a snapshot from CHECKSIG_P_* counters; hashing: seconds spent hashing."""
        n = _native
        phase = n.phase_name(counters[n.P_PHASE])
        files_done, files_total = counters[n.P_FILES_DONE], counters[n.P_FILES_TOTAL]
        bytes_done, bytes_total = counters[n.P_BYTES_DONE], counters[n.P_BYTES_TOTAL]
        ftotal = files_total if files_total >= 0 and phase != "enumerating" else None
        btotal = bytes_total if bytes_total >= 0 else None
        rate = bytes_done / hashing if hashing and hashing > 0 else None
        eta: float | None = None
        if phase == "done":
            eta = 0.0
        elif rate and btotal is not None:
            eta = max(btotal - bytes_done, 0) / rate
        elif hashing and ftotal and files_done > 0:
            # Before the byte total is known the engine is scanning the list in
            # order, hashing small files as it meets them: go by files.
            eta = hashing * max(ftotal - files_done, 0) / files_done
        return cls(
            phase=phase,
            files_done=files_done,
            files_total=ftotal,
            bytes_done=bytes_done,
            bytes_total=btotal,
            elapsed=elapsed,
            rate=rate,
            eta=eta,
            warnings=counters[n.P_WARNINGS],
            _counters=tuple(counters),
        )

    @property
    def fraction(self) -> float | None:
        """bytes_done / bytes_total (0.0 to 1.0), or None while the total is unknown."""
        if self.bytes_total is None:
            return None
        if self.bytes_total == 0:
            return 1.0 if self.phase == "done" else 0.0
        return min(self.bytes_done / self.bytes_total, 1.0)

    # -- the 0.1 dict view

    def _legacy(self) -> dict[str, Any]:
        d = _native.progress_dict(self._counters or (0,) * _native.P_LEN)
        d["phase"] = self.phase
        return d

    def __getitem__(self, key: str) -> Any:
        """``p["bytes_done"]``: the checksig 0.1 progress dict's value for key."""
        return self._legacy()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``p.get("bytes_total", -1)``: as ``dict.get`` on the 0.1 progress dict."""
        return self._legacy().get(key, default)
