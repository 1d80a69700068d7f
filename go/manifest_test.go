package checksig

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// contents are the files testdata/gen.sh hashed with GNU coreutils.
var contents = map[string]string{
	"plain.txt":         "hello\n",
	"empty":             "",
	"name with  spaces": "spaces",
	"tab\tname":         "tab",
	"new\nline":         "nl",
	`back\slash`:        "bs",
	"unicodé ✓":         "uni",
	"*star":             "star",
	" leading":          "lead",
}

func digestOf(a Algorithm, s string) []byte {
	h := a.New()
	h.Write([]byte(s))
	return h.Sum(nil)
}

func readAll(t *testing.T, name string, data []byte, a Algorithm) ([]Entry, []*ManifestError) {
	t.Helper()
	r := NewReader(bytes.NewReader(data), name)
	r.Algorithm = a
	return readEntries(t, r)
}

// readNamed reads data as the engine reads a manifest called name: the
// untagged lines' algorithm inferred from the name.
func readNamed(t *testing.T, name string, data []byte) ([]Entry, []*ManifestError) {
	t.Helper()
	r := NewReader(bytes.NewReader(data), name)
	r.Algorithm, r.Family = AlgorithmFromName(name)
	r.Source = SourceName
	return readEntries(t, r)
}

func readEntries(t *testing.T, r *Reader) ([]Entry, []*ManifestError) {
	t.Helper()
	var es []Entry
	var bad []*ManifestError
	for {
		e, err := r.Next()
		if err == io.EOF {
			return es, bad
		}
		var me *ManifestError
		if errors.As(err, &me) {
			bad = append(bad, me)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		e.Digest = append([]byte(nil), e.Digest...)
		es = append(es, e)
	}
}

// TestGNUGolden parses every manifest GNU wrote in testdata/manifests and
// checks names, digests, and that AppendLine writes each line back byte for
// byte as GNU did.
func TestGNUGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/manifests/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden manifests: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			es, bad := readNamed(t, path, data)
			if len(bad) > 0 {
				t.Fatalf("GNU-written manifest rejected: %v", bad[0])
			}
			if len(es) == 0 {
				t.Fatal("no entries")
			}
			var rewritten []byte
			for _, e := range es {
				want, ok := contents[e.Name]
				if !ok {
					t.Fatalf("line %d: unexpected name %q", e.Line, e.Name)
				}
				if got := digestOf(e.Algorithm, want); !bytes.Equal(got, e.Digest) {
					t.Errorf("line %d %q: digest %x, want %x", e.Line, e.Name, e.Digest, got)
				}
				rewritten = appendLine(rewritten, e.Algorithm, e.Name, e.Digest, e.Tagged, e.Base64)
			}
			base := filepath.Base(path)
			if base == "binary-mode.sha256" || base == "crlf.sha256" || base == "comment-blank.sha1" {
				return // GNU input forms that *sum does not write by default
			}
			if !bytes.Equal(rewritten, data) {
				t.Errorf("AppendLine differs from GNU:\n got %q\nwant %q", rewritten, data)
			}
		})
	}
}

