package checksig

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// ioPaths are the ways a big file can be read (io.go), as tests force them.
var ioPaths = []string{"mmap", "read", "readahead", "mapahead", "auto"}

// withIO sends every non-empty file through hashBig along the named path for
// the rest of the test, in small windows, buffers and read-ahead chunks
// that do not divide one another, so that every file crosses their edges:
// "auto" keeps calibrating (alternating read and mmap window by window)
// and "readahead" and "mapahead" always find a spare CPU.
func withIO(tb testing.TB, name string) {
	saved := []int64{mmapMin, mapWindow, readSize, readAheadChunk, readAheadMin, calibrateSamples, mapAheadMin}
	savedMode, savedSpare := ioMode, spareCPU
	tb.Cleanup(func() {
		mmapMin, mapWindow, readSize, readAheadChunk, readAheadMin, calibrateSamples, mapAheadMin = saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6]
		ioMode, spareCPU = savedMode, savedSpare
		resetCalibration()
	})
	mmapMin, mapWindow, readSize, readAheadChunk = 1, 64<<10, 24<<10, 40<<10
	readAheadMin, mapAheadMin = 1<<62, 1<<62
	spareCPU = func() bool { return false }
	resetCalibration()
	switch name {
	case "mmap":
		ioMode = ioMap
	case "read":
		ioMode = ioRead
	case "readahead":
		ioMode, readAheadMin = ioRead, 0
		spareCPU = func() bool { return true }
	case "mapahead":
		ioMode, mapAheadMin = ioMap, 0
		spareCPU = func() bool { return true }
	case "auto":
		ioMode, calibrateSamples = 0, 1<<40
	default:
		tb.Fatalf("unknown path %q", name)
	}
}

// wantIO is the IO bits a job reading big files along the named path reports.
func wantIO(name string) uint32 {
	switch name {
	case "mmap":
		return IOMap
	case "read":
		return IORead
	case "readahead":
		return IOReadAhead
	case "mapahead":
		return IOMapAhead
	}
	if !threadCPUClock {
		return IOMap
	}
	return IORead | IOMap | IOCalibrate
}

// TestIOPaths runs the vectors, cancellation and files that change while
// they are hashed through every path a big file can take.
func TestIOPaths(t *testing.T) {
	for _, name := range ioPaths {
		t.Run(name, func(t *testing.T) {
			withIO(t, name)
			t.Run("vectors", TestVectors)
			t.Run("cancel", TestCancel)
			t.Run("changes", testBigFileChanges)
			t.Run("reported", func(t *testing.T) {
				if got := verifyIO(t, bigTree(t, 5*int(mapWindow)+7)); got != wantIO(name) {
					t.Errorf("IO = %b, want %b", got, wantIO(name))
				}
			})
		})
	}
}

// bigTree writes a root holding one file of size bytes and its SHA1SUMS.
func bigTree(t *testing.T, size int) string {
	root := t.TempDir()
	data := strings.Repeat("b", size)
	write(t, filepath.Join(root, "big"), data)
	write(t, filepath.Join(root, "SHA1SUMS"), line(SHA1, "big", data))
	return root
}

// verifyIO verifies bigTree's root with one worker and returns the IO bits
// the job reported at its end.
func verifyIO(t *testing.T, root string) uint32 {
	t.Helper()
	return jobIO(t, root, filepath.Join(root, "SHA1SUMS"))
}

// TestMappedReads: the vectors and cancellation with every non-empty file
// mapped in windows of the size the engine ships with.
func TestMappedReads(t *testing.T) {
	withIO(t, "mmap")
	mapWindow = 4 << 20
	TestVectors(t)
	TestCancel(t)
}

