//go:build !(linux && (amd64 || arm64 || ppc64 || ppc64le || riscv64 || s390x || loong64 || mips64 || mips64le))

package checksig

// adviseFile is a no-op here: the kernel's own read-ahead applies.
func adviseFile(int) {}
