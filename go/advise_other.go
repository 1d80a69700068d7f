//go:build unix && !linux

package checksig

// adviseSequential is a no-op where the syscall package has no madvise
// (macOS): the kernel's own read-ahead applies.
func adviseSequential([]byte) {}

// populate is a no-op here: the hashing goroutine takes the page faults
// (mapAhead's helper still unmaps the windows already hashed).
func populate([]byte) {}
