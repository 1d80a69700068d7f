//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The io_uring layer (uring_linux.go) and the scan in batches over it
// (uring_scan_linux.go), held to the one-file path, which is their oracle.

func needURing(t testing.TB) {
	t.Helper()
	if !uringWorks() {
		t.Skip("no io_uring here (kernel, seccomp or io_uring_disabled)")
	}
}

// TestURingReads: many rounds of requests through a small ring, so that
// its head and tail wrap around many times; every read lands where asked,
// every close completes, and a request the kernel refuses (a bad
// descriptor) gets its own error.
func TestURingReads(t *testing.T) {
	needURing(t)
	r, err := newURing(8)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 1<<16)
	rand.New(rand.NewSource(1)).Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8*1024)
	for round := range 300 {
		fds := make([]int, 7)
		for k := range fds {
			if fds[k], err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := syscall.Seek(fds[k], int64(round*100+k*1000), 0); err != nil {
				t.Fatal(err)
			}
			r.read(tagRead|uint64(k), fds[k], buf[k*1024:(k+1)*1024])
		}
		if r.room() != 1 {
			t.Fatalf("room %d with 7 of 8 queued", r.room())
		}
		r.read(tagRead|7, 1<<20, buf[7*1024:]) // no such descriptor
		got := map[uint64]int32{}
		if err := r.submit(func(ud uint64, res int32) { got[ud] = res }); err != nil {
			t.Fatal(err)
		}
		for k := range fds {
			off := round*100 + k*1000
			if got[tagRead|uint64(k)] != 1024 || !bytes.Equal(buf[k*1024:(k+1)*1024], data[off:off+1024]) {
				t.Fatalf("round %d read %d: %d bytes, or not the file's", round, k, got[tagRead|uint64(k)])
			}
			r.closeFD(tagClose|uint64(k), fds[k])
		}
		if got[tagRead|7] != -int32(syscall.EBADF) {
			t.Fatalf("read of a bad descriptor: %d, want EBADF", got[tagRead|7])
		}
		closed := 0
		if err := r.submit(func(_ uint64, res int32) {
			if res == 0 {
				closed++
			}
		}); err != nil || closed != len(fds) {
			t.Fatalf("%d of %d closes, %v", closed, len(fds), err)
		}
	}
}

// uringTree makes a root for TestURingScanAgrees: every status a scan can
// give, files of the sizes around each bound of the batch (the hasher's
// buffer, mmapMin, queueMin), and enough small files for many batches.
func uringTree(t *testing.T) (root, manifest string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	write(t, filepath.Join(base, "secret"), "secret")
	var m strings.Builder
	add := func(a Algorithm, name, data string) {
		write(t, filepath.Join(root, name), data)
		m.WriteString(line(a, name, data))
	}
	rnd := rand.New(rand.NewSource(20))
	for i := range 700 {
		n := rnd.Intn(9000)
		if i%50 == 0 {
			n = 0
		}
		data := strings.Repeat(string(rune('a'+i%26)), n)
		add([]Algorithm{SHA1, SHA256, MD5, BLAKE3, GitSHA1}[i%5], fmt.Sprintf("d%02d/f%03d", i/100, i), data)
	}
	for _, n := range []int64{bufSize - 2, bufSize - 1, bufSize, bufSize + 1, 300 << 10, mmapMin - 1, mmapMin, queueMin, queueMin + 1} {
		add(SHA1, fmt.Sprintf("sized-%d", n), strings.Repeat("s", int(n)))
	}
	write(t, filepath.Join(root, "changed"), "now")
	m.WriteString(line(SHA1, "changed", "before"))
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(root, "sock")
	if l, err := net.Listen("unix", sock); err == nil {
		t.Cleanup(func() { l.Close() })
	}
	os.Symlink(filepath.Join(base, "secret"), filepath.Join(root, "link-out"))
	os.Symlink("d00/f001", filepath.Join(root, "link-in"))
	os.Symlink("fifo", filepath.Join(root, "link-fifo"))
	os.Symlink("/dev/null", filepath.Join(root, "link-dev"))
	// Directories that are links: out of the root, and within it (the ring
	// opens a name's directory once and its last component beneath it).
	os.Symlink(base, filepath.Join(root, "dir-out"))
	os.Symlink("d00", filepath.Join(root, "dir-in"))
	os.Symlink("../d00/f005", filepath.Join(root, "d01", "link-up"))
	for _, name := range []string{"gone", "dir", "dir/", "fifo", "sock", "../secret", filepath.Join(base, "secret"),
		"link-out", "link-in", "link-fifo", "link-dev", "d00/f001/below", "new\nline", strings.Repeat("x", 300),
		strings.Repeat("y/", 2100), "d00/../d00/f002", "./d00/f003", "d00//f004",
		"dir-out/secret", "dir-in/f006", "d01/link-up", "fifo/x", "d00/.", "d00/..", "gone/f", "d00/" + strings.Repeat("z", 300)} {
		m.WriteString(line(SHA1, name, "x"))
	}
	manifest = filepath.Join(base, "SUMS")
	write(t, manifest, m.String())
	return root, manifest
}

