//go:build unix

package checksig

import (
	"io"
	"os"
	"syscall"
)

// readCloser is an open file the engine hashes.
type readCloser interface {
	io.Reader
	io.Closer
}

// fdFile reads a descriptor with plain read(2) calls: no runtime poller, no
// finalizer, nothing but the system call, which matters when a manifest
// lists a million small files.
type fdFile int

func (f fdFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// ReadAt reads with pread(2), leaving the descriptor's offset alone.
func (f fdFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := syscall.Pread(int(f), p[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, io.EOF
		}
		n += k
	}
	return n, nil
}

func (f fdFile) Close() error { return syscall.Close(int(f)) }

// Fd returns the descriptor, for mapping (mmap_unix.go).
func (f fdFile) Fd() uintptr { return uintptr(f) }

// fdCheckRegular fstats fd and returns it as a file when it is a regular
// file; otherwise it closes fd: FIFOs, devices, sockets and directories are
// never read.
func fdCheckRegular[Name string | []byte](fd int, name Name) (readCloser, int64, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, -1, &os.PathError{Op: "fstat", Path: string(name), Err: err}
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return fdFile(fd), st.Size, nil
	case syscall.S_IFDIR:
		syscall.Close(fd)
		return nil, -1, &os.PathError{Op: "read", Path: string(name), Err: syscall.EISDIR}
	}
	syscall.Close(fd)
	return nil, -1, &os.PathError{Op: "open", Path: string(name), Err: ErrNotRegular}
}

// openPlain opens a caller-given path, unconfined, never blocking and never
// reading anything but a regular file.
func openPlain(name string) (readCloser, int64, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, -1, openError(name, err)
		}
		return fdCheckRegular(fd, name)
	}
}

// openError wraps an open(2) failure. ENXIO and ENODEV come from opening a
// socket or a device without a driver before fstat could say what it is:
// either way not a regular file.
func openError(name string, err error) error {
	if err == syscall.ENXIO || err == syscall.ENODEV {
		err = ErrNotRegular
	}
	return &os.PathError{Op: "open", Path: name, Err: err}
}
