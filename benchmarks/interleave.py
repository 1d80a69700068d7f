"""The in-process harness of ecosystems.py and stores.py: tools timed in turn."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def interleaved(tools: dict[str, Callable[[str], int]], arg: str, repeat: int) -> list[dict]:
    """Each tool's ``fn(arg)`` (its count of failures) run ``repeat`` times, the
    tools in turn (interleaved, so a drift of the machine's speed hits them
    alike), after one warm-up round (page cache, imports). One row per tool:
    its seconds, their median, ``x_checksig`` (its median over the "checksig"
    tool's: above 1, checksig is faster) and the failures it counted."""
    for fn in tools.values():
        fn(arg)
    times: dict[str, list[float]] = {t: [] for t in tools}
    failures: dict[str, int] = {}
    for _ in range(repeat):
        for tool, fn in tools.items():
            start = time.perf_counter()
            failures[tool] = fn(arg)
            times[tool].append(time.perf_counter() - start)
    base = statistics.median(times["checksig"])
    return [
        {
            "tool": tool,
            "seconds": ts,
            "median": statistics.median(ts),
            "x_checksig": statistics.median(ts) / base,
            "failures": failures[tool],
        }
        for tool, ts in times.items()
    ]
