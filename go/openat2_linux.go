//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

// This file and statat_newfstatat.go hold the engine's only unsafe code: the
// openat2(2) and fstatat(2) system calls, which the syscall package does not
// wrap here. Everything unsafe stays in these two files.

import (
	"os"
	"strings"
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
	probe, err := o.openat2(".", oPath|syscall.O_CLOEXEC)
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

func (o *beneathOpener) openat2(name string, flags int) (int, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	how := openHow{
		flags:   uint64(flags),
		resolve: resolveBeneath | resolveNoMagiclink,
	}
	for {
		fd, _, e := syscall.Syscall6(sysOpenat2, uintptr(o.dirfd), uintptr(unsafe.Pointer(p)),
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

func (o *beneathOpener) open(name string) (readCloser, int64, error) {
	if lexicallyOutside(name) {
		return nil, -1, &os.PathError{Op: "open", Path: name, Err: ErrOutsideRoot}
	}
	fd, err := o.openat2(name, readFlags)
	if err == syscall.EXDEV {
		return nil, -1, &os.PathError{Op: "open", Path: name, Err: ErrOutsideRoot}
	}
	if err != nil {
		return nil, -1, openError(name, err)
	}
	return fdCheckRegular(fd, name)
}

func (o *beneathOpener) size(name string) int64 {
	size, done := o.sizer()
	defer done()
	return size(name)
}

// sizer returns a size function for one stat-pass worker. It keeps the
// last parent directory open (resolved beneath the root with openat2, so
// it is confined like every open) and stats the last component relative to
// it with one fstatat: manifests list files directory by directory, so a
// stat costs one system call instead of three. A final symlink is not
// followed (AT_SYMLINK_NOFOLLOW): its size is unknown and the open decides.
func (o *beneathOpener) sizer() (size func(string) int64, done func()) {
	lastDir, dirfd := "", -1
	done = func() {
		if dirfd >= 0 {
			syscall.Close(dirfd)
			dirfd = -1
		}
	}
	size = func(name string) int64 {
		if lexicallyOutside(name) {
			return -1
		}
		dir, base := "", name
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			dir, base = name[:i], name[i+1:]
		}
		fd := o.dirfd
		if dir != "" {
			if dir != lastDir || dirfd < 0 {
				if dirfd >= 0 {
					syscall.Close(dirfd)
				}
				var err error
				lastDir = dir
				if dirfd, err = o.openat2(dir, oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC); err != nil {
					dirfd = -1
					return -1
				}
			}
			fd = dirfd
		}
		if base == "" {
			return -1
		}
		var st syscall.Stat_t
		if err := statAt(fd, base, &st); err == nil {
			if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
				return -1
			}
			return st.Size
		} else if err != syscall.ENOSYS {
			return -1
		}
		// No fstatat wired up on this architecture: O_PATH and fstat.
		f, err := o.openat2(name, oPath|syscall.O_CLOEXEC)
		if err != nil {
			return -1
		}
		defer syscall.Close(f)
		if syscall.Fstat(f, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return -1
		}
		return st.Size
	}
	return size, done
}

// oPath is O_PATH, which the syscall package lacks on some architectures;
// its value is the same on every one this file builds for.
const oPath = 0x200000
