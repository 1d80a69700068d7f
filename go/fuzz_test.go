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
	"syscall"
	"testing"

	zeebo "github.com/zeebo/blake3"
)

func addGoldenSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/manifests/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\\SHA1 (a\\\\b) = " + string(bytes.Repeat([]byte("a"), 40)) + "\n"))
	f.Add([]byte("# c\n\n0123456789abcdef0123456789abcdef  x\r\n"))
}

// FuzzReader: the parser never panics, never loops, and every entry it
// yields is well formed: a non-empty name without NUL, a known algorithm
// and a digest of its size. Writing the entry back and parsing it again
// gives the same entry.
func FuzzReader(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		lines := int64(bytes.Count(data, []byte{'\n'}) + 1)
		for i := 0; ; i++ {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			var me *ManifestError
			if errors.As(err, &me) {
				if me.Line < 1 || me.Line > lines {
					t.Fatalf("error line %d outside 1..%d", me.Line, lines)
				}
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if (e.Name == "" && !e.Tagged) || bytes.IndexByte([]byte(e.Name), 0) >= 0 || !e.Algorithm.Valid() || len(e.Digest) != e.Algorithm.Size() {
				t.Fatalf("bad entry %+v", e)
			}
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("entry line %d outside 1..%d", e.Line, lines)
			}
			// parseLine directly: a Reader per entry would allocate its 64 KiB
			// buffer each time and make big inputs crawl.
			line := AppendLine(nil, e.Algorithm, e.Name, e.Digest, e.Tagged)
			again := Reader{Name: "again", reversed: -1}
			e2, err := again.parseLine(bytes.TrimSuffix(line, []byte{'\n'}))
			if err != nil {
				// Untagged names that start with ' ' or '*' are ambiguous in
				// GNU's format by design; the tag form must always survive.
				if e.Tagged {
					t.Fatalf("tagged entry %q did not survive a round trip: %v", e.Name, err)
				}
				continue
			}
			if e2.Name != e.Name && e.Tagged {
				t.Fatalf("round trip %q -> %q", e.Name, e2.Name)
			}
			if !bytes.Equal(e2.Digest, e.Digest) {
				t.Fatalf("digest round trip %x -> %x", e.Digest, e2.Digest)
			}
		}
	})
}

// FuzzScanHex: the one-pass digest scan agrees with the obvious two
// passes (count the hex digits, then encoding/hex on the even prefix that
// fits), for any bytes, any length, mixed case and a bad byte anywhere.
func FuzzScanHex(f *testing.F) {
	for _, s := range []string{"", "a", "0f", "0G", "G0", "aBcD3", "da39a3ee5e6b4b0d3255bfef95601890afd80709  x", "abc\x00de", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		want := 0
		for want < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[want]) >= 0 {
			want++
		}
		var got [MaxSize]byte
		if n := scanHex(got[:], s); n != want {
			t.Fatalf("scanHex(%q) = %d hex digits, want %d", s, n, want)
		}
		even := min(want&^1, 2*MaxSize)
		ref := make([]byte, even/2)
		if _, err := hex.Decode(ref, s[:even]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:even/2], ref) {
			t.Fatalf("scanHex(%q) decoded %x, want %x", s, got[:even/2], ref)
		}
	})
}

// FuzzEscape: any name without NUL survives AppendLine then Reader in the
// tag form, which GNU uses when names are awkward.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"plain", "a\\b", "new\nline", "cr\rlf", ") = x", " lead", "*star", "tab\t", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || bytes.IndexByte([]byte(name), 0) >= 0 {
			return
		}
		d := digestOf(SHA256, name)
		for _, tag := range []bool{true, false} {
			line := AppendLine(nil, SHA256, name, d, tag)
			if bytes.Count(line, []byte{'\n'}) != 1 {
				t.Fatalf("line for %q holds a raw newline: %q", name, line)
			}
			e, err := NewReader(bytes.NewReader(line), "m").Next()
			if !tag && (name[0] == ' ' || name[0] == '*' || name[len(name)-1] == '\r') && err == nil && e.Name != name {
				continue // known GNU ambiguities of the untagged form
			}
			if err != nil || e.Name != name || !bytes.Equal(e.Digest, d) {
				t.Fatalf("tag=%v %q -> %q: %+v, %v", tag, name, line, e, err)
			}
		}
	})
}

