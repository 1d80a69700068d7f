package checksig

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// faultyOpener injects faults into the engine's file access by name.
type faultyOpener struct {
	fileOpener
	faults map[string]func(readCloser) readCloser
}

func (o faultyOpener) open(name []byte) (readCloser, int64, error) {
	f, size, err := o.fileOpener.open(name)
	if err == nil {
		if fault := o.faults[string(name)]; fault != nil {
			f = fault(f)
		}
	}
	return f, size, err
}

// eioAfter returns EIO once n bytes have been read.
type eioAfter struct {
	readCloser
	n int
}

func (e *eioAfter) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, syscall.EIO
	}
	if len(p) > e.n {
		p = p[:e.n]
	}
	m, err := e.readCloser.Read(p)
	e.n -= m
	return m, err
}

// shortRead ends early, as if the file were truncated during the read.
type shortRead struct {
	readCloser
	n int
}

func (s *shortRead) Read(p []byte) (int, error) {
	if s.n <= 0 {
		return 0, io.EOF
	}
	if len(p) > s.n {
		p = p[:s.n]
	}
	m, err := s.readCloser.Read(p)
	s.n -= m
	return m, err
}

// grownRead serves the file and then more, one byte per read, as if the
// file grew while it was read.
type grownRead struct {
	readCloser
	more int
}

func (g *grownRead) Read(p []byte) (int, error) {
	m, err := g.readCloser.Read(p)
	if err != io.EOF || g.more == 0 {
		return m, err
	}
	g.more--
	p[0] = 'g'
	return 1, nil
}

func withFaults(t *testing.T, faults map[string]func(readCloser) readCloser) {
	wrapOpener = func(o fileOpener) fileOpener { return faultyOpener{o, faults} }
	t.Cleanup(func() { wrapOpener = nil })
}

func TestFaults(t *testing.T) {
	root := t.TempDir()
	data := strings.Repeat("d", 1<<20)
	m := ""
	tiny := "t"
	for _, n := range []string{"eio", "short", "fine", "grown", "grown-tiny", "grown-more"} {
		d := data
		if n == "grown-tiny" {
			d = tiny
		}
		write(t, filepath.Join(root, n), d)
		m += line(SHA256, n, d)
	}
	write(t, filepath.Join(root, "SHA256SUMS"), m)
	withFaults(t, map[string]func(readCloser) readCloser{
		"eio":   func(f readCloser) readCloser { return &eioAfter{f, 1000} },
		"short": func(f readCloser) readCloser { return &shortRead{f, 5000} },
		// One byte past the size, then the end, or several: each read after
		// the size must still ask for bytes (a zero-length read would spin).
		// A small file's one short read at its size is its end: growth after
		// it is not seen, and the digest is of the file as it was opened.
		"grown":      func(f readCloser) readCloser { return &grownRead{f, 1} },
		"grown-tiny": func(f readCloser) readCloser { return &grownRead{f, 1} },
		"grown-more": func(f readCloser) readCloser { return &grownRead{f, 3} },
	})
	c, _, err := verifyTree(t, root, filepath.Join(root, "SHA256SUMS"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(statuses(c), ","); got != "unreadable,changed,ok,changed,ok,changed" {
		t.Fatalf("statuses %s", got)
	}
	if c.Errnum[0] != int32(syscall.EIO) || c.Size[1] != 5000 {
		t.Fatalf("errnum %d, size %d", c.Errnum[0], c.Size[1])
	}
	if _, files, _ := DebugCounters(); files != 0 {
		t.Fatalf("%d files left open", files)
	}
}

func TestExtraAndLargestFirst(t *testing.T) {
	root := t.TempDir()
	m := ""
	for i, n := range []string{"small", "./big", "mid"} {
		d := strings.Repeat("x", []int{10, 3 << 20, 1 << 20}[i])
		write(t, filepath.Join(root, strings.TrimPrefix(n, "./")), d)
		m += line(SHA1, n, d)
	}
	write(t, filepath.Join(root, "new", "unlisted"), "surprise")
	write(t, filepath.Join(root, "sha1sum.txt"), m)
	var order []string
	withFaults(t, nil)
	wrapOpener = func(o fileOpener) fileOpener { return recordingOpener{o, &order} }
	c, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "sha1sum.txt"), Workers: 1, Extra: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(statuses(c), ","); got != "ok,ok,ok,extra" {
		t.Fatalf("statuses %s", got)
	}
	if rowPath(c, 3) != "new/unlisted" || c.Size[3] != 8 {
		t.Fatalf("extra row %q size %d", rowPath(c, 3), c.Size[3])
	}
	// The scan opens every listed file in manifest order and hashes the
	// small one; the big ones are queued and hashed largest first.
	if got := strings.Join(order, ","); got != "small,./big,mid,./big,mid" {
		t.Fatalf("opened in order %s, want the scan, then the queue largest first", got)
	}
	queueMin = 1
	defer func() { queueMin = 1 << 20 }()
	order = nil
	if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "sha1sum.txt"), Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "small,./big,mid,./big,mid,small" {
		t.Fatalf("opened in order %s, with every file queued", got)
	}
}

