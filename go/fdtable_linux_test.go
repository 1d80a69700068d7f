//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPrivateTables checks what a worker's own descriptor table must and
// must not hold, looking from inside a worker paused mid-file: the program's
// descriptors are closed there (a pipe the program closes meanwhile reaches
// its end), the root's directory and the runtime's poller are not. Where
// unshare is refused, or the process holds too many descriptors to copy,
// the job runs on the shared table and is as correct.
func TestPrivateTables(t *testing.T) {
	if _, err := os.Stat("/proc/thread-self/fd"); err != nil {
		t.Skip("no /proc/thread-self:", err)
	}
	setPrivateTableMin(t, 0)
	root := t.TempDir()
	data := strings.Repeat("p", 3<<20) // big, so afterWindow runs
	write(t, filepath.Join(root, "big"), data)
	write(t, filepath.Join(root, "small"), "s")
	manifest := filepath.Join(root, "SHA1SUMS")
	write(t, manifest, line(SHA1, "big", data)+line(SHA1, "small", "s"))

	rootPath := mustEval(t, root)
	type seen struct{ private, pipe, root, poller bool }
	// run verifies root with a pipe made before the job and closed while
	// its worker is paused in the big file; it returns what the worker saw
	// and what the pipe's reader got after the close.
	run := func() (s seen, n int, err error) {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(p[0])
		pipe, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(p[0]))
		if err != nil {
			t.Fatal(err)
		}
		inWorker := make(chan seen)
		release := make(chan struct{})
		var once sync.Once
		afterWindow = func(int) {
			once.Do(func() {
				inWorker <- seen{
					pipe:   inThreadTable(t, pipe),
					root:   inThreadTable(t, rootPath),
					poller: pollerInThreadTable(t),
				}
				<-release
			})
		}
		defer func() { afterWindow = nil }()
		done := make(chan error, 1)
		var cols Columns
		taken := tablesTaken.Load()
		go func() {
			// Locked, as the test's goroutine is: neither thread, m0 or
			// not, runs the worker while this one waits for it.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var err error
			cols, _, err = verifyTree(t, root, manifest, 1) // one worker: the one paused
			done <- err
		}()
		s = <-inWorker
		s.private = tablesTaken.Load() > taken
		syscall.Close(p[1])
		n, err = syscall.Read(p[0], make([]byte, 1))
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(statuses(cols), " "); got != "ok ok" {
			t.Fatalf("statuses %v", got)
		}
		return s, n, err
	}

	// Taken; refused as a seccomp filter would; a process holding more
	// descriptors than are worth copying.
	unshare, most := unshareFiles, maxCopies
	restore := func() { unshareFiles, maxCopies = unshare, most }
	t.Cleanup(restore)
	runtime.LockOSThread() // see run's goroutine
	defer runtime.UnlockOSThread()
	for _, why := range []string{"", "refused", "crowded"} {
		shared := why != ""
		switch why {
		case "refused":
			unshareFiles = func() error { return syscall.EPERM }
		case "crowded":
			maxCopies = 0
		}
		s, n, err := run()
		for tries := 0; !shared && !s.private && tries < 50; tries++ {
			s, n, err = run() // the worker started on m0, which keeps the shared table
		}
		restore()
		if s.private == shared {
			t.Fatalf("%q: the worker took a table of its own: %v", why, s.private)
		}
		if !s.root || !s.poller {
			t.Errorf("%q: the worker's table lacks the root (%v) or the runtime's poller (%v)", why, s.root, s.poller)
		}
		if s.pipe != shared {
			t.Errorf("%q: the program's pipe in the worker's table: %v", why, s.pipe)
		}
		if n != 0 || err != nil {
			t.Errorf("%q: the pipe's reader got (%d, %v), not its end, while the job ran", why, n, err)
		}
	}
	if _, files, _ := DebugCounters(); files != 0 {
		t.Fatalf("%d files still open", files)
	}
}

// inThreadTable reports whether the calling thread's table holds a
// descriptor of file, as /proc names it ("pipe:[123]", a path).
func inThreadTable(t *testing.T, file string) bool {
	ents, err := os.ReadDir("/proc/thread-self/fd")
	if err != nil {
		t.Error(err)
		return false
	}
	for _, e := range ents {
		if l, err := os.Readlink("/proc/thread-self/fd/" + e.Name()); err == nil && l == file {
			return true
		}
	}
	return false
}

func mustEval(t *testing.T, path string) string {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pollerInThreadTable reports whether every epoll descriptor of the
// process's table (the runtime's among them) is in the calling thread's, at
// the same number. /proc/self is the main thread, which never takes a table
// of its own (it is m0 in a test binary).
func pollerInThreadTable(t *testing.T) bool {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Error(err)
		return false
	}
	found := false
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || l != "anon_inode:[eventpoll]" {
			continue
		}
		found = true
		if here, err := os.Readlink("/proc/thread-self/fd/" + e.Name()); err != nil || here != l {
			return false
		}
	}
	if !found {
		t.Error("no epoll descriptor in the process: the poller was not set up")
	}
	return found
}

// TestNoThreadKeepsItsTable checks that the threads of workers with tables
// of their own end with their jobs, leaving no descriptor behind in the
// process's table: afterwards every thread of the process sees a descriptor
// opened now. A goroutine ending locked to m0 would park
// m0 for good with its private table (and the root's directory open in it).
func TestNoThreadKeepsItsTable(t *testing.T) {
	setPrivateTableMin(t, 0)
	root := t.TempDir()
	var m strings.Builder
	for i := range 64 {
		n := "f" + strconv.Itoa(i)
		write(t, filepath.Join(root, n), n)
		m.WriteString(line(SHA1, n, n))
	}
	write(t, filepath.Join(root, "SHA1SUMS"), m.String())
	verify := func() {
		if _, _, err := verifyTree(t, root, filepath.Join(root, "SHA1SUMS"), 4); err != nil {
			t.Fatal(err)
		}
	}
	verify() // the runtime's poller, made for the first table, is no leak
	before := fdsOfProcess(t)
	for range 20 {
		verify()
	}
	f, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, _ := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd())))
	// The workers' threads end just after their goroutines: wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		blind := threadsWithout(t, want, int(f.Fd()))
		if len(blind) == 0 {
			if after := fdsOfProcess(t) - 1; after != before { // - 1: f
				t.Fatalf("the process held %d descriptors before the jobs, %d after", before, after)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads %v still have a table of their own", blind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadsWithout lists the threads of the process whose table does not
// hold file (as /proc names it) at fd.
func threadsWithout(t *testing.T, file string, fd int) []string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var blind []string
	for _, task := range tasks {
		l, err := os.Readlink("/proc/self/task/" + task.Name() + "/fd/" + strconv.Itoa(fd))
		if errors.Is(err, os.ErrNotExist) && !exists("/proc/self/task/"+task.Name()) {
			continue // ended meanwhile
		}
		if l != file {
			blind = append(blind, task.Name())
		}
	}
	return blind
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// fdsOfProcess counts the descriptors of the process's table (its main
// thread's, which never takes one of its own).
func fdsOfProcess(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
