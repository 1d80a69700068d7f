package checksig

import "syscall"

// adviseSequential tells the kernel a mapping is read once, front to back:
// aggressive read-ahead on a cold cache, and its pages may be reclaimed
// soon after they are passed.
func adviseSequential(b []byte) { syscall.Madvise(b, syscall.MADV_SEQUENTIAL) }