// TestURingScanAgrees: the scan through io_uring gives the columns the
// one-file scan gives, over every status and the sizes around every bound,
// at one and several workers, on shared and private descriptor tables, for
// whole and deferring scans.
func TestURingScanAgrees(t *testing.T) {
	needURing(t)
	root, manifest := uringTree(t)
	for _, workers := range []int{1, 3} {
		for _, private := range []bool{false, true} {
			for _, deferMin := range []int64{-1, 0, 4000} {
				name := fmt.Sprintf("workers=%d/private=%v/defer=%d", workers, private, deferMin)
				t.Run(name, func(t *testing.T) {
					req := Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: workers}
					if deferMin >= 0 {
						req.Defer, req.DeferMin = true, deferMin
					}
					withURing(t, 1<<62)
					want, wantWarn := mustRun(t, req)
					withURing(t, 1)
					if !private {
						setPrivateTableMin(t, 1<<62)
					}
					before, tables := uringBatches.Load(), tablesTaken.Load()
					got, gotWarn := mustRun(t, req)
					// A worker that ran on m0 takes no table and so no ring.
					owned := tablesTaken.Load() != tables
					switch batched := uringBatches.Load() != before; {
					case owned && !batched && deferMin != 0:
						t.Fatal("no batch went through the ring")
					case !private && batched:
						// newURingScan: a worker on the process's table
						// never makes a ring (its io-wq workers would keep
						// that table after the thread took its own).
						t.Fatal("a worker on the shared descriptor table scanned through a ring")
					}
					sameColumns(t, name, got, want)
					if fmt.Sprint(gotWarn) != fmt.Sprint(wantWarn) {
						t.Fatalf("warnings %v, want %v", gotWarn, wantWarn)
					}
					if deferMin < 0 && !strings.Contains(strings.Join(statuses(got), ","), "ok,ok") {
						t.Fatalf("statuses %v", statuses(got))
					}
				})
			}
		}
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

// TestURingScanDirCache: with room for two directory descriptors, the
// ring's cache of them is emptied again and again and the columns stay the
// one-file scan's, and no descriptor is left open.
func TestURingScanDirCache(t *testing.T) {
	needURing(t)
	root, manifest := uringTree(t)
	defer func(n int) { maxDirFDs = n }(maxDirFDs)
	maxDirFDs = 2
	req := Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 2}
	withURing(t, 1<<62)
	want, _ := mustRun(t, req)
	withURing(t, 1)
	before := uringBatches.Load()
	got, _ := mustRun(t, req)
	if uringBatches.Load() == before && tablesTaken.Load() > 0 {
		t.Log("no batch went through the ring (workers on m0)")
	}
	sameColumns(t, "dirs=2", got, want)
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

// TestURingScanChanged: a file that grows or shrinks between the fstat
// that sized it and the batch's read is changed, with the bytes it had
// when read to its end, as the one-file path reports it; one left alone
// stays ok.
func TestURingScanChanged(t *testing.T) {
	needURing(t)
	withURing(t, 1)
	root := t.TempDir()
	var m strings.Builder
	names := []string{"grows", "shrinks", "empties", "stays"}
	for _, name := range names {
		m.WriteString(line(SHA1, name, "0123456789"))
	}
	manifest := filepath.Join(root, "SUMS")
	write(t, manifest, m.String())
	// The job's batches are of one file each (4 rows, 1 worker), in
	// manifest order: each call changes the file whose read comes next.
	calls := 0
	uringBeforeRead = func() {
		defer func() { calls++ }()
		switch calls {
		case 0:
			f, err := os.OpenFile(filepath.Join(root, "grows"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.WriteString(strings.Repeat("+", 300<<10)) // past the batch's read, and past the buffer
			f.Close()
		case 1:
			os.Truncate(filepath.Join(root, "shrinks"), 4)
		case 2:
			os.Truncate(filepath.Join(root, "empties"), 0)
		}
	}
	defer func() { uringBeforeRead = nil }()
	var c Columns
	// The one worker takes no table of its own, and so no ring, where it
	// runs on m0. It would always do so when this goroutine runs there and
	// hands the worker its thread while it waits: locked, it cannot. Where
	// the worker still lands on m0, the job is run again.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for attempt := 0; calls == 0; attempt++ {
		if attempt == 20 {
			t.Fatal("no job went through the ring")
		}
		for _, name := range names {
			write(t, filepath.Join(root, name), "0123456789")
		}
		c, _ = mustRun(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 1})
	}
	if got := strings.Join(statuses(c), ","); got != "changed,changed,changed,ok" {
		t.Fatalf("statuses %s sizes %v", got, c.Size)
	}
	if calls != 4 {
		t.Fatalf("%d batches read, want 4", calls)
	}
	if want := []int64{10 + 300<<10, 4, 0, 10}; fmt.Sprint(c.Size) != fmt.Sprint(want) {
		t.Fatalf("sizes %v, want %v", c.Size, want)
	}
}

// TestURingScanCancel: a job scanning through the ring, cancelled at any
// moment, ends cancelled with no file or ring left open.
func TestURingScanCancel(t *testing.T) {
	needURing(t)
	withURing(t, 1)
	root, manifest := selfNamedTree(t, 3000, 500)
	before := processFDs()
	for k, delay := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 3 * time.Millisecond} {
		j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 1 + k%3})
		time.Sleep(delay)
		j.Cancel()
		for j.Poll(time.Second).Phase != PhaseDone {
		}
		if err := j.Result(); err != nil && err != ErrCancelled {
			t.Fatalf("after %v: %v", delay, err)
		}
		j.Close()
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
	if after := processFDs(); after > before {
		t.Fatalf("%d descriptors open before the jobs, %d after", before, after)
	}
}

