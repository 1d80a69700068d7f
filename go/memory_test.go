package checksig

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestArenaChunks(t *testing.T) {
	var a arena
	var offs []int64
	var want [][]byte
	// Enough names to fill several chunks, one longer than a whole chunk.
	for i := range 100_000 {
		name := []byte(fmt.Sprintf("dir%03d/file-%06d.bin", i%100, i))
		if i == 5000 {
			name = bytes.Repeat([]byte{'x'}, arenaChunk+7)
		}
		dst, off := a.alloc(len(name))
		copy(dst, name)
		offs = append(offs, off)
		want = append(want, name)
	}
	if len(a.chunks) < 3 {
		t.Fatalf("got %d chunks, want several", len(a.chunks))
	}
	for i, off := range offs {
		if got := a.get(off, uint32(len(want[i]))); !bytes.Equal(got, want[i]) {
			t.Fatalf("name %d: got %q, want %q", i, truncate(got, 40), truncate(want[i], 40))
		}
	}
	// The oversized name has a chunk of its own, of its size; the next name
	// starts the next chunk.
	if k := offs[5000] >> 32; len(a.chunks[k]) != arenaChunk+7 || offs[5000]&(1<<32-1) != 0 || offs[5001]>>32 != k+1 {
		t.Fatalf("the oversized name: chunk %d of %d bytes at %d, the next name in chunk %d", k, len(a.chunks[k]), offs[5000]&(1<<32-1), offs[5001]>>32)
	}
}

