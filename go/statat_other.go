//go:build linux && !(amd64 || ppc64le || ppc64 || s390x || arm64 || riscv64 || loong64 || mips64 || mips64le)

package checksig

import "syscall"

// statAt is not wired up here; callers fall back to openat2(O_PATH).
func statAt(dirfd int, name string, st *syscall.Stat_t) error { return syscall.ENOSYS }
