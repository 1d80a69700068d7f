package checksig

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestDeferredScanAgrees: a run cut as the Dask feature cuts it (parse
// once; scan passes over contiguous shards that hash small files and size
// the others; the deferred files hashed by a job of their own entries; the
// results put back by row) gives the columns of a whole run, over every
// status, at every defer size, for one and several workers.
func TestDeferredScanAgrees(t *testing.T) {
	root, text := statusTree(t)
	withStatusFaults(t)
	for _, workers := range []int{1, 4} {
		want, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Workers: workers, Manifest: "SUMS", ManifestText: text})
		parsed, _ := mustRun(t, Request{Kind: KindVerify, Manifest: "SUMS", ManifestText: text, ParseOnly: true})
		n := len(parsed.Status)
		for _, deferMin := range []int64{0, 5, 5000, 1 << 20, 1 << 40} {
			what := fmt.Sprintf("workers %d, defer from %d bytes", workers, deferMin)
			got := rowsOf(parsed, 0, n) // the parse's columns, filled in below
			got = Columns{
				Status: slices.Clone(got.Status), Algorithm: got.Algorithm, Errnum: slices.Clone(got.Errnum),
				Size: slices.Clone(got.Size), Line: got.Line, Expected: got.Expected,
				Actual: slices.Clone(got.Actual), Width: got.Width, PathOffsets: got.PathOffsets, Paths: got.Paths,
			}
			var deferred []int
			for _, cut := range [][2]int{{0, 4}, {4, 9}, {9, n}} {
				lo, hi := cut[0], cut[1]
				req := Request{Kind: KindVerify, Root: root, Workers: workers, Entries: entriesOf(parsed, lo, hi),
					Defer: true, DeferMin: deferMin}
				j, err := Start(req)
				if err != nil {
					t.Fatal(err)
				}
				c := waitJob(t, j)
				p := j.Poll(0)
				j.Close()
				var sized, hashed int64
				for i := range c.Status {
					row := lo + i
					switch Status(c.Status[i]) {
					case StatusMissing, StatusNotRegular, StatusOutsideRoot:
					default: // opened (unless stat fails too): its size on disk; faults change reads only
						if fi, err := os.Stat(filepath.Join(root, rowPath(parsed, row))); err == nil {
							sized += fi.Size()
						}
					}
					if Status(c.Status[i]) == StatusPending {
						if c.Size[i] < deferMin || !bytes.Equal(c.Actual[i*c.Width:(i+1)*c.Width], make([]byte, c.Width)) {
							t.Fatalf("%s: row %d deferred with size %d, digest %x", what, row, c.Size[i], c.Actual[i*c.Width:(i+1)*c.Width])
						}
						deferred = append(deferred, row)
						continue
					}
					hashed += max(c.Size[i], 0)
					put(got, row, c, i)
				}
				if p.BytesTotal != sized {
					t.Errorf("%s: byte total %d, want %d (every file opened)", what, p.BytesTotal, sized)
				}
				if p.BytesDone > hashed {
					t.Errorf("%s: %d bytes done, more than the %d of the rows hashed", what, p.BytesDone, hashed)
				}
			}
			// The deferred rows, as a job of their own entries (gathered
			// out of the parse), then put back where they came from.
			if len(deferred) > 0 {
				e := &Entries{Offsets: []int64{0}, Width: parsed.Width}
				for _, row := range deferred {
					e.Names = append(e.Names, rowPath(parsed, row)...)
					e.Offsets = append(e.Offsets, int64(len(e.Names)))
					e.Algorithms = append(e.Algorithms, Algorithm(parsed.Algorithm[row]))
					e.Digests = append(e.Digests, parsed.Expected[row*parsed.Width:(row+1)*parsed.Width]...)
					e.Lines = append(e.Lines, parsed.Line[row])
				}
				c, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Workers: workers, Entries: e})
				for k, row := range deferred {
					put(got, row, c, k)
				}
			}
			sameColumns(t, what, got, want)
			// What is deferred follows the size alone: 0 sizes every file
			// that opens, a huge size none.
			switch deferMin {
			case 0:
				if len(deferred) != 6 { // ok.txt, ok 2.bin, café, bad.txt, grown, eio
					t.Errorf("%s: %d rows deferred, want the 6 that open", what, len(deferred))
				}
			case 1 << 40:
				if len(deferred) != 0 {
					t.Errorf("%s: rows %v deferred", what, deferred)
				}
			}
		}
	}
}

