//go:build unix

package checksig

import (
	"hash"
	"reflect"
	"runtime/debug"
	"syscall"
)

// Big files are hashed straight out of the page cache through a memory
// mapping instead of being copied into a buffer with read(2). The copy is
// what the hash does not need: on a warm cache read(2) costs ~125 ms of CPU
// per GB on this kind of machine, ~14% on top of SHA-1 with SHA extensions,
// while mapping, faulting in and unmapping the same GB costs ~5 ms. It also
// frees the one core that hashes one huge file from copying, so no second
// goroutine is needed to overlap reading with hashing.
//
// The mapping is a window of mapWindow bytes at a time, unmapped before the
// next, so the process's resident set grows by at most one window per
// worker whatever the file's size (mapped file pages count as resident).
//
// The danger of mapping a file is a file that shrinks while it is mapped:
// touching a page past its new end raises SIGBUS. The Go runtime handles
// SIGBUS even in a c-shared library (it installs handlers for synchronous
// signals when the library loads and forwards those from non-Go code), and
// with debug.SetPanicOnFault a fault in this goroutine becomes a panic we
// recover and report as errChanged. A file that grows is caught by the
// fstat after the last window. Both mean the digest describes no version of
// the file that ever existed whole, which is what StatusChanged says.

// mmapMin is the size from which a file is mapped: below it read(2) into the
// worker's buffer is cheaper than mmap, fault and munmap (measured: equal
// around 64-256 KiB, mapping ~18% cheaper at 1 MiB). A variable so tests
// can send every file through the mapped path; keep it at least 1 (an empty
// file maps nothing: hashMapped would only fstat it).
var mmapMin int64 = 512 << 10

// mapWindow is how much of a file is mapped at once.
const mapWindow = 4 << 20

// afterMap, when set by a test, runs after each window is mapped and before
// it is hashed: the seam that truncates or grows a file mid-hash.
var afterMap func(window int)

// fder is a file the engine can map: fdFile, and *os.File on the os.Root path.
type fder interface{ Fd() uintptr }

// hashMapped hashes the size bytes of the regular file fd with d, window by
// window. ok is false when the first window cannot be mapped (a file system
// without mmap support): nothing was hashed and the caller reads instead.
func (h *hasher) hashMapped(fd int, size int64, d hash.Hash) (n int64, ok bool, err error) {
	var win []byte
	defer func() {
		if win != nil {
			syscall.Munmap(win)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if f, isFault := r.(interface{ Addr() uintptr }); isFault && win != nil && inside(f.Addr(), win) {
			// SIGBUS: the file shrank under the mapping.
			ok, err = true, errChanged
			return
		}
		panic(r) // not ours: a bug, which the job's recover reports
	}()
	for off := int64(0); off < size; off += int64(len(win)) {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, true, ErrCancelled
		}
		if win != nil {
			syscall.Munmap(win)
			win = nil
		}
		m, merr := syscall.Mmap(fd, off, int(min(mapWindow, size-off)), syscall.PROT_READ, syscall.MAP_SHARED)
		if merr != nil {
			if off == 0 {
				return 0, false, nil
			}
			return n, true, merr
		}
		win = m
		adviseSequential(win)
		if afterMap != nil {
			afterMap(int(off / mapWindow))
		}
		d.Write(win)
		n += int64(len(win))
		h.advance(int64(len(win)))
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return n, true, err
	}
	if st.Size != size {
		return n, true, errChanged
	}
	return n, true, nil
}

// inside reports whether addr lies in b.
func inside(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	lo := reflect.ValueOf(b).Pointer()
	return addr >= lo && addr < lo+uintptr(len(b))
}
