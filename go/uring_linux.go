//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

// This file holds the engine's io_uring(7) layer (issue 20): the three
// system calls, the rings they share with the kernel, and nothing more. It
// is unsafe code, like openat2_linux.go, cputime_linux.go and
// openssl_linux.go: the rings are memory the kernel writes while Go reads
// them, and a submission hands the kernel addresses of Go memory.
//
// The rules that keep that sound:
//   - The rings are mappings of the ring's descriptor (never Go heap), read
//     and written only through sync/atomic where the kernel may change them
//     concurrently (the heads and tails), so every access is ordered.
//   - Every address a submission carries (a name, an open_how, a read
//     buffer) is Go heap memory that the caller keeps referenced until the
//     request's completion has been reaped: the heap does not move, and a
//     referenced object is not freed. Stack memory is never used (stacks
//     move).
//   - submit waits until every request it submitted has completed, so no
//     request is ever in flight when the caller returns, panics or closes
//     the ring: the kernel never writes Go memory that was let go.

import (
	"errors"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	sysIOUringSetup    = 425 // the same numbers on every architecture this file builds for
	sysIOUringEnter    = 426
	sysIOUringRegister = 427

	uringOpClose   = 19
	uringOpRead    = 22
	uringOpOpenat2 = 28

	uringEnterGetEvents = 1 << 0

	uringOffSQRing = 0
	uringOffCQRing = 0x8000000
	uringOffSQEs   = 0x10000000

	uringFeatSingleMmap = 1 << 0
	uringFeatNoDrop     = 1 << 1
	uringFeatRWCurPos   = 1 << 3

	uringRegisterProbe = 8
	uringOpSupported   = 1 << 0
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  uringSQOffsets
	cqOff                                                                  uringCQOffsets
}

type uringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// uringSQE is struct io_uring_sqe (64 bytes).
type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64 // the offset of a read; open_how's address for openat2
	addr        uint64 // a buffer's or a name's address
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   uint32
	addr3       uint64
	pad         uint64
}

// uringCQE is struct io_uring_cqe (16 bytes, without CQE32).
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// uringProbe is struct io_uring_probe with room for every opcode.
type uringProbe struct {
	lastOp, opsLen uint8
	resv           uint16
	resv2          [3]uint32
	ops            [256]struct {
		op, resv uint8
		flags    uint16
		resv2    uint32
	}
}

// uring is one ring, used by one goroutine at a time.
type uring struct {
	fd             int
	rings, sqesMem []byte // mappings: the SQ and CQ rings share one (IORING_FEAT_SINGLE_MMAP)
	sqHead, sqTail *uint32
	sqMask         uint32
	sqArray        []uint32
	sqes           []uringSQE
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []uringCQE
	queued         uint32 // SQEs filled since the last submit
	lost           bool   // submit returned with requests in flight
}

var errURingUnsupported = errors.New("checksig: io_uring lacks what the engine needs")