// FuzzConfinement: no name from a manifest reaches a file outside the root.
// The root holds a symlink to a directory outside it, a file there, and a
// sibling directory; whatever the name, the file outside is never read.
func FuzzConfinement(f *testing.F) {
	for _, s := range []string{"../secret", "/etc/hostname", "out/secret", "in/../../secret", "./out/./secret",
		"in/../out/secret", "link", "in", "ok", "~/.ssh/id_rsa", "..", ".", "", "a//b", "out", "loop"} {
		f.Add(s)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	os.MkdirAll(filepath.Join(root, "in"), 0o755)
	os.WriteFile(filepath.Join(base, "secret"), []byte("SECRET"), 0o644)
	os.WriteFile(filepath.Join(root, "ok"), []byte("ok"), 0o644)
	os.Symlink(base, filepath.Join(root, "out"))
	os.Symlink(filepath.Join(base, "secret"), filepath.Join(root, "link"))
	os.Symlink("loop", filepath.Join(root, "loop"))
	ro, err := openRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	openers := []fileOpener{ro}
	if bo, err := openBeneath(root); err != nil {
		f.Fatal(err)
	} else if bo != nil {
		openers = append(openers, bo)
	}
	var secret syscall.Stat_t
	syscall.Stat(filepath.Join(base, "secret"), &secret)
	f.Fuzz(func(t *testing.T, name string) {
		for _, o := range openers {
			file, _, err := o.open([]byte(name))
			if err != nil {
				continue
			}
			st := fstat(t, file)
			file.Close()
			if st.Ino == secret.Ino && st.Dev == secret.Dev {
				t.Fatalf("%T: %q opened the file outside the root", o, name)
			}
		}
	})
}

func fstat(t *testing.T, f readCloser) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	var fd int
	switch f := f.(type) {
	case fdFile:
		fd = int(f)
	case *os.File:
		fd = int(f.Fd())
	default:
		t.Fatalf("unknown file type %T", f)
	}
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// FuzzReaderGiven is FuzzReader with the untagged lines' algorithm given,
// by the caller or a manifest's name (one algorithm, BLAKE2b's every
// length, or a family): the paths that read base64 digests and pick an
// algorithm by length within a set. Entries are well formed, their
// algorithm is one the reader may use, and writing an entry back, in hex or
// base64 as it came, reads back to the same entry.
func FuzzReaderGiven(f *testing.F) {
	files, _ := filepath.Glob("testdata/manifests/*")
	for i, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			a, fam := AlgorithmFromName(p)
			f.Add(b, uint8(a), uint8(fam))
			f.Add(b, uint8(i*7), uint8(i))
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	f.Add([]byte(b64(digestOf(SHA256, "a"))+"  a\nSHA3-256 (b) = "+b64(digestOf(SHA3_256, "b"))+"\n"), uint8(SHA256), uint8(0))
	f.Add([]byte(b64(digestOf(BLAKE2bN(200), "a"))+" *a\n"), uint8(BLAKE2b), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, alg, fam uint8) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		if a := Algorithm(alg); a.Valid() {
			r.Algorithm = a
		} else {
			r.Family = Family(fam % 4)
		}
		set := r.sizes()
		for {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			var me *ManifestError
			if errors.As(err, &me) {
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !e.Algorithm.Valid() || len(e.Digest) != e.Algorithm.Size() || bytes.IndexByte([]byte(e.Name), 0) >= 0 {
				t.Fatalf("bad entry %+v", e)
			}
			if !e.Tagged && set[e.Algorithm.Size()] != e.Algorithm {
				t.Fatalf("untagged entry read as %v, which the reader may not use", e.Algorithm)
			}
			if e.Base64 && !e.Tagged && !r.given() {
				t.Fatalf("untagged base64 read without the algorithm given: %+v", e)
			}
			line := appendLine(nil, e.Algorithm, e.Name, e.Digest, e.Tagged, e.Base64)
			again := Reader{Name: "again", reversed: -1, Algorithm: r.Algorithm, Family: r.Family}
			e2, err := again.parseLine(bytes.TrimSuffix(line, []byte{'\n'}))
			if err != nil {
				if e.Tagged {
					t.Fatalf("tagged entry %q did not survive a round trip: %v", line, err)
				}
				continue // GNU's untagged form cannot hold every name
			}
			if e2.Algorithm != e.Algorithm || !bytes.Equal(e2.Digest, e.Digest) || e2.Base64 != e.Base64 || (e.Tagged && e2.Name != e.Name) {
				t.Fatalf("round trip %+v -> %q -> %+v", e, line, e2)
			}
		}
	})
}

