package checksig

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"errors"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"
)

// Algorithm identifies a digest algorithm. Its values are part of the C ABI
// (CHECKSIG_ALG_* in capi/checksig.h); zero means "not chosen". Values are
// never reused: 14 to 63 are free for algorithms to come, and BLAKE2b's 64
// lengths take 64 to 127 (see BLAKE2bN).
type Algorithm uint8

// The supported algorithms, named as in Python's hashlib where hashlib has
// them (String).
const (
	None     Algorithm = iota
	MD5                // md5
	SHA1               // sha1
	SHA224             // sha224
	SHA256             // sha256
	SHA384             // sha384
	SHA512             // sha512
	SHA3_224           // sha3_224
	SHA3_256           // sha3_256
	SHA3_384           // sha3_384
	SHA3_512           // sha3_512
	BLAKE2s            // blake2s: BLAKE2s-256, hashlib's blake2s()
	BLAKE3             // blake3: 256 bits, what b3sum writes; longer outputs through FileDigest
	// GitSHA1 is git's blob id: SHA-1 of "blob SIZE\x00" then the content,
	// what `git hash-object` prints and the Hugging Face hub cache names
	// small files by. Never inferred from a digest's length (it would shadow
	// sha1): it is used only when asked for.
	GitSHA1 // git-sha1
)

// BLAKE2b is BLAKE2b-512, hashlib's blake2b() and b2sum's default. The
// shorter BLAKE2b digests are algorithms of their own: BLAKE2bN.
const BLAKE2b = blake2bBase + 64

const (
	// blake2bBase + n is BLAKE2b with an n-byte digest, n from 1 to 64.
	blake2bBase Algorithm = 63
	// numAlgorithms bounds every Algorithm value: tables are this long.
	numAlgorithms = int(BLAKE2b) + 1
)

// BLAKE2bN returns BLAKE2b with a digest of bits bits, the lengths b2sum -l
// accepts (a multiple of 8 from 8 to 512), or None for any other length.
// BLAKE2bN(512) is BLAKE2b.
func BLAKE2bN(bits int) Algorithm {
	if bits < 8 || bits > 512 || bits%8 != 0 {
		return None
	}
	return blake2bBase + Algorithm(bits/8)
}

// MaxSize is the largest digest size in bytes of any supported algorithm
// (BLAKE3's longer outputs, which only FileDigest makes, aside).
const MaxSize = sha512.Size

// algInfo describes one algorithm.
type algInfo struct {
	name string // hashlib's name, or the one spelling checksig prints
	tag  string // the word GNU coreutils (or b3sum) writes in --tag lines; "" none
	size int    // digest bytes
}

// algorithms is the table behind every Algorithm method; the zero entries
// are values no algorithm has.
var algorithms = func() (t [numAlgorithms]algInfo) {
	t[MD5] = algInfo{"md5", "MD5", md5.Size}
	t[SHA1] = algInfo{"sha1", "SHA1", sha1.Size}
	t[SHA224] = algInfo{"sha224", "SHA224", sha256.Size224}
	t[SHA256] = algInfo{"sha256", "SHA256", sha256.Size}
	t[SHA384] = algInfo{"sha384", "SHA384", sha512.Size384}
	t[SHA512] = algInfo{"sha512", "SHA512", sha512.Size}
	// cksum -a sha3 -l N (GNU 9.7+) writes SHA3-N.
	t[SHA3_224] = algInfo{"sha3_224", "SHA3-224", 28}
	t[SHA3_256] = algInfo{"sha3_256", "SHA3-256", 32}
	t[SHA3_384] = algInfo{"sha3_384", "SHA3-384", 48}
	t[SHA3_512] = algInfo{"sha3_512", "SHA3-512", 64}
	// No GNU tool writes BLAKE2s; the tag follows b2sum's BLAKE2b.
	t[BLAKE2s] = algInfo{"blake2s", "BLAKE2s", blake2s.Size}
	t[BLAKE3] = algInfo{"blake3", "BLAKE3", 32}
	// No tool writes git blob ids in tag lines: none is invented.
	t[GitSHA1] = algInfo{"git-sha1", "", sha1.Size}
	for n := 1; n <= 64; n++ {
		// b2sum and cksum -a blake2b: "BLAKE2b" at the default 512 bits,
		// "BLAKE2b-N" for -l N.
		t[blake2bBase+Algorithm(n)] = algInfo{"blake2b-" + strconv.Itoa(8*n), "BLAKE2b-" + strconv.Itoa(8*n), n}
	}
	t[BLAKE2b].name, t[BLAKE2b].tag = "blake2b", "BLAKE2b"
	return t
}()