// FuzzURingScan: trees made of random names, sizes and kinds of file; the
// ring's scan agrees with the one-file scan on every one.
func FuzzURingScan(f *testing.F) {
	f.Add([]byte{0, 10, 1, 0, 2, 200, 3, 1, 4, 0, 5, 7, 0, 255, 6, 3}, uint8(1))
	f.Add([]byte{0, 0, 0, 1, 0, 2, 0, 3}, uint8(3))
	f.Fuzz(func(t *testing.T, spec []byte, workers uint8) {
		if !uringWorks() || len(spec) > 400 {
			t.Skip()
		}
		root := t.TempDir()
		var m strings.Builder
		for k := 0; k+1 < len(spec); k += 2 {
			kind, size := spec[k]%8, int(spec[k+1])*37
			name := fmt.Sprintf("d%d/n%d", k%3, k)
			p := filepath.Join(root, name)
			switch kind {
			case 0, 1, 2:
				write(t, p, strings.Repeat("z", size))
			case 3:
				os.MkdirAll(p, 0o755)
			case 4:
				os.MkdirAll(filepath.Dir(p), 0o755)
				syscall.Mkfifo(p, 0o644)
			case 5:
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.Symlink(fmt.Sprintf("../d%d/n%d", (k+1)%3, k+2), p)
			case 6:
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.Symlink("/etc/hostname", p)
			case 7: // missing
			}
			want := strings.Repeat("z", size)
			if kind == 1 {
				want += "!" // a mismatch
			}
			m.WriteString(line(SHA1, name, want))
		}
		if m.Len() == 0 {
			return
		}
		manifest := filepath.Join(t.TempDir(), "SUMS")
		write(t, manifest, m.String())
		req := Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: int(workers%2) + 1}
		withURing(t, 1<<62)
		want, _ := mustRun(t, req)
		withURing(t, 1)
		got, _ := mustRun(t, req)
		sameColumns(t, "ring", got, want)
	})
}

// TestURingSharedThenPrivateTables: jobs on the process's descriptor table
// and jobs whose workers take tables of their own, one after the other on
// the same threads (the helper's sequence that found the bug newURingScan
// explains: a ring made on the shared table left io-wq workers that opened
// a later private-table worker's files in the process's table). Every file
// stays ok and the process ends with the descriptors it had.
func TestURingSharedThenPrivateTables(t *testing.T) {
	needURing(t)
	withURing(t, 1)
	root, manifest := selfNamedTree(t, 400, 100)
	before := processFDs()
	for k := range 8 {
		if k%2 == 0 {
			setPrivateTableMin(t, 1<<62)
		} else {
			setPrivateTableMin(t, 1)
		}
		c, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 4})
		for i, st := range statuses(c) {
			if st != "ok" {
				t.Fatalf("job %d row %d: %s", k, i, st)
			}
		}
		if after := processFDs(); after != before {
			t.Fatalf("job %d: %d descriptors open before the jobs, %d after", k, before, after)
		}
	}
}

// selfNamedTree writes n small files, each holding its own name, per to a
// directory, and their SHA-1 manifest beside them.
func selfNamedTree(t *testing.T, n, per int) (root, manifest string) {
	root = t.TempDir()
	var m strings.Builder
	for i := range n {
		name := fmt.Sprintf("d%d/f%05d", i/per, i)
		write(t, filepath.Join(root, name), name)
		m.WriteString(line(SHA1, name, name))
	}
	manifest = filepath.Join(root, "SUMS")
	write(t, manifest, m.String())
	return root, manifest
}

// processFDs counts the process's open descriptors.
func processFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}
