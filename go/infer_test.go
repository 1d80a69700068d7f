package checksig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verifyInfer runs a verify job to its end and returns its statuses,
// algorithms and Inference.
func verifyInfer(t *testing.T, root, manifest string, a Algorithm) ([]string, []Algorithm, Inference) {
	t.Helper()
	j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Algorithm: a, Workers: 2})
	defer j.Close()
	for j.Poll(time.Second).Phase != PhaseDone {
	}
	if err := j.Result(); err != nil {
		t.Fatal(err)
	}
	var algs []Algorithm
	for _, b := range j.cols.Algorithm {
		algs = append(algs, Algorithm(b))
	}
	return statuses(j.cols), algs, j.Inference()
}

// b3Tree writes files of different sizes and a b3sum manifest of them
// (64 hex digits a line, like sha256sum's) under the given name.
func b3Tree(t *testing.T, manifest string) (root string) {
	root = t.TempDir()
	var m strings.Builder
	for i, size := range []int{3000, 10, 70000, 500} {
		name := fmt.Sprintf("f%d", i)
		data := strings.Repeat(string(rune('a'+i)), size)
		write(t, filepath.Join(root, name), data)
		m.WriteString(line(BLAKE3, name, data))
	}
	write(t, filepath.Join(root, manifest), m.String())
	return root
}

// TestInferenceB3sumHazard: the hazard of issue 18. A b3sum manifest whose
// name says nothing is read as sha256 and every file mismatches; the job
// says so, and names blake3 as the algorithm that matches, found by
// hashing the smallest file again. Named b3sums.txt, it verifies.
func TestInferenceB3sumHazard(t *testing.T) {
	root := b3Tree(t, "checksums.txt")
	st, algs, inf := verifyInfer(t, root, filepath.Join(root, "checksums.txt"), None)
	if fmt.Sprint(st) != "[mismatch mismatch mismatch mismatch]" || algs[0] != SHA256 {
		t.Fatalf("statuses %v, algorithms %v", st, algs)
	}
	want := Inference{Algorithm: SHA256, Source: SourceLength, Rows: 4, OK: 0, Mismatch: 4, Probed: 1, Match: BLAKE3}
	if inf != want {
		t.Errorf("inference %+v, want %+v", inf, want)
	}

	root = b3Tree(t, "b3sums.txt")
	st, algs, inf = verifyInfer(t, root, filepath.Join(root, "b3sums.txt"), None)
	if fmt.Sprint(st) != "[ok ok ok ok]" || algs[0] != BLAKE3 {
		t.Fatalf("statuses %v, algorithms %v", st, algs)
	}
	want = Inference{Algorithm: BLAKE3, Source: SourceName, Rows: 4, OK: 4, Probed: -1}
	if inf != want {
		t.Errorf("inference %+v, want %+v", inf, want)
	}

	// Asked for, the algorithm is no inference at all.
	st, _, inf = verifyInfer(t, root, filepath.Join(root, "b3sums.txt"), BLAKE3)
	if fmt.Sprint(st) != "[ok ok ok ok]" || inf != (Inference{Probed: -1}) {
		t.Errorf("requested: statuses %v, inference %+v", st, inf)
	}
}

// TestInferenceCorruptFiles: a manifest whose every file really is corrupt
// also mismatches everywhere; the probe finds no algorithm that matches, and
// says so, instead of blaming the algorithm.
func TestInferenceCorruptFiles(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "now")
	write(t, filepath.Join(root, "b"), "then")
	m := line(SHA256, "a", "before") + line(SHA256, "b", "after")
	write(t, filepath.Join(root, "list"), m)
	_, _, inf := verifyInfer(t, root, filepath.Join(root, "list"), None)
	if inf.Algorithm != SHA256 || inf.Mismatch != 2 || inf.Probed != 0 || inf.Match != None {
		t.Errorf("inference %+v, want a probe of row 0 that matched nothing", inf)
	}
	// One file that matches: the algorithm is right, nothing is probed.
	write(t, filepath.Join(root, "list"), m+line(SHA256, "a", "now"))
	_, _, inf = verifyInfer(t, root, filepath.Join(root, "list"), None)
	if inf.OK != 1 || inf.Mismatch != 2 || inf.Probed != -1 {
		t.Errorf("inference %+v, want no probe", inf)
	}
	// A file too big to probe is not hashed again.
	defer func(n int64) { probeMaxSize = n }(probeMaxSize)
	probeMaxSize = 2
	write(t, filepath.Join(root, "list"), m)
	_, _, inf = verifyInfer(t, root, filepath.Join(root, "list"), None)
	if inf.Mismatch != 2 || inf.Probed != -1 {
		t.Errorf("inference %+v, want no probe", inf)
	}
}

