//go:build unix && !linux

package checksig

// adviseSequential is a no-op where the syscall package has no madvise
// (macOS): the kernel's own read-ahead applies.
func adviseSequential([]byte) {}
