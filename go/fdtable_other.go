//go:build !linux || mips || mipsle || mips64 || mips64le || alpha

package checksig

// Workers share the process's descriptor table here (fdtable_linux.go says
// why they do not on Linux).

func tablesWorthTaking() bool { return false }
func privateTable(int) bool   { return false }
