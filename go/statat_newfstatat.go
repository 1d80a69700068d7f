//go:build linux && (amd64 || ppc64le || ppc64 || s390x)

package checksig

import (
	"syscall"
	"unsafe"
)

const atSymlinkNofollow = 0x100

// statAt is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW), which the syscall
// package does not export on this architecture. A final symlink is not
// followed: its size is unknown (-1) and the open decides.
func statAt(dirfd int, name string, st *syscall.Stat_t) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(st)), atSymlinkNofollow, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}
