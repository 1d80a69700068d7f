package checksig

import (
	"encoding/binary"
	"hash"
	"math/bits"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	zeebo "github.com/zeebo/blake3"
	"lukechampine.com/blake3/guts"

	"github.com/checksig/checksig/go/internal/blake3x16"
)

// BLAKE3 is a tree hash: 1 KiB chunks are the leaves, and any aligned
// subtree can be hashed apart from the rest and merged in by its chaining
// value (CV). checksig hashes BLAKE3 two ways and picks per file:
//
//   - as a tree (treeHasher): whole aligned subtrees are hashed straight
//     from the input and their CVs merged here, as the BLAKE3 paper's
//     incremental hasher does; on a big file, by several goroutines when
//     cores are idle, from windows mapped ahead (or, CHECKSIG_IO=read,
//     each goroutine reading the pieces it hashes: readFrom). With
//     AVX-512, 16 chunks (or 16 parents) at a time by internal/blake3x16,
//     checksig's own kernel: ~6 GB/s a core here from memory or the L2
//     cache alike (it prefetches the chunks it hashes next), as the BLAKE3
//     team's code from the L2 (6.1-6.3; 3.6 from 8 MiB); on a 2 GiB file,
//     fewer CPU seconds than b3sum. Without it, by
//     lukechampine.com/blake3/guts, whose exported functions take a chunk
//     counter (~3.3 GB/s a core here: its AVX-512 code gathers);
//   - sequentially, with github.com/zeebo/blake3 (AVX2, the fastest on
//     small inputs): files under kernelMinSize, inputs of unknown size, and
//     big files on machines without the kernel that have no idle core for
//     a tree.
//
// All give the digest b3sum prints (TestBLAKE3Vectors, the official
// vectors; tests/test_algorithms.py, b3sum itself; internal/blake3x16's
// tests against guts).

// treeMinSize is the file size from which BLAKE3 may be hashed as a tree on
// several cores: below it the goroutines' start and join cost more than
// they save (a 4 MiB window takes ~1 ms per core). A variable so tests can
// send small inputs down the tree path.
var treeMinSize int64 = 16 << 20

// kernelMinSize is the file size from which, where internal/blake3x16 runs,
// BLAKE3 is hashed as a tree on the worker's own core rather than by zeebo.
// FileDigest, one core, EPYC VM: 16 KiB zeebo 1.6 GB/s, tree 1.0 (a 16-chunk
// root is split in halves of 8, which guts hashes); 32 KiB 2.2 and 2.4;
// 64 KiB 2.8 and 3.2; 1 MiB 3.3 and 4.2. A variable so tests can move it.
var kernelMinSize int64 = 32 << 10

// useKernel says whether the tree hashes with internal/blake3x16: where it
// runs, unless a test turns it off to check guts' path.
var useKernel = blake3x16.Have

// treeWindows is how many of mapWindow's a BLAKE3 tree on several cores
// hashes at a time (hashBig asks windowScale): every window ends with the
// helpers waiting for the last piece, and 4 MiB windows left the second
// core idle for a fifth of the time. On one 2 GiB file (EPYC VM, AVX-512
// kernel, Go alone), each window mapped and unmapped by the worker: 4 MiB
// windows 6.0-6.6 GB/s, 16 MiB 6.9-7.2, 64 MiB 7.6, for which 16 was
// chosen. Since mapAhead unmaps the windows beside the tree (2026-12-07),
// 32 and 64 MiB measure the same (16 MiB ~3% slower), and 32 halves the
// mapping resident at once: up to three windows per worker (the one hashed,
// the next, populated, and the last, being unmapped). Read (CHECKSIG_IO=read),
// 8 and 16 are within noise too (ab.py tree_windows on huge1).
var treeWindows int64 = 8