// Valid reports whether a names a supported algorithm.
func (a Algorithm) Valid() bool { return int(a) < numAlgorithms && algorithms[a].size != 0 }

// String returns the algorithm's name: hashlib's ("sha3_256", "blake2b",
// "blake2s"), "blake2b-N" for BLAKE2b's shorter lengths, "blake3",
// "git-sha1"; "unknown" for an invalid value.
func (a Algorithm) String() string {
	if a.Valid() {
		return algorithms[a].name
	}
	return "unknown"
}

// Tag returns the word GNU coreutils' --tag lines (or b3sum's) use for a:
// "SHA256", "SHA3-256", "BLAKE2b-256", "BLAKE3"; "" when no tool writes a
// tag for it (git-sha1) or a is invalid.
func (a Algorithm) Tag() string {
	if a.Valid() {
		return algorithms[a].tag
	}
	return ""
}

// Size returns the digest size of a in bytes, or 0 for an invalid algorithm.
func (a Algorithm) Size() int {
	if int(a) < numAlgorithms {
		return algorithms[a].size
	}
	return 0
}

// New returns a new hash.Hash computing a. For GitSHA1 the hash holds its
// input until Sum unless the size is declared first (hashFile does): the
// header that starts git's blob id needs it.
func (a Algorithm) New() hash.Hash {
	switch a {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA224:
		return sha256.New224()
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	case SHA3_224:
		return sha3.New224()
	case SHA3_256:
		return sha3.New256()
	case SHA3_384:
		return sha3.New384()
	case SHA3_512:
		return sha3.New512()
	case BLAKE2s:
		h, _ := blake2s.New256(nil) // fails only for a key longer than 32 bytes
		return h
	case BLAKE3:
		return newBLAKE3()
	case GitSHA1:
		return &gitSHA1{h: sha1.New(), size: -1}
	}
	if a > blake2bBase && a <= BLAKE2b {
		h, _ := blake2b.New(int(a-blake2bBase), nil) // fails only for sizes outside 1..64
		return h
	}
	panic("checksig: New called on invalid algorithm")
}

// sizedHash is a hash whose digest covers the input's length before its
// content: begin declares it, after Reset and before the first Write.
type sizedHash interface {
	hash.Hash
	begin(size int64) error
}

// errSizeNeeded reports a git-sha1 hash of input whose size is not known
// before it is read.
var errSizeNeeded = errors.New("checksig: git-sha1 needs the file's size before its content")

// gitSHA1 computes git's blob id: SHA-1 of "blob SIZE\x00" and the content.
// With begin it streams; without, it holds the input until Sum, so that
// Algorithm.New works for any caller.
type gitSHA1 struct {
	h       hash.Hash
	size    int64 // declared by begin, -1 if not
	pending []byte
}

func (g *gitSHA1) begin(size int64) error {
	if size < 0 {
		return errSizeNeeded
	}
	g.h.Reset()
	g.pending = g.pending[:0]
	g.size = size
	g.h.Write(gitHeader(nil, size))
	return nil
}

func gitHeader(dst []byte, size int64) []byte {
	dst = append(dst, "blob "...)
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, 0)
}

func (g *gitSHA1) Write(p []byte) (int, error) {
	if g.size < 0 {
		g.pending = append(g.pending, p...)
		return len(p), nil
	}
	return g.h.Write(p)
}

func (g *gitSHA1) Sum(b []byte) []byte {
	if g.size >= 0 {
		return g.h.Sum(b)
	}
	h := sha1.New()
	h.Write(gitHeader(nil, int64(len(g.pending))))
	h.Write(g.pending)
	return h.Sum(b)
}