// testBigFileChanges: a file that shrinks while it is hashed (for a mapped
// window SIGBUS on the next page touched, turned into a panic and
// recovered; for a read one, a short read) or grows is reported changed,
// by jobs and by FileDigest, and nothing stays open.
func testBigFileChanges(t *testing.T) {
	root := t.TempDir()
	data := strings.Repeat("m", 3*int(mapWindow)+123)
	for name, change := range map[string]func(path string){
		"shrinks": func(path string) {
			if err := os.Truncate(path, mapWindow+10); err != nil {
				t.Error(err)
			}
		},
		"grows": func(path string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.WriteString("more")
			f.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(root, name)
			reset := func() { write(t, path, data) }
			// The change happens once the second window is in hand: the
			// first was hashed whole, so the hash is midway when the file
			// changes.
			afterWindow = func(window int) {
				if window == 1 {
					change(path)
				}
			}
			defer func() { afterWindow = nil }()

			reset()
			write(t, filepath.Join(root, "SHA1SUMS"), line(SHA1, name, data))
			c, _, err := verifyTree(t, root, filepath.Join(root, "SHA1SUMS"), 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := statuses(c)[0]; got != "changed" {
				t.Errorf("job status %s, want changed", got)
			}

			reset()
			var out [MaxSize]byte
			if _, err := FileDigest(path, SHA1, out[:SHA1.Size()]); !errors.Is(err, errChanged) || !strings.Contains(err.Error(), path) {
				t.Errorf("FileDigest: err = %v, want errChanged", err)
			}
			if _, files, _ := DebugCounters(); files != 0 {
				t.Fatalf("%d files left open", files)
			}
			checkNothingMapped(t, root)
		})
	}
}

// TestCalibrationChooses: the calibration pairs each worker's neighbouring
// windows, keeps reading only when the median ratio of clean pairs says it
// costs readMarginPct less than mapping, and never compares algorithms.
func TestCalibrationChooses(t *testing.T) {
	withIO(t, "auto")
	calibrateSamples = 3
	for _, tc := range []struct {
		read, mapped float64 // ns per byte
		want         ioPath
	}{{0.5, 0.6, ioRead}, {0.6, 0.5, ioMap}, {0.59, 0.6, ioMap}} { // the last within readMarginPct
		resetCalibration()
		h, other := newHasher(), newHasher()
		for i := range 3 {
			if calib.chosen.Load() != 0 {
				t.Fatalf("chose after %d pairs of 3", i)
			}
			// Another worker's windows and another algorithm's: no pair.
			other.sample(ioRead, SHA1, int64(1e6*tc.read), 1e6, true)
			h.sample(ioMap, SHA512, int64(1e6*tc.mapped), 1e6, true)
			// A pair whose read window was switched out: no say, however skewed.
			h.sample(ioRead, SHA1, int64(1e6*tc.read*0.1), 1e6, false)
			h.sample(ioMap, SHA1, int64(1e6*tc.mapped), 1e6, true)
			// Costs that drift together: the ratio stands.
			drift := float64(1 + i)
			h.sample(ioRead, SHA1, int64(1e6*tc.read*drift), 1e6, true)
			h.sample(ioMap, SHA1, int64(1e6*tc.mapped*drift), 1e6, true)
		}
		if got := ioPath(calib.chosen.Load()); got != tc.want {
			t.Errorf("read %.2f, mapped %.2f ns/B: chose %v, want %v", tc.read, tc.mapped, got, tc.want)
		}
		c := CurrentIOChoice()
		if c.Mode != "auto" || c.Algorithm != "sha1" || math.Abs(c.Ratio-tc.read/tc.mapped) > 1e-9 ||
			math.Abs(c.ReadNsMB-tc.read*1e6) > 1e-3 || math.Abs(c.MappedNsMB-tc.mapped*1e6) > 1e-3 {
			t.Errorf("CurrentIOChoice() = %+v", c)
		}
	}
}

// TestCalibrationUnderLoad: where the thread is switched out in most
// windows, the calibration still ends, after calibrateTries times the
// pairs, by every pair it has.
func TestCalibrationUnderLoad(t *testing.T) {
	withIO(t, "auto")
	calibrateSamples = 2
	h := newHasher()
	for i := range 2 * calibrateTries {
		if calib.chosen.Load() != 0 {
			t.Fatalf("chose after %d pairs", i)
		}
		h.sample(ioRead, MD5, 700, 1000, i == 0)
		h.sample(ioMap, MD5, 800, 1000, false)
	}
	if got := ioPath(calib.chosen.Load()); got != ioRead {
		t.Fatalf("chose %v, want read (12.5%% cheaper in every pair)", got)
	}
}

// TestBLAKE3TreeMapsWithoutCalibrating: in auto mode a BLAKE3 file hashed
// as a tree on several cores is mapped ahead (another goroutine populates
// the next window and unmaps the last, beside the tree's helpers), and none
// of its windows is a calibration sample (the choice is left to the files
// one core hashes); the digest is the same for windows of two pieces and of
// many, a file that shrinks under the tree is reported changed (a helper
// faults on it, SIGBUS, and the tree raises it again where hashMapped
// recovers it), and nothing stays open or mapped.
func TestBLAKE3TreeMapsWithoutCalibrating(t *testing.T) {
	testTreeIO(t, "auto", IOMapAhead)
}

