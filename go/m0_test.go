package checksig

import "runtime"

// init keeps the test binary's first thread (m0) for its main goroutine,
// which runs the tests' driver and only waits, as capi's init keeps m0 out
// of engine work in the library. A worker that runs on m0 takes no
// descriptor table of its own and so no io_uring ring (fdtable_linux.go);
// without this the scheduler sometimes put a one-worker job there again and
// again (TestURingScanChanged once ran 20 jobs on m0 in a row, on Go 1.24).
func init() { runtime.LockOSThread() }
