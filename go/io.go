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
// of issue 22 the faults of mapping a GB cost ~0.006 s of CPU, the copy of
// read(2) ~0.06-0.08 s (12% of the whole with SHA-1); on a Xeon microVM
// reading was 20-30% faster than mapping (benchmarks/README.md). So unless CHECKSIG_IO forces a path, the engine
// calibrates on the first big windows it hashes in the process: each worker
// alternates the two paths window by window, times each window on its
// thread's CPU clock (what the window cost this core, whatever other
// processes take from the machine), and once calibrateSamples pairs of
// neighbouring windows of one algorithm are in, the path that cost less by
// the median of their ratios is kept for the rest of the process (sample
// says how windows are judged). The calibration is the job's own work,
// nothing is hashed twice: it costs at most half its windows' difference
// between the paths.
//
// Map-ahead: when a big file is mapped and a CPU would otherwise be idle,
// the worker maps the next window before it hashes the current one, and a
// helper goroutine makes the next window's pages present
// (MADV_POPULATE_READ) and unmaps the windows already hashed: the page
// faults and the unmapping move off the hashing core (mmap_unix.go,
// mapAhead).
//
// Read-ahead: when a big file is read with read(2) and a CPU would
// otherwise be idle (fewer engine goroutines than GOMAXPROCS, as with one
// huge file or a job's last one), the worker reads the rest of the file
// into a ring of buffers while a helper goroutine hashes them, so the copy
// runs on one core and the hash on another: a peer hashing a file on one
// thread does both on one core. The worker keeps the descriptor, which may
// live in its thread's own table (fdtable_linux.go); the helper sees only
// memory.
//
// A BLAKE3 tree on several cores (blake3.go) maps its windows in auto mode,
// through mapAhead, without calibrating: its kernel hashes a mapping as
// fast as a cached buffer, so reading would only add the copy
// (autoPath). Forced to read (CHECKSIG_IO=read), each goroutine of the
// tree preads the 256 KiB piece it hashes into a buffer of its own
// (treeHasher.readFrom).

// ioPath is a way of reading big files. Its values are bits of the C ABI's
// CHECKSIG_P_IO progress counter (CHECKSIG_IO_* in capi/checksig.h).
type ioPath uint32

const (
	ioRead      ioPath = 1 << iota // read(2) into the hashing thread's buffer
	ioMap                          // memory mapped
	ioReadAhead                    // read(2) on one core, hashed on another
	ioCalibrate                    // windows timed to choose between ioRead and ioMap
	ioOpenSSL                      // hashed by the process's OpenSSL (hashimpl.go)
	ioMapAhead                     // mapped, its pages made present on another core ahead of the hash
)

