package checksig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCancel(t *testing.T) {
	root := t.TempDir()
	var m strings.Builder
	for i := 0; i < 16; i++ {
		// Sparse: 1 GiB to hash in all, created in no time.
		n := filepath.Join("d", fmt.Sprintf("f%02d", i))
		write(t, filepath.Join(root, n), "")
		if err := os.Truncate(filepath.Join(root, n), 64<<20); err != nil {
			t.Fatal(err)
		}
		m.WriteString(line(SHA256, n, "not what is in the file"))
	}
	write(t, filepath.Join(root, "SHA256SUMS"), m.String())
	j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "SHA256SUMS"), Workers: 2})
	j.Cancel()
	deadline := time.Now().Add(5 * time.Second)
	for j.Poll(50*time.Millisecond).Phase != PhaseDone {
		if time.Now().After(deadline) {
			t.Fatal("cancel did not stop the job")
		}
	}
	if err := j.Result(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("result %v", err)
	}
	j.Close()
	if _, files, _ := DebugCounters(); files != 0 {
		t.Fatalf("%d files still open", files)
	}
}

func TestConcurrentJobs(t *testing.T) {
	root := t.TempDir()
	var m strings.Builder
	for i := 0; i < 50; i++ {
		n := strings.Repeat("n", i+1)
		write(t, filepath.Join(root, n), n)
		m.WriteString(line(MD5, n, n))
	}
	write(t, filepath.Join(root, "MD5SUMS"), m.String())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := verifyTree(t, root, filepath.Join(root, "MD5SUMS"), 3)
			if err != nil {
				t.Error(err)
				return
			}
			for i, s := range c.Status {
				if Status(s) != StatusOK {
					t.Errorf("row %d: %v", i, Status(s))
				}
			}
		}()
	}
	wg.Wait()
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

func TestAttachChecksShape(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a"), "A")
	j, err := Start(Request{Kind: KindDigest, Paths: []string{filepath.Join(dir, "a")}, Algorithm: SHA1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for j.Poll(time.Second).Phase != PhaseReady {
	}
	p := j.Poll(0)
	c := NewColumns(p)
	c.Actual = c.Actual[:1]
	if err := j.Attach(c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("attach with short column: %v", err)
	}
	if err := j.Attach(NewColumns(p)); err != nil {
		t.Fatal(err)
	}
	if err := j.Attach(NewColumns(p)); !errors.Is(err, ErrJobState) {
		t.Fatalf("second attach: %v", err)
	}
}

func TestReadyPollAndCancel(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a"), "A")
	j, err := Start(Request{Kind: KindDigest, Paths: []string{filepath.Join(dir, "a")}, Algorithm: SHA1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for j.Poll(10*time.Millisecond).Phase != PhaseReady {
	}
	t0 := time.Now()
	if p := j.Poll(5 * time.Second); p.Phase != PhaseReady || time.Since(t0) > time.Second {
		t.Fatalf("poll in ready waited %v (phase %v): nothing can change before Attach", time.Since(t0), p.Phase)
	}
	j.Cancel()
	if p := j.Poll(0); p.Phase != PhaseDone {
		t.Fatalf("cancel in ready: phase %v, want done", p.Phase)
	}
	if err := j.Result(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("result %v", err)
	}
	if err := j.Attach(NewColumns(j.Poll(0))); !errors.Is(err, ErrJobState) {
		t.Fatalf("attach after cancel: %v", err)
	}
}

// TestProgressCountsEveryFile checks that the counts workers batch reach the
// totals exactly when the job is done: many small files in chunks, files
// past progressStep, queued ones, unreadable rows, after file digests
// (whose bytes are no job's) in the same process.
func TestProgressCountsEveryFile(t *testing.T) {
	root := t.TempDir()
	var m strings.Builder
	var bytesTotal int64
	rows := 0
	for i := 0; i < 700; i++ {
		n := filepath.Join(fmt.Sprintf("d%d", i%7), fmt.Sprintf("f%03d", i))
		data := strings.Repeat("x", (i*37)%9000)
		if i%100 == 0 {
			data = strings.Repeat("y", int(queueMin)+i) // queued, and past progressStep
		}
		if i%50 != 7 { // every 50th is missing: counted as done, no bytes
			write(t, filepath.Join(root, n), data)
			bytesTotal += int64(len(data))
		}
		m.WriteString(line(SHA1, n, data))
		rows++
	}
	write(t, filepath.Join(root, "SHA1SUMS"), m.String())
	var sum [MaxSize]byte
	for _, size := range []int{5000, 3 << 19} {
		write(t, filepath.Join(root, "other"), strings.Repeat("z", size))
		if _, err := FileDigest(filepath.Join(root, "other"), SHA1, sum[:SHA1.Size()]); err != nil {
			t.Fatal(err)
		}
	}
	for _, workers := range []int{1, 3} {
		j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "SHA1SUMS"), Workers: workers})
		p := j.Poll(time.Second)
		for ; p.Phase != PhaseDone; p = j.Poll(time.Second) {
			if p.FilesDone > p.FilesTotal || (p.BytesTotal >= 0 && p.BytesDone > p.BytesTotal) {
				t.Fatalf("workers=%d: counts past their totals: %+v", workers, p)
			}
		}
		if err := j.Result(); err != nil {
			t.Fatal(err)
		}
		j.Close()
		want := Progress{Phase: PhaseDone, FilesDone: int64(rows), FilesTotal: int64(rows), BytesDone: bytesTotal, BytesTotal: bytesTotal}
		got := Progress{Phase: p.Phase, FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal}
		if got != want {
			t.Fatalf("workers=%d: done at %+v, want %+v", workers, got, want)
		}
	}
}
