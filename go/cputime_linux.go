package checksig

// This file and openat2_linux.go hold the engine's only unsafe code: here
// clock_gettime(2) on the thread's CPU clock, which the syscall package
// does not wrap. getrusage(RUSAGE_THREAD) would need none, but it counts a
// running thread's time only up to the last scheduler tick (4 ms at
// HZ=250), longer than a calibration window takes.

import (
	"syscall"
	"unsafe"
)

// threadCPUClock reports whether threadCPU measures: the calibration
// (io.go) needs the CPU time of one thread.
const threadCPUClock = true

const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID

// threadCPU returns the CPU time the calling thread has used, user and
// system, in nanoseconds, or 0 if the clock cannot be read. The caller locks
// its goroutine to the thread.
func threadCPU() int64 {
	var ts syscall.Timespec
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return 0
	}
	return ts.Nano()
}

// threadSwitches returns how many times the calling thread has been
// switched out, voluntarily or not: a calibration window during which it
// was is not a clean measurement (another thread's caches and TLB entries
// replaced its own).
func threadSwitches() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return -1
	}
	return int64(ru.Nvcsw) + int64(ru.Nivcsw)
}

// rusageThread is getrusage's RUSAGE_THREAD (Linux 2.6.26 and later).
const rusageThread = 1
