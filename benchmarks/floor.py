"""The floor under issue 20's small-file targets, measured on this machine.

Every verifier, checksig and `sha1sum -c` alike, must ask the kernel for each
file: open it beneath the root, fstat it (only a regular file may be read), read
it, close it. On many small files that work is most of the CPU time and no tool
can do it for less, so it bounds what any tool can gain over another. The probe
(a small Go program, built once like run.py's crypto/sha1 probe) does exactly
those four system calls per file of a dataset's manifest, on one locked thread,
timed on the thread's CPU clock, the least of three passes, with nothing else:
no hashing, no report, no Go scheduler bookkeeping (raw system calls).

From it, `ceiling` gives the best ratio checksig's API could reach against a peer
in the same run: its own time outside the engine's call (Python's start-up, the
import, the report: measured in the same run), plus the floor's CPU time for the
dataset and SHA-1 of its bytes at the OpenSSL limit, spread over every core with
nothing lost. A target above that ceiling cannot be met on this machine by any
engine, only by doing less than the floor (Linux has no system call that reads a
file by name without opening it).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

FLOOR_SRC = """\
// The kernel's work per file that any verifier needs: see benchmarks/floor.py.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

func threadCPU() int64 {
	var ts syscall.Timespec
	const threadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, threadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func main() {
	root, manifest := os.Args[1], os.Args[2]
	f, err := os.Open(manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var names [][]byte // NUL-terminated, for the raw openat
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Bytes(); len(line) > 42 {
			names = append(names, append(append([]byte(nil), line[42:]...), 0))
		}
	}
	runtime.LockOSThread()
	dir, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil || len(names) == 0 {
		fmt.Fprintln(os.Stderr, "no root or no names:", err)
		os.Exit(1)
	}
	buf := make([]byte, 256<<10)
	const flags = syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY | syscall.O_CLOEXEC
	best, total := int64(-1), int64(0)
	for pass := 0; pass < 3; pass++ {
		total = 0
		t0 := threadCPU()
		for _, n := range names {
			fd, _, e := syscall.RawSyscall6(syscall.SYS_OPENAT, uintptr(dir),
				uintptr(unsafe.Pointer(&n[0])), flags, 0, 0, 0)
			if e != 0 {
				fmt.Fprintf(os.Stderr, "%s: %v\\n", n[:len(n)-1], e)
				os.Exit(1)
			}
			var st syscall.Stat_t
			syscall.RawSyscall(syscall.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&st)), 0)
			for { // one read for a file smaller than the buffer, as a verifier sized by fstat
				r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd,
					uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
				if e != 0 || r <= 0 {
					break
				}
				total += int64(r)
				if int(r) < len(buf) {
					break
				}
			}
			syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		}
		if t := threadCPU() - t0; best < 0 || t < best {
			best = t
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"files": len(names), "bytes": total, "ns_per_file": float64(best) / float64(len(names)),
	})
}
"""


def measure(exe: str | None, root: Path, manifest: Path) -> dict | None:
    """The probe's result on one dataset ({"files", "bytes", "ns_per_file"}), or
    None where it was not built or failed (no Go, not Linux)."""
    if exe is None:
        return None
    r = subprocess.run([exe, str(root), str(manifest)], capture_output=True, text=True)
    if r.returncode:
        return None
    return json.loads(r.stdout)


def ceiling(floor: dict, outside_s: float, peer_s: float, sha1_bytes_s: float, cores: int) -> dict:
    """The best ratio against a peer taking peer_s that a tool spending outside_s
    besides its engine could reach: the floor's CPU time and SHA-1 of the bytes at
    sha1_bytes_s (one core), spread over cores with nothing lost."""
    kernel_s = floor["files"] * floor["ns_per_file"] / 1e9
    hash_s = floor["bytes"] / sha1_bytes_s
    call_s = (kernel_s + hash_s) / cores
    best_s = outside_s + call_s
    return {
        "ns_per_file": round(floor["ns_per_file"], 1),
        "kernel_cpu_s": round(kernel_s, 4),
        "hash_cpu_s": round(hash_s, 4),
        "best_call_s": round(call_s, 4),
        "outside_call_s": round(outside_s, 4),
        "best_s": round(best_s, 4),
        "ceiling_x": round(peer_s / best_s, 3),
    }
