package checksig

import (
	"fmt"
	"hash"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// How the engine reads a big file (issue 22).
//
// A file of mmapMin bytes or more is hashed window by window, mapWindow
// bytes at a time, and each window is either mapped (mmap_unix.go: no copy,
// but page faults and the walks of a mapping's page tables) or read with
// pread(2) into the worker's buffer (a copy out of the page cache). Which
// costs less depends on the machine, not on the file: on the AMD EPYC VM
// of issue 22 mapping a GB cost ~0.006 s of CPU against ~0.06-0.08 s for
// read(2); on a Xeon microVM reading was 20-30% faster than mapping
// (benchmarks/README.md). So unless CHECKSIG_IO forces a path, the engine
// calibrates on the first big windows it hashes in the process: each worker
// alternates the two paths window by window, times each window on its
// thread's CPU clock (what the window cost this core, whatever other
// processes take from the machine), and once both paths have
// calibrateSamples windows of one algorithm, the path whose cheapest window
// cost less per byte is kept for the rest of the process. The calibration is the
// job's own work, nothing is hashed twice: it costs at most half its
// windows' difference between the paths.
//
// Read-ahead: when a big file is read with read(2) and a CPU would
// otherwise be idle (fewer engine goroutines than GOMAXPROCS, as with one
// huge file or a job's last one), the worker reads the rest of the file
// into a ring of buffers while a helper goroutine hashes them, so the copy
// runs on one core and the hash on another: a peer hashing a file on one
// thread does both on one core. The worker keeps the descriptor, which may
// live in its thread's own table (fdtable_linux.go); the helper sees only
// memory.

// ioPath is a way of reading big files. Its values are bits of the C ABI's
// CHECKSIG_P_IO progress counter (CHECKSIG_IO_* in capi/checksig.h).
type ioPath uint32

const (
	ioRead      ioPath = 1 << iota // read(2) into the hashing thread's buffer
	ioMap                          // memory mapped
	ioReadAhead                    // read(2) on one core, hashed on another
	ioCalibrate                    // windows timed to choose between ioRead and ioMap
	ioOpenSSL                      // hashed by the process's OpenSSL (hashimpl.go)
)

// IO path bits, as Progress.IO reports them.
const (
	IORead      = uint32(ioRead)
	IOMap       = uint32(ioMap)
	IOReadAhead = uint32(ioReadAhead)
	IOCalibrate = uint32(ioCalibrate)
	IOOpenSSL   = uint32(ioOpenSSL)
)

// ioMode is the path CHECKSIG_IO forces, or 0 (auto): calibrate.
var ioMode ioPath

func parseIOMode(s string) (ioPath, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case "read":
		return ioRead, nil
	case "mmap":
		return ioMap, nil
	}
	return 0, fmt.Errorf("CHECKSIG_IO=%q: expected auto, read or mmap (using auto)", s)
}

// mapWindow is how much of a file is hashed at once: mapped, or read in
// bufSize pieces. It is also the unit of the calibration.
var mapWindow int64 = 4 << 20

// fadvise, when not 0, tells the kernel that a big file is read front to
// back (posix_fadvise SEQUENTIAL: twice the read-ahead of read(2) on a cold
// cache) before it is hashed.
var fadvise int64

// calibrateSamples is how many windows of each path the calibration times
// before it chooses.
var calibrateSamples int64 = 8

// readAheadChunk and readAheadChunks shape the read-ahead ring: the copy
// runs at most readAheadChunk*readAheadChunks bytes ahead of the hash.
// readAheadMin is the rest of a file from which a worker reads ahead.
var (
	readAheadChunk  int64 = 1 << 20
	readAheadChunks int64 = 4
	readAheadMin    int64 = 16 << 20
)

// chunkPool holds read-ahead buffers between files (a []byte of
// readAheadChunk bytes each): a job's workers need them only while they read
// ahead, so they are not kept with the workers' hashers.
var chunkPool sync.Pool

// busy counts the engine goroutines that hash: job workers and read-ahead
// helpers. Fewer than GOMAXPROCS means a CPU the engine leaves idle.
var busy atomic.Int64

// spareCPU reports whether a CPU is left idle by the engine; a variable for
// tests.
var spareCPU = func() bool { return busy.Load() < int64(runtime.GOMAXPROCS(0)) }

// calibration chooses between ioRead and ioMap, once per process.
var calib struct {
	chosen atomic.Uint32 // the chosen ioPath; 0 while calibrating
	mu     sync.Mutex
	// cost holds each sampled window's CPU time per byte, by algorithm and
	// path (0 read, 1 mapped).
	cost [numAlgorithms][2][]float64
	// least is the lowest cost per MB of each path, in ns, that the choice
	// was made by.
	least [2]float64
	alg   Algorithm
}