func TestCountLines(t *testing.T) {
	dir := t.TempDir()
	var m strings.Builder
	for i := range 3000 {
		m.WriteString(line(SHA1, fmt.Sprintf("f%05d", i), "x"))
	}
	for _, tc := range []struct {
		name, data string
		want       int
	}{
		{"small", "abc\n", 1},                          // under 4096 possible entries: size/34+1
		{"lines", m.String(), 3001},                    // newlines, plus a last line without one
		{"blank", strings.Repeat("\n", 200_000), 5883}, // bounded by the shortest entry
	} {
		p := filepath.Join(dir, tc.name)
		write(t, p, tc.data)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := countLines(f, int64(len(tc.data)))
		f.Close()
		if err != nil || got != tc.want {
			t.Errorf("%s: countLines = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

// TestParseSizesOnce checks that parsing a big manifest allocates its rows
// and digests once, at their final size: no slice is ever grown by copying.
func TestParseSizesOnce(t *testing.T) {
	dir := t.TempDir()
	var m bytes.Buffer
	const n = 20_000
	for i := range n {
		m.WriteString(line(SHA256, fmt.Sprintf("d%02d/f%05d", i%50, i), "x"))
		if i%1000 == 0 {
			m.WriteString("# a comment\n")
		}
	}
	p := filepath.Join(dir, "SHA256SUMS")
	write(t, p, m.String())
	j := &Job{req: Request{Kind: KindVerify, Manifest: p}, changed: make(chan struct{})}
	if err := j.parseManifest(); err != nil {
		t.Fatal(err)
	}
	if len(j.rows) != n || cap(j.rows) != n+20+1 {
		t.Errorf("rows: len %d cap %d, want len %d cap %d", len(j.rows), cap(j.rows), n, n+21)
	}
	if len(j.digests) != n*32 || cap(j.digests) != cap(j.rows)*32 {
		t.Errorf("digests: len %d cap %d, want len %d cap %d", len(j.digests), cap(j.digests), n*32, cap(j.rows)*32)
	}
	if got := string(j.nameBytes(&j.rows[n-1])); got != fmt.Sprintf("d%02d/f%05d", (n-1)%50, n-1) {
		t.Errorf("last name %q", got)
	}
}

// TestReaderNextAllocs checks that the engine's way of reading a manifest
// allocates nothing per line (Next allocates the name string).
func TestReaderNextAllocs(t *testing.T) {
	data := []byte(strings.Repeat(line(SHA1, "some/name.bin", "x"), 1000))
	src := bytes.NewReader(data)
	r := NewReader(src, "m")
	allocs := testing.AllocsPerRun(500, func() {
		if _, _, err := r.next(); err == io.EOF {
			src.Reset(data)
			r.r.Reset(src)
		} else if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Reader.next: %v allocations per line, want 0", allocs)
	}
}

func TestLowerGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	lowerGC()
	lowerGC()
	if got := debug.SetGCPercent(lowGCPercent); got != lowGCPercent {
		t.Fatalf("GOGC %d while two big jobs run, want %d", got, lowGCPercent)
	}
	restoreGC()
	if got := debug.SetGCPercent(lowGCPercent); got != lowGCPercent {
		t.Fatalf("GOGC %d while one big job runs, want %d", got, lowGCPercent)
	}
	restoreGC()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Fatalf("GOGC %d after the last big job, want 100 back", got)
	}
	// GOGC=off stays off: lowerGC never turns the collector on.
	lowerGC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GOGC %d with GOGC=off, want -1", got)
	}
	restoreGC()
	if got := debug.SetGCPercent(100); got != -1 {
		t.Fatalf("GOGC %d after a big job with GOGC=off, want -1", got)
	}
}

func TestClearLazily(t *testing.T) {
	for _, n := range []int{0, 1, 4095, 4096, 4097, 3*4096 + 5} {
		b := make([]byte, n)
		for i := 0; i < n; i += 1000 {
			b[i] = 0xff
		}
		clearLazily(b)
		if !bytes.Equal(b, make([]byte, n)) {
			t.Errorf("clearLazily left bytes set in %d bytes", n)
		}
	}
}

// TestAttachClearsDirtyColumns checks that columns need not come zeroed:
// only what is zero already is left unwritten.
func TestAttachClearsDirtyColumns(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "a")
	m := line(SHA1, "a", "a") + line(SHA1, "gone", "x")
	write(t, filepath.Join(root, "sha1sum.txt"), m)
	j, err := Start(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "sha1sum.txt"), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	p := j.Poll(0)
	for p.Phase == PhaseEnumerating {
		p = j.Poll(1e9)
	}
	c := NewColumns(p)
	for _, b := range [][]byte{c.Status, c.Actual, c.Expected} {
		for i := range b {
			b[i] = 0xee
		}
	}
	for i := range c.Errnum {
		c.Errnum[i] = 99
	}
	if err := j.Attach(c); err != nil {
		t.Fatal(err)
	}
	for j.Poll(1e9).Phase != PhaseDone {
	}
	if got := statuses(c); got[0] != "ok" || got[1] != "missing" {
		t.Fatalf("statuses %v", got)
	}
	if !bytes.Equal(c.Actual[c.Width:], make([]byte, c.Width)) || c.Errnum[0] != 0 {
		t.Errorf("stale column values survived: actual %x, errnum %v", c.Actual, c.Errnum)
	}
	if !bytes.Equal(c.Expected[c.Width:], digestOf(SHA1, "x")) {
		t.Errorf("expected %x", c.Expected)
	}
}

// TestJobAllocsPerEntry: a verify job allocates nothing per entry where the
// kernel confines opens (openat2: names go from the path column to the
// system call on the stack) and a bounded number elsewhere (the name as a
// string for os.Root), never per line parsed or per digest, so a
// million-entry job makes little garbage. The rest is per job, whatever
// its size: the difference between two sizes is what the entries cost.
func TestJobAllocsPerEntry(t *testing.T) {
	for _, ring := range []bool{false, true} {
		for _, early := range []bool{false, true} {
			t.Run(fmt.Sprintf("uring=%v/early=%v", ring, early), func(t *testing.T) {
				// The scan in batches through io_uring (uring_scan_linux.go)
				// where the kernel allows it, or one file at a time; workers
				// started while the manifest is read (verdicts held until
				// Attach), or at Attach.
				withURing(t, map[bool]int64{false: 1 << 62, true: 1}[ring])
				withEarly(t, map[bool]int64{false: 1 << 62, true: 1}[early])
				testJobAllocsPerEntry(t)
			})
		}
	}
}

func testJobAllocsPerEntry(t *testing.T) {
	root := t.TempDir()
	allocs := func(n int) float64 {
		var m strings.Builder
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("d/f%03d", i)
			write(t, filepath.Join(root, name), name)
			m.WriteString(line(SHA1, name, name))
		}
		manifest := filepath.Join(root, fmt.Sprintf("sha1sum-%d.txt", n))
		write(t, manifest, m.String())
		return testing.AllocsPerRun(5, func() {
			if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 2}); err != nil {
				t.Fatal(err)
			}
		})
	}
	const n = 500
	small, big := allocs(n), allocs(2*n)
	perEntry := (big - small) / n
	t.Logf("%v allocations for %d entries, %v for %d: %.2f per entry", small, n, big, 2*n, perEntry)
	want := 2.0
	if o, err := openBeneath(root); err != nil {
		t.Fatal(err)
	} else if o != nil {
		o.close()
		want = 0.05 // openat2: none (a stray per-job allocation may differ)
	}
	if perEntry > want {
		t.Errorf("a verify job allocates %.2f times per entry, want at most %v", perEntry, want)
	}
}