func (g *gitSHA1) Reset() {
	g.h.Reset()
	g.size = -1
	g.pending = g.pending[:0]
}

func (g *gitSHA1) Size() int      { return sha1.Size }
func (g *gitSHA1) BlockSize() int { return sha1.BlockSize }

// ParseAlgorithm returns the algorithm with the given name, in any case and
// with '-' or '_' between its parts: hashlib's names (md5, sha256,
// sha3_256, blake2b, blake2s), GNU's tag words (SHA256, SHA2-256, SHA3-256,
// BLAKE2b, BLAKE2b-256), blake2b-N for every length b2sum -l accepts,
// blake2s-256, blake3 and git-sha1.
func ParseAlgorithm(name string) (Algorithm, error) {
	key := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	if a, ok := algorithmKeys[key]; ok {
		return a, nil
	}
	return None, ErrUnknownAlgorithm
}

// algorithmKeys maps every accepted spelling, lower case with '-' as the
// separator, to its algorithm.
var algorithmKeys = func() map[string]Algorithm {
	m := map[string]Algorithm{
		"sha2-224": SHA224, "sha2-256": SHA256, "sha2-384": SHA384, "sha2-512": SHA512,
		"blake2s-256": BLAKE2s,
	}
	for a := Algorithm(1); int(a) < numAlgorithms; a++ {
		if !a.Valid() {
			continue
		}
		m[strings.ReplaceAll(a.String(), "_", "-")] = a
		if t := a.Tag(); t != "" {
			m[strings.ToLower(t)] = a
		}
	}
	m["blake2b-512"] = BLAKE2b
	return m
}()

// tagAlgorithms maps the words of BSD tag lines, in their exact case, to
// their algorithms: GNU coreutils' (SHA256, and since 9.8 SHA2-256;
// SHA3-256; BLAKE2b and BLAKE2b-N), b3sum's BLAKE3, and OpenSSL 3's
// upper-case BLAKE2B-512 and BLAKE2S-256.
var tagAlgorithms = func() map[string]Algorithm {
	m := map[string]Algorithm{
		"SHA2-224": SHA224, "SHA2-256": SHA256, "SHA2-384": SHA384, "SHA2-512": SHA512,
		"BLAKE2B-512": BLAKE2b, "BLAKE2S-256": BLAKE2s, "BLAKE2s-256": BLAKE2s,
	}
	for a := Algorithm(1); int(a) < numAlgorithms; a++ {
		if t := a.Tag(); t != "" {
			m[t] = a
		}
	}
	return m
}()

func tagAlgorithm(tag string) Algorithm { return tagAlgorithms[tag] }

// Family names a group of algorithms told apart by their digests' sizes:
// what a manifest's name may say (SHA3SUMS, B2SUMS) without saying which
// member.
type Family uint8

// Families.
const (
	FamilyNone    Family = iota
	FamilySHA2           // sha224, sha256, sha384, sha512
	FamilySHA3           // sha3_224, sha3_256, sha3_384, sha3_512
	FamilyBLAKE2b        // BLAKE2b at every length b2sum -l accepts
)

// members returns f's algorithms.
func (f Family) members() []Algorithm {
	switch f {
	case FamilySHA2:
		return []Algorithm{SHA224, SHA256, SHA384, SHA512}
	case FamilySHA3:
		return []Algorithm{SHA3_224, SHA3_256, SHA3_384, SHA3_512}
	case FamilyBLAKE2b:
		m := make([]Algorithm, 0, 64)
		for a := blake2bBase + 1; a <= BLAKE2b; a++ {
			m = append(m, a)
		}
		return m
	}
	return nil
}

// String returns the family's name in messages: "SHA-2", "SHA-3",
// "BLAKE2b"; "" for FamilyNone.
func (f Family) String() string {
	switch f {
	case FamilySHA2:
		return "SHA-2"
	case FamilySHA3:
		return "SHA-3"
	case FamilyBLAKE2b:
		return "BLAKE2b"
	}
	return ""
}

