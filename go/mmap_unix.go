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
	win := mapWindowAt(fd, off, n)
	if win == nil {
		return false, nil
	}
	defer syscall.Munmap(win)
	return true, hashMapped(win, off, d)
}

// mapWindowAt maps the n bytes of fd at off for reading front to back, or
// returns nil if they cannot be mapped.
func mapWindowAt(fd int, off int64, n int) []byte {
	win, err := syscall.Mmap(fd, off, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	adviseSequential(win)
	return win
}

// hashMapped hashes the mapped window win, at offset off of its file, with
// d: errChanged if the file shrank under it (SIGBUS, recovered).
func hashMapped(win []byte, off int64, d hash.Hash) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if f, isFault := r.(interface{ Addr() uintptr }); isFault && inside(f.Addr(), win) {
			// SIGBUS: the file shrank under the mapping.
			err = errChanged
			return
		}
		panic(r) // not ours: a bug, which the job's recover reports
	}()
	if afterWindow != nil {
		afterWindow(int(off / mapWindow))
	}
	d.Write(win)
	return nil
}

// mapAhead hashes the bytes of fd from off to size with d, window bytes at a
// time, each window mapped before the one before it is hashed so that a
// helper goroutine (on a CPU the engine leaves idle) can make its pages
// present while this one hashes, and unmap each window once hashed. It
// returns the bytes hashed and mapped == false when a window could not be
// mapped (the caller reads the rest); errChanged when the file shrank
// under a window. The helper has unmapped every window when it returns.
func (h *hasher) mapAhead(fd int, off, size, window int64, d hash.Hash) (n int64, mapped bool, err error) {
	mapAt := func(at int64) []byte { return mapWindowAt(fd, at, int(min(window, size-at))) }
	cur := mapAt(off)
	if cur == nil {
		return 0, false, nil
	}
	// The helper's work, in order: populate a window (unmap false), or
	// unmap one already hashed. A window is populated before it is
	// unmapped: it is sent for unmapping only after it was sent to populate.
	type task struct {
		win   []byte
		unmap bool
	}
	todo := make(chan task, 4) // a full queue holds the worker back: at most a few windows mapped
	done := make(chan struct{})
	busy.Add(1)
	go func() {
		defer close(done)
		defer busy.Add(-1)
		for t := range todo {
			if t.unmap {
				syscall.Munmap(t.win)
			} else {
				populate(t.win)
			}
		}
	}()
	// hashed is the window hashed last, still mapped: see below.
	var next, hashed []byte
	unmap := func(b *[]byte) {
		if *b != nil {
			todo <- task{*b, true}
			*b = nil
		}
	}
	defer func() {
		// Whatever is still mapped (on an error, a cancel, or a panic
		// in hashMapped, a bug the job's recover reports) goes to the
		// helper, which has unmapped it all when done is closed.
		unmap(&hashed)
		unmap(&cur)
		unmap(&next)
		close(todo)
		<-done
	}()
	h.used(ioMapAhead)
	for {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, true, ErrCancelled
		}
		w := int64(len(cur))
		if off+w < size {
			if next = mapAt(off + w); next != nil {
				todo <- task{next, false}
			}
		}
		// The window hashed last is sent to be unmapped only now that the
		// next one is mapped: munmap holds the address space's lock while
		// it tears the page tables down (2-5 ms for a BLAKE3 tree's 64 MiB
		// window here), and mapping the next window meanwhile waited for it
		// with the tree's helpers idle.
		unmap(&hashed)
		err := hashMapped(cur, off, d)
		hashed, cur = cur, nil
		if err != nil {
			return n, true, err
		}
		n += w
		off += w
		h.advance(w)
		if off >= size || next == nil {
			return n, off >= size, nil
		}
		cur, next = next, nil
	}
}

// inside reports whether addr lies in b.
func inside(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	lo := reflect.ValueOf(b).Pointer()
	return addr >= lo && addr < lo+uintptr(len(b))
}