type recordingOpener struct {
	fileOpener
	order *[]string
}

func (o recordingOpener) open(name []byte) (readCloser, int64, error) {
	*o.order = append(*o.order, string(name)) // one worker: no race
	return o.fileOpener.open(name)
}

func TestAllowOutside(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(base, "shared.txt"), "shared")
	write(t, filepath.Join(root, "x"), "x")
	syscall.Mkfifo(filepath.Join(base, "fifo"), 0o644)
	m := line(MD5, "../shared.txt", "shared") + line(MD5, filepath.Join(base, "shared.txt"), "shared") + line(MD5, "x", "x") + line(MD5, "../fifo", "")
	write(t, filepath.Join(root, "MD5SUMS"), m)
	c, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "MD5SUMS"), AllowOutside: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(statuses(c), ","); got != "ok,ok,ok,not_regular" {
		t.Fatalf("statuses %s", got)
	}
	c, _, _ = Run(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "MD5SUMS")})
	if got := strings.Join(statuses(c), ","); got != "outside_root,outside_root,ok,outside_root" {
		t.Fatalf("confined statuses %s", got)
	}

}

// panickyOpener panics on its nth open: the scan opens a file once, and a
// queued (big) file is opened again when its turn comes.
type panickyOpener struct {
	fileOpener
	n     int32
	opens *atomic.Int32
}

func (o panickyOpener) open(name []byte) (readCloser, int64, error) {
	if o.opens.Add(1) == o.n {
		panic("open exploded")
	}
	return o.fileOpener.open(name)
}

type panickyReader struct{ readCloser }

func (panickyReader) Read([]byte) (int, error) { panic("read exploded") }

// TestPanicsBecomeErrors: a panic in any engine goroutine (a worker while it
// scans or hashes the queue, a reader) fails the job with a PanicError
// instead of killing the process, and the other worker, waiting for the
// scan to end, is not left waiting.
func TestPanicsBecomeErrors(t *testing.T) {
	root := t.TempDir()
	data := strings.Repeat("p", 1<<20)
	write(t, filepath.Join(root, "f"), data)
	write(t, filepath.Join(root, "sha1sum.txt"), line(SHA1, "f", data))
	for name, wrap := range map[string]func(fileOpener) fileOpener{
		"scan":  func(o fileOpener) fileOpener { return panickyOpener{o, 1, new(atomic.Int32)} },
		"queue": func(o fileOpener) fileOpener { return panickyOpener{o, 2, new(atomic.Int32)} },
		"reader": func(o fileOpener) fileOpener {
			return faultyOpener{o, map[string]func(readCloser) readCloser{
				"f": func(f readCloser) readCloser { return panickyReader{f} },
			}}
		},
	} {
		wrapOpener = wrap
		_, _, err := verifyTree(t, root, filepath.Join(root, "sha1sum.txt"), 2)
		wrapOpener = nil
		var pe *PanicError
		if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "exploded") {
			t.Errorf("%s: err = %v, want a PanicError", name, err)
		}
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak after panics: %d jobs, %d files", jobs, files)
	}
}

func TestMakeWithWrappedOpener(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "A")
	withFaults(t, nil)
	if _, _, err := Run(Request{Kind: KindMake, Root: root, Manifest: filepath.Join(root, "MD5SUMS"), Algorithm: MD5}); err != nil {
		t.Fatal(err)
	}
}
