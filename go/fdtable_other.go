//go:build !linux || mips || mipsle || mips64 || mips64le || alpha

package checksig

import "sync/atomic"

// Workers share the process's descriptor table here (fdtable_linux.go says
// why they do not on Linux).

func tablesWorthTaking() bool { return false }
func privateTable(int) bool   { return false }

// tablesTaken counts the workers that took a table of their own: none here.
var tablesTaken atomic.Int64