// TestBLAKE3TreeReadsWhenForced: under CHECKSIG_IO=read each goroutine of a
// BLAKE3 tree reads the pieces it hashes (treeHasher.readFrom), with the
// same digests, changes and clean-up.
func TestBLAKE3TreeReadsWhenForced(t *testing.T) {
	testTreeIO(t, "read", IORead)
}

func testTreeIO(t *testing.T, mode string, want uint32) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: no tree on several cores")
	}
	withIO(t, mode)
	mapAheadMin, spareCPU = 0, func() bool { return true } // as with one big file
	defer func(m, w int64) { treeMinSize, treeWindows = m, w }(treeMinSize, treeWindows)
	treeMinSize = 1
	root := t.TempDir()
	path := filepath.Join(root, "big")
	data := strings.Repeat("t", 100*int(mapWindow)+7)
	manifest := filepath.Join(root, "B3SUMS")
	write(t, manifest, line(BLAKE3, "big", data))
	for _, windows := range []int64{8, 64} { // pieces of 256 KiB: 2 a window, 16
		treeWindows = windows
		write(t, path, data)
		if got := jobIO(t, root, manifest); got != want {
			t.Errorf("%d-window tree job, CHECKSIG_IO=%s: IO = %b, want %b alone", windows, mode, got, want)
		}
		if calib.chosen.Load() != 0 || calib.windows != 0 {
			t.Errorf("the tree's windows were calibration samples: chosen %d after %d windows", calib.chosen.Load(), calib.windows)
		}
		checkTreeJob(t, root, manifest, path)
	}
	if n := blake3Busy.Load(); n != 0 {
		t.Errorf("blake3Busy = %d after every hash ended", n)
	}
}

// jobIO runs a verify job with one worker and returns the IO bits it
// reported at its end.
func jobIO(t *testing.T, root, manifest string) uint32 {
	t.Helper()
	j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 1})
	defer j.Close()
	p := j.Poll(time.Second)
	for ; p.Phase != PhaseDone; p = j.Poll(time.Second) {
	}
	if err := j.Result(); err != nil {
		t.Fatal(err)
	}
	return p.IO
}

// checkTreeJob verifies root's manifest, which lists path whole, with one
// worker: ok; then again with path shrinking once the second tree window
// is due: changed. Nothing stays open or mapped after either.
func checkTreeJob(t *testing.T, root, manifest, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { afterWindow = nil }()
	for _, want := range []string{"ok", "changed"} {
		if want == "changed" {
			var once sync.Once
			afterWindow = func(window int) {
				if window > 0 {
					once.Do(func() { os.Truncate(path, treeWindows*mapWindow+10) })
				}
			}
		}
		c, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := statuses(c)[0]; got != want {
			t.Errorf("%d-window tree job: %s, want %s", treeWindows, got, want)
		}
		if _, files, _ := DebugCounters(); files != 0 {
			t.Errorf("%d files left open", files)
		}
		checkNothingMapped(t, root)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { // whole again
		t.Fatal(err)
	}
}

// checkNothingMapped fails t if any file under dir is still mapped into
// the process (Linux: /proc/self/maps), once the jobs that mapped it ended.
func checkNothingMapped(t *testing.T, dir string) {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return // not Linux
	}
	for _, ln := range strings.Split(string(maps), "\n") {
		if strings.Contains(ln, dir+string(filepath.Separator)) {
			t.Errorf("still mapped after the job: %s", ln)
		}
	}
}

// TestCalibrationInAJob: in auto mode the first big windows of the process
// alternate between the paths, then every later job takes the chosen one.
func TestCalibrationInAJob(t *testing.T) {
	if !threadCPUClock {
		t.Skip("no thread CPU clock: big files are mapped")
	}
	withIO(t, "auto")
	calibrateSamples = 2 // chosen after 4 clean pairs, or 16 windows at most, of 24
	root := bigTree(t, 24*int(mapWindow))
	run := func() uint32 { return verifyIO(t, root) }
	if got := run(); got != IORead|IOMap|IOCalibrate {
		t.Fatalf("calibrating job: IO = %b", got)
	}
	c := CurrentIOChoice()
	want := map[string]uint32{"read": IORead, "mmap": IOMap}[c.Chosen]
	if want == 0 || c.Ratio <= 0 {
		t.Fatalf("no choice after 24 windows: %+v", c)
	}
	if (c.Chosen == "read") != (c.Ratio < 1-float64(readMarginPct)/100) {
		t.Errorf("chose against the ratio: %+v", c)
	}
	if got := run(); got != want {
		t.Errorf("job after the choice: IO = %b, want %b (%s)", got, want, c.Chosen)
	}
}

