"""Fresh-process start-up of checksig, over bare ``python -c pass`` (issue 7).

    python benchmarks/startup.py                 # 30 interleaved rounds
    python benchmarks/startup.py --repeat 50 --python /usr/bin/python3

Each round runs every scenario once, in a rotating order, as a new process:
``python -c pass``, ``import checksig``, ``import checksig`` + ``file_digest``
of a 100-byte file, and ``import checksig`` + ``check_signatures`` of a root
holding one such file. It prints, over the bare interpreter, the median and
the minimum wall time, the median CPU time (user + system, from wait4: less
disturbed by other load than wall time) and the median exit time: from the
last statement of the child (which prints ``time.monotonic()``) until the
parent's wait4 returns, i.e. interpreter finalisation and process teardown.

Compiled bytecode is written to and read from a cache outside the tree
(PYTHONPYCACHEPREFIX), as an installed package has it; ``--as-is`` keeps the
environment unchanged instead (with PYTHONDONTWRITEBYTECODE=1 every run then
compiles checksig from source). Run it from the checkout whose ``checksig``
is to be measured: the child imports it from the current directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TAIL = "\nimport sys as _s, time as _t; _s.stdout.write(repr(_t.monotonic()))"


def scenarios(data: Path) -> dict[str, str]:
    tiny, root = str(data / "tiny.bin"), str(data / "root")
    return {
        "python -c pass": "pass",
        "import checksig": "import checksig",
        "+ file_digest": f"import checksig; checksig.file_digest({tiny!r}, 'sha1')",
        "+ check_signatures": f"import checksig; checksig.check_signatures({root!r})",
    }


def make_data(data: Path) -> None:
    import hashlib

    (data / "root").mkdir(parents=True)
    blob = bytes(range(100))
    (data / "tiny.bin").write_bytes(blob)
    (data / "root" / "a.bin").write_bytes(blob)
    line = f"{hashlib.sha1(blob).hexdigest()}  a.bin\n"
    (data / "root" / "sha1sum.txt").write_text(line)


def run_once(python: str, code: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, cpu seconds, exit seconds) of one fresh process."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [python, "-c", code + TAIL], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    t1 = time.monotonic()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{code!r} failed:\n{err.decode(errors='replace')}")
    return t1 - t0, usage.ru_utime + usage.ru_stime, t1 - float(out.split()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--python", default=sys.executable, help="interpreter (default: this one)")
    p.add_argument("--repeat", type=int, default=30, help="measured rounds (default 30)")
    p.add_argument("--as-is", action="store_true", help="do not add a bytecode cache")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="checksig-startup-") as tmp:
        data = Path(tmp) / "data"
        make_data(data)
        env = dict(os.environ)
        if not args.as_is:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        cases = scenarios(data)
        keys = list(cases)
        samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in keys}
        for rnd in range(args.repeat + 2):  # two unmeasured rounds fill the caches
            for k in keys[rnd % len(keys) :] + keys[: rnd % len(keys)]:
                sample = run_once(args.python, cases[k], env)
                if rnd >= 2:
                    samples[k].append(sample)
    med = {k: [statistics.median(col) for col in zip(*v)] for k, v in samples.items()}
    low = {k: min(s[0] for s in v) for k, v in samples.items()}
    base, base_low = med[keys[0]], low[keys[0]]
    print(f"{args.python}, {args.repeat} rounds, load average {os.getloadavg()[0]:.1f}")
    print(
        f"{keys[0]:<20} wall {base[0] * 1e3:6.1f} ms median, {base_low * 1e3:6.1f} min; "
        f"cpu {base[1] * 1e3:5.1f} ms; exit {base[2] * 1e3:5.1f} ms"
    )
    for k in keys[1:]:
        m = med[k]
        print(
            f"{k:<20} wall {(m[0] - base[0]) * 1e3:+6.1f} ms median, "
            f"{(low[k] - base_low) * 1e3:+6.1f} min; cpu {(m[1] - base[1]) * 1e3:+5.1f} ms; "
            f"exit {(m[2] - base[2]) * 1e3:+5.1f} ms"
        )


if __name__ == "__main__":
    main()
