//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// The scan in batches (issue 20). On many small files the kernel's work per
// file is an open, an fstat, a read and a close, each a system call with
// its own entry, exit and Go's bookkeeping around it. Through io_uring a
// worker opens a batch of files (a chunk of the scan, up to 64) in one
// io_uring_enter, fstats each (a system call of its own: only a regular
// file may be read, and only the descriptor can say what it is without a
// race), reads every small regular file of the batch in one more enter, and
// closes them with the next batch's opens: two enters and an fstat per file
// instead of four system calls. Where data is not cached, the reads of a
// batch are in flight together, which a disk serves in parallel (queue
// depth) where one read at a time would wait for each.
//
// Every file goes through exactly the same steps and statuses as in the
// one-file path (scanOne): a name refused lexically, a NUL in a name, an
// open the kernel asks to retry, a file that is not regular, big, deferred
// or too big for the batch's buffer, and a read that did not end exactly at
// the size the fstat gave (the file changed, or a file system that does not
// read without blocking) all go through scanOne or hashRead, which go on
// where the batch left off. Tests run both paths over every status
// (TestURingScanAgrees).
//
// The ring is a worker's own for a job, made after the worker took its
// descriptor table (fdtable_linux.go), so that its descriptor and those its
// opens make live in that table. Where the kernel has no io_uring, a
// seccomp filter refuses it (Docker's default profile does) or
// io_uring_disabled is set, uringWorks says no once for the process, and
// the workers open files one at a time as before.

// uringEntries is the size of a worker's ring: a batch's opens and the
// previous batch's closes (scanChunk is at most 64).
const uringEntries = 128

// What a completion's userData says: the kind of request in the high bits,
// the batch slot (or the index in toClose) in the low ones.
const (
	tagOpen  = 1 << 32
	tagRead  = 2 << 32
	tagClose = 3 << 32
	tagKinds = 3 << 32
)

// uringBatches counts the batches read through a ring, and
// uringBeforeRead, when set, runs between a batch's fstats and its reads:
// for tests.
var (
	uringBatches    atomic.Int64
	uringBeforeRead func()
)

// notDone marks a slot whose request did not complete (the ring failed).
const notDone = -1 << 31

var uringChecked struct {
	once sync.Once
	ok   bool
}

// uringWorks reports whether this process may use io_uring as the scan
// does: a ring can be set up, and opens beneath a directory through it.
func uringWorks() bool {
	uringChecked.once.Do(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Never unlocked: the thread ends with this goroutine, and
			// with it any io-wq worker the probe's ring started (see
			// newURingScan).
			runtime.LockOSThread()
			uringChecked.ok = uringTryOpen()
		}()
		<-done
	})
	return uringChecked.ok
}