// TestInferenceTagged: tagged lines decide their own algorithm: nothing is
// inferred.
func TestInferenceTagged(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "x")
	write(t, filepath.Join(root, "m"), string(AppendLine(nil, BLAKE3, "a", digestOf(BLAKE3, "y"), true)))
	st, _, inf := verifyInfer(t, root, filepath.Join(root, "m"), None)
	if st[0] != "mismatch" || inf != (Inference{Probed: -1}) {
		t.Errorf("statuses %v, inference %+v", st, inf)
	}
}

// TestFamiliesByName: B2SUMS holds b2sum lines of several -l lengths, each
// read at its own (b2sum -c does the same); SHA3SUMS the SHA-3 family.
func TestFamiliesByName(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "x")
	var b2, s3 strings.Builder
	for _, a := range []Algorithm{BLAKE2b, BLAKE2bN(256), BLAKE2bN(8), BLAKE2bN(160)} {
		b2.WriteString(line(a, "a", "x"))
	}
	for _, a := range []Algorithm{SHA3_224, SHA3_256, SHA3_384, SHA3_512} {
		s3.WriteString(line(a, "a", "x"))
	}
	for name, tt := range map[string]struct {
		text string
		algs string
	}{
		"B2SUMS":   {b2.String(), "[blake2b blake2b-256 blake2b-8 blake2b-160]"},
		"SHA3SUMS": {s3.String(), "[sha3_224 sha3_256 sha3_384 sha3_512]"},
	} {
		write(t, filepath.Join(root, name), tt.text)
		st, algs, inf := verifyInfer(t, root, filepath.Join(root, name), None)
		if fmt.Sprint(st) != "[ok ok ok ok]" || fmt.Sprint(algs) != tt.algs || inf.Source != SourceName || inf.OK != 1 {
			t.Errorf("%s: statuses %v, algorithms %v, inference %+v", name, st, algs, inf)
		}
	}
}

// TestMakeEveryAlgorithm: a make job writes, for every algorithm, tagged
// or not, hex or base64, the lines AppendLine writes, and a verify job
// reads them all back as ok.
func TestMakeEveryAlgorithm(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "data", "a b"), "alpha")
	write(t, filepath.Join(root, "data", "c\\d"), "gamma")
	out := filepath.Join(root, "MANIFEST")
	for i := 1; i < numAlgorithms; i++ {
		a := Algorithm(i)
		if !a.Valid() {
			continue
		}
		for _, style := range []struct{ tag, b64 bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			_, _, err := Run(Request{Kind: KindMake, Root: filepath.Join(root, "data"), Manifest: out, Algorithm: a, Tag: style.tag, Base64: style.b64})
			if a.Tag() == "" && style.tag {
				if err == nil {
					t.Errorf("%v: a tagged manifest was written; no tool writes one", a)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%v %+v: %v", a, style, err)
			}
			want := appendLine(nil, a, "a b", digestOf(a, "alpha"), style.tag, style.b64)
			want = appendLine(want, a, "c\\d", digestOf(a, "gamma"), style.tag, style.b64)
			if got := readFile(t, out); !bytes.Equal(got, want) {
				t.Errorf("%v %+v: wrote %q, want %q", a, style, got, want)
			}
			st, algs, _ := verifyInfer(t, filepath.Join(root, "data"), out, a)
			if fmt.Sprint(st) != "[ok ok]" || algs[0] != a {
				t.Errorf("%v %+v: verify %v %v", a, style, st, algs)
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFamilyRequested: a verify job asked for a family (cksum -a sha3 -c
// without -l) reads each untagged line at its own length within it; a
// family and an algorithm at once are refused.
func TestFamilyRequested(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "x")
	var m strings.Builder
	for _, a := range []Algorithm{SHA3_512, SHA3_224} {
		m.WriteString(line(a, "a", "x"))
	}
	m.WriteString(line(SHA256, "a", "x")) // a SHA-2 length that SHA-3 also has: read as SHA3-256
	write(t, filepath.Join(root, "list"), m.String())
	j := startAttached(t, Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "list"), Family: FamilySHA3})
	defer j.Close()
	for j.Poll(time.Second).Phase != PhaseDone {
	}
	if got := fmt.Sprint(statuses(j.cols)); got != "[ok ok mismatch]" {
		t.Errorf("statuses %s", got)
	}
	if Algorithm(j.cols.Algorithm[2]) != SHA3_256 || j.Inference().Algorithm != None {
		t.Errorf("row 3 read as %v, inference %+v", Algorithm(j.cols.Algorithm[2]), j.Inference())
	}
	if _, err := Start(Request{Kind: KindVerify, Root: root, Manifest: "x", Family: FamilySHA2, Algorithm: SHA256}); !errors.Is(err, ErrInvalid) {
		t.Errorf("family and algorithm: %v", err)
	}
}
