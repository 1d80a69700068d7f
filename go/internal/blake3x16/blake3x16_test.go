package blake3x16

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"lukechampine.com/blake3/guts"
)

func need(t testing.TB) {
	if !Have {
		t.Skip("no 16-way kernel on this machine (AVX-512F) or platform")
	}
}

// TestLayout: the offsets gen.go compiled into the kernel are Params'.
func TestLayout(t *testing.T) {
	var p Params
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"Key", unsafe.Offsetof(p.Key), 0},
		{"CtrLo", unsafe.Offsetof(p.CtrLo), 32},
		{"CtrHi", unsafe.Offsetof(p.CtrHi), 96},
		{"Flags", unsafe.Offsetof(p.Flags), 160},
		{"FlagsStart", unsafe.Offsetof(p.FlagsStart), 164},
		{"FlagsEnd", unsafe.Offsetof(p.FlagsEnd), 168},
		{"Next", unsafe.Offsetof(p.Next), 176},
	} {
		if c.got != c.want {
			t.Errorf("Params.%s at %d, the kernel reads it at %d", c.name, c.got, c.want)
		}
	}
}

// TestGenerated: hash16_amd64.s is what gen.go writes today.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	dir := t.TempDir()
	gen, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen.go"), gen, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", "gen.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "hash16_amd64.s"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("hash16_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("hash16_amd64.s differs from what gen.go writes: run go generate")
	}
}

// chunkCV is the reference: guts' one-chunk compression, 64 bytes at a
// time in Go.
func chunkCV(chunk []byte, key *[8]uint32, counter uint64, flags uint32) [8]uint32 {
	return guts.ChainingValue(guts.CompressChunk(chunk, key, counter, flags))
}

// TestChunks compares 16 chunks at a time with the reference, from counters
// that carry into the high half inside the 16 lanes, with the IV and with
// random keys, and with inputs that are not 64-byte aligned in memory.
func TestChunks(t *testing.T) {
	need(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var p Params
		p.Key = IV
		if trial%3 == 1 {
			for i := range p.Key {
				p.Key[i] = rng.Uint32()
			}
			p.Flags = 1 << 4 // KEYED_HASH
		}
		counters := []uint64{0, 16, 1<<32 - 7, 1<<40 + 3, rng.Uint64() >> 1}
		first := counters[trial%len(counters)]
		p.SetCounters(first, 1)
		p.FlagsStart, p.FlagsEnd = FlagChunkStart, FlagChunkEnd
		off := trial % 7
		buf := make([]byte, off+16*1024)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		in := buf[off:]
		var out [8][16]uint32
		Hash16(in, 1024, 16, &p, &out)
		for i := range 16 {
			want := chunkCV(in[i*1024:(i+1)*1024], &p.Key, first+uint64(i), p.Flags)
			for w := range 8 {
				if out[w][i] != want[w] {
					t.Fatalf("trial %d (counter %d, offset %d): lane %d word %d = %08x, want %08x", trial, first, off, i, w, out[w][i], want[w])
				}
			}
		}
	}
}

