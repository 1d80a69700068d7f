package checksig

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	zeebo "github.com/zeebo/blake3"
	"lukechampine.com/blake3/guts"

	"github.com/checksig/checksig/go/internal/blake3x16"
)

// TestAlgorithmTable: every algorithm's name and tag parse back to it, and
// the sizes are those of the algorithms' definitions.
func TestAlgorithmTable(t *testing.T) {
	valid := 0
	for i := range 256 {
		a := Algorithm(i)
		if !a.Valid() {
			if a.Size() != 0 || a.String() != "unknown" || a.Tag() != "" {
				t.Errorf("invalid %d: size %d name %q tag %q", a, a.Size(), a, a.Tag())
			}
			continue
		}
		valid++
		if got, err := ParseAlgorithm(a.String()); got != a || err != nil {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", a.String(), got, err)
		}
		if got, err := ParseAlgorithm(strings.ToUpper(a.String())); got != a || err != nil {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", strings.ToUpper(a.String()), got, err)
		}
		if tag := a.Tag(); tag != "" && (tagAlgorithm(tag) != a) {
			t.Errorf("tag %q of %v reads as %v", tag, a, tagAlgorithm(tag))
		}
		if got := a.New().Size(); got != a.Size() {
			t.Errorf("%v: New().Size() = %d, Size() = %d", a, got, a.Size())
		}
	}
	if valid != 13+64 {
		t.Errorf("%d valid algorithms, want 77", valid)
	}
	for bits := 0; bits <= 520; bits++ {
		a := BLAKE2bN(bits)
		if (bits >= 8 && bits%8 == 0 && bits <= 512) != a.Valid() || a.Valid() && a.Size()*8 != bits {
			t.Errorf("BLAKE2bN(%d) = %v (size %d)", bits, a, a.Size())
		}
	}
	if BLAKE2bN(512) != BLAKE2b || BLAKE2b.String() != "blake2b" || BLAKE2b.Tag() != "BLAKE2b" {
		t.Error("BLAKE2b-512 is not hashlib's blake2b and b2sum's BLAKE2b")
	}
	for name, want := range map[string]Algorithm{
		"SHA3-256": SHA3_256, "sha3_256": SHA3_256, "Sha3-512": SHA3_512, "SHA2-256": SHA256, "sha2_384": SHA384,
		"blake2b": BLAKE2b, "BLAKE2b-512": BLAKE2b, "blake2b_256": BLAKE2bN(256), "BLAKE2B-8": BLAKE2bN(8),
		"blake2s": BLAKE2s, "BLAKE2s-256": BLAKE2s, "blake3": BLAKE3, "BLAKE3": BLAKE3, "git-sha1": GitSHA1, "GIT_SHA1": GitSHA1,
	} {
		if got, err := ParseAlgorithm(name); got != want || err != nil {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for _, name := range []string{"", "sha", "blake2b-12", "blake2b-520", "blake2b-0", "blake2s-128", "sha3", "sha2", "crc", "sm3", "blake3-512"} {
		if got, err := ParseAlgorithm(name); err == nil {
			t.Errorf("ParseAlgorithm(%q) = %v, want an error", name, got)
		}
	}
	// GNU's tags are case-sensitive: b2sum writes BLAKE2b, and "blake2b (f)"
	// is malformed for it.
	for _, tag := range []string{"blake2b", "Blake3", "sha3-256", "SHA3", "BLAKE2b-12", "BLAKE2b-0256", "sha256"} {
		if a := tagAlgorithm(tag); a != None {
			t.Errorf("tag %q reads as %v", tag, a)
		}
	}
}

// TestSameSize lists what else a digest of each length could be.
func TestSameSize(t *testing.T) {
	got := fmt.Sprint(SameSize(SHA256))
	if want := "[sha3_256 blake2s blake3 blake2b-256]"; got != want {
		t.Errorf("SameSize(sha256) = %s, want %s", got, want)
	}
	if got := fmt.Sprint(SameSize(SHA1)); got != "[git-sha1 blake2b-160]" {
		t.Errorf("SameSize(sha1) = %s", got)
	}
}

// Known answers from the algorithms' own documents, for "abc": FIPS 202's
// examples (SHA-3), RFC 7693 appendices A and B (BLAKE2b-512, BLAKE2s-256),
// and git's id of the empty blob.
func TestOfficialKnownAnswers(t *testing.T) {
	for _, tt := range []struct {
		a    Algorithm
		in   string
		want string
	}{
		{SHA3_224, "abc", "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
		{SHA3_256, "abc", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
		{SHA3_384, "abc", "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
		{SHA3_512, "abc", "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
		{BLAKE2b, "abc", "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"},
		{BLAKE2s, "abc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
		{GitSHA1, "", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
	} {
		if got := hex.EncodeToString(digestOf(tt.a, tt.in)); got != tt.want {
			t.Errorf("%v(%q) = %s, want %s", tt.a, tt.in, got, tt.want)
		}
	}
}

// TestGitSHA1 checks the streamed git blob id (size declared first, as
// hashFile does) against the buffered one and against SHA-1 of git's
// header and the content, written out here.
func TestGitSHA1(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 1 << 20} {
		data := bytes.Repeat([]byte{'g'}, n)
		want := sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", n)), data...))
		if got := digestOf(GitSHA1, string(data)); !bytes.Equal(got, want[:]) {
			t.Errorf("buffered git-sha1 of %d bytes = %x, want %x", n, got, want)
		}
		h := GitSHA1.New().(sizedHash)
		if err := h.begin(int64(n)); err != nil {
			t.Fatal(err)
		}
		h.Write(data)
		if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Errorf("streamed git-sha1 of %d bytes = %x, want %x", n, got, want)
		}
	}
	if err := GitSHA1.New().(sizedHash).begin(-1); err == nil {
		t.Error("begin(-1) accepted: git-sha1 needs the size")
	}
}

// officialBLAKE3 is the BLAKE3 team's test_vectors.json (testdata/blake3):
// inputs of the 251-byte pattern at lengths around every chunk and tree
// boundary up to 100 KiB, with 131 bytes of extended output each.
func officialBLAKE3(t testing.TB) []struct {
	Len  int    `json:"input_len"`
	Hash string `json:"hash"`
} {
	b, err := os.ReadFile("testdata/blake3/test_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Len  int    `json:"input_len"`
			Hash string `json:"hash"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Cases) < 20 {
		t.Fatalf("vectors: %v (%d cases)", err, len(doc.Cases))
	}
	return doc.Cases
}

func pattern251(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// blake3Kernels runs f once with each kernel the tree can hash with here:
// guts, and internal/blake3x16 where the CPU has AVX-512.
func blake3Kernels(t *testing.T, f func(t *testing.T)) {
	defer func(k bool) { useKernel = k }(useKernel)
	for _, k := range []bool{false, true} {
		if k && !blake3x16.Have {
			t.Log("no AVX-512: internal/blake3x16 not tested here")
			continue
		}
		useKernel = k
		t.Run(map[bool]string{false: "guts", true: "blake3x16"}[k], f)
	}
}

// TestBLAKE3Vectors runs the official vectors through both of checksig's
// BLAKE3 paths (sequential and tree, the tree fed in writes of every
// awkward size) and through FileDigest, extended output included.
func TestBLAKE3Vectors(t *testing.T) { blake3Kernels(t, testBLAKE3Vectors) }

func testBLAKE3Vectors(t *testing.T) {
	for _, c := range officialBLAKE3(t) {
		in := pattern251(c.Len)
		want, _ := hex.DecodeString(c.Hash)
		seq := newBLAKE3()
		seq.Write(in)
		if got := seq.Sum(nil); !bytes.Equal(got, want[:32]) {
			t.Errorf("sequential, %d bytes: %x, want %x", c.Len, got, want[:32])
		}
		got := make([]byte, len(want))
		seq.xof(got)
		if !bytes.Equal(got, want) {
			t.Errorf("sequential xof, %d bytes: %x, want %x", c.Len, got, want)
		}
		for _, step := range []int{1, 63, 64, 1023, 1024, 1025, 4096, 1 << 30} {
			if step == 1 && c.Len > 20000 {
				continue
			}
			var tr treeHasher
			for p := in; len(p) > 0; p = p[min(step, len(p)):] {
				tr.write(p[:min(step, len(p))])
			}
			tr.xof(got)
			if !bytes.Equal(got, want) {
				t.Errorf("tree in writes of %d, %d bytes: %x, want %x", step, c.Len, got, want)
			}
		}
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, in, 0o644)
		for _, n := range []int{32, 1, 64, len(want)} {
			out := make([]byte, n)
			if _, err := FileDigest(p, BLAKE3, out); err != nil || !bytes.Equal(out, want[:n]) {
				t.Errorf("FileDigest(%d bytes, length %d) = %x, %v; want %x", c.Len, n, out, err, want[:n])
			}
		}
	}
}

// TestBLAKE3TreeAgreesOnBigInputs: inputs far beyond the official vectors,
// where the tree takes helpers and splits writes into pieces, agree with
// zeebo's sequential hasher (itself checked against the vectors above and
// against b3sum in tests/test_algorithms.py).
func TestBLAKE3TreeAgreesOnBigInputs(t *testing.T) { blake3Kernels(t, testBLAKE3TreeAgreesOnBigInputs) }

func testBLAKE3TreeAgreesOnBigInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 9<<20+123)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	sizes := []int{2 * treePiece, 2*treePiece - 1, 2*treePiece + 1, 4 << 20, 4<<20 + 1024, 8 << 20, len(big)}
	for _, n := range sizes {
		want := zeebo.Sum256(big[:n])
		for _, step := range []int{4 << 20, 1 << 20, 3<<20 + 17, n} {
			var tr treeHasher
			for p := big[:n]; len(p) > 0; p = p[min(step, len(p)):] {
				tr.write(p[:min(step, len(p))])
			}
			var got [32]byte
			tr.xof(got[:])
			if got != want {
				t.Errorf("%d bytes in writes of %d: %x, want %x", n, step, got, want)
			}
		}
	}
}

// TestBLAKE3TreeReadFrom: the tree reading a file itself, in pieces spread
// over goroutines (readFrom), after writes that leave it anywhere (inside a
// chunk, on a piece's boundary, off every power of two), in windows of any
// size, agrees with zeebo's sequential hasher; so does the one-core tree,
// which reads through the buffer alone.
func TestBLAKE3TreeReadFrom(t *testing.T) { blake3Kernels(t, testBLAKE3TreeReadFrom) }

func testBLAKE3TreeReadFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 5*treePiece+3*guts.ChunkSize+17)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, data, 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	buf := make([]byte, 24<<10) // not a divisor of anything here
	for _, n := range []int{0, 1, guts.ChunkSize, 2 * treePiece, 2*treePiece + 1, 4*treePiece - 1, len(data)} {
		want := zeebo.Sum256(data[:n])
		for _, prefix := range []int{0, 100, guts.ChunkSize, treePiece, treePiece + 1, 2 * treePiece} {
			for _, window := range []int{2 * treePiece, 3*treePiece + 5, 8 * treePiece} {
				for _, serial := range []bool{false, true} {
					if prefix > n {
						continue
					}
					var tr treeHasher
					tr.serial = serial
					tr.write(data[:prefix])
					for off := prefix; off < n; off += window {
						if err := tr.readFrom(fd, int64(off), int64(min(window, n-off)), buf); err != nil {
							t.Fatal(err)
						}
					}
					var got [32]byte
					tr.xof(got[:])
					if got != want {
						t.Errorf("%d bytes, %d written, then read in windows of %d (serial %v): %x, want %x", n, prefix, window, serial, got, want)
					}
				}
			}
		}
	}
	// Asked for more than the file holds: it shrank.
	var tr treeHasher
	if err := tr.readFrom(fd, 0, int64(len(data))+1, buf); !errors.Is(err, errChanged) {
		t.Errorf("reading past the end: %v, want errChanged", err)
	}
	if n := blake3Busy.Load(); n != 0 {
		t.Errorf("blake3Busy = %d after every hash ended", n)
	}
}

// TestBLAKE3PieceSizes: the kernel's subtree of every size it takes (16 to
// 256 chunks, its parents 16 at a time from transposed groups, then the last
// 16 merged) at counters that carry into the high half, against guts' chunks
// and parents one at a time.
func TestBLAKE3PieceSizes(t *testing.T) {
	if !blake3x16.Have {
		t.Skip("no AVX-512: internal/blake3x16 not tested here")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, kernelPiece)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for chunks := 16; chunks <= kernelPiece/guts.ChunkSize; chunks *= 2 {
		for _, counter := range []uint64{0, uint64(chunks), 1<<32 - uint64(chunks), 1 << 40} {
			s := buf[:chunks*guts.ChunkSize]
			cvs := make([][8]uint32, chunks)
			for i := range cvs {
				c := s[i*guts.ChunkSize : (i+1)*guts.ChunkSize]
				cvs[i] = guts.ChainingValue(guts.CompressChunk(c, &guts.IV, counter+uint64(i), 0))
			}
			if got, want := pieceCV(s, counter, nil), mergeCVs(cvs); got != want {
				t.Errorf("%d chunks from %d: %08x, want %08x", chunks, counter, got, want)
			}
		}
	}
}

// TestBLAKE3FileTree: a file big enough for the tree path hashes to the
// same digest through FileDigest and a digest job, with the tree chosen
// (the test lowers its threshold) and not.
func TestBLAKE3FileTree(t *testing.T) { blake3Kernels(t, testBLAKE3FileTree) }

func testBLAKE3FileTree(t *testing.T) {
	dir := t.TempDir()
	data := pattern251(6<<20 + 5)
	p := filepath.Join(dir, "big")
	os.WriteFile(p, data, 0o644)
	want := zeebo.Sum256(data)
	defer func(m int64) { treeMinSize = m }(treeMinSize)
	for _, min := range []int64{1, 1 << 40} {
		treeMinSize = min
		var out [32]byte
		if _, err := FileDigest(p, BLAKE3, out[:]); err != nil || out != want {
			t.Errorf("treeMinSize %d: FileDigest = %x, %v; want %x", min, out, err, want)
		}
		cols, _, err := Run(Request{Kind: KindDigest, Algorithm: BLAKE3, Paths: []string{p, p, p}, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if got := cols.Actual[i*32 : i*32+32]; !bytes.Equal(got, want[:]) {
				t.Errorf("treeMinSize %d: row %d = %x, want %x", min, i, got, want)
			}
		}
	}
	if n := blake3Busy.Load(); n != 0 {
		t.Errorf("blake3Busy = %d after every hash ended", n)
	}
}

// TestBase64Codec: decodeBase64 reads exactly the padded standard base64
// that encoding/base64 writes, and nothing else.
func TestBase64Codec(t *testing.T) {
	var dst [MaxSize]byte
	for n := 1; n <= MaxSize; n++ {
		d := bytes.Repeat([]byte{0xa5}, n)
		enc := base64.StdEncoding.EncodeToString(d)
		if len(enc) != base64Len(n) {
			t.Fatalf("base64Len(%d) = %d, want %d", n, base64Len(n), len(enc))
		}
		if m := decodeBase64(dst[:], []byte(enc)); m != n || !bytes.Equal(dst[:n], d) {
			t.Errorf("decode %q = %d %x", enc, m, dst[:m])
		}
	}
	for _, bad := range []string{"", "A", "AB=", "AAA", "A===", "AA=A", "AAAA\n", "AA\nAA", "AB==", "AAB=", "-_AA", "AA AA"} {
		if m := decodeBase64(dst[:], []byte(bad)); m != 0 {
			t.Errorf("decodeBase64(%q) = %d, want 0", bad, m)
		}
	}
	if m := decodeBase64(make([]byte, 2), []byte("AAAA")); m != 0 {
		t.Error("decoded more bytes than dst holds")
	}
}

// TestBLAKE3TreeFault: a file that shrinks under the tree's helpers (SIGBUS
// in a goroutine that is not the worker's) is reported changed like any
// other, by a job and by FileDigest, and never kills the process.
func TestBLAKE3TreeFault(t *testing.T) { blake3Kernels(t, testBLAKE3TreeFault) }

func testBLAKE3TreeFault(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "f")
	data := strings.Repeat("m", 3*int(mapWindow)+123)
	defer func(m int64) { treeMinSize = m }(treeMinSize)
	treeMinSize = 1
	defer func(m int64) { treeWindows = m }(treeWindows)
	treeWindows = 1 // the second window must come after the truncation
	defer func(m ioPath) { ioMode = m }(ioMode)
	ioMode = ioMap // only a mapping faults (SIGBUS); a read comes back short
	afterWindow = func(window int) {
		if window == 1 {
			if err := os.Truncate(path, mapWindow+10); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { afterWindow = nil }()
	for range 5 {
		write(t, path, data)
		write(t, filepath.Join(root, "B3SUMS"), line(BLAKE3, "f", data))
		c, _, err := verifyTree(t, root, filepath.Join(root, "B3SUMS"), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := statuses(c)[0]; got != "changed" {
			t.Errorf("job status %s, want changed", got)
		}
		write(t, path, data)
		var out [32]byte
		if _, err := FileDigest(path, BLAKE3, out[:]); !errors.Is(err, errChanged) {
			t.Errorf("FileDigest: err = %v, want errChanged", err)
		}
	}
	if n := blake3Busy.Load(); n != 0 {
		t.Errorf("blake3Busy = %d after the faults", n)
	}
}
