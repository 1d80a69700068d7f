"""Facts about the machine a benchmark runs on, for its header (run.py, ab.py)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """/proc/cpuinfo's model name, else platform.processor()."""
    if Path("/proc/cpuinfo").exists():
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    return platform.processor() or "?"


def kernel() -> str:
    return f"{platform.system()} {platform.release()}"


def virtualisation() -> str:
    """What `systemd-detect-virt --vm` and `--container` say ("kvm", "kvm+docker",
    "none"), or, without systemd-detect-virt, whether /proc/cpuinfo has the
    hypervisor flag. The same CPU model behaves differently bare and virtualised
    (page faults, TLB walks), so every tuned figure records it."""
    found = []
    for flag in ("--vm", "--container"):
        try:
            r = subprocess.run(
                ["systemd-detect-virt", flag], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            break
        out = r.stdout.strip()
        if out and out != "none":
            found.append(out)
    else:
        return "+".join(found) or "none"
    if not os.path.exists("/proc/cpuinfo"):
        return "unknown"
    flags = next(
        (ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), ""
    )
    return "a hypervisor (cpuinfo)" if " hypervisor" in flags else "none (cpuinfo)"