// TestBLAKE3ReadsSmallFilesWithoutCalibrating: in auto mode, where the
// AVX-512 kernel runs, a BLAKE3 file under blake3ReadBelow is read and is no
// calibration sample; from that size on its windows calibrate as any
// other's; forced to map, it is mapped; and the digests are right on every
// path.
func TestBLAKE3ReadsSmallFilesWithoutCalibrating(t *testing.T) {
	if !useKernel || !threadCPUClock {
		t.Skip("no AVX-512 kernel or no thread CPU clock: small BLAKE3 files calibrate as others")
	}
	withIO(t, "auto")
	defer func(b, m int64) { blake3ReadBelow, treeMinSize = b, m }(blake3ReadBelow, treeMinSize)
	blake3ReadBelow, treeMinSize = 8*mapWindow, 1<<62 // one core: no tree
	root := t.TempDir()
	small := strings.Repeat("s", int(8*mapWindow)-1)
	big := strings.Repeat("b", int(8*mapWindow))
	write(t, filepath.Join(root, "small"), small)
	write(t, filepath.Join(root, "big"), big)
	for _, c := range []struct {
		name, data string
		mode       ioPath
		want       uint32
		calibrates bool
	}{
		{"small", small, 0, IORead, false},
		{"big", big, 0, IORead | IOMap | IOCalibrate, true},
		{"small", small, ioMap, IOMap, false},
	} {
		resetCalibration()
		ioMode = c.mode
		manifest := filepath.Join(root, "B3SUMS")
		write(t, manifest, line(BLAKE3, c.name, c.data))
		if got := jobIO(t, root, manifest); got != c.want {
			t.Errorf("%s file, mode %d: IO = %b, want %b", c.name, c.mode, got, c.want)
		}
		if got := calib.windows > 0; got != c.calibrates {
			t.Errorf("%s file, mode %d: %d calibration windows", c.name, c.mode, calib.windows)
		}
	}
}

// TestThreadCPU: the clock the calibration reads counts this thread's work.
func TestThreadCPU(t *testing.T) {
	if !threadCPUClock {
		t.Skip("no thread CPU clock here")
	}
	t0 := threadCPU()
	buf := make([]byte, 1<<20)
	for threadCPU()-t0 < 2e6 {
		sha256.Sum256(buf)
	}
	if t0 <= 0 {
		t.Fatalf("threadCPU() = %d", t0)
	}
}