// choosePath returns the path for a window of a big file and whether it is
// a calibration sample: the worker's turn alternates between the paths
// while the process calibrates.
func (h *hasher) choosePath() (ioPath, bool) {
	if ioMode != 0 {
		return ioMode, false
	}
	if p := calib.chosen.Load(); p != 0 {
		return ioPath(p), false
	}
	if !threadCPUClock {
		return ioMap, false // nothing to time with: what was measured on most machines
	}
	h.turn++
	if h.turn&1 == 0 {
		return ioRead, true
	}
	return ioMap, true
}

// sample records a calibration window of n bytes of algorithm a through p
// that took ns of the thread's CPU time, and chooses once both paths have
// calibrateSamples windows of a: the path whose cheapest window cost less
// per byte. Other work on the machine only ever adds to a window's time
// (caches and memory shared with it), so the cheapest window is the
// steadiest estimate of a path's own cost: on the EPYC VM of issue 22 at a
// load of 6 on 2 CPUs, the medians of 8 windows put the paths within 1% of
// each other, once the wrong way round in four runs, while the minimums
// were 12% apart in every run, as on the idle machine.
func sample(p ioPath, a Algorithm, ns, n int64) {
	if n <= 0 || ns <= 0 {
		return
	}
	i := 0
	if p == ioMap {
		i = 1
	}
	calib.mu.Lock()
	defer calib.mu.Unlock()
	if calib.chosen.Load() != 0 {
		return
	}
	c := &calib.cost[a]
	c[i] = append(c[i], float64(ns)/float64(n))
	if int64(len(c[0])) < calibrateSamples || int64(len(c[1])) < calibrateSamples {
		return
	}
	r, m := slices.Min(c[0]), slices.Min(c[1])
	calib.least = [2]float64{r * 1e6, m * 1e6}
	calib.alg = a
	calib.cost = [numAlgorithms][2][]float64{}
	if r < m {
		calib.chosen.Store(uint32(ioRead))
	} else {
		calib.chosen.Store(uint32(ioMap))
	}
}

// resetCalibration forgets the choice (tests).
func resetCalibration() {
	calib.mu.Lock()
	defer calib.mu.Unlock()
	calib.chosen.Store(0)
	calib.cost = [numAlgorithms][2][]float64{}
	calib.least = [2]float64{}
	calib.alg = None
}

// afterWindow, when set by a test, runs once the first bytes of each window
// of a big file are in hand (mapped, or read) and before they are hashed:
// the seam that truncates or grows a file mid-hash.
var afterWindow func(window int)

// hashBig hashes the size bytes of the regular file fd with d, a's hash,
// window by window, each through the path choosePath gives, or read when ssl
// says d is OpenSSL's (which must never read a mapping). A file that shrinks
// or grows meanwhile is errChanged.
func (h *hasher) hashBig(fd int, size int64, a Algorithm, d hash.Hash, ssl bool) (int64, error) {
	if fadvise != 0 {
		adviseFile(fd)
	}
	if ssl {
		h.used(ioOpenSSL)
	}
	var n int64
	noMap := false // a window could not be mapped: read the rest
	for n < size {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, ErrCancelled
		}
		p, timed := h.choosePath()
		if noMap || ssl {
			p, timed = ioRead, false
		}
		if p == ioRead && !timed && size-n >= readAheadMin && spareCPU() {
			m, err := h.readAhead(fd, n, size, d)
			n += m
			if err != nil {
				return n, err
			}
			break
		}
		w := min(mapWindow, size-n)
		var got ioPath
		var err error
		if timed {
			got, err = h.timedWindow(p, a, fd, n, w, d)
		} else {
			got, err = h.window(p, fd, n, w, d)
		}
		noMap = noMap || p == ioMap && got&ioMap == 0
		h.used(got)
		if err != nil {
			return n, err
		}
		n += w
		h.advance(w)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return n, err
	}
	if st.Size != size {
		return n, errChanged // grown, or shrunk after its last byte was read
	}
	return n, nil
}

// window hashes the n bytes of fd at off through p and returns the path it
// took: ioRead where a window cannot be mapped (a file system without
// mmap, no address space left), since reading is always possible.
func (h *hasher) window(p ioPath, fd int, off, n int64, d hash.Hash) (ioPath, error) {
	if p == ioMap {
		if ok, err := h.mapHash(fd, off, int(n), d); ok {
			return ioMap, err
		}
	}
	return ioRead, h.readHash(fd, off, n, d)
}

// timedWindow is window timed on the thread's CPU clock, a calibration
// sample of algorithm a.
func (h *hasher) timedWindow(p ioPath, a Algorithm, fd int, off, n int64, d hash.Hash) (ioPath, error) {
	runtime.LockOSThread() // one thread's clock from start to end
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	got, err := h.window(p, fd, off, n, d)
	if got == p && err == nil {
		sample(p, a, threadCPU()-t0, n)
	}
	return got | ioCalibrate, err
}