// treePiece is the size of the subtrees a tree's goroutines take, one at a
// time, from a window (32 MiB: treeWindows map windows) or a 1 MiB write:
// 256 chunks, small enough to spread either over the cores and for a piece
// read into a buffer (CHECKSIG_IO=read) to stay in the core's L2 cache while
// it is hashed, big enough that taking one costs nothing. On one 2 GiB file
// read by the tree (Go alone, three rounds), 128 and 512 chunks measured the
// same or slower; mapped, 1,024 chunks took the whole process from 0.98x
// b3sum to 0.80x. At most kernelPiece: subtreeCVs hands a piece to pieceCV.
const treePiece = 256 * guts.ChunkSize

// blake3Busy counts the goroutines hashing BLAKE3 right now: workers inside
// a write of at least busyMinWrite bytes, and tree helpers. A tree takes
// helpers only while blake3Busy is below GOMAXPROCS, so a job that already
// keeps every core busy with files of its own does not split them further.
// Workers hashing other algorithms are not counted (a job has one
// algorithm, almost always).
var blake3Busy atomic.Int32

// busyMinWrite is the smallest write counted in blake3Busy: a small file
// is done before counting it would tell anyone anything, and the shared
// counter would cost every small file a contended cache line.
const busyMinWrite = 64 << 10

// takeHelpers reserves up to want helper goroutines among the idle cores
// and returns how many it got; the caller gives them back with
// blake3Busy.Add(-n).
func takeHelpers(want int) int {
	procs := int32(runtime.GOMAXPROCS(0))
	for {
		busy := blake3Busy.Load()
		n := min(int32(want), procs-busy)
		if n <= 0 {
			return 0
		}
		if blake3Busy.CompareAndSwap(busy, busy+n) {
			return int(n)
		}
	}
}

// blake3Hash is the hash.Hash of BLAKE3: sequential or tree, chosen in
// begin (hashFile declares the file's size); without begin, sequential.
type blake3Hash struct {
	seq  *zeebo.Hasher
	tree *treeHasher // made on first use
	// useTree says which of the two holds this input.
	useTree bool
}

func newBLAKE3() *blake3Hash { return &blake3Hash{seq: zeebo.New()} }

func (h *blake3Hash) begin(size int64) error {
	h.Reset()
	// The worker itself is not in blake3Busy between writes: one idle core
	// besides its own is enough for a tree to pay.
	parallel := size >= treeMinSize && int(blake3Busy.Load())+1 < runtime.GOMAXPROCS(0)
	if parallel || useKernel && size >= kernelMinSize {
		if h.tree == nil {
			h.tree = new(treeHasher)
		}
		h.useTree = true
		h.tree.serial = !parallel
	}
	return nil
}

func (h *blake3Hash) windowScale() int64 {
	if h.useTree && !h.tree.serial {
		return treeWindows
	}
	return 1
}

func (h *blake3Hash) Write(p []byte) (int, error) {
	if len(p) >= busyMinWrite {
		blake3Busy.Add(1)
		defer blake3Busy.Add(-1)
	}
	if h.useTree {
		h.tree.write(p)
		return len(p), nil
	}
	return h.seq.Write(p)
}

// readTree hashes the n bytes of fd at off, which follow what was written,
// reading them itself (treeHasher.readFrom). hashBig asks it only of a tree
// on several cores (windowScale above 1).
func (h *blake3Hash) readTree(fd int, off, n int64, buf []byte) error {
	blake3Busy.Add(1)
	defer blake3Busy.Add(-1)
	return h.tree.readFrom(fd, off, n, buf)
}

func (h *blake3Hash) Sum(b []byte) []byte {
	if h.useTree {
		var out [32]byte
		h.tree.xof(out[:])
		return append(b, out[:]...)
	}
	return h.seq.Sum(b)
}

// xof fills out with the first len(out) bytes of the extendable output, of
// which the usual digest is the first 32 (b3sum -l).
func (h *blake3Hash) xof(out []byte) {
	if h.useTree {
		h.tree.xof(out)
		return
	}
	h.seq.Digest().Read(out) // never fails: the output is 2^64 bytes long
}

func (h *blake3Hash) Reset() {
	h.seq.Reset()
	if h.tree != nil {
		h.tree.reset()
	}
	h.useTree = false
}