// TestReadAheadPanics: a panic in the read-ahead helper fails the job with
// a PanicError, and the worker does not wait for it forever.
func TestReadAheadPanics(t *testing.T) {
	withIO(t, "readahead")
	root := t.TempDir()
	data := strings.Repeat("h", 4*int(mapWindow))
	write(t, filepath.Join(root, "f"), data)
	write(t, filepath.Join(root, "SHA256SUMS"), line(SHA256, "f", data))
	h := newHasher()
	f, size, err := openPlain(filepath.Join(root, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func() {
		var pe *PanicError
		if r := recover(); r == nil || !errors.As(r.(error), &pe) || !strings.Contains(pe.Error(), "hash exploded") {
			t.Fatalf("recovered %v, want the helper's PanicError", r)
		}
	}()
	h.hashBig(int(f.(fdFile)), size, SHA256, explodingHash{sha256.New()}, false)
}

type explodingHash struct{ hash.Hash }

func (explodingHash) Write([]byte) (int, error) { panic("hash exploded") }

func TestParseTuning(t *testing.T) {
	old := mmapMin
	oldWindow := mapWindow
	t.Cleanup(func() { mmapMin, mapWindow = old, oldWindow })
	refused := applyTuning(" mmap_min=2M, map_window=12345,nope=1,buf_size=x, map_window=8M")
	if mmapMin != 2<<20 || mapWindow != 8<<20 {
		t.Errorf("mmap_min %d, map_window %d", mmapMin, mapWindow)
	}
	want := []string{"map_window=12345: not a multiple", `unknown name "nope"`, "buf_size=x: not a size"}
	if len(refused) != len(want) {
		t.Fatalf("refused %q", refused)
	}
	for i, w := range want {
		if !strings.Contains(refused[i], w) {
			t.Errorf("refused[%d] = %q, want it to say %q", i, refused[i], w)
		}
	}
	for s, want := range map[string]int64{"0": 0, "7": 7, "1k": 1024, "3M": 3 << 20, "2G": 2 << 30, "1T": 1 << 40} {
		if got, err := parseSize(s); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "-1", "1P", "M", "1.5M", "99999999999G"} {
		if _, err := parseSize(s); err == nil {
			t.Errorf("parseSize(%q) accepted", s)
		}
	}
}

// FuzzBigFile: whatever a file's size and the sizes of the windows,
// buffers and read-ahead chunks, every path hashes exactly the file's bytes.
func FuzzBigFile(f *testing.F) {
	f.Add(uint32(0), uint8(0), uint8(1), uint8(1), uint8(1), uint64(1))
	f.Add(uint32(1<<20+1), uint8(2), uint8(1), uint8(3), uint8(5), uint64(2))
	f.Add(uint32(64<<10), uint8(3), uint8(16), uint8(16), uint8(16), uint64(3))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, size uint32, path, window, buf, chunk uint8, seed uint64) {
		size %= 4 << 20
		withIO(t, ioPaths[int(path)%len(ioPaths)])
		mapWindow = int64(max(window, 1)) * 4096
		readSize, readAheadChunk = int64(max(buf, 1))*1024+int64(seed%7), int64(max(chunk, 1))*1024+int64(seed%13)
		if path%4 == 3 {
			calibrateSamples = int64(seed%4) + 1 // choose mid-job now and then
		}
		data := make([]byte, size)
		x := seed | 1
		for i := range data {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			data[i] = byte(x)
		}
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out [MaxSize]byte
		n, err := FileDigest(p, SHA256, out[:SHA256.Size()])
		want := sha256.Sum256(data)
		if err != nil || n != int64(size) || !bytes.Equal(out[:32], want[:]) {
			t.Fatalf("%s, %d bytes, window %d, reads %d, chunk %d: n %d, err %v, digest %x, want %x",
				ioPaths[int(path)%len(ioPaths)], size, mapWindow, readSize, readAheadChunk, n, err, out[:32], want)
		}
	})
}

// TestOpenSSLPays: OpenSSL hashes a big file only when it is faster than Go's
// code by the margin, and what it saves pays for reading instead of mapping
// unless the file is read anyway or an idle CPU copies it.
func TestOpenSSLPays(t *testing.T) {
	for _, tc := range []struct {
		goNs, sslNs float64
		spare       bool
		path        ioPath
		readExtra   float64
		want        bool
	}{
		{1000, 990, true, ioRead, 0, false},   // within the margin
		{1000, 900, false, ioRead, 0, true},   // read anyway
		{1000, 900, true, ioMap, 500, true},   // an idle CPU reads ahead
		{1000, 900, false, 0, 0, false},       // calibrating: not known yet
		{1000, 900, false, ioMap, 150, false}, // saves 100, reading costs 150 more
		{1000, 800, false, ioMap, 150, true},  // saves 200
		{1000, 1100, true, ioRead, 0, false},  // slower
	} {
		if got := opensslPays(tc.goNs, tc.sslNs, tc.spare, tc.path, tc.readExtra); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
	// Without a libcrypto in the process (a Go test loads none), never.
	if opensslPath() == "" && useOpenSSL(SHA512, true) {
		t.Error("useOpenSSL without a libcrypto")
	}
}

// TestCalibrationEnds: windows too unalike to pair (a small file beside a
// big one) are not compared, and the calibration still ends, mapping, after
// its windows' worth of tries.
func TestCalibrationEnds(t *testing.T) {
	withIO(t, "auto")
	calibrateSamples = 2
	h := newHasher()
	for i := range 2 * calibrateTries * calibrateSamples / 2 {
		if calib.chosen.Load() != 0 {
			t.Fatalf("chose after %d windows of each path", i)
		}
		h.sample(ioRead, SHA1, 100, 1000, true)    // reading 1,000 bytes looks cheap,
		h.sample(ioMap, SHA1, 400_000, 2001, true) // but a window of 2,001 is no peer
	}
	if got := CurrentIOChoice(); got.Chosen != "mmap" || got.Ratio != 1 {
		t.Fatalf("chose %+v, want mmap with no pairs to go by", got)
	}
}