func TestReaderLines(t *testing.T) {
	d1 := strings.Repeat("ab", 20)
	d256 := strings.Repeat("0F", 32)
	tests := []struct {
		name, line string
		alg        Algorithm
		want       string // file name, or "" when malformed
		wantAlg    Algorithm
		errPart    string
	}{
		{"two spaces", d1 + "  a b.txt", None, "a b.txt", SHA1, ""},
		{"binary", d1 + " *bin", None, "bin", SHA1, ""},
		{"single space", d1 + " single", None, "single", SHA1, ""},
		{"upper hex", d256 + "  x", None, "x", SHA256, ""},
		{"leading blanks", " \t" + d1 + "  x", None, "x", SHA1, ""},
		{"tag", "SHA256 (a (b) = c) = " + strings.ToLower(d256), None, "a (b) = c", SHA256, ""},
		{"escaped", `\` + d1 + `  a\\b\nc`, None, "a\\b\nc", SHA1, ""},
		{"escaped tag", `\SHA1 (x\ry) = ` + d1, None, "x\ry", SHA1, ""},
		{"crlf", d1 + "  crlf\r", None, "crlf", SHA1, ""},
		{"wrong length for name", d1 + "  x", SHA256, "", None, "expected 64 hex digits (sha256), found 40"},
		{"odd length", d1[:39] + "  x", None, "", None, "found 39"},
		{"no name", d1 + " ", None, "", None, "missing file name"},
		{"no space", d1 + "x", None, "", None, ""},
		{"bad escape", `\` + d1 + `  a\tb`, None, "", None, `unknown escape "\t"`},
		{"unknown tag", "BLAKE9 (x) = " + d1, None, "", None, "unknown algorithm tag"},
		{"short tag digest", "SHA1 (x) = abc", None, "", None, "expected 40 hex digits or 28 base64 characters for SHA1, found 3"},
		{"junk", "not a checksum line", None, "", None, "expected"},
		{"nul", d1 + "  a\x00b", None, "", None, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, bad := readAll(t, "SUMS", []byte(tt.line+"\n"), tt.alg)
			if tt.want == "" {
				if len(bad) != 1 || len(es) != 0 {
					t.Fatalf("got entries %v, errors %v; want one error", es, bad)
				}
				if !strings.Contains(bad[0].Error(), tt.errPart) || !strings.HasPrefix(bad[0].Error(), "SUMS:1: ") {
					t.Fatalf("error %q, want it to start with SUMS:1: and contain %q", bad[0], tt.errPart)
				}
				return
			}
			if len(bad) != 0 || len(es) != 1 {
				t.Fatalf("got entries %v, errors %v; want one entry", es, bad)
			}
			if es[0].Name != tt.want || es[0].Algorithm != tt.wantAlg {
				t.Fatalf("got %q %v, want %q %v", es[0].Name, es[0].Algorithm, tt.want, tt.wantAlg)
			}
		})
	}
}

func TestReaderSkipsAndCounts(t *testing.T) {
	d := strings.Repeat("1", 32)
	in := "# comment\n\n   \n" + d + "  a\nbad line\n" + d + "  b"
	es, bad := readAll(t, "m", []byte(in), None)
	if len(es) != 2 || es[0].Line != 4 || es[1].Line != 6 || es[1].Name != "b" {
		t.Fatalf("entries %+v", es)
	}
	// The blank-only line 3 is malformed, as for GNU; the empty line 2 is not.
	if len(bad) != 2 || bad[0].Line != 3 || bad[1].Line != 5 {
		t.Fatalf("errors %v", bad)
	}
}

// TestReaderFirstLineFixesTheForm checks GNU's rule against mixing
// "HEX  name" with the one-space "HEX name": the first accepted line decides.
func TestReaderFirstLineFixesTheForm(t *testing.T) {
	d := strings.Repeat("1", 40)
	// After a two-space line, a one-space line is malformed.
	_, bad := readAll(t, "m", []byte(d+"  a\n"+d+" b\n"), None)
	if len(bad) != 1 || bad[0].Line != 2 {
		t.Fatalf("errors %v", bad)
	}
	// After a one-space line, the second space belongs to the name.
	es, bad := readAll(t, "m", []byte(d+" a\n"+d+"  b\n"+d+" *c\n"), None)
	if len(bad) != 0 || len(es) != 3 || es[1].Name != " b" || es[2].Name != "*c" || es[2].Binary {
		t.Fatalf("entries %+v errors %v", es, bad)
	}
	// A rejected line decides nothing.
	es, bad = readAll(t, "m", []byte(d+" \n"+d+"  b\n"), None)
	if len(bad) != 1 || len(es) != 1 || es[0].Name != "b" {
		t.Fatalf("entries %+v errors %v", es, bad)
	}
}

func TestReaderTagSpacing(t *testing.T) {
	d := strings.Repeat("a", 64)
	for _, l := range []string{"SHA256(a)= " + d, "SHA256 (a)= " + d, "SHA256 (a) =" + d, "SHA256 (a)  =  " + d, "SHA256 (a) = " + d} {
		es, bad := readAll(t, "m", []byte(l+"\n"), None)
		if len(bad) != 0 || len(es) != 1 || es[0].Name != "a" {
			t.Errorf("%q: entries %+v errors %v", l, es, bad)
		}
	}
	// An empty tagged name is an entry (that will be missing), as for GNU.
	es, bad := readAll(t, "m", []byte("SHA256 () = "+d+"\n"), None)
	if len(bad) != 0 || len(es) != 1 || es[0].Name != "" {
		t.Errorf("empty name: entries %+v errors %v", es, bad)
	}
	// A long comment is a comment.
	es, bad = readAll(t, "m", []byte("#"+strings.Repeat("x", 2*MaxLineLen)+"\nSHA256 (b) = "+d+"\n"), None)
	if len(bad) != 0 || len(es) != 1 || es[0].Line != 2 {
		t.Errorf("long comment: entries %+v errors %v", es, bad)
	}
}

func TestReaderLongLine(t *testing.T) {
	d := strings.Repeat("1", 40)
	in := d + "  " + strings.Repeat("x", 3*MaxLineLen) + "\n" + d + "  ok\n"
	es, bad := readAll(t, "m", []byte(in), None)
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "longer than") || bad[0].Line != 1 {
		t.Fatalf("errors %v", bad)
	}
	if len(es) != 1 || es[0].Name != "ok" || es[0].Line != 2 {
		t.Fatalf("entries %+v", es)
	}
}

func TestAlgorithmFromName(t *testing.T) {
	for name, want := range map[string]Algorithm{
		"sha1sum.txt": SHA1, "SHA256SUMS": SHA256, "MD5SUMS": MD5, "data.sha256": SHA256,
		"/x/manifest-sha512.txt": SHA512, "sha384sums": SHA384, "SHA224SUM": SHA224,
		"checksums.txt": None, "md5-and-sha1.txt": None, "sha1sum.txt.bak": SHA1,
		// b3sum, SHA-3 and BLAKE2b by name (issue 18)
		"b3sums.txt": BLAKE3, "B3SUMS": BLAKE3, "files.b3": BLAKE3, "blake3sums.txt": BLAKE3,
		"part-b3.txt": None, "SHA3-256SUMS": SHA3_256, "sha3_512sums": SHA3_512,
		"manifest-sha3-384.txt": SHA3_384, "blake2b-256sums": BLAKE2bN(256), "sha2-256sums": SHA256,
		"blake2s.sums": BLAKE2s, "b3sums.sha256": None,
		// git's blob ids by their whole name only: "git" alone says nothing.
		"git-sha1sum.txt": GitSHA1, "GIT_SHA1SUMS": GitSHA1, "blobs.git-sha1": GitSHA1,
		"git-sha1sum.sha1": None, "git.txt": None,
	} {
		if got, f := AlgorithmFromName(name); got != want || f != FamilyNone {
			t.Errorf("AlgorithmFromName(%q) = %v, %v; want %v", name, got, f, want)
		}
	}
	for name, want := range map[string]Family{
		"B2SUMS": FamilyBLAKE2b, "b2sums.txt": FamilyBLAKE2b, "list.b2": FamilyBLAKE2b,
		"SHA3SUMS": FamilySHA3, "sha2sums": FamilySHA2, "BLAKE2bSUMS": FamilyBLAKE2b,
	} {
		if got, f := AlgorithmFromName(name); got != None || f != want {
			t.Errorf("AlgorithmFromName(%q) = %v, %v; want family %v", name, got, f, want)
		}
	}
}

func TestAppendLineEscapes(t *testing.T) {
	d := []byte{0xde, 0xad}
	got := string(AppendLine(nil, MD5, "a\\b\nc\rd", d, false))
	if want := `\dead  a\\b\nc\rd` + "\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = string(AppendLine(nil, SHA1, "x y", d, true))
	if want := "SHA1 (x y) = dead\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

}

// TestReaderNewAlgorithms: the tag lines today's tools write (issue 18) and
// the base64 digests cksum -c reads (GNU 9.2+ tagged, 9.9+ untagged with
// the algorithm given), with the errors that name what was expected.
func TestReaderNewAlgorithms(t *testing.T) {
	hexOf := func(a Algorithm) string { return hex.EncodeToString(digestOf(a, "x")) }
	b64Of := func(a Algorithm) string { return base64.StdEncoding.EncodeToString(digestOf(a, "x")) }
	b256 := BLAKE2bN(256)
	tests := []struct {
		name, line string
		alg        Algorithm
		fam        Family
		wantAlg    Algorithm // None: malformed
		errPart    string
	}{
		{"SHA3-256 tag", "SHA3-256 (x) = " + hexOf(SHA3_256), None, 0, SHA3_256, ""},
		{"SHA3-512 tag", "SHA3-512 (x) = " + hexOf(SHA3_512), None, 0, SHA3_512, ""},
		{"SHA2-256 tag (GNU 9.8+, OpenSSL 3)", "SHA2-256 (x) = " + hexOf(SHA256), None, 0, SHA256, ""},
		{"OpenSSL spacing", "SHA2-384(x)= " + hexOf(SHA384), None, 0, SHA384, ""},
		{"BLAKE2b tag", "BLAKE2b (x) = " + hexOf(BLAKE2b), None, 0, BLAKE2b, ""},
		{"BLAKE2b-256 tag", "BLAKE2b-256 (x) = " + hexOf(b256), None, 0, b256, ""},
		{"BLAKE2b-8 tag", "BLAKE2b-8 (x) = " + hexOf(BLAKE2bN(8)), None, 0, BLAKE2bN(8), ""},
		{"OpenSSL BLAKE2B-512", "BLAKE2B-512(x)= " + hexOf(BLAKE2b), None, 0, BLAKE2b, ""},
		{"BLAKE3 tag (b3sum --tag)", "BLAKE3 (x) = " + hexOf(BLAKE3), None, 0, BLAKE3, ""},
		{"BLAKE2s tag", "BLAKE2s (x) = " + hexOf(BLAKE2s), None, 0, BLAKE2s, ""},
		// b2sum's rule: BLAKE2b without a length is 512 bits.
		{"BLAKE2b tag, short digest", "BLAKE2b (x) = " + hexOf(b256), None, 0, None, "expected 128 hex digits or 88 base64 characters for BLAKE2b, found 64"},
		{"BLAKE2b-12 tag", "BLAKE2b-12 (x) = ab", None, 0, None, "multiple of 8"},
		{"lower-case tag", "sha3-256 (x) = " + hexOf(SHA3_256), None, 0, None, "unknown algorithm tag"},
		// Base64 in tagged lines, for every algorithm (cksum --base64).
		{"base64 SHA256 tag", "SHA256 (x) = " + b64Of(SHA256), None, 0, SHA256, ""},
		{"base64 MD5 tag", "MD5 (x) = " + b64Of(MD5), None, 0, MD5, ""},
		{"base64 BLAKE2b-8 tag", "BLAKE2b-8 (x) = " + b64Of(BLAKE2bN(8)), None, 0, BLAKE2bN(8), ""},
		{"base64 SHA3-384 tag", "SHA3-384 (x) = " + b64Of(SHA3_384), None, 0, SHA3_384, ""},
		{"base64 unpadded", "SHA256 (x) = " + strings.TrimRight(b64Of(SHA256), "="), None, 0, None, "expected 64 hex digits or 44 base64 characters"},
		{"base64 url alphabet", "SHA256 (x) = " + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), None, 0, None, "base64"},
		// Untagged lines: the name and the request pick the algorithm.
		{"b3sum line, as requested", hexOf(BLAKE3) + "  x", BLAKE3, 0, BLAKE3, ""},
		{"sha3 family by length", hexOf(SHA3_384) + "  x", None, FamilySHA3, SHA3_384, ""},
		{"blake2b family by length (b2sum -c)", hexOf(BLAKE2bN(96)) + "  x", BLAKE2b, 0, BLAKE2bN(96), ""},
		{"blake2b-256 fixes the length", hexOf(BLAKE2b) + "  x", b256, 0, None, "expected 64 hex digits (blake2b-256), found 128"},
		{"sha3 family, odd length", hexOf(SHA3_256)[:62] + "  x", None, FamilySHA3, None, "expected a SHA-3 digest (56, 64, 96 or 128 hex digits), found 62"},
		{"blake2b family, too long", strings.Repeat("ab", 65) + "  x", None, FamilyBLAKE2b, None, "an even number of hex digits from 2 to 128"},
		// Untagged base64 (GNU 9.9+): only with the algorithm given.
		{"untagged base64, requested", b64Of(SHA256) + "  x", SHA256, 0, SHA256, ""},
		{"untagged base64, family", b64Of(SHA3_512) + " *x", None, FamilySHA3, SHA3_512, ""},
		{"untagged base64, blake2b by padding", b64Of(BLAKE2bN(248)) + "  x", BLAKE2b, 0, BLAKE2bN(248), ""},
		{"untagged base64, not given", b64Of(SHA256) + "  x", None, 0, None, "base64 digests in untagged lines need the algorithm named"},
		{"untagged base64, wrong size", b64Of(SHA1) + "  x", SHA256, 0, None, "expected 64 hex digits or 44 base64 characters (sha256), found 28 base64 characters"},
		// Digest lengths no default algorithm has: the error names who fits.
		{"length only blake2b makes", strings.Repeat("ab", 24) + "  x", None, 0, None, "blake2b-192 makes 48: name the algorithm to read it"},
		{"sha256 length stays sha256", hexOf(SHA256) + "  x", None, 0, SHA256, ""},
		{"git-sha1 only when asked", hexOf(GitSHA1) + "  x", GitSHA1, 0, GitSHA1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.line+"\n"), "SUMS")
			r.Algorithm, r.Family = tt.alg, tt.fam
			es, bad := readEntries(t, r)
			if tt.wantAlg == None {
				if len(bad) != 1 || len(es) != 0 {
					t.Fatalf("got entries %+v, errors %v; want one error", es, bad)
				}
				if !strings.Contains(bad[0].Error(), tt.errPart) {
					t.Fatalf("error %q, want it to contain %q", bad[0], tt.errPart)
				}
				return
			}
			if len(bad) != 0 || len(es) != 1 {
				t.Fatalf("got entries %+v, errors %v; want one entry", es, bad)
			}
			e := es[0]
			if e.Name != "x" || e.Algorithm != tt.wantAlg || !bytes.Equal(e.Digest, digestOf(tt.wantAlg, "x")) {
				t.Fatalf("got %q %v %x, want \"x\" %v %x", e.Name, e.Algorithm, e.Digest, tt.wantAlg, digestOf(tt.wantAlg, "x"))
			}
		})
	}
}

// TestReaderSources: each entry says what decided its algorithm, which the
// engine's Inference reports (FORMATS.md B1-B2).
func TestReaderSources(t *testing.T) {
	d := hex.EncodeToString(digestOf(SHA256, "x"))
	in := "SHA256 (a) = " + d + "\n" + d + "  b\n"
	for _, tt := range []struct {
		alg       Algorithm
		fam       Family
		src, want Source
	}{
		{None, 0, SourceNone, SourceLength},
		{None, 0, SourceName, SourceLength}, // a name that said nothing
		{SHA256, 0, SourceName, SourceName},
		{None, FamilySHA2, SourceName, SourceName},
		{SHA256, 0, SourceRequest, SourceRequest},
		{SHA256, 0, SourceNone, SourceRequest},
	} {
		r := NewReader(strings.NewReader(in), "m")
		r.Algorithm, r.Family, r.Source = tt.alg, tt.fam, tt.src
		es, bad := readEntries(t, r)
		if len(bad) != 0 || len(es) != 2 || es[0].Source != SourceTag || es[1].Source != tt.want {
			t.Errorf("%v/%v/%v: entries %+v errors %v, want sources tag, %v", tt.alg, tt.fam, tt.src, es, bad, tt.want)
		}
	}
}

// TestRoundTripEveryAlgorithm: for every algorithm, AppendLine and
// AppendLineBase64, tagged and not, give lines the Reader reads back to the
// same name, algorithm and digest (untagged ones with the algorithm given,
// as GNU needs it too), with awkward names.
func TestRoundTripEveryAlgorithm(t *testing.T) {
	names := []string{"plain", "sp ace", "new\nline", `back\slash`, "(paren) = x", "cr\r"}
	for i := 1; i < numAlgorithms; i++ {
		a := Algorithm(i)
		if !a.Valid() {
			continue
		}
		for _, name := range names {
			d := digestOf(a, name)
			for _, tag := range []bool{false, true} {
				for _, b64 := range []bool{false, true} {
					line := appendLine(nil, a, name, d, tag, b64)
					r := NewReader(bytes.NewReader(line), "m")
					r.Algorithm = a
					es, bad := readEntries(t, r)
					if len(bad) != 0 || len(es) != 1 {
						t.Fatalf("%v tag=%v base64=%v %q: %q read as %+v, %v", a, tag, b64, name, line, es, bad)
					}
					e := es[0]
					wantTag := tag && a.Tag() != ""
					if e.Name != name || e.Algorithm != a || !bytes.Equal(e.Digest, d) || e.Tagged != wantTag || e.Base64 != b64 {
						t.Errorf("%v tag=%v base64=%v: %q read as %+v", a, tag, b64, line, e)
					}
				}
			}
		}
	}
}