// readHash reads the n bytes of fd at off into the hasher's buffer with
// pread(2) and hashes them: fewer bytes than n means the file shrank.
func (h *hasher) readHash(fd int, off, n int64, d hash.Hash) error {
	first := true
	for n > 0 {
		b := h.buf[:min(int64(len(h.buf)), n)]
		k, err := preadFull(fd, b, off)
		if err != nil {
			return err
		}
		if first && afterWindow != nil {
			afterWindow(int(off / mapWindow))
		}
		first = false
		if k < len(b) {
			return errChanged
		}
		d.Write(b)
		off += int64(k)
		n -= int64(k)
	}
	return nil
}

// preadFull reads len(b) bytes of fd at off, fewer only at the end of the file.
func preadFull(fd int, b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		k, err := syscall.Pread(fd, b[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	return n, nil
}

// readAhead hashes the bytes of fd from off to size with d: this goroutine
// reads them into a ring of readAheadChunks buffers while a helper
// goroutine hashes them, in order. It returns the bytes hashed; reading
// fewer bytes than size means the file shrank (errChanged). The helper has
// finished with d when it returns.
func (h *hasher) readAhead(fd int, off, size int64, d hash.Hash) (n int64, err error) {
	k := int(readAheadChunks)
	full := make(chan []byte, k) // read, to hash, in file order
	free := make(chan []byte, k) // hashed, to read into
	for range k {
		b, _ := chunkPool.Get().([]byte)
		if int64(len(b)) != readAheadChunk {
			b = make([]byte, readAheadChunk)
		}
		free <- b
	}
	done := make(chan *PanicError, 1)
	busy.Add(1)
	go func() {
		defer busy.Add(-1)
		defer func() {
			var pe *PanicError
			if r := recover(); r != nil {
				pe = &PanicError{Value: r, Stack: debug.Stack()}
			}
			done <- pe
		}()
		for b := range full {
			d.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var helperPanic *PanicError
	helperDone := false
	defer func() {
		// Also when this goroutine panics: let the helper end, give the
		// buffers back (in free, or still in full if the helper panicked),
		// and only then report the helper's panic.
		close(full)
		if !helperDone {
			helperPanic = <-done
		}
		for b := range full {
			chunkPool.Put(b[:cap(b)])
		}
		for len(free) > 0 {
			b := <-free
			chunkPool.Put(b[:cap(b)])
		}
		if helperPanic != nil {
			panic(helperPanic) // the job's recover reports it
		}
	}()
	h.used(ioReadAhead)
	window := int64(-1)
	for off < size {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, ErrCancelled
		}
		var b []byte
		select {
		case b = <-free:
		case helperPanic = <-done:
			helperDone = true
			return n, nil // the deferred function panics
		}
		b = b[:min(int64(len(b)), size-off)]
		m, err := preadFull(fd, b, off)
		if w := off / mapWindow; w != window && afterWindow != nil {
			window = w
			afterWindow(int(w))
		}
		if err == nil && m < len(b) {
			err = errChanged // the file shrank
		}
		if err != nil {
			free <- b
			return n, err
		}
		full <- b
		off += int64(m)
		n += int64(m)
		h.advance(int64(m))
	}
	return n, nil
}

// used notes that this hasher's job read a big file through p.
func (h *hasher) used(p ioPath) {
	if h.io != nil && h.ioSeen&p != p {
		h.ioSeen |= p
		h.io.Or(uint32(p))
	}
}

// IOChoice describes how the engine reads big files in this process: the
// mode CHECKSIG_IO set ("auto", "read" or "mmap"), the path chosen (""
// while auto still calibrates), and the algorithm and the lowest CPU cost
// per MB (10^6 bytes) of each path, in ns, that the calibration chose by
// (zero values before it chose).
type IOChoice struct {
	Mode       string  `json:"mode"`
	Chosen     string  `json:"chosen"`
	Algorithm  string  `json:"algorithm"`
	ReadNsMB   float64 `json:"read_ns_per_mb"`
	MappedNsMB float64 `json:"mmap_ns_per_mb"`
}

// CurrentIOChoice returns the process's IOChoice.
func CurrentIOChoice() IOChoice {
	names := map[ioPath]string{0: "", ioRead: "read", ioMap: "mmap"}
	c := IOChoice{Mode: "auto"}
	if ioMode != 0 {
		c.Mode = names[ioMode]
		c.Chosen = c.Mode
		return c
	}
	if !threadCPUClock {
		c.Chosen = "mmap"
		return c
	}
	calib.mu.Lock()
	defer calib.mu.Unlock()
	c.Chosen = names[ioPath(calib.chosen.Load())]
	c.Algorithm, c.ReadNsMB, c.MappedNsMB = calib.alg.String(), calib.least[0], calib.least[1]
	return c
}