func (h *blake3Hash) Size() int      { return 32 }
func (h *blake3Hash) BlockSize() int { return 64 }

// xofHash is a hash with an extendable output: BLAKE3.
type xofHash interface{ xof(out []byte) }

// sum writes d's digest into out: its Sum when out is d.Size() bytes, else
// len(out) bytes of an extendable output (hashFile checks only BLAKE3 gets
// other lengths).
func sum(d hash.Hash, out []byte) {
	if x, ok := d.(xofHash); ok && len(out) != d.Size() {
		x.xof(out)
		return
	}
	d.Sum(out[:0])
}

// validLength reports whether FileDigest can write n bytes of a's digest:
// a.Size(), or for BLAKE3 any positive length (its extendable output).
func validLength(a Algorithm, n int) bool {
	return n == a.Size() || a == BLAKE3 && n > 0
}

// treeHasher is BLAKE3's incremental hasher over CVs, the algorithm of the
// reference implementation's Hasher::update: whole aligned subtrees are
// hashed straight from the input (in parallel, when helpers are free), the
// last partial chunk is held back, and the CV stack is merged lazily, so
// that the root node is only made by xof, with the ROOT flag.
type treeHasher struct {
	chunk   [guts.ChunkSize]byte // the current chunk's bytes
	chunkN  int
	counter uint64 // the current chunk's index: chunks before it are in stack
	stack   [64][8]uint32
	depth   int
	scratch [guts.MaxSIMD * guts.ChunkSize]byte // for subtrees under 16 chunks
	// serial keeps the tree on the calling goroutine: no helpers.
	serial bool
}

func (t *treeHasher) reset() {
	t.chunkN, t.counter, t.depth = 0, 0, 0
}

// pushCV pushes the CV of the subtree starting at chunk index first, after
// merging the CVs that the chunks before it complete.
func (t *treeHasher) pushCV(cv [8]uint32, first uint64) {
	t.mergeStack(first)
	t.stack[t.depth] = cv
	t.depth++
}

// mergeStack merges the stack down to one CV per set bit of total, the
// number of chunks it covers: what is left are the roots of the complete
// subtrees. The merge that would make the root is left to xof.
func (t *treeHasher) mergeStack(total uint64) {
	for t.depth > bits.OnesCount64(total) {
		t.depth--
		t.stack[t.depth-1] = parentCV(t.stack[t.depth-1], t.stack[t.depth])
	}
}

func parentCV(left, right [8]uint32) [8]uint32 {
	return guts.ChainingValue(guts.ParentNode(left, right, &guts.IV, 0))
}

func (t *treeHasher) write(p []byte) {
	if t.chunkN > 0 {
		n := copy(t.chunk[t.chunkN:], p)
		t.chunkN += n
		p = p[n:]
		if len(p) == 0 {
			return // the chunk may be the last: keep it
		}
		t.pushCV(guts.ChainingValue(guts.CompressChunk(t.chunk[:], &guts.IV, t.counter, 0)), t.counter)
		t.counter++
		t.chunkN = 0
	}
	for len(p) > guts.ChunkSize {
		// The largest power-of-two subtree that fits in p and starts at a
		// multiple of its own size, as BLAKE3's tree requires.
		n := uint64(1) << (bits.Len(uint(len(p))) - 1)
		for (n-1)&(t.counter*guts.ChunkSize) != 0 {
			n /= 2
		}
		if n == guts.ChunkSize {
			t.pushCV(guts.ChainingValue(guts.CompressChunk(p[:n], &guts.IV, t.counter, 0)), t.counter)
		} else {
			// Two halves, pushed apart: if they are the whole input, their
			// parent is the root, which only xof may make.
			half := n / 2
			left, right := t.subtreeCVs(p[:n], half)
			t.pushCV(left, t.counter)
			t.pushCV(right, t.counter+half/guts.ChunkSize)
		}
		t.counter += n / guts.ChunkSize
		p = p[n:]
	}
	if len(p) > 0 {
		t.chunkN = copy(t.chunk[:], p)
		t.mergeStack(t.counter)
	}
}

