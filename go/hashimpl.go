package checksig

import (
	"hash"
	"runtime"
	"sync"
)

// Which code hashes a big file (issue 22): Go's own, or the OpenSSL that the
// process hosting the engine has already loaded (openssl_linux.go: in
// CPython, hashlib's). Neither is faster everywhere: on the AMD EPYC VM of
// issue 22 Go's SHA-1 and SHA-256 run as fast as OpenSSL's, its MD5 6%
// faster and OpenSSL's SHA-384 and SHA-512 7-11% faster; on the Xeon of the
// issue OpenSSL's SHA-1 was 5% faster. So for each algorithm the first big
// file that could use OpenSSL times both on the same in-cache buffer (1-3
// ms on the thread's CPU clock, once per process) and keeps Go's code
// unless OpenSSL is faster by opensslMargin and what it saves pays for the
// way it must read: OpenSSL never hashes a mapped window (a
// file shrinking under it raises SIGBUS in C code, which the Go runtime
// cannot recover), so where mapping was chosen OpenSSL must save more than
// the copy costs, unless an idle CPU reads ahead and takes the copy. New
// algorithms without an OpenSSL name (opensslNames) are always Go's.

// opensslMode is the "openssl" tunable: 0 never, 1 where it is faster (as
// above), 2 for every big file it can hash (tests).
var opensslMode int64 = 1

// opensslMargin is how much less CPU per byte OpenSSL must take than Go's
// code to be chosen: below it, a difference is within the measurement's
// noise and the cgo calls.
const opensslMargin = 0.03

// hashCal holds, per algorithm, whether Go's and OpenSSL's costs were
// timed and what they were, ns of CPU per MB (timeHashes).
var hashCal struct {
	mu          sync.Mutex
	decided     [numAlgorithms]bool
	goNs, sslNs [numAlgorithms]float64
}

// calBuf is what the hash calibration hashes: 128 KiB, in the L2 cache.
var calBuf = sync.OnceValue(func() []byte {
	b := make([]byte, 128<<10)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
})

// useOpenSSL reports whether a big file of algorithm a is hashed with
// OpenSSL; spare says whether an idle CPU can read it ahead.
func useOpenSSL(a Algorithm, spare bool) bool {
	if opensslMode == 0 || ioMode == ioMap || !opensslReady(a) {
		return false // CHECKSIG_IO=mmap: every big file is mapped, so Go hashes it
	}
	if opensslMode == 2 {
		return true
	}
	goNs, sslNs, ok := hashCosts(a)
	if !ok {
		return false
	}
	path := ioMode
	if path == 0 {
		path = ioPath(calib.chosen.Load())
	}
	calib.mu.Lock()
	readExtra := (calib.ratio - 1) * calib.least[1] // what reading costs more than mapping
	calib.mu.Unlock()
	return opensslPays(goNs, sslNs, spare, path, readExtra)
}

// opensslPays is the rule: OpenSSL costs goNs and sslNs of CPU per MB
// against Go's code; spare says whether an idle CPU would read ahead; path is
// how big files are read when hashed by Go (0 while that is being
// calibrated), and readExtra what reading costs more than mapping per MB.
func opensslPays(goNs, sslNs float64, spare bool, path ioPath, readExtra float64) bool {
	switch {
	case sslNs > goNs*(1-opensslMargin):
		return false
	case spare || path == ioRead:
		return true // read anyway, or the copy is another core's
	case path == 0:
		return false // not yet known what reading costs against mapping
	}
	return goNs-sslNs > readExtra
}

// opensslReady reports whether a libcrypto is bound that knows a.
func opensslReady(a Algorithm) bool {
	_, ok := opensslNames[a]
	return ok && opensslPath() != ""
}

