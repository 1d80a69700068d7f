//go:build linux && (arm64 || riscv64 || loong64 || mips64 || mips64le)

package checksig

import "syscall"

// statAt is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW).
func statAt(dirfd int, name string, st *syscall.Stat_t) error {
	for {
		err := syscall.Fstatat(dirfd, name, st, 0x100)
		if err != syscall.EINTR {
			return err
		}
	}
}
