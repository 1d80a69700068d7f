package checksig

import "syscall"

// adviseSequential tells the kernel a mapping is read once, front to back:
// aggressive read-ahead on a cold cache, and its pages may be reclaimed
// soon after they are passed.
func adviseSequential(b []byte) { syscall.Madvise(b, syscall.MADV_SEQUENTIAL) }

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): make a mapping's
// pages present and mapped, as reading them would, without touching them;
// a page past the file's end makes it fail (EFAULT), never SIGBUS.
const madvPopulateRead = 22

// populate makes b's pages present in the page tables (mapAhead's helper,
// ahead of the hash). Errors are ignored: an old kernel (EINVAL) or a file
// that shrank leaves the faults to the hashing goroutine, as without it.
func populate(b []byte) { syscall.Madvise(b, madvPopulateRead) }
