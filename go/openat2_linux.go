//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

// This file and cputime_linux.go hold the engine's only unsafe code: here the
// openat2(2) system call, which the syscall package does not wrap.

import (
	"bytes"
	"os"
	"syscall"
	"unsafe"
)

const (
	sysOpenat2         = 437 // the same number on every architecture this file builds for
	resolveNoMagiclink = 0x02
	resolveBeneath     = 0x08
)

type openHow struct {
	flags   uint64
	mode    uint64
	resolve uint64
}

// beneathOpener opens names with openat2(RESOLVE_BENEATH): the kernel
// resolves the whole name relative to the root's descriptor in one call and
// fails with EXDEV if any step, ".." or symlink, would leave it. This is
// the fast path of confinement; rootOpener is the portable fallback.
type beneathOpener struct {
	dirfd int
	name  string
}

// openBeneath returns a beneathOpener for dir, or nil when the kernel lacks
// openat2 (Linux < 5.6) or a sandbox forbids it.
func openBeneath(dir string) (fileOpener, error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	o := &beneathOpener{dirfd: fd, name: dir}
	// Probe once: openat2(".") succeeds wherever the call exists and is allowed.
	probe, err := openat2(fd, []byte("."), oPath|syscall.O_CLOEXEC)
	if err == syscall.ENOSYS || err == syscall.EPERM {
		syscall.Close(fd)
		return nil, nil
	}
	if err == nil {
		syscall.Close(probe)
	}
	return o, nil
}

// readFlags open a file for hashing. O_NONBLOCK: opening a FIFO must not
// wait for a writer. O_NOCTTY: a terminal named in a manifest must not
// become ours.
const readFlags = syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY | syscall.O_CLOEXEC

// openat2 opens name relative to dirfd, confined beneath it. A name shorter
// than 256 bytes is made NUL-terminated on the stack, so that opening a file
// allocates nothing.
func openat2(dirfd int, name []byte, flags int) (int, error) {
	var buf [256]byte
	var p *byte
	if len(name) < len(buf) {
		copy(buf[:], name) // buf[len(name)] stays 0
		if bytes.IndexByte(buf[:len(name)], 0) >= 0 {
			return -1, syscall.EINVAL // as syscall.BytePtrFromString says
		}
		p = &buf[0]
	} else {
		var err error
		if p, err = syscall.BytePtrFromString(string(name)); err != nil {
			return -1, err
		}
	}
	how := openHow{
		flags:   uint64(flags),
		resolve: resolveBeneath | resolveNoMagiclink,
	}
	for {
		fd, _, e := syscall.Syscall6(sysOpenat2, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
		if e == syscall.EINTR || e == syscall.EAGAIN {
			continue // EAGAIN: a concurrent rename raced the lookup; retry
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

func (o *beneathOpener) close() error { return syscall.Close(o.dirfd) }

func (o *beneathOpener) plainFDs() (int, bool) { return o.dirfd, true }

// open opens name for hashing. Only a failure makes a string of the name.
func (o *beneathOpener) open(name []byte) (readCloser, int64, error) {
	if lexicallyOutside(name) {
		return nil, -1, &os.PathError{Op: "open", Path: string(name), Err: ErrOutsideRoot}
	}
	fd, err := openat2(o.dirfd, name, readFlags)
	if err == syscall.EXDEV {
		return nil, -1, &os.PathError{Op: "open", Path: string(name), Err: ErrOutsideRoot}
	}
	if err != nil {
		return nil, -1, openError(string(name), err)
	}
	return fdCheckRegular(fd, name)
}

// oPath is O_PATH, which the syscall package lacks on some architectures;
// its value is the same on every one this file builds for.
const oPath = 0x200000
