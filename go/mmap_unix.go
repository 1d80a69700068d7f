//go:build unix

package checksig

import (
	"hash"
	"reflect"
	"runtime/debug"
	"syscall"
)

// A window of a big file can be hashed straight out of the page cache
// through a memory mapping instead of being copied into a buffer with
// read(2): no copy, at the price of page faults and of walking the
// mapping's page tables, which on some machines costs less than the copy
// and on others more (io.go chooses). The mapping is one window at a time,
// unmapped before the next, so the process's resident set grows by at most
// one window per worker whatever the file's size (mapped file pages count
// as resident).
//
// The danger of mapping a file is a file that shrinks while it is mapped:
// touching a page past its new end raises SIGBUS. The Go runtime handles
// SIGBUS even in a c-shared library (it installs handlers for synchronous
// signals when the library loads and forwards those from non-Go code), and
// with debug.SetPanicOnFault a fault in this goroutine becomes a panic we
// recover and report as errChanged. A file that grows is caught by the
// fstat after the last window. Both mean the digest describes no version of
// the file that ever existed whole, which is what StatusChanged says.

// mmapMin is the size from which a file is hashed window by window, each
// window mapped or read as io.go chooses; smaller files are read into the
// worker's buffer, where read(2) is cheaper than mmap, fault and munmap
// (measured: equal around 64-256 KiB). Keep it at least 1: an empty file
// maps nothing.
var mmapMin int64 = 512 << 10

// fder is a file the engine can map: fdFile, and *os.File on the os.Root path.
type fder interface{ Fd() uintptr }

// mapHash hashes the n bytes of fd at off through a mapping. ok is false
// when the window cannot be mapped (a file system without mmap support):
// nothing was hashed and the caller reads instead.
func (h *hasher) mapHash(fd int, off int64, n int, d hash.Hash) (ok bool, err error) {
	win, merr := syscall.Mmap(fd, off, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if merr != nil {
		return false, nil
	}
	defer syscall.Munmap(win)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if f, isFault := r.(interface{ Addr() uintptr }); isFault && inside(f.Addr(), win) {
			// SIGBUS: the file shrank under the mapping.
			ok, err = true, errChanged
			return
		}
		panic(r) // not ours: a bug, which the job's recover reports
	}()
	adviseSequential(win)
	if afterWindow != nil {
		afterWindow(int(off / mapWindow))
	}
	d.Write(win)
	return true, nil
}

// inside reports whether addr lies in b.
func inside(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	lo := reflect.ValueOf(b).Pointer()
	return addr >= lo && addr < lo+uintptr(len(b))
}