// put copies the outcome of row i of c (status, errno, size, digest) into
// row of dst.
func put(dst Columns, row int, c Columns, i int) {
	w := dst.Width
	dst.Status[row], dst.Errnum[row], dst.Size[row] = c.Status[i], c.Errnum[i], c.Size[i]
	copy(dst.Actual[row*w:(row+1)*w], c.Actual[i*c.Width:(i+1)*c.Width])
}

// TestWalkPartsAgree: the extra rows of a whole walk are those of disjoint
// parts that cover the tree, however it is cut: each part's rows sorted,
// put in name order. Symlinked directories are walked by neither, the
// manifest is skipped by both, and a part that is no directory (any more)
// has no extra file.
func TestWalkPartsAgree(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	for _, name := range []string{"a.txt", "a/1", "a/x/2", "a/x/y/3", "a/y/4", "a0", "b/5", "b/listed", "c d/6", "listed", "z/.hidden", "a/listed"} {
		write(t, filepath.Join(root, name), name)
	}
	write(t, filepath.Join(base, "elsewhere", "f"), "f")
	os.Symlink(filepath.Join(base, "elsewhere"), filepath.Join(root, "a", "out"))
	os.Symlink(filepath.Join(root, "b"), filepath.Join(root, "link-b"))
	manifest := filepath.Join(root, "SUMS")
	text := line(SHA1, "listed", "listed") + line(SHA1, "b/listed", "b/listed") + line(SHA1, "./a//listed", "a/listed") + line(SHA1, "gone", "x")
	write(t, manifest, text)
	names, whole, wantNames := wholeWalk(t, root, manifest)
	if got := strings.Join(wantNames, ","); got != "a.txt,a/1,a/x/2,a/x/y/3,a/y/4,a0,b/5,c d/6,z/.hidden" {
		t.Fatalf("whole walk: extra %s", got)
	}
	for _, parts := range [][]walkPart{
		{{dir: ""}},
		{{dir: "", flat: true}, {dir: "a"}, {dir: "b"}, {dir: "c d"}, {dir: "z"}},
		{{dir: "", flat: true}, {dir: "a", flat: true}, {dir: "a/x"}, {dir: "a/y"}, {dir: "a/out"}, {dir: "b"}, {dir: "c d"}, {dir: "z"}, {dir: "link-b"}, {dir: "a.txt"}, {dir: "gone"}},
		{{dir: "", flat: true}, {dir: "a", flat: true}, {dir: "a/x", flat: true}, {dir: "a/x/y"}, {dir: "a/y"}, {dir: "b", flat: true}, {dir: "c d"}, {dir: "z"}},
	} {
		checkWalkParts(t, root, manifest, names, whole, wantNames, parts)
	}
}

// TestWalkPartsNotUTF8: parts named by bytes that are not UTF-8, flat or
// whole, at every depth, walk as any other: their extra rows, together,
// are the whole walk's; the listed names in them are not extra.
func TestWalkPartsNotUTF8(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("names that are not UTF-8: Linux file systems take them")
	}
	root := t.TempDir()
	for _, name := range []string{"a", "d\xff/listed", "d\xff/new\xfe", "d\xff/e\xfe/1", "d\xff/e\xfe/listed", "d\xff/e\xfe/f\xfd/2", "d\xff0", "ok/x"} {
		write(t, filepath.Join(root, name), name)
	}
	manifest := filepath.Join(root, "SUMS")
	text := line(SHA1, "a", "a") + line(SHA1, "d\xff/listed", "d\xff/listed") + line(SHA1, "d\xff/e\xfe/listed", "d\xff/e\xfe/listed") + line(SHA1, "d\xff/e\xfe/gone", "x")
	write(t, manifest, text)
	names, whole, wantNames := wholeWalk(t, root, manifest)
	if want := []string{"d\xff/e\xfe/1", "d\xff/e\xfe/f\xfd/2", "d\xff/new\xfe", "d\xff0", "ok/x"}; !slices.Equal(wantNames, want) {
		t.Fatalf("whole walk: extra %q, want %q", wantNames, want)
	}
	for _, parts := range [][]walkPart{
		{{dir: "", flat: true}, {dir: "d\xff"}, {dir: "ok"}},
		{{dir: "", flat: true}, {dir: "d\xff", flat: true}, {dir: "d\xff/e\xfe"}, {dir: "ok"}},
		{{dir: "", flat: true}, {dir: "d\xff", flat: true}, {dir: "d\xff/e\xfe", flat: true}, {dir: "d\xff/e\xfe/f\xfd"}, {dir: "ok"}},
	} {
		checkWalkParts(t, root, manifest, names, whole, wantNames, parts)
	}
}