// subtreeCVs returns the CVs of the two halves of the aligned subtree s,
// whose first chunk is t.counter: in pieces of treePiece bytes spread over
// the idle cores when there are enough of them (spread).
func (t *treeHasher) subtreeCVs(s []byte, half uint64) (left, right [8]uint32) {
	if t.serial || len(s) < 2*treePiece {
		return t.cv(s[:half], t.counter), t.cv(s[half:], t.counter+half/guts.ChunkSize)
	}
	pieces := len(s) / treePiece
	left, right, _ = t.spread(pieces, func(i, next int) ([8]uint32, error) {
		piece, counter := s[i*treePiece:(i+1)*treePiece], t.counter+uint64(i*treePiece/guts.ChunkSize)
		if useKernel && treePiece <= kernelPiece && next < pieces {
			return pieceCV(piece, counter, &s[next*treePiece]), nil
		}
		return cvOf(piece, counter), nil
	})
	return left, right
}

// spread returns the CVs of the two halves of an aligned subtree of pieces
// pieces of treePiece bytes, whose first chunk is t.counter, and piece(i,
// next) gives piece i's CV: the pieces are taken one at a time by this
// goroutine and by whatever helpers the idle cores allow, each taking its
// next piece before it hashes the one it has, so that piece can prefetch
// the next one's first bytes (next is pieces or more when there is none):
// with two goroutines taking turns, a piece's neighbour is the other's,
// and the first 16 chunks of every piece came from memory unprefetched
// (pieces 256 KiB apart from 1 GiB: 5.2-5.4 GB/s a core, 5.4-5.7 with the
// next piece's start prefetched, 5.7-5.8 one after the other). A piece's
// error stops the others and is returned. A fault in a helper (a mapped
// file shrank) is raised again here, where hashMapped recovers it.
func (t *treeHasher) spread(pieces int, piece func(i, next int) ([8]uint32, error)) (left, right [8]uint32, err error) {
	cvs := make([][8]uint32, pieces)
	errs := make([]error, pieces)
	var next atomic.Int64
	helpers := takeHelpers(pieces - 1)
	goroutines := int64(helpers) + 1
	work := func() {
		for i := int(next.Add(1) - 1); i < pieces; {
			// The next piece, taken ahead while more are left than there
			// are goroutines: the last few go to whoever is free first.
			j := pieces
			if next.Load() < int64(pieces)-goroutines {
				j = int(next.Add(1) - 1)
			}
			if cvs[i], errs[i] = piece(i, j); errs[i] != nil {
				next.Store(int64(pieces)) // stop the others
				return
			}
			if j >= pieces {
				j = int(next.Add(1) - 1)
			}
			i = j
		}
	}
	var wg sync.WaitGroup
	var fault atomic.Value
	for range helpers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer blake3Busy.Add(-1)
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if r := recover(); r != nil {
					fault.CompareAndSwap(nil, faultValue{r})
					next.Store(int64(pieces)) // stop the others
				}
			}()
			work()
		}()
	}
	func() {
		// This goroutine's own share; a fault here is hashMapped's to catch,
		// after the helpers stopped reading the mapping.
		defer func() {
			if r := recover(); r != nil {
				next.Store(int64(pieces))
				wg.Wait()
				panic(r)
			}
		}()
		work()
	}()
	wg.Wait()
	if f := fault.Load(); f != nil {
		panic(f.(faultValue).v)
	}
	for _, err := range errs {
		if err != nil {
			return left, right, err // the first piece's that failed
		}
	}
	return mergeCVs(cvs[:pieces/2]), mergeCVs(cvs[pieces/2:]), nil
}

// piecePool holds the buffers readFrom's goroutines read pieces into.
var piecePool = sync.Pool{New: func() any { return new([treePiece]byte) }}