// newURing sets up a ring of entries submissions (a power of two; the
// completion ring gets twice as many). It fails where the kernel has no
// io_uring, a seccomp filter or io_uring_disabled refuses it, or it lacks
// a feature the engine relies on.
func newURing(entries uint32) (*uring, error) {
	var p uringParams
	fd, _, e := syscall.RawSyscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	r := &uring{fd: int(fd)}
	const need = uringFeatSingleMmap | uringFeatNoDrop | uringFeatRWCurPos
	if p.features&need != need || p.sqEntries < entries {
		r.close()
		return nil, errURingUnsupported
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	var err error
	if r.rings, err = syscall.Mmap(r.fd, uringOffSQRing, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.close()
		return nil, err
	}
	if r.sqesMem, err = syscall.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE); err != nil {
		r.close()
		return nil, err
	}
	u32 := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.rings[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(p.sqOff.head), u32(p.sqOff.tail), *u32(p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(u32(p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqesMem[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = u32(p.cqOff.head), u32(p.cqOff.tail), *u32(p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.rings[p.cqOff.cqes])), p.cqEntries)
	return r, nil
}

// supports reports whether the kernel implements every one of ops.
func (r *uring) supports(ops ...uint8) bool {
	var p uringProbe
	_, _, e := syscall.RawSyscall6(sysIOUringRegister, uintptr(r.fd), uringRegisterProbe, uintptr(unsafe.Pointer(&p)), uintptr(len(p.ops)), 0, 0)
	if e != 0 {
		return false
	}
	for _, op := range ops {
		if op > p.lastOp || p.ops[op].flags&uringOpSupported == 0 {
			return false
		}
	}
	return true
}

// close unmaps the rings and closes the ring. Nothing is in flight: submit
// waits for every completion.
func (r *uring) close() {
	if r.sqesMem != nil {
		syscall.Munmap(r.sqesMem)
	}
	if r.rings != nil {
		syscall.Munmap(r.rings)
	}
	r.sqesMem, r.rings, r.sqes, r.cqes, r.sqArray = nil, nil, nil, nil, nil
	syscall.Close(r.fd)
}

// room is how many more SQEs may be filled before submit.
func (r *uring) room() int {
	return len(r.sqes) - int(r.queued)
}

// next returns the next SQE to fill, cleared, with userData set. The caller
// must have checked room.
func (r *uring) next(userData uint64) *uringSQE {
	tail := atomic.LoadUint32(r.sqTail) + r.queued // only this goroutine moves the tail
	i := tail & r.sqMask
	r.sqArray[i] = i
	sqe := &r.sqes[i]
	*sqe = uringSQE{userData: userData}
	r.queued++
	return sqe
}

// openat2 queues an openat2(dirfd, name, how); name ends in a NUL.
func (r *uring) openat2(userData uint64, dirfd int, name []byte, how *openHow) {
	sqe := r.next(userData)
	sqe.opcode, sqe.fd = uringOpOpenat2, int32(dirfd)
	sqe.addr = uint64(uintptr(unsafe.Pointer(&name[0])))
	sqe.off = uint64(uintptr(unsafe.Pointer(how)))
	sqe.len = uint32(unsafe.Sizeof(*how))
}

// read queues a read(2) of len(buf) bytes of fd at its file position
// (buf not empty).
func (r *uring) read(userData uint64, fd int, buf []byte) {
	sqe := r.next(userData)
	sqe.opcode, sqe.fd = uringOpRead, int32(fd)
	sqe.addr = uint64(uintptr(unsafe.Pointer(&buf[0])))
	sqe.len = uint32(len(buf))
	sqe.off = ^uint64(0) // -1: the file position, which the read moves on (IORING_FEAT_RW_CUR_POS)
}

// closeFD queues a close(2) of fd.
func (r *uring) closeFD(userData uint64, fd int) {
	sqe := r.next(userData)
	sqe.opcode, sqe.fd = uringOpClose, int32(fd)
}

// submit hands the queued SQEs to the kernel and waits until all of them
// have completed, calling done for each completion (in completion order).
// When io_uring_enter fails for good (a bug: the ring is the engine's own),
// the SQEs it did not take are dropped without a completion, those it took
// are still waited for, and the error is returned. If even the wait fails,
// submit returns with requests in flight and lost reports true: the buffers
// they read into must never be used again (see abandon).
func (r *uring) submit(done func(userData uint64, res int32)) error {
	if r.queued == 0 {
		return nil
	}
	tail := atomic.LoadUint32(r.sqTail) + r.queued
	atomic.StoreUint32(r.sqTail, tail) // publishes the SQEs (a release)
	total, reaped := r.queued, uint32(0)
	r.queued = 0
	var failed error
	for reaped < total {
		pending := tail - atomic.LoadUint32(r.sqHead) // not taken by the kernel yet
		if failed != nil && pending > 0 {
			atomic.StoreUint32(r.sqTail, tail-pending) // take them back
			tail -= pending
			total -= pending
			continue
		}
		var e syscall.Errno
		if pending > 0 {
			// Submit without waiting, and without telling the scheduler
			// (RawSyscall): the kernel does a request inline when it can
			// without blocking (a cached open or read, a close) and queues
			// the others, so this never waits for I/O, and on a warm cache
			// every request is done when it returns. A long enter made
			// through Syscall has its P taken by sysmon after 20 µs, which
			// then wakes a thread to look for work and puts it back to
			// sleep: ~5,600 futex calls and 16,000 sysmon wake-ups on
			// 50,000 small files.
			_, _, e = syscall.RawSyscall6(sysIOUringEnter, uintptr(r.fd), uintptr(pending), 0, 0, 0, 0)
		} else {
			// Wait for what is still in flight (I/O on a cold cache), as
			// a blocking system call the scheduler knows of.
			_, _, e = syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), 0, uintptr(total-reaped), uringEnterGetEvents, 0, 0)
		}
		switch e {
		case 0, syscall.EINTR, syscall.EAGAIN, syscall.EBUSY:
			// EINTR: a signal while waiting; EAGAIN, EBUSY: short of memory
			// or of completion room for a moment. Reap and go on.
		default:
			if failed != nil && pending == 0 {
				reaped += r.reap(done)
				r.lost = reaped < total
				return failed
			}
			failed = e
		}
		reaped += r.reap(done)
	}
	return failed
}

// reap calls done for every completion available and returns their number.
func (r *uring) reap(done func(userData uint64, res int32)) uint32 {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail) // an acquire: the CQEs before it are written
	for i := head; i != tail; i++ {
		c := r.cqes[i&r.cqMask]
		done(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, tail) // hands the entries back
	return tail - head
}