// wholeWalk returns manifest's listed names (as entries a part's job is
// given), the whole tree's extra walk under root, and its extra names.
func wholeWalk(t *testing.T, root, manifest string) (*Entries, Columns, []string) {
	t.Helper()
	parsed, _ := mustRun(t, Request{Kind: KindVerify, Manifest: manifest, ParseOnly: true})
	names := entriesOf(parsed, 0, len(parsed.Status))
	names.Algorithms, names.Digests, names.Width = nil, nil, 0
	whole, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Extra: true, ParseOnly: true})
	return names, whole, extraNames(whole)
}

// checkWalkParts walks the tree beneath root in parts, as a run spread over
// processes does, and checks that their extra rows are sorted, lie in
// their part, have the whole walk's sizes, and are together wantNames.
func checkWalkParts(t *testing.T, root, manifest string, names *Entries, whole Columns, wantNames []string, parts []walkPart) {
	t.Helper()
	var got []string
	for _, p := range parts {
		// The names of the listed rows, as a run spread over processes
		// ships them, and the manifest named so that it is skipped.
		c, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Manifest: manifest, Algorithm: SHA1, Entries: names,
			ParseOnly: true, Extra: true, WalkDir: p.dir, WalkFlat: p.flat})
		part := extraNames(c)
		if !slices.IsSorted(part) {
			t.Errorf("part %+v: extra rows not sorted: %q", p, part)
		}
		for i := range part {
			if !p.holds(part[i]) {
				t.Errorf("part %+v: %q is not in it", p, part[i])
			}
			if k := slices.Index(wantNames, part[i]); k < 0 || whole.Size[len(whole.Status)-len(wantNames)+k] != c.Size[len(c.Status)-len(part)+i] {
				t.Errorf("part %+v: extra %q, size %d", p, part[i], c.Size[len(c.Status)-len(part)+i])
			}
		}
		got = append(got, part...)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantNames) {
		t.Errorf("parts %+v: extra\n got %q\nwant %q", parts, got, wantNames)
	}
}

func extraNames(c Columns) []string {
	var out []string
	for i, s := range c.Status {
		if Status(s) == StatusExtra {
			out = append(out, rowPath(c, i))
		}
	}
	return out
}

func TestPartRequestsRefused(t *testing.T) {
	root := t.TempDir()
	e := &Entries{Names: []byte("a"), Offsets: []int64{0, 1}}
	for _, req := range []Request{
		{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, ParseOnly: true, Defer: true},
		{Kind: KindDigest, Algorithm: SHA1, Paths: []string{"a"}, Defer: true},
		{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, Defer: true, DeferMin: -1},
		{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, DeferMin: 5},
		{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, WalkDir: "a"},
		{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, WalkFlat: true},
		{Kind: KindMake, Root: root, Manifest: filepath.Join(root, "m"), Algorithm: SHA1, Extra: true, WalkDir: "a"},
	} {
		if _, err := Start(req); err == nil || !strings.Contains(err.Error(), "checksig: invalid") {
			t.Errorf("%+v: %v", req, err)
		}
	}
	// Refused for their form, whatever their bytes: a name that is not
	// UTF-8 is no reason (TestWalkPartsNotUTF8).
	for _, dir := range []string{".", "..", "../x", "/etc", "a/", "a//b", "./a", "a/./b", "a/..", "\xff/..", "\xff//b", "/\xff", "\xff/"} {
		req := Request{Kind: KindVerify, Root: root, Entries: e, Algorithm: SHA1, ParseOnly: true, Extra: true, WalkDir: dir}
		if _, err := Start(req); err == nil || !strings.Contains(err.Error(), "walk directory") {
			t.Errorf("walk directory %q: %v", dir, err)
		}
	}
}
