//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
)

// A private descriptor table per worker.
//
// Threads of one process share one descriptor table, and every open(2) and
// close(2) takes that table's lock: with two workers opening and closing
// tiny files as fast as the kernel allows, they spend their time waiting for
// each other's lock (measured: on a million 256-byte files the job ran 13%
// faster with a table per worker; `sha1sum -c` split over processes never
// pays this). So a worker of a big job locks its goroutine to its thread
// and gives the thread a table of its own, unshare(CLONE_FILES), which the
// thread keeps until it ends: the goroutine never unlocks it, so the Go
// runtime ends the thread with it (runtime.LockOSThread) and no other
// goroutine ever runs with that table.
//
// The table starts as a copy of the process's. Four things follow:
//   - The Go runtime's own descriptors (the network poller's epoll and
//     eventfd, which it may use from any thread, this one included) must
//     exist before the copy is made, or this thread would lack them: the
//     package starts the poller when it loads (poller.go).
//   - Copies keep their files open: a pipe the program closes while the job
//     runs would give its reader no end-of-file until the job ends, a socket
//     would stay bound. So the worker closes every copy it does not need:
//     all but 0-2 (where the runtime would write a crash of this thread),
//     the root directory it opens beneath, and the runtime's kind
//     (anon_inode: epoll, eventfd, pidfd), which nothing waits on to close.
//     Closing a copy never closes the program's file (the program's table
//     still holds it) nor drops its locks (POSIX locks belong to the table
//     they were taken in).
//   - Copying and closing cost ~5 µs per descriptor (a readlink and a
//     close): a process holding more than maxCopies (a server's sockets)
//     keeps the shared table.
//   - A descriptor this worker opens means nothing to any other thread: the
//     engine never passes one on (a queued file is closed and opened again
//     by whichever worker hashes it), and this is used only with openers
//     that hand out plain descriptors (fileOpener.plainFDs).

// tablesWorthTaking reports whether the workers of a job about to start may
// take tables of their own: the process holds few enough descriptors to
// copy and close (maxCopies), counted once per job, in the process's table
// (Attach runs on a thread that shares it). Where /proc cannot be read, the
// copies could not be listed either: no.
func tablesWorthTaking() bool {
	dir, err := openFDDir()
	if err != nil {
		return false
	}
	defer syscall.Close(dir)
	return len(listFDs(dir)) <= maxCopies
}

// m0 is the thread the Go runtime started on, which runs the package
// initialisers (runtime.main holds them there) and then goroutines like any
// other. A goroutine that ends locked to it does not end it but parks it for
// good, table and all: a worker there keeps the shared table.
var m0 = syscall.Gettid()

// privateTable gives the calling goroutine's thread a descriptor table of
// its own, keeping the descriptor keep (-1: none) among the copies (after
// tablesWorthTaking said yes). When it does, the goroutine stays locked to
// the thread for good, and it reports true. It does nothing on m0 or where
// unshare(2) is refused: the worker then runs on the shared table, only
// slower.
func privateTable(keep int) bool {
	runtime.LockOSThread()
	if syscall.Gettid() == m0 || unshareFiles() != nil {
		runtime.UnlockOSThread()
		return false
	}
	// From here the thread is the job's: it ends with the goroutine.
	if dir, err := openFDDir(); err == nil { // in this thread's table, now its own
		closeCopies(dir, keep)
		syscall.Close(dir)
	}
	tablesTaken.Add(1)
	return true
}

// tablesTaken counts the workers that took a table of their own, for tests.
var tablesTaken atomic.Int64

// unshareFiles is unshare(CLONE_FILES); a variable so tests can refuse it
// as a seccomp filter would.
var unshareFiles = func() error { return syscall.Unshare(syscall.CLONE_FILES) }

// maxCopies is the most descriptors a process may hold for workers to take
// tables of their own. A variable for tests.
var maxCopies = 256

// openFDDir opens the calling thread's /proc/thread-self/fd: the
// descriptor table of that thread, listed when read.
func openFDDir() (int, error) {
	return syscall.Open("/proc/thread-self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

// listFDs lists the descriptors in dir (a /proc/thread-self/fd) from where
// it is read.
func listFDs(dir int) []int {
	var fds []int
	buf := make([]byte, 8<<10)
	for {
		n, err := syscall.ReadDirent(dir, buf)
		if err != nil || n <= 0 {
			return fds
		}
		var names []string
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil {
				fds = append(fds, fd)
			}
		}
	}
}

// closeCopies closes the descriptors of this thread's table listed in dir
// (its /proc/thread-self/fd) except 0-2, dir itself, keep and the runtime's
// kind (see above).
func closeCopies(dir, keep int) {
	link := make([]byte, 256)
	for _, fd := range listFDs(dir) {
		if fd <= 2 || fd == dir || fd == keep {
			continue
		}
		n, err := syscall.Readlink("/proc/thread-self/fd/"+strconv.Itoa(fd), link)
		if err != nil || bytes.HasPrefix(link[:n], []byte("anon_inode:")) {
			continue
		}
		syscall.Close(fd)
	}
}