// FuzzBLAKE3Tree: the tree hasher, fed any input in writes of any sizes,
// gives the digest of zeebo's sequential hasher, extended output included.
func FuzzBLAKE3Tree(f *testing.F) {
	f.Add([]byte("abc"), uint16(1), uint16(0))
	f.Add(bytes.Repeat([]byte{7}, 5000), uint16(1024), uint16(3))
	f.Add(bytes.Repeat([]byte{1}, 40000), uint16(999), uint16(17))
	f.Fuzz(func(t *testing.T, data []byte, step, grow uint16) {
		// Inputs up to ~1 MiB: the data repeated, so short fuzz inputs still
		// reach subtrees of many chunks; at most 4096 writes.
		in := bytes.Repeat(data, 1+int(grow)%(1+(1<<20)/max(len(data), 1)))
		s := max(int(step), 1, len(in)/4096)
		var tr treeHasher
		for p := in; len(p) > 0; p = p[min(s, len(p)):] {
			tr.write(p[:min(s, len(p))])
		}
		got := make([]byte, 100)
		tr.xof(got)
		want := make([]byte, 100)
		h := zeebo.New()
		h.Write(in)
		h.Digest().Read(want)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes in writes of %d: %x, want %x", len(in), s, got, want)
		}
	})
}

// FuzzBLAKE3TreeRead: the tree reading a file itself (readFrom) after a
// write of any length, in windows of any size, on several goroutines or
// one, gives zeebo's digest. The file is the fuzz input repeated (up to
// ~1 MiB, so that windows hold subtrees of several pieces).
func FuzzBLAKE3TreeRead(f *testing.F) {
	f.Add([]byte("abc"), uint16(0), uint32(1), uint16(0), false)
	f.Add(bytes.Repeat([]byte{7}, 5000), uint16(1024), uint32(treePiece*2), uint16(200), false)
	f.Add(bytes.Repeat([]byte{1}, 40000), uint16(999), uint32(3*treePiece+17), uint16(60), true)
	f.Fuzz(func(t *testing.T, data []byte, prefix uint16, window uint32, grow uint16, serial bool) {
		in := bytes.Repeat(data, 1+int(grow)%(1+(1<<20)/max(len(data), 1)))
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		k := min(int(prefix), len(in))
		w := max(int(window)%(8*treePiece), 1, len(in)/256) // at most 256 windows
		var tr treeHasher
		tr.serial = serial
		tr.write(in[:k])
		buf := make([]byte, 24<<10)
		for off := k; off < len(in); off += w {
			if err := tr.readFrom(int(file.Fd()), int64(off), int64(min(w, len(in)-off)), buf); err != nil {
				t.Fatal(err)
			}
		}
		var got [32]byte
		tr.xof(got[:])
		if want := zeebo.Sum256(in); got != want {
			t.Fatalf("%d bytes, %d written, then windows of %d (serial %v): %x, want %x", len(in), k, w, serial, got, want)
		}
	})
}