// TestParents compares 16 parent compressions (stride 64, one block) with
// the reference, as the tree above the chunks uses them.
func TestParents(t *testing.T) {
	need(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var cvs [32][8]uint32
	for i := range cvs {
		for w := range cvs[i] {
			cvs[i][w] = rng.Uint32()
		}
	}
	in := unsafe.Slice((*byte)(unsafe.Pointer(&cvs[0][0])), len(cvs)*32)
	p := Params{Key: IV, Flags: FlagParent}
	var out [8][16]uint32
	Hash16(in, 64, 1, &p, &out)
	for i := range 16 {
		want := guts.ChainingValue(guts.ParentNode(cvs[2*i], cvs[2*i+1], &guts.IV, 0))
		for w := range 8 {
			if out[w][i] != want[w] {
				t.Fatalf("parent %d word %d = %08x, want %08x", i, w, out[w][i], want[w])
			}
		}
	}
}

// TestParentsTransposed: Parents16 over the transposed chaining values of
// two calls gives the reference's parents, written in place too (out is a,
// then b), and with the root flag and a key (p's flags and key are used).
func TestParentsTransposed(t *testing.T) {
	need(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name  string
		key   [8]uint32
		flags uint32
		alias int // 0: a separate out, 1: out is a, 2: out is b
	}{
		{"apart", IV, 0, 0},
		{"into a", IV, 0, 1},
		{"into b", IV, 0, 2},
		{"keyed root", [8]uint32{1, 2, 3, 4, 5, 6, 7, 8}, FlagRoot, 0},
	} {
		var cvs [32][8]uint32
		var a, b, sep [8][16]uint32
		for i := range cvs {
			for w := range cvs[i] {
				cvs[i][w] = rng.Uint32()
				if i < 16 {
					a[w][i] = cvs[i][w]
				} else {
					b[w][i-16] = cvs[i][w]
				}
			}
		}
		out := &sep
		switch c.alias {
		case 1:
			out = &a
		case 2:
			out = &b
		}
		p := Params{Key: c.key, Flags: FlagParent, FlagsEnd: c.flags}
		Parents16(&a, &b, &p, out)
		for i := range 16 {
			node := guts.ParentNode(cvs[2*i], cvs[2*i+1], &c.key, 0)
			node.Flags |= c.flags
			want := guts.ChainingValue(node)
			for w := range 8 {
				if out[w][i] != want[w] {
					t.Fatalf("%s: parent %d word %d = %08x, want %08x", c.name, i, w, out[w][i], want[w])
				}
			}
		}
	}
}

// TestBlocks: fewer blocks than a chunk (first and last flags on the right
// blocks) and one block with both.
func TestBlocks(t *testing.T) {
	need(t)
	buf := randomChunks(5)
	for _, blocks := range []int{1, 2, 3, 15} {
		p := Params{Key: IV, FlagsStart: FlagChunkStart, FlagsEnd: FlagChunkEnd}
		p.SetCounters(9, 1)
		var out [8][16]uint32
		Hash16(buf, 1024, blocks, &p, &out)
		checkChunkLanes(t, fmt.Sprintf("%d blocks", blocks), &out, buf, blocks, 9)
	}
}

// TestNextIsOnlyAHint: Params.Next moves what the kernel prefetches, never
// what it hashes: nil, the inputs themselves, another buffer and a buffer's
// last byte (the kernel prefetches 16 KiB from there) all give the chunks'
// CVs.
func TestNextIsOnlyAHint(t *testing.T) {
	need(t)
	buf := randomChunks(7)
	other := make([]byte, 64<<10)
	for name, next := range map[string]*byte{
		"nil": nil, "inputs": &buf[0], "other": &other[0], "end": &other[len(other)-1],
	} {
		p := Params{Key: IV, FlagsStart: FlagChunkStart, FlagsEnd: FlagChunkEnd, Next: next}
		p.SetCounters(3, 1)
		var out [8][16]uint32
		Hash16(buf, 1024, 16, &p, &out)
		checkChunkLanes(t, "Next "+name, &out, buf, 16, 3)
	}
}

// randomChunks returns 16 chunks of random bytes from seed.
func randomChunks(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	buf := make([]byte, 16*1024)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	return buf
}

// checkChunkLanes fails t unless lane i of out is the CV of the first
// blocks blocks of buf's chunk i, counted from first (unkeyed, no flags
// beyond the chunk's start and end).
func checkChunkLanes(t *testing.T, what string, out *[8][16]uint32, buf []byte, blocks int, first uint64) {
	t.Helper()
	for i := range 16 {
		want := chunkCV(buf[i*1024:i*1024+blocks*64], &IV, first+uint64(i), 0)
		for w := range 8 {
			if out[w][i] != want[w] {
				t.Fatalf("%s: lane %d word %d = %08x, want %08x", what, i, w, out[w][i], want[w])
			}
		}
	}
}

func TestShortInputPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Hash16 on 15 chunks did not panic")
		}
	}()
	var p Params
	var out [8][16]uint32
	Hash16(make([]byte, 15*1024), 1024, 16, &p, &out)
}

func BenchmarkChunks(b *testing.B) { benchChunks(b, 8<<20) }

// BenchmarkChunksMemory hashes a buffer far bigger than the caches, as a big
// file in the page cache is: what prefetchGroup was chosen on.
func BenchmarkChunksMemory(b *testing.B) { benchChunks(b, 1<<30) }

func benchChunks(b *testing.B, size int) {
	need(b)
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	p := Params{Key: IV, FlagsStart: FlagChunkStart, FlagsEnd: FlagChunkEnd}
	var out [8][16]uint32
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		for j := 0; j < len(buf); j += 16 << 10 {
			p.SetCounters(uint64(j/1024), 1)
			Hash16(buf[j:], 1024, 16, &p, &out)
		}
	}
}