// readFrom hashes the n bytes of fd at off, the bytes that follow what was
// written so far, reading them itself: the aligned subtrees of two pieces
// or more in pieces, each read and hashed by one of the goroutines spread
// takes, into a buffer of its own (the copy lands in the cache of the core
// that hashes it); the rest through buf, as write. Fewer bytes than n in
// the file means it shrank: errChanged.
func (t *treeHasher) readFrom(fd int, off, n int64, buf []byte) error {
	for t.chunkN == 0 && !t.serial && n >= 2*treePiece {
		size := int64(1) << (bits.Len64(uint64(n)) - 1)
		for (size-1)&int64(t.counter*guts.ChunkSize) != 0 {
			size /= 2
		}
		if size < 2*treePiece {
			break
		}
		counter := t.counter
		left, right, err := t.spread(int(size/treePiece), func(i, _ int) (cv [8]uint32, err error) {
			b := piecePool.Get().(*[treePiece]byte)
			defer piecePool.Put(b)
			k, err := preadFull(fd, b[:], off+int64(i)*treePiece)
			if err == nil && k < treePiece {
				err = errChanged
			}
			if err != nil {
				return cv, err
			}
			return cvOf(b[:], counter+uint64(i)*treePiece/guts.ChunkSize), nil
		})
		if err != nil {
			return err
		}
		t.pushCV(left, counter)
		t.pushCV(right, counter+uint64(size/2/guts.ChunkSize))
		t.counter += uint64(size / guts.ChunkSize)
		off += size
		n -= size
	}
	return readInto(fd, off, n, buf, t.write)
}

// faultValue boxes a recovered panic value for an atomic.Value, which
// needs one concrete type.
type faultValue struct{ v any }

// mergeCVs merges the CVs of 2^k adjacent equal subtrees into their
// parent's CV.
func mergeCVs(cvs [][8]uint32) [8]uint32 {
	for len(cvs) > 1 {
		for i := 0; i < len(cvs)/2; i++ {
			cvs[i] = parentCV(cvs[2*i], cvs[2*i+1])
		}
		cvs = cvs[:len(cvs)/2]
	}
	return cvs[0]
}

// cv returns the CV of the aligned subtree s (a power of two chunks, at
// least one) whose first chunk is counter, using t's scratch space.
func (t *treeHasher) cv(s []byte, counter uint64) [8]uint32 {
	if len(s) >= len(t.scratch) {
		return cvOf(s, counter)
	}
	// guts reads 16 chunks whatever it is given: never past s's end.
	n := copy(t.scratch[:], s)
	return guts.ChainingValue(guts.CompressBuffer(&t.scratch, n, &guts.IV, counter, 0))
}

// cvOf returns the CV of the aligned subtree s of 2^k chunks, 16 or more,
// whose first chunk is counter: with internal/blake3x16 where it runs, else
// 16 chunks at a time (guts' SIMD width), merged on a stack as they come.
func cvOf(s []byte, counter uint64) [8]uint32 {
	if useKernel {
		return cvOfKernel(s, counter)
	}
	const step = guts.MaxSIMD * guts.ChunkSize
	return mergePieces(s, counter, step, func(p []byte, counter uint64) [8]uint32 {
		return guts.ChainingValue(guts.CompressBuffer((*[step]byte)(p), step, &guts.IV, counter, 0))
	})
}

// mergePieces returns the CV of the aligned subtree s, 2^k pieces of piece
// bytes whose first chunk is counter: each piece's CV by cvPiece, merged on
// a stack as they come.
func mergePieces(s []byte, counter uint64, piece int, cvPiece func(p []byte, counter uint64) [8]uint32) [8]uint32 {
	var stack [64][8]uint32
	depth := 0
	for i := 0; i < len(s); i += piece {
		cv := cvPiece(s[i:i+piece], counter+uint64(i/guts.ChunkSize))
		for done := uint64(i/piece) + 1; done&1 == 0; done >>= 1 {
			depth--
			cv = parentCV(stack[depth], cv)
		}
		stack[depth] = cv
		depth++
	}
	return stack[0]
}