// uringTryOpen reports whether a ring can openat2 beneath a directory here.
func uringTryOpen() bool {
	r, err := newURing(8)
	if err != nil {
		return false
	}
	defer r.close()
	if !r.supports(uringOpOpenat2, uringOpRead, uringOpClose) {
		return false
	}
	dir, err := syscall.Open("/", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(dir)
	how := &openHow{flags: oPath | syscall.O_CLOEXEC, resolve: resolveBeneath | resolveNoMagiclink}
	name := []byte(".\x00")
	r.openat2(tagOpen, dir, name, how)
	res := int32(notDone)
	if r.submit(func(_ uint64, v int32) { res = v }) != nil || res < 0 {
		return false
	}
	syscall.Close(int(res))
	return true
}

// uringScan is a worker's ring and the state of its batch.
type uringScan struct {
	r   *uring
	o   *beneathOpener
	how *openHow // on the heap: a submission holds its address
	// howBase opens a name's last component relative to its directory's
	// descriptor (dirs): O_NOFOLLOW, so a symbolic link there fails
	// (ELOOP) and goes the whole way from the root through how instead.
	howBase *openHow
	// dirs holds a descriptor (O_PATH, in the worker's table) for each
	// directory the batch's names were in, up to maxDirFDs: see dirOf.
	dirs  map[string]int32
	slot  int    // the worker's stripe of openFiles
	names []byte // the batch's names, each ending in a NUL
	slots []uringSlot
	// toClose are descriptors opened by the ring and done with, closed
	// with the next submission (or at close).
	toClose []int32
}

// uringSlot is one file of a batch.
type uringSlot struct {
	row  int32
	name int32 // where its name starts in names
	fd   int32 // -1 once it is no longer the batch's to close
	res  int32 // the open's result, then the read's
	size int64
	off  int32 // where its read lands in the hasher's buffer
	// base says the open was of the last component, relative to its
	// directory's descriptor (howBase), not of the name from the root.
	base bool
}

// maxDirFDs bounds the directory descriptors a worker's ring keeps (when
// it is full, the names of other directories go the whole way from the
// root, and the next batch starts the cache again). A variable for tests.
var maxDirFDs = 256

// dirOf returns, for a name (not refused lexically, no NUL), the
// descriptor of its directory and where its last component starts, so that
// the ring opens only that component: openat2 with RESOLVE_BENEATH costs
// the kernel ~0.3-0.4 us more per open than a plain openat of one
// component (7% of a small file's system time on the EPYC VM), and files
// come many to a directory. The directory itself is opened once, with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS) from the root as every
// name was before, so it is beneath the root (a link out of it fails
// there); the component is opened with O_NOFOLLOW, so it cannot leave the
// directory either: a name without "/" or ".." opens an entry of that
// directory or, if the entry is a symbolic link, fails, and the caller
// opens the name the whole way from the root instead. ok is false when the
// name should go the whole way: no plain last component ("dir/", "d/."),
// or a directory that cannot be opened (the whole open says why, as the
// one-file path does).
func (s *uringScan) dirOf(name []byte) (dirfd int, base int, ok bool) {
	i := bytes.LastIndexByte(name, '/')
	last := name[i+1:]
	if len(last) == 0 || string(last) == "." || string(last) == ".." {
		return 0, 0, false
	}
	if i < 0 {
		return s.o.dirfd, 0, true
	}
	if fd, ok := s.dirs[string(name[:i])]; ok {
		return int(fd), i + 1, true
	}
	if len(s.dirs) >= maxDirFDs {
		// Full: the batch's requests may name every descriptor held, so
		// the cache starts again only between batches (scanBatch).
		return 0, 0, false
	}
	fd, err := openat2(s.o.dirfd, name[:i], oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return 0, 0, false
	}
	if s.dirs == nil {
		s.dirs = make(map[string]int32)
	}
	s.dirs[string(name[:i])] = int32(fd)
	openFiles.add(s.slot, 1)
	return fd, i + 1, true
}

// closeDirs closes the directory descriptors dirOf opened.
func (s *uringScan) closeDirs() {
	for d, fd := range s.dirs {
		syscall.Close(int(fd))
		openFiles.add(s.slot, -1)
		delete(s.dirs, d)
	}
}

// newURingScan returns a ring for the calling worker of j, or nil where the
// job does not use one: fewer than uringMin files to hash (0 as shipped), names not
// opened by openat2 (os.Root, unconfined or parse-only openers, a test's
// wrapper), no io_uring here, or a worker on the process's descriptor
// table (ownTable false).
//
// Only a thread with a table of its own, which ends with the job, makes a
// ring. The kernel's io_uring worker threads (io-wq, which run an open or
// a close that cannot complete inline) belong to the thread that submits,
// are shared by every ring it makes, outlive those rings while it lives,
// and keep the descriptor table the thread had when they were made. A Go
// thread that made a ring on the shared table and later ran a worker that
// took a table of its own would have its opens land in the process's
// table and its closes close the process's descriptors. So a ring lives
// only on a thread whose table never changes again and which ends with
// the job, taking its io-wq workers with it; the probe (uringWorks) runs
// on a thread of its own that ends too.
func (j *Job) newURingScan(h *hasher, ownTable bool) *uringScan {
	o, ok := j.open.(*beneathOpener)
	if !ok || !ownTable || j.expect < uringMin || !uringWorks() {
		return nil
	}
	r, err := newURing(uringEntries)
	if err != nil {
		return nil
	}
	return &uringScan{
		r: r, o: o, slot: h.slot,
		how:     &openHow{flags: readFlags, resolve: resolveBeneath | resolveNoMagiclink},
		howBase: &openHow{flags: readFlags | syscall.O_NOFOLLOW, resolve: resolveNoMagiclink},
		slots:   make([]uringSlot, 0, uringEntries),
	}
}

// close closes whatever the ring still holds open and then the ring. It is
// safe on nil and twice.
func (s *uringScan) close() {
	if s == nil || s.r == nil {
		return
	}
	s.release() // a panic mid-batch leaves its files here
	if !s.r.lost {
		s.submit(nil)
		s.r.close()
	}
	if !s.r.lost { // else a close may be in flight: never close a number twice
		for _, fd := range s.toClose {
			syscall.Close(int(fd))
			openFiles.add(s.slot, -1)
		}
	}
	s.toClose = s.toClose[:0]
	s.closeDirs()
	s.r = nil
}

// release hands every descriptor the batch still holds to toClose.
func (s *uringScan) release() {
	for k := range s.slots {
		if fd := s.slots[k].fd; fd >= 0 {
			s.toClose = append(s.toClose, fd)
			s.slots[k].fd = -1
		}
	}
}

// submit queues the pending closes (as room allows), submits, and calls
// done for every other completion; a close completed is taken off toClose.
// After a failure of the ring, the requests that did not complete keep
// notDone (see the callers) and the ring is not used again.
func (s *uringScan) submit(done func(tag, k int, res int32)) bool {
	closes := 0
	for k, fd := range s.toClose {
		if s.r.room() == 0 {
			break
		}
		s.r.closeFD(tagClose|uint64(k), int(fd))
		closes++
	}
	err := s.r.submit(func(ud uint64, res int32) {
		tag, k := ud&tagKinds, int(ud&^tagKinds)
		if tag == tagClose {
			s.toClose[k] = -1
			openFiles.add(s.slot, -1)
			return
		}
		if done != nil {
			done(int(tag), k, res)
		}
	})
	// Keep the closes that did not complete (never taken, or the ring failed).
	kept := s.toClose[:0]
	for _, fd := range s.toClose {
		if fd >= 0 {
			kept = append(kept, fd)
		}
	}
	s.toClose = kept
	if s.r.lost {
		// Requests still in flight may write into the hasher's buffer and
		// the ring: leave both to them for good.
		abandoned.Lock()
		abandoned.rings = append(abandoned.rings, s.r)
		abandoned.Unlock()
	}
	return err == nil
}

// abandoned keeps rings (and, through their requests, buffers) that failed
// with requests in flight, so that nothing they may still write is reused.
// Never seen; it exists so that such a bug cannot corrupt memory.
var abandoned struct {
	sync.Mutex
	rings []*uring
	bufs  [][]byte
}

// scanBatch is the scan of rows lo..hi through the ring: what the one-file
// loop of work does (scanOne), with the opens, the reads and the closes of
// the batch each in one io_uring_enter. It returns false if the job was
// cancelled mid-file.
func (j *Job) scanBatch(h *hasher, sc *scan, lo, hi int) bool {
	s := sc.ring
	s.slots, s.names = s.slots[:0], s.names[:0]
	for i := lo; i < hi; i++ {
		if sc.view.rows[i].preset != StatusPending {
			continue
		}
		name := sc.view.name(&sc.view.rows[i])
		if lexicallyOutside(name) || bytes.IndexByte(name, 0) >= 0 {
			// Refused before any system call, or with EINVAL by openat2:
			// the one-file path says how.
			f, size, err := j.open.open(name)
			if !j.scanOne(h, sc, i, f, size, err) {
				return false
			}
			continue
		}
		s.slots = append(s.slots, uringSlot{row: int32(i), name: int32(len(s.names)), fd: -1, res: notDone})
		s.names = append(append(s.names, name...), 0)
	}
	if len(s.slots) == 0 {
		return true
	}
	// The names are all in place (appending may have moved them) before any
	// request takes an address.
	if len(s.dirs) >= maxDirFDs {
		s.closeDirs() // no request names them now: the last batch completed
	}
	for k := range s.slots {
		sl := &s.slots[k]
		name := s.names[sl.name:]
		name = name[:bytes.IndexByte(name, 0)]
		if dirfd, base, ok := s.dirOf(name); ok {
			sl.base = true
			s.r.openat2(tagOpen|uint64(k), dirfd, s.names[int(sl.name)+base:], s.howBase)
		} else {
			s.r.openat2(tagOpen|uint64(k), s.o.dirfd, s.names[sl.name:], s.how)
		}
	}
	ok := s.submit(func(_, k int, res int32) {
		s.slots[k].res = res
		if res >= 0 {
			s.slots[k].fd = res
			openFiles.add(s.slot, 1)
		}
	})
	if j.cancelled.Load() {
		s.release()
		return true // the rows stay pending, as in the one-file loop
	}

	// Each open's outcome, as beneathOpener.open makes it; small regular
	// files are kept for the batch's read, the others go the one-file way.
	reads, budget := 0, len(h.buf)
	for k := range s.slots {
		sl := &s.slots[k]
		i := int(sl.row)
		name := sc.view.name(&sc.view.rows[i])
		var f readCloser
		size, err := int64(-1), error(nil)
		switch res := sl.res; {
		case res >= 0:
			sl.fd = -1 // fdCheckRegular closes it unless it is a regular file
			openFiles.add(s.slot, -1)
			if f, size, err = fdCheckRegular(int(res), name); err == nil {
				sl.fd = res
				openFiles.add(s.slot, 1)
			}
		case res == -int32(syscall.EXDEV):
			err = &os.PathError{Op: "open", Path: string(name), Err: ErrOutsideRoot}
		case res == notDone || res == -int32(syscall.EAGAIN) || res == -int32(syscall.EINTR) ||
			sl.base && res == -int32(syscall.ELOOP):
			// The ring failed, the kernel asks to try again (a rename
			// raced the lookup), or a last component opened on its own
			// is a symbolic link: the one-file open, from the root.
			f, size, err = j.open.open(name)
		default:
			err = openError(string(name), syscall.Errno(-res))
		}
		if err == nil && sl.fd >= 0 && ok && size < mmapMin && size < queueMin &&
			!(j.req.Defer && size >= j.req.DeferMin) && size+1 <= int64(budget) {
			sl.size = size
			sl.off = int32(len(h.buf) - budget)
			budget -= int(size+1+63) &^ 63 // reads land 64-byte aligned: the kernel copies faster
			budget = max(budget, 0)
			reads++
			continue
		}
		if sl.fd >= 0 {
			// Not read here: the one-file path takes it (and closes it).
			sl.fd = -1
			openFiles.add(s.slot, -1)
		}
		if !j.scanOne(h, sc, i, f, size, err) {
			s.release()
			return false
		}
	}
	if !ok {
		s.close() // the ring failed: the rest of the scan goes one file at a time
		sc.ring = nil
		return true
	}
	if reads == 0 {
		return true
	}

	if uringBeforeRead != nil {
		uringBeforeRead()
	}
	uringBatches.Add(1)
	// The reads: each of size+1 bytes, so that a read short exactly at the
	// size is the end of the file (as sequential's first read).
	for k := range s.slots {
		if sl := &s.slots[k]; sl.fd >= 0 {
			sl.res = notDone
			s.r.read(tagRead|uint64(k), int(sl.fd), h.buf[sl.off:int64(sl.off)+sl.size+1])
		}
	}
	ok = s.submit(func(_, k int, res int32) { s.slots[k].res = res })
	if s.r.lost {
		// Reads may still land in the buffer: it is theirs for good.
		abandoned.Lock()
		abandoned.bufs = append(abandoned.bufs, h.buf)
		abandoned.Unlock()
		h.buf = make([]byte, len(h.buf))
	}
	// First the files read whole (or failed) by the batch, whose bytes are
	// in the buffer; then those to read on or again, whose reads reuse it.
	for _, rest := range []bool{false, true} {
		for k := range s.slots {
			sl := &s.slots[k]
			if sl.fd < 0 || s.readOn(sl) != rest {
				continue
			}
			if !j.hashBatched(h, sc, sl) {
				s.release()
				return false
			}
		}
	}
	if !ok {
		s.close()
		sc.ring = nil
	}
	return true
}

// readOn reports whether a file of the batch needs reads after the batch's
// (in the hasher's buffer): its read returned neither an error nor exactly
// the size (the file changed), or did not happen.
func (s *uringScan) readOn(sl *uringSlot) bool {
	res := sl.res
	return res == notDone || res == -int32(syscall.EAGAIN) || res == -int32(syscall.EINTR) ||
		res > 0 && int64(res) != sl.size
}

// hashBatched hashes a file the batch read, or reads it on or again as the
// one-file path would have, and writes its row. It returns false if the
// job was cancelled mid-file.
func (j *Job) hashBatched(h *hasher, sc *scan, sl *uringSlot) bool {
	i, f := int(sl.row), fdFile(sl.fd)
	alg := sc.view.rows[i].alg
	sum := h.sum[:alg.Size()]
	var n int64
	var err error
	switch res := sl.res; {
	case res == notDone || res == -int32(syscall.EAGAIN) || res == -int32(syscall.EINTR):
		// Not read (the ring failed), or a file system that cannot read
		// without blocking: read it the one-file way.
		n, err = h.hashFile(f, sl.size, alg, sum)
	case res > 0 && int64(res) != sl.size:
		// A read that ended neither at the size nor just past it (a file
		// that changed, or a file system that answers short): the file is
		// read again from its start, the one-file way, for its first bytes
		// in the buffer may be gone (files read on before it reuse the
		// buffer from its start).
		if _, err = syscall.Seek(int(sl.fd), 0, io.SeekStart); err == nil {
			n, err = h.hashFile(f, sl.size, alg, sum)
		}
	case res >= 0:
		n, err = h.hashRead(f, sl.size, alg, sum, h.buf[sl.off:sl.off+res])
	default:
		err = syscall.Errno(-res) // what sequential's read(2) returns
	}
	st, errnum, n := outcome(sl.size, n, err)
	sc.ring.toClose = append(sc.ring.toClose, sl.fd)
	sl.fd = -1
	if sl.size > 0 {
		sc.sized += sl.size
	}
	return j.writeRow(h, i, st, errnum, n, sum)
}