// IO path bits, as Progress.IO reports them.
const (
	IORead      = uint32(ioRead)
	IOMap       = uint32(ioMap)
	IOReadAhead = uint32(ioReadAhead)
	IOCalibrate = uint32(ioCalibrate)
	IOOpenSSL   = uint32(ioOpenSSL)
	IOMapAhead  = uint32(ioMapAhead)
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
// readSize pieces. It is also the unit of the calibration. 64 MiB windows
// cost 2-3% less CPU than 4 MiB ones on the EPYC VM (two A/B runs), but a
// mapped window counts in the process's resident memory, per worker.
var mapWindow int64 = 4 << 20

// readSize is the size of a big file's reads into a worker's buffer (its
// own, made at its first big read: small files use bufSize). One worker
// alone on the EPYC VM spent 3.5% less CPU with 1 MiB reads (0.581 against
// 0.602 s per GB: a quarter of the system calls), and ab.py read_size finds
// huge1 within noise either way (B/A 1.015); but with both workers reading,
// as on 1,000 files of 1 MiB, 256 KiB reads are 15% faster (wall B/A 0.868,
// CPU 0.921; Go alone 2.79-2.89 GB/s against 2.42-2.51): a buffer that
// stays in the core's L2 cache while the hash reads it, where a 1 MiB one
// spills to the L3 the other core is streaming through too.
var readSize int64 = 256 << 10

// fadvise, when not 0, tells the kernel that a big file is read front to
// back (posix_fadvise SEQUENTIAL: twice the read-ahead of read(2) on a cold
// cache) before it is hashed.
var fadvise int64

// calibrateSamples is how many pairs of clean windows, one read and one
// mapped (run without the thread being switched out), the calibration
// times before it chooses; it stops waiting for them after calibrateTries
// times as many pairs' worth of windows.
var calibrateSamples int64 = 8

const calibrateTries = 4

// readMarginPct is how much less (in percent) reading must cost than
// mapping to be chosen: closer than that the measurement cannot tell them
// apart, and mapping leaves an idle CPU idle (reading would put the copy on
// it) and is what the engine did before it calibrated. It was 3; on the
// EPYC VM the two cost the same on one core (1 MiB files, ±3%), but with
// both workers hashing, mapping did 2.57-2.75 GB/s and reading 2.18-2.38
// (the copy doubles the memory traffic), which the calibration's few
// samples did not see: it chose reading in 3 of 12 and 6 of 12 runs of
// `large`. 10 keeps mapping there and reading where it is 20-30% cheaper
// (the Xeon microVM of issue 22).
var readMarginPct int64 = 10

// blake3ReadBelow is the file size under which BLAKE3, where its AVX-512
// kernel runs, is read in auto mode, without calibrating (autoPath): such a
// file cannot sit in the page cache's 2 MiB folios, so mapping it costs
// page table entries 4 KiB at a time, and its unmapping interrupts the
// other cores (TLB shootdowns), which a window's thread clock does not
// see: the calibration chose mapping on 1,000 files of 1 MiB, whose whole
// process then took 12% longer than reading (0.263 s against 0.235, CPU
// 0.476 against 0.416; EPYC VM, 12 interleaved rounds), though reading
// pays a copy that mapping does not; unmapping the 1,000 files raised 903
// TLB shootdowns, reading them 21. On 128 files of 8 MiB, all in 2 MiB
// folios, mapping was 23% faster (0.159 s against 0.206), which the
// calibration finds.
var blake3ReadBelow int64 = 2 << 20

// mapAheadMin is the rest of a file from which a worker hashing it through
// mappings has a helper on an idle CPU populate the next window and unmap
// the last (mapAhead). One 512 MiB file, SHA-1, Go alone (EPYC VM): 1.69-1.72
// GB/s without, 1.79-1.82 with the populating, 1.87-1.89 with the unmapping
// too, which is the speed of SHA-1 on a buffer in memory (1.84-1.93). A
// BLAKE3 tree takes it too, with its own windows: unmapping a 64 MiB window
// took 2-5 ms with the tree's helpers idle, 85 ms of the ~0.41 s a 2 GiB file
// took. Go alone, four interleaved rounds on that file, best three of five
// each: 0.38-0.44 s beside the tree, 0.43-0.53 s without.
var mapAheadMin int64 = 16 << 20

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
	pairs  [numAlgorithms]pairs // by algorithm: only like is compared with like
	// windows counts the windows timed: the calibration ends after
	// 2*calibrateTries*calibrateSamples whatever it has.
	windows int64
	// What the choice was made by: the algorithm, the median of read/mapped
	// over the pairs, and the cheapest clean window of each path, ns per MB.
	alg   Algorithm
	ratio float64
	least [2]float64
}

// pairs are the calibration's pairs of adjacent windows of one worker, one
// read and one mapped: their cost ratios (read/mapped), all of them and
// those whose two windows were both clean, and each path's cheapest clean
// window (CPU ns per byte; 0 before one).
type pairs struct {
	all, clean []float64
	least      [2]float64
}

// timing is a calibration window a worker has timed and not yet paired.
type timing struct {
	path  ioPath
	alg   Algorithm
	n     int64   // bytes
	cost  float64 // CPU ns per byte
	clean bool
}

// autoPath is the path auto mode takes for a whole big file of algorithm a
// without calibrating, or 0 to leave it to the calibration. Two kinds of
// file have a rule of their own, both BLAKE3's, whose hash is so cheap that
// what the calibration cannot see decides:
//   - a tree on several cores (tree) is mapped (hashBig maps it ahead:
//     mapAhead). Since the AVX-512 kernel prefetches the chunks it hashes
//     next (internal/blake3x16's prefetchGroup), a tree hashes a mapping as
//     fast as a buffer in the L2 cache, so the copy of reading is pure
//     cost, and where the page cache holds the file in 2 MiB folios mapping
//     it is nearly free; and a calibration sample, one map window ending in
//     a join of the helpers, would cost the tree more than it tells. One 2
//     GiB file, whole processes against b3sum --check (EPYC VM, 10
//     interleaved rounds each; the share of the file in 2 MiB folios
//     first): 0%, mapped 1.04x b3sum, read 1.03x; 22%, 1.05x and 0.99x;
//     98%, 1.00x and 0.73x. (Before the prefetch, reading had measured 10%
//     faster: treeHasher.readFrom, still the path under CHECKSIG_IO=read.)
//   - a file under blake3ReadBelow, where the kernel runs, is read (see
//     there: the calibration's thread clock misses what unmapping costs the
//     other cores).
func autoPath(a Algorithm, size int64, tree bool) ioPath {
	switch {
	case tree:
		return ioMap
	case a == BLAKE3 && useKernel && size < blake3ReadBelow:
		return ioRead
	}
	return 0
}