// kernelPiece is the largest subtree pieceCV hashes in one go: its CVs fit
// in a stack array of 8 KiB.
const kernelPiece = 256 * guts.ChunkSize

// cvOfKernel is cvOf with internal/blake3x16: pieces of up to 256 chunks,
// merged on a stack as they come.
func cvOfKernel(s []byte, counter uint64) [8]uint32 {
	if len(s) <= kernelPiece {
		return pieceCV(s, counter, nil)
	}
	return mergePieces(s, counter, kernelPiece, func(p []byte, counter uint64) [8]uint32 {
		return pieceCV(p, counter, nil)
	})
}

// pieceCV returns the CV of the aligned subtree s of 2^k chunks, 16 to 256,
// whose first chunk is counter: the chunks' CVs 16 at a time, kept as the
// kernel writes them (transposed), then each level of parents 16 at a time
// from two such groups (Parents16, in place), until one group of 16 is left,
// which merges within itself: only the result is read out of lane 0. next,
// when not nil, is where the bytes hashed after s start: the kernel
// prefetches them while it hashes s's last 16 chunks (by default, those
// that follow s).
func pieceCV(s []byte, counter uint64, next *byte) [8]uint32 {
	var groups [kernelPiece / guts.ChunkSize / 16][8][16]uint32
	n := len(s) / guts.ChunkSize / 16 // groups of 16 CVs
	p := blake3x16.Params{Key: blake3x16.IV, FlagsStart: blake3x16.FlagChunkStart, FlagsEnd: blake3x16.FlagChunkEnd}
	for g := 0; g < n; g++ {
		if g == n-1 {
			p.Next = next
		}
		p.SetCounters(counter+uint64(16*g), 1)
		blake3x16.Hash16(s[16*g*guts.ChunkSize:], guts.ChunkSize, guts.ChunkSize/guts.BlockSize, &p, &groups[g])
	}
	p = blake3x16.Params{Key: blake3x16.IV, Flags: blake3x16.FlagParent}
	for ; n > 1; n /= 2 {
		for g := 0; g < n/2; g++ {
			blake3x16.Parents16(&groups[2*g], &groups[2*g+1], &p, &groups[g])
		}
	}
	// The last 16 merged within their group: parent i < 8 takes lanes 2i
	// and 2i+1 of its first input; lanes past a level's end are ignored.
	g := &groups[0]
	for m := 16; m > 1; m /= 2 {
		blake3x16.Parents16(g, g, &p, g)
	}
	var cv [8]uint32
	for w := range cv {
		cv[w] = g[w][0]
	}
	return cv
}

// xof writes the first len(out) bytes of the root's extendable output. It
// leaves the state as it was: more may be written and summed again.
func (t *treeHasher) xof(out []byte) {
	root := t.rootNode()
	root.Flags |= guts.FlagRoot
	for block := uint64(0); len(out) > 0; block++ {
		root.Counter = block
		words := guts.CompressNode(root)
		var b [64]byte
		for i, w := range words {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		out = out[copy(out, b[:]):]
	}
}

// rootNode returns the root of the tree over everything written, not yet
// compressed: the chunk alone for an input of one chunk or less, else the
// parent that the stack and the last chunk make.
func (t *treeHasher) rootNode() guts.Node {
	if t.depth == 0 {
		return guts.CompressChunk(t.chunk[:t.chunkN], &guts.IV, t.counter, 0)
	}
	var node guts.Node
	i := t.depth
	if t.chunkN > 0 {
		node = guts.CompressChunk(t.chunk[:t.chunkN], &guts.IV, t.counter, 0)
	} else {
		// The input ended on a subtree's boundary: the last two CVs
		// (pushed apart for this reason) are the root's children.
		i -= 2
		node = guts.ParentNode(t.stack[i], t.stack[i+1], &guts.IV, 0)
	}
	for i > 0 {
		i--
		node = guts.ParentNode(t.stack[i], guts.ChainingValue(node), &guts.IV, 0)
	}
	return node
}
