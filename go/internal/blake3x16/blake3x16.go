// Package blake3x16 compresses 16 BLAKE3 inputs at once with AVX-512: 16
// whole chunks (1 KiB each, from any chunk counter) or 16 parent nodes. It
// is the per-core kernel under checksig's BLAKE3 tree (../../blake3.go),
// which the vendored modules' exported functions could not be: zeebo's
// 8-way AVX2 kernel is internal and takes no counter from outside, and
// lukechampine's exported AVX-512 code gathers its message words (see
// gen.go). Where AVX-512 is missing (or with the purego build tag)
// Have is false and Hash16 must not be called.
package blake3x16

// BLAKE3's domain flags.
const (
	FlagChunkStart = 1 << 0
	FlagChunkEnd   = 1 << 1
	FlagParent     = 1 << 2
	FlagRoot       = 1 << 3
)

// IV is BLAKE3's initialisation vector: the key of the unkeyed hash.
var IV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// Params is what Hash16 reads besides its inputs: the key, each input's
// counter split in halves (lane i: input i), and the flags of every block,
// of the first block and of the last. gen.go knows these offsets
// (TestLayout checks them).
type Params struct {
	Key                         [8]uint32
	CtrLo, CtrHi                [16]uint32
	Flags, FlagsStart, FlagsEnd uint32
	// Next, when not nil, is where the bytes hashed after these start:
	// Hash16 prefetches from there as it goes (by default, from the end of
	// its 16 inputs, which is where the next 16 chunks are unless the
	// caller jumps: gen.go's prefetchGroup). A prefetch never faults, so
	// any address will do; it only decides what is in the cache.
	Next *byte
}

// SetCounters gives input i the counter first + i*step: step 1 for
// consecutive chunks, 0 for parents (whose counter is 0).
func (p *Params) SetCounters(first, step uint64) {
	for i := range p.CtrLo {
		c := first + uint64(i)*step
		p.CtrLo[i], p.CtrHi[i] = uint32(c), uint32(c>>32)
	}
}

// Hash16 compresses 16 inputs of blocks 64-byte blocks each, input i being
// in[i*stride:i*stride+blocks*64], and writes their chaining values
// transposed: out[w][i] is word w of input i's. The flags of block b are
// p.Flags, with p.FlagsStart when b is the first and p.FlagsEnd when it is
// the last. It panics if in is too short or blocks < 1.
func Hash16(in []byte, stride, blocks int, p *Params, out *[8][16]uint32) {
	if blocks < 1 || stride < 0 {
		panic("blake3x16: bad blocks or stride")
	}
	_ = in[15*stride+blocks*64-1] // the kernel never reads past in's end
	hash16(&in[0], uintptr(stride), uintptr(blocks), p, out)
}

// Parents16 compresses 16 parent nodes whose children are the 32 chaining
// values two earlier calls wrote, transposed as Hash16 writes them: parent
// i's children are lanes 2i and 2i+1 of a for i < 8, lanes 2(i-8) and
// 2(i-8)+1 of b for the others. It writes the parents' chaining values the
// same way into out, which may be a or b (every input is read before out is
// written). The flags are p.Flags|p.FlagsStart|p.FlagsEnd (one block), the
// counters p's.
func Parents16(a, b *[8][16]uint32, p *Params, out *[8][16]uint32) {
	parents16(a, b, p, out)
}