// choosePath returns the path for a window of a big file and whether it is
// a calibration sample: the path CHECKSIG_IO forces, else fixed (autoPath's
// rule for the file) when not 0, else the calibration's choice; the
// worker's turn alternates between the paths while the process calibrates.
func (h *hasher) choosePath(fixed ioPath) (ioPath, bool) {
	if ioMode != 0 {
		return ioMode, false
	}
	if fixed != 0 {
		return fixed, false
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

// sample records a calibration window of n bytes of algorithm a read
// through p that took ns of the thread's CPU time; clean says the thread ran
// it without being switched out. A worker's windows alternate between the
// paths, and each window is paired with the one before it if it is of the
// same algorithm and at least half as big (a window's fixed costs weigh
// more in a small one): the choice is made once calibrateSamples pairs of
// clean windows of one algorithm are in, or after
// 2*calibrateTries*calibrateSamples windows with whatever pairs there are,
// by the median of their cost ratios: reading if it costs less than mapping
// by readMarginPct.
//
// Why pairs of clean windows. Other work on the machine adds to a window's
// cost, the more so if it takes the CPU in the middle of one (its caches
// and TLB entries replace the window's); and a process's first windows all
// cost more than its later ones. On the EPYC VM of issue 22 at a load of
// 4-6 on 2 CPUs, in 10 fresh processes hashing one 512 MiB file, windows
// scattered by +-15%, and mapping, 12% cheaper there, came out dearer by
// the median ratio of the first 8 pairs in 8 runs, by each path's cheapest
// of its first 8 windows in 1 (of its first 8 clean ones: 3), and by the
// median ratio of the first 8 pairs of clean windows in none: the ratio of
// neighbours cancels what drifts, leaving out switched windows what jumps.
func (h *hasher) sample(p ioPath, a Algorithm, ns, n int64, clean bool) {
	if n <= 0 || ns <= 0 {
		return
	}
	t := timing{p, a, n, float64(ns) / float64(n), clean}
	prev := h.timed
	paired := prev.path != 0 && prev.path != p && prev.alg == a && 2*min(n, prev.n) >= max(n, prev.n)
	h.timed = t
	if paired {
		h.timed = timing{}
	}
	calib.mu.Lock()
	defer calib.mu.Unlock()
	if calib.chosen.Load() != 0 {
		return
	}
	calib.windows++
	if paired {
		read, mapped := prev, t
		if p == ioRead {
			read, mapped = t, prev
		}
		c := &calib.pairs[a]
		ratio := read.cost / mapped.cost
		c.all = append(c.all, ratio)
		for i, w := range [2]timing{read, mapped} {
			if w.clean && (c.least[i] == 0 || w.cost < c.least[i]) {
				c.least[i] = w.cost
			}
		}
		if read.clean && mapped.clean {
			c.clean = append(c.clean, ratio)
		}
	}
	// Enough clean pairs of one algorithm; or, on a machine too busy for
	// clean windows or with files too unalike to pair, what there is.
	best, enough := Algorithm(0), false
	for b := range calib.pairs {
		c := &calib.pairs[b]
		if int64(len(c.clean)) >= calibrateSamples {
			best, enough = Algorithm(b), true
			break
		}
		if len(c.all) > len(calib.pairs[best].all) {
			best = Algorithm(b)
		}
	}
	c := &calib.pairs[best]
	r := c.clean
	switch {
	case enough:
	case calib.windows >= 2*calibrateTries*calibrateSamples:
		r = c.all
	default:
		return
	}
	calib.alg, calib.ratio = best, 1.0 // no pairs at all: map, as before calibration
	if len(r) > 0 {
		calib.ratio = median(r)
	}
	calib.least = [2]float64{c.least[0] * 1e6, c.least[1] * 1e6}
	calib.pairs, calib.windows = [numAlgorithms]pairs{}, 0
	if calib.ratio < 1-float64(readMarginPct)/100 {
		calib.chosen.Store(uint32(ioRead))
	} else {
		calib.chosen.Store(uint32(ioMap))
	}
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// resetCalibration forgets the choice (tests).
func resetCalibration() {
	calib.mu.Lock()
	defer calib.mu.Unlock()
	calib.chosen.Store(0)
	calib.pairs, calib.windows = [numAlgorithms]pairs{}, 0
	calib.least = [2]float64{}
	calib.alg, calib.ratio = None, 0
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
	// A tree on several cores takes bigger windows (its helpers wait for
	// each other at the end of each) and, read, reads them itself.
	window, tree := mapWindow, treeHash(nil)
	if t, ok := d.(treeHash); ok && t.windowScale() > 1 {
		window *= t.windowScale()
		tree = t
	}
	fixed := autoPath(a, size, tree != nil)
	for n < size {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, ErrCancelled
		}
		p, timed := h.choosePath(fixed)
		if noMap || ssl {
			p, timed = ioRead, false
		}
		if tree != nil && p == ioRead {
			// The tree's goroutines read the pieces they hash.
			w := min(window, size-n)
			if afterWindow != nil {
				afterWindow(int(n / mapWindow))
			}
			h.used(ioRead)
			if err := tree.readTree(fd, n, w, h.bigBuffer()); err != nil {
				return n, err
			}
			n += w
			h.advance(w)
			continue
		}
		if p == ioRead && !timed && size-n >= readAheadMin && spareCPU() {
			m, err := h.readAhead(fd, n, size, d)
			n += m
			if err != nil {
				return n, err
			}
			break
		}
		if p == ioMap && !timed && size-n >= mapAheadMin && spareCPU() {
			m, mapped, err := h.mapAhead(fd, n, size, window, d)
			n += m
			if err != nil {
				return n, err
			}
			if n == size {
				break
			}
			noMap = noMap || !mapped // a window could not be mapped: read the rest
			continue
		}
		w := min(window, size-n)
		if timed {
			w = min(mapWindow, size-n) // a calibration sample is one map window
		}
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

// treeHash is a hash that may be a tree on several cores (BLAKE3's): then
// windowScale is above 1, the number of mapWindows it wants at once (its
// helpers wait for each other at the end of every window), and readTree
// reads and hashes a window itself, on those cores.
type treeHash interface {
	windowScale() int64
	readTree(fd int, off, n int64, buf []byte) error
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
	sw := threadSwitches()
	t0 := threadCPU()
	got, err := h.window(p, fd, off, n, d)
	if got == p && err == nil {
		h.sample(p, a, threadCPU()-t0, n, threadSwitches() == sw)
	}
	return got | ioCalibrate, err
}

// readHash reads the n bytes of fd at off into the hasher's big-file buffer
// with pread(2) and hashes them: fewer bytes than n means the file shrank.
func (h *hasher) readHash(fd int, off, n int64, d hash.Hash) error {
	if afterWindow != nil {
		afterWindow(int(off / mapWindow))
	}
	return readInto(fd, off, n, h.bigBuffer(), func(b []byte) { d.Write(b) })
}

// readInto reads the n bytes of fd at off through buf and passes them to
// write, in order: fewer bytes than n in the file means it shrank
// (errChanged).
func readInto(fd int, off, n int64, buf []byte, write func([]byte)) error {
	for n > 0 {
		b := buf[:min(int64(len(buf)), n)]
		k, err := preadFull(fd, b, off)
		if err != nil {
			return err
		}
		if k < len(b) {
			return errChanged
		}
		write(b)
		off += int64(k)
		n -= int64(k)
	}
	return nil
}

// bigBuffer returns the worker's buffer for big files' reads, readSize
// bytes.
func (h *hasher) bigBuffer() []byte {
	if int64(len(h.bigBuf)) != readSize {
		h.bigBuf = make([]byte, readSize)
	}
	return h.bigBuf
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
		var pe *PanicError
		defer func() { done <- pe }() // last: the worker goes on, the CPU is free
		defer busy.Add(-1)
		defer func() {
			if r := recover(); r != nil {
				pe = &PanicError{Value: r, Stack: debug.Stack()}
			}
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
// while auto still calibrates), and what the calibration chose by (zero
// values before it chose): the algorithm, the median ratio of reading's CPU
// cost to mapping's, and the cheapest clean window of each path in ns of
// CPU per MB (10^6 bytes).
type IOChoice struct {
	Mode       string  `json:"mode"`
	Chosen     string  `json:"chosen"`
	Algorithm  string  `json:"algorithm"`
	Ratio      float64 `json:"read_over_mmap"`
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
	c.Algorithm, c.Ratio = calib.alg.String(), calib.ratio
	c.ReadNsMB, c.MappedNsMB = calib.least[0], calib.least[1]
	return c
}
