//go:build !linux

package checksig

// threadCPUClock is false where the engine has no per-thread CPU clock
// without cgo (macOS): big files are then mapped, as measured cheaper on
// most machines, unless CHECKSIG_IO says otherwise.
const threadCPUClock = false

func threadCPU() int64 { return 0 }

func threadSwitches() int64 { return -1 }