// lengthDefaults are the algorithms a digest's length alone selects
// (FORMATS.md B2.3): one per length, the *sum tools of GNU coreutils. Every
// other algorithm must be named by a tag, the manifest's name or the
// caller, because its lengths are those of these (a b3sum manifest looks
// like a sha256sum one).
var lengthDefaults = []Algorithm{MD5, SHA1, SHA224, SHA256, SHA384, SHA512}

// SameSize returns every algorithm other than a whose digests have a's
// size: what else a digest of that length could be.
func SameSize(a Algorithm) []Algorithm {
	var out []Algorithm
	for b := Algorithm(1); int(b) < numAlgorithms; b++ {
		if b != a && b.Valid() && b.Size() == a.Size() {
			out = append(out, b)
		}
	}
	return out
}

// bySize maps digest sizes to the one algorithm of a set with that size.
type bySize [MaxSize + 1]Algorithm

func sizeTable(algs []Algorithm) *bySize {
	var t bySize
	for _, a := range algs {
		t[a.Size()] = a
	}
	return &t
}

// nameWords maps the words manifest names use for an algorithm or a family
// to it: the tool's short name (b2, b3) and hashlib's or GNU's names, each
// with an optional "sum" or "sums" (b3sums.txt, B2SUMS, SHA3-256SUMS). Its
// whole name counts for git-sha1 (git-sha1sum.txt, what the Python API's
// make_manifest writes by default), which no length ever implies: "sha1"
// alone is SHA-1.
var nameWords = func() map[string]nameChoice {
	m := map[string]nameChoice{
		"b2": {family: FamilyBLAKE2b}, "blake2": {family: FamilyBLAKE2b}, "blake2b": {family: FamilyBLAKE2b},
		"b3":   {alg: BLAKE3},
		"sha2": {family: FamilySHA2}, "sha3": {family: FamilySHA3},
	}
	for k, a := range algorithmKeys {
		if _, ok := m[k]; !ok {
			m[k] = nameChoice{alg: a}
		}
	}
	return m
}()

type nameChoice struct {
	alg    Algorithm
	family Family
}

// AlgorithmFromName infers the algorithm of a manifest's untagged lines
// from its file name, as the naming conventions of GNU, b3sum and BagIt
// imply: sha1sum.txt, SHA256SUMS, MD5SUMS, data.sha256,
// manifest-sha512.txt, b3sums.txt, SHA3-256SUMS, B2SUMS. A name that says
// only a family (B2SUMS, SHA3SUMS) gives the family: the digest's length
// then picks its member. It returns None and FamilyNone when the name says
// nothing, or names two different algorithms (MD5SUMS.sha1).
func AlgorithmFromName(path string) (Algorithm, Family) {
	base := path[strings.LastIndexByte(path, '/')+1:]
	base = strings.ToLower(base)
	// Words are runs of letters and digits; "-" and "_" also join two
	// words into one name (sha3-256sums, manifest-sha3_256.txt).
	words := strings.FieldsFunc(base, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	var found nameChoice
	seen := false
	for i := 0; i < len(words); i++ {
		last := i == len(words)-1
		c, n := nameChoice{}, 0
		if i+1 < len(words) {
			if c = lookupNameWord(words[i]+"-"+words[i+1], i+1 == len(words)-1); c != (nameChoice{}) {
				n = 2
			}
		}
		if n == 0 {
			if c = lookupNameWord(words[i], last); c == (nameChoice{}) {
				continue
			}
			n = 1
		}
		i += n - 1
		if seen && c != found {
			return None, FamilyNone // two algorithms named: ambiguous
		}
		found, seen = c, true
	}
	return found.alg, found.family
}

// lookupNameWord returns what the word w of a manifest's name says. The
// short words b2 and b3 count only with a "sum" or "sums" suffix or as the
// name's last word (B3SUMS, list.b3), so that "part-b3.txt" says nothing.
func lookupNameWord(w string, last bool) nameChoice {
	for _, suffix := range []string{"sums", "sum", ""} {
		stem, ok := strings.CutSuffix(w, suffix)
		if !ok {
			continue
		}
		if c, ok := nameWords[stem]; ok && (suffix != "" || last || len(stem) > 2) {
			return c
		}
	}
	return nameChoice{}
}
