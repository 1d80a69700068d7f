"""The verify options, declared once: what every verify entry point accepts.

``verify``, ``check_signatures``, their ``start_`` and ``a`` forms (and every
entry point that verifies something and returns a Report) take the same
keyword options with the same defaults. :data:`FIELDS` is that list; each
entry point writes it out in its signature (so that ``help()``, notebooks and
type checkers show it) and hands ``locals()`` to :meth:`VerifyOptions.of`.
tests/test_api.py checks every entry point against :data:`FIELDS`, so an
option added here and forgotten in one signature fails the suite.
"""

from __future__ import annotations

from . import _algorithms, _native

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _api.py)
if TYPE_CHECKING:
    from typing import Any, Callable, Union

    from ._progress import Progress

    #: progress=: None (auto), True (always a bar), False (never) or a callable
    #: given each :class:`Progress` snapshot.
    ProgressArg = Union[bool, None, Callable[[Progress], Any]]

__all__ = ["FIELDS", "START_PROGRESS", "VerifyOptions", "check_progress_arg"]

#: The verify options, in signature order, with their defaults (progress's
#: is that of the blocking and asyncio forms).
FIELDS: tuple[tuple[str, Any], ...] = (
    ("algorithm", None),
    ("workers", None),
    ("strict", False),
    ("ignore_missing", False),
    ("extra", False),
    ("allow_outside_root", False),
    ("progress", None),
)

#: progress='s default in the start_* forms, which feed it only when observed.
START_PROGRESS = False


def check_progress_arg(progress: Any) -> None:
    """Raise TypeError for a progress= value that is none of the accepted kinds."""
    if progress is None or isinstance(progress, bool) or callable(progress):
        return
    raise TypeError(
        f"progress must be None (auto), True, False or a callable taking a "
        f"checksig.Progress, got {progress!r}"
    )


def workers_count(workers: Any) -> int:
    """workers= as the engine's count (0: one per CPU); ValueError if it is none."""
    if workers is None:
        return 0
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise ValueError(f"workers must be None or an int >= 0, got {workers!r}")
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (0 or None: one per CPU), got {workers}")
    return min(workers, 2**31 - 1)


class VerifyOptions:
    """One call's verify options (see :data:`FIELDS`), as the user gave them.

    Attributes are the options by name. :meth:`engine` checks them and
    turns them into what the engine's request takes.
    """

    __slots__ = tuple(name for name, _ in FIELDS)

    if TYPE_CHECKING:
        algorithm: str | None
        workers: int | None
        strict: bool
        ignore_missing: bool
        extra: bool
        allow_outside_root: bool
        progress: ProgressArg

    def __init__(self, **options: Any) -> None:
        for name, default in FIELDS:
            setattr(self, name, options.pop(name, default))
        if options:
            raise TypeError(f"unknown verify option(s): {', '.join(sorted(options))}")

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> VerifyOptions:
        """The options among an entry point's arguments (its ``locals()``)."""
        return cls(**{name: arguments[name] for name, _ in FIELDS})

    def engine(self) -> tuple[int, int, int]:
        """(algorithm code, workers, CHECKSIG_F_* flags) for the engine's request.

        Raises ValueError for an unknown algorithm or a bad workers count and
        TypeError for a bad progress, in that order. A family (``algorithm="sha3"``)
        is algorithm code NONE here and its code is :meth:`family`'s.
        """
        alg, _family = _algorithms.requested(self.algorithm)
        workers = workers_count(self.workers)
        check_progress_arg(self.progress)
        flags = (
            (_native.F_STRICT if self.strict else 0)
            | (_native.F_EXTRA if self.extra else 0)
            | (_native.F_ALLOW_OUTSIDE if self.allow_outside_root else 0)
        )
        return alg, workers, flags

    def family(self) -> int:
        """The CHECKSIG_FAMILY_* code of ``algorithm=`` when it names a family
        (``"sha2"``, ``"sha3"``: each untagged line's length picks the member),
        else FAMILY_NONE. ValueError as :meth:`engine`."""
        return _algorithms.requested(self.algorithm)[1]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in FIELDS)
        return f"VerifyOptions({shown})"
