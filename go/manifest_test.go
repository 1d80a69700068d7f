package checksig

import (
	"bytes"
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
			es, bad := readAll(t, path, data, AlgorithmFromName(path))
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
				rewritten = AppendLine(rewritten, e.Algorithm, e.Name, e.Digest, e.Tagged)
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
		{"unknown tag", "BLAKE3 (x) = " + d1, None, "", None, "unknown algorithm tag"},
		{"short tag digest", "SHA1 (x) = abc", None, "", None, "expected 40 hex digits for SHA1, found 3"},
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
	} {
		if got := AlgorithmFromName(name); got != want {
			t.Errorf("AlgorithmFromName(%q) = %v, want %v", name, got, want)
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