// hashCosts returns Go's and OpenSSL's CPU time per MB of a, in ns, timing
// them on first use; ok is false where they cannot be timed.
func hashCosts(a Algorithm) (goNs, sslNs float64, ok bool) {
	hashCal.mu.Lock()
	defer hashCal.mu.Unlock()
	if !hashCal.decided[a] {
		hashCal.decided[a] = true
		hashCal.goNs[a], hashCal.sslNs[a] = timeHashes(a)
	}
	return hashCal.goNs[a], hashCal.sslNs[a], hashCal.goNs[a] > 0 && hashCal.sslNs[a] > 0
}

// timeHashes hashes calBuf with each implementation of a in turn, 8
// times, and returns Go's median cost of a pass in ns per MB and OpenSSL's
// as that times the median ratio of the two in a round (0, 0: not timed).
// Rounds in which the thread was switched out are left out while there are
// others, as in the I/O calibration (io.go's sample).
func timeHashes(a Algorithm) (goNs, sslNs float64) {
	ssl := newOpenSSL(a)
	if ssl == nil || !threadCPUClock {
		return 0, 0
	}
	g, buf := a.New(), calBuf()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g.Write(buf) // first passes untimed: code and tables into the caches
	ssl.Write(buf)
	var gs, ratios, cleanGs, cleanRatios []float64
	for range 8 {
		sw := threadSwitches()
		t := threadCPU()
		g.Write(buf)
		t2 := threadCPU()
		ssl.Write(buf)
		t3 := threadCPU()
		if t2 <= t || t3 <= t2 {
			continue
		}
		gs, ratios = append(gs, float64(t2-t)), append(ratios, float64(t3-t2)/float64(t2-t))
		if threadSwitches() == sw {
			cleanGs, cleanRatios = append(cleanGs, gs[len(gs)-1]), append(cleanRatios, ratios[len(ratios)-1])
		}
	}
	if len(cleanGs) >= 3 {
		gs, ratios = cleanGs, cleanRatios
	}
	if len(gs) == 0 {
		return 0, 0
	}
	goNs = median(gs) * 1e6 / float64(len(buf))
	return goNs, goNs * median(ratios)
}

// resetHashChoice forgets the choices (tests).
func resetHashChoice() {
	hashCal.mu.Lock()
	defer hashCal.mu.Unlock()
	hashCal.decided = [numAlgorithms]bool{}
	hashCal.goNs, hashCal.sslNs = [numAlgorithms]float64{}, [numAlgorithms]float64{}
}

// goHash returns the hasher's Go hash of a, reset.
func (h *hasher) goHash(a Algorithm) hash.Hash {
	d := h.hashes[a]
	if d == nil {
		d = a.New()
		h.hashes[a] = d
	}
	d.Reset()
	return d
}

// sslHash returns the hasher's OpenSSL hash of a, reset, or nil.
func (h *hasher) sslHash(a Algorithm) hash.Hash {
	d := h.ssl[a]
	if d == nil {
		if d = newOpenSSL(a); d == nil {
			return nil
		}
		h.ssl[a] = d
	}
	d.Reset()
	return d
}

// HashInfo says which code may hash big files in this process: the
// libcrypto bound ("" without one), the "openssl" tunable, and for each
// algorithm timed so far Go's and OpenSSL's cheapest CPU time, ns per MB.
type HashInfo struct {
	OpenSSL string                `json:"openssl"`
	Mode    int64                 `json:"mode"`
	Timed   map[string][2]float64 `json:"timed_go_openssl_ns_per_mb"`
}

// CurrentHashInfo returns the process's HashInfo.
func CurrentHashInfo() HashInfo {
	info := HashInfo{OpenSSL: opensslPath(), Mode: opensslMode, Timed: map[string][2]float64{}}
	hashCal.mu.Lock()
	defer hashCal.mu.Unlock()
	for i := range numAlgorithms {
		if a := Algorithm(i); hashCal.decided[a] {
			info.Timed[a.String()] = [2]float64{hashCal.goNs[a], hashCal.sslNs[a]}
		}
	}
	return info
}
