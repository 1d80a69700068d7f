package checksig

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The inputs of inputs.go, each against the manifest file path it must
// agree with: manifest text (whole and in chunks), parse-only jobs, and
// entries (whole and in shards, as the Dask feature will cut them).

// statusTree builds a root where a manifest gives every row status, with
// mixed algorithms and a name that is not UTF-8, and returns the root and
// the manifest (written outside the root, so that the walk for Extra sees
// the same files whatever the input). "grown" reads as changed and "eio"
// as unreadable through withFaults.
func statusTree(t *testing.T) (root string, manifest []byte) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	write(t, filepath.Join(base, "secret"), "secret")
	write(t, filepath.Join(root, "ok.txt"), "fine")
	write(t, filepath.Join(root, "sub dir", "ok 2.bin"), "also fine")
	write(t, filepath.Join(root, "caf\xe9.txt"), "latin-1 name")
	write(t, filepath.Join(root, "bad.txt"), "changed")
	write(t, filepath.Join(root, "grown"), strings.Repeat("g", 1<<20))
	write(t, filepath.Join(root, "eio"), strings.Repeat("e", 5000))
	write(t, filepath.Join(root, "unlisted"), "extra")
	write(t, filepath.Join(root, "sub dir", "unlisted too"), "extra")
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(base, "secret"), filepath.Join(root, "link-out"))
	tag := func(a Algorithm, name, data string) string {
		return string(AppendLine(nil, a, name, digestOf(a, data), true))
	}
	manifest = []byte("# every status\n" +
		line(SHA1, "ok.txt", "fine") +
		tag(MD5, "sub dir/ok 2.bin", "also fine") +
		line(SHA256, "caf\xe9.txt", "latin-1 name") +
		"not a checksum line\n" +
		tag(SHA512, "bad.txt", "original") +
		line(SHA1, "gone.txt", "x") +
		line(SHA1, "dir", "x") +
		line(SHA1, "fifo", "x") +
		line(SHA1, "../secret", "secret") +
		line(SHA1, filepath.Join(base, "secret"), "secret") +
		line(SHA1, "link-out", "secret") +
		"\n" +
		line(SHA256, "grown", strings.Repeat("g", 1<<20)) +
		line(SHA1, "eio", strings.Repeat("e", 5000)) +
		line(SHA1, "ok.txt/below", "x") +
		line(SHA1, "new\nline", "x"))
	return root, manifest
}

func withStatusFaults(t *testing.T) {
	withFaults(t, map[string]func(readCloser) readCloser{
		"grown": func(f readCloser) readCloser { return &grownRead{f, 1} },
		"eio":   func(f readCloser) readCloser { return &eioAfter{f, 1000} },
	})
}

var wantStatuses = "ok,ok,ok,mismatch,missing,not_regular,not_regular,outside_root,outside_root,outside_root,changed,unreadable,unreadable,missing,extra,extra"

// entriesOf makes Entries of rows lo..hi of c, pointing into its columns.
func entriesOf(c Columns, lo, hi int) *Entries {
	algs := make([]Algorithm, hi-lo)
	for i := range algs {
		algs[i] = Algorithm(c.Algorithm[lo+i])
	}
	return &Entries{
		Names: c.Paths, Offsets: c.PathOffsets[lo : hi+1], Algorithms: algs,
		Digests: c.Expected[lo*c.Width : hi*c.Width], Width: c.Width, Lines: c.Line[lo:hi],
	}
}

// concat merges the columns of consecutive shards or chunks, as a caller
// would: the digest cells of parts narrower than the widest are padded.
func concat(parts ...Columns) Columns {
	var c Columns
	for _, p := range parts {
		c.Width = max(c.Width, p.Width)
	}
	c.PathOffsets = []int64{0}
	pad := func(dst, cells []byte, w int) []byte {
		for i := 0; i < len(cells); i += w {
			dst = append(dst, cells[i:i+w]...)
			dst = append(dst, make([]byte, c.Width-w)...)
		}
		return dst
	}
	for _, p := range parts {
		c.Status = append(c.Status, p.Status...)
		c.Algorithm = append(c.Algorithm, p.Algorithm...)
		c.Errnum = append(c.Errnum, p.Errnum...)
		c.Size = append(c.Size, p.Size...)
		c.Line = append(c.Line, p.Line...)
		if p.Width > 0 {
			c.Expected = pad(c.Expected, p.Expected, p.Width)
			c.Actual = pad(c.Actual, p.Actual, p.Width)
		}
		base := int64(len(c.Paths))
		for _, off := range p.PathOffsets[1:] {
			c.PathOffsets = append(c.PathOffsets, base+off)
		}
		c.Paths = append(c.Paths, p.Paths...)
	}
	return c
}

// rowsOf cuts rows lo..hi out of c, with their own path column.
func rowsOf(c Columns, lo, hi int) Columns {
	w := c.Width
	offs := make([]int64, 0, hi-lo+1)
	for _, off := range c.PathOffsets[lo : hi+1] {
		offs = append(offs, off-c.PathOffsets[lo])
	}
	return Columns{
		Status: c.Status[lo:hi], Algorithm: c.Algorithm[lo:hi], Errnum: c.Errnum[lo:hi],
		Size: c.Size[lo:hi], Line: c.Line[lo:hi], Expected: c.Expected[lo*w : hi*w], Actual: c.Actual[lo*w : hi*w],
		Width: w, PathOffsets: offs, Paths: c.Paths[c.PathOffsets[lo]:c.PathOffsets[hi]],
	}
}

func sameColumns(t *testing.T, what string, got, want Columns) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: columns differ from the manifest file's\n got %v %+v\nwant %v %+v", what, statuses(got), got, statuses(want), want)
	}
}

func mustRun(t *testing.T, req Request) (Columns, []Warning) {
	t.Helper()
	c, w, err := Run(req)
	if err != nil {
		t.Fatalf("%+v: %v", req, err)
	}
	return c, w
}

// lineStarts returns the offset of every line of text, and len(text).
func lineStarts(text []byte) []int {
	starts := []int{0}
	for i, c := range text {
		if c == '\n' && i+1 < len(text) {
			starts = append(starts, i+1)
		}
	}
	return append(starts, len(text))
}

// TestInputsAgree: manifest text, whole and in chunks, parse-only then
// entries, whole and in shards, all give the columns and warnings the
// manifest file gives, over every status, for both confined openers and at
// one and several workers.
func TestInputsAgree(t *testing.T) {
	root, text := statusTree(t)
	withStatusFaults(t)
	manifest := filepath.Join(t.TempDir(), "SUMS")
	write(t, manifest, string(text))
	defer func() { useOpenat2 = true }()
	for _, fast := range []bool{true, false} {
		for _, workers := range []int{1, 4} {
			useOpenat2 = fast
			base := Request{Kind: KindVerify, Root: root, Workers: workers, Extra: true}
			req := base
			req.Manifest = manifest
			want, wantWarns := mustRun(t, req)
			if got := strings.Join(statuses(want), ","); got != wantStatuses {
				t.Fatalf("manifest file: statuses\n got %s\nwant %s", got, wantStatuses)
			}
			if len(wantWarns) != 1 || wantWarns[0].Line != 5 {
				t.Fatalf("manifest file: warnings %v", wantWarns)
			}
			listed := len(want.Status) - 2 // the extra rows come last

			req = base
			req.Manifest, req.ManifestText = "SUMS", text
			got, warns := mustRun(t, req)
			sameColumns(t, "manifest text", got, want)
			if !reflect.DeepEqual(warns, wantWarns) {
				t.Fatalf("manifest text: warnings %v, want %v", warns, wantWarns)
			}

			req = base
			req.Manifest, req.ParseOnly = manifest, true
			parsed, warns := mustRun(t, req)
			if !reflect.DeepEqual(warns, wantWarns) {
				t.Fatalf("parse-only: warnings %v, want %v", warns, wantWarns)
			}
			req = base
			req.Entries = entriesOf(parsed, 0, listed)
			got, _ = mustRun(t, req)
			sameColumns(t, "entries", got, want)

			// Shards: the listed rows cut in three, verified apart (without
			// Extra), merged in order, then the parse's extra rows.
			var shards []Columns
			for _, cut := range [][2]int{{0, 5}, {5, 6}, {6, listed}} {
				req = Request{Kind: KindVerify, Root: root, Workers: workers, Entries: entriesOf(parsed, cut[0], cut[1])}
				c, _ := mustRun(t, req)
				shards = append(shards, c)
			}
			merged := concat(append(shards, rowsOf(parsed, listed, len(parsed.Status)))...)
			sameColumns(t, "shards", merged, want)

			// Chunks of manifest text at a few line boundaries, without
			// Extra (the walk needs every name: see TestExtraAfterChunks).
			starts := lineStarts(text)
			for _, cuts := range [][]int{{1}, {3, 4, 5}, {2, 8, 13}} {
				var parts []Columns
				var chunkWarns []Warning
				var st ParseState
				bounds := append(append([]int{0}, cuts...), len(starts)-1)
				for k := 0; k+1 < len(bounds); k++ {
					req = Request{Kind: KindVerify, Root: root, Workers: workers, Manifest: "SUMS", AllowEmpty: true, Resume: st,
						ManifestText: text[starts[bounds[k]]:starts[bounds[k+1]]]}
					j, err := Start(req)
					if err != nil {
						t.Fatal(err)
					}
					c := waitJob(t, j)
					if st, err = j.ParseState(); err != nil {
						t.Fatal(err)
					}
					chunkWarns = append(chunkWarns, j.Warnings()...)
					j.Close()
					parts = append(parts, c)
				}
				if st.Line != int64(len(starts)) {
					t.Errorf("chunks %v: next line %d, want %d", cuts, st.Line, len(starts))
				}
				sameColumns(t, fmt.Sprintf("chunks at lines %v", cuts), concat(parts...), rowsOf(want, 0, listed))
				if !reflect.DeepEqual(chunkWarns, wantWarns) {
					t.Fatalf("chunks %v: warnings %v, want %v", cuts, chunkWarns, wantWarns)
				}
			}
		}
	}
}

// waitJob attaches Go columns to j when it is ready and waits for the end.
func waitJob(t *testing.T, j *Job) Columns {
	t.Helper()
	var cols Columns
	for {
		p := j.Poll(time.Second)
		switch p.Phase {
		case PhaseReady:
			cols = NewColumns(p)
			if err := j.Attach(cols); err != nil {
				t.Fatal(err)
			}
		case PhaseDone:
			if err := j.Result(); err != nil {
				t.Fatal(err)
			}
			return cols
		}
	}
}

// TestExtraAfterChunks: a stream verified in chunks cannot ask for Extra
// chunk by chunk (each walk would call the other chunks' files extra); the
// caller collects the names and runs one parse-only job over them with
// Extra, whose extra rows are those of a whole run.
func TestExtraAfterChunks(t *testing.T) {
	root, text := statusTree(t)
	want, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Manifest: "SUMS", ManifestText: text, Extra: true, ParseOnly: true})
	listed := len(want.Status) - 2
	var names []byte
	offs := []int64{0}
	starts := lineStarts(text)
	var st ParseState
	for _, b := range [][2]int{{0, 6}, {6, 7}, {7, len(starts) - 1}} {
		j, err := Start(Request{Kind: KindVerify, Root: root, Manifest: "SUMS", ParseOnly: true, AllowEmpty: true,
			ManifestText: text[starts[b[0]]:starts[b[1]]], Resume: st})
		if err != nil {
			t.Fatal(err)
		}
		c := waitJob(t, j)
		st, _ = j.ParseState()
		j.Close()
		for i := range c.Status {
			names = append(names, c.Paths[c.PathOffsets[i]:c.PathOffsets[i+1]]...)
			offs = append(offs, int64(len(names)))
		}
	}
	// Names only: a parse-only job needs no digests, so width 0 and one
	// algorithm for all will do.
	c, _ := mustRun(t, Request{Kind: KindVerify, Root: root, ParseOnly: true, Extra: true, Algorithm: SHA1,
		Entries: &Entries{Names: names, Offsets: offs}})
	if len(c.Status) != listed+2 {
		t.Fatalf("%d rows, want %d", len(c.Status), listed+2)
	}
	// Without digests, the width is 0: the extra rows have none anyway.
	got, wantExtra := rowsOf(c, listed, listed+2), rowsOf(want, listed, listed+2)
	if !allZero(wantExtra.Expected) || !allZero(wantExtra.Actual) {
		t.Fatal("extra rows with digests")
	}
	got.Width, got.Expected, got.Actual = wantExtra.Width, wantExtra.Expected, wantExtra.Actual
	sameColumns(t, "extra rows", got, wantExtra)
}

// TestParseOnly: the columns of a manifest without opening a listed file:
// every row pending, size -1, nothing hashed, no root needed, progress at
// zero files and bytes; FIFOs and absent files are not looked at.
func TestParseOnly(t *testing.T) {
	root, text := statusTree(t)
	wrapOpener = func(o fileOpener) fileOpener {
		t.Errorf("a parse-only job made an opener")
		return o
	}
	defer func() { wrapOpener = nil }()
	for _, r := range []string{"", root} {
		j, err := Start(Request{Kind: KindVerify, Root: r, Manifest: "SUMS", ManifestText: text, ParseOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		c := waitJob(t, j)
		p := j.Poll(0)
		j.Close()
		if p.FilesTotal != 0 || p.FilesDone != 0 || p.BytesTotal != 0 || p.BytesDone != 0 || p.Warnings != 1 {
			t.Errorf("progress %+v", p)
		}
		if len(c.Status) != 14 {
			t.Fatalf("%d rows", len(c.Status))
		}
		for i := range c.Status {
			if Status(c.Status[i]) != StatusPending || c.Size[i] != -1 || c.Errnum[i] != 0 || !allZero(c.Actual) {
				t.Fatalf("row %d: %v size %d errnum %d", i, Status(c.Status[i]), c.Size[i], c.Errnum[i])
			}
		}
		if rowPath(c, 2) != "caf\xe9.txt" || c.Line[2] != 4 || Algorithm(c.Algorithm[1]) != MD5 ||
			!bytes.Equal(c.Expected[3*c.Width:4*c.Width], digestOf(SHA512, "original")) {
			t.Errorf("columns %+v", c)
		}
	}
	if _, _, err := Run(Request{Kind: KindVerify, Manifest: "SUMS", ManifestText: text, ParseOnly: true, Extra: true}); err == nil {
		t.Error("parse-only with Extra and no root: no error")
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

// TestEntriesErrors: hostile or inconsistent entries fail Start with
// ErrInvalid naming what is wrong, and nothing of them is kept.
func TestEntriesErrors(t *testing.T) {
	d1, d256 := digestOf(SHA1, "a"), digestOf(SHA256, "a")
	cell := func(d []byte, w int) []byte { return append(append([]byte(nil), d...), make([]byte, w-len(d))...) }
	for _, tc := range []struct {
		e    Entries
		alg  Algorithm
		want string
	}{
		{Entries{Names: []byte("a\x00b"), Offsets: []int64{0, 3}, Digests: d1, Width: 20}, SHA1, "entries[0]: name contains a NUL byte"},
		{Entries{Names: []byte("ab"), Offsets: []int64{0, 1, 1}, Digests: cell(d1, 40), Width: 20}, SHA1, "entries[1]: empty name"},
		{Entries{Names: []byte("ab"), Offsets: []int64{0, 2, 1}, Digests: cell(d1, 40), Width: 20}, SHA1, "entries[1]: name offsets 2..1 out of order"},
		{Entries{Names: []byte("ab"), Offsets: []int64{0, 3}, Digests: d1, Width: 20}, SHA1, "entries[0]: name offsets 0..3 out of order or outside the 2 bytes"},
		{Entries{Names: []byte("ab"), Offsets: []int64{-1, 2}, Digests: d1, Width: 20}, SHA1, "outside the 2 bytes"},
		{Entries{Names: bytes.Repeat([]byte("x"), MaxLineLen+1), Offsets: []int64{0, MaxLineLen + 1}, Digests: d1, Width: 20}, SHA1, "entries[0]: name of 65537 bytes, longer than 65536"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20}, SHA256, "entries[0]: a sha256 digest is 32 bytes, the digest width only 20"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d256, Width: 32}, SHA1, "entries[0]: the 12 bytes after its 20-byte sha1 digest are not zero"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Algorithms: []Algorithm{40}}, None, "entries[0]: unknown algorithm 40"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Algorithms: []Algorithm{0}}, None, "entries[0]: a digest without an algorithm"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Algorithms: []Algorithm{SHA1, SHA1}}, None, "2 algorithms for 1 entries"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Algorithms: []Algorithm{SHA1}}, SHA1, "one algorithm for every entry or one per entry, not both"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20}, None, "entries without algorithms need the request's algorithm"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1[:19], Width: 20}, SHA1, "19 digest bytes for 1 entries of width 20, want 20"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Lines: []int64{1, 2}}, SHA1, "2 line numbers for 1 entries"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: d1, Width: 20, Lines: []int64{-4}}, SHA1, "entries[0]: negative line number -4"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: make([]byte, 100), Width: 100}, SHA1, "digest width 100, want 0 to 64 bytes"},
		{Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: nil, Width: -1}, SHA1, "digest width -1"},
	} {
		j, err := Start(Request{Kind: KindVerify, Root: t.TempDir(), Entries: &tc.e, Algorithm: tc.alg})
		if err == nil {
			j.Close()
			t.Errorf("%+v: no error, want %q", tc.e, tc.want)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %q, want ErrInvalid with %q", tc.e, err, tc.want)
		}
	}
	for _, req := range []Request{
		{Kind: KindDigest, Algorithm: SHA1, Entries: &Entries{}},
		{Kind: KindMake, Algorithm: SHA1, Root: ".", ManifestText: []byte{}},
		{Kind: KindDigest, Algorithm: SHA1, ParseOnly: true},
		{Kind: KindVerify, Root: ".", Entries: &Entries{}, ManifestText: []byte{}},
		{Kind: KindVerify, Root: ".", Algorithm: SHA1, Entries: &Entries{}, Resume: ParseState{Line: 5}},
		{Kind: KindVerify, Root: ".", ManifestText: []byte{}, Resume: ParseState{Line: -1}},
		{Kind: KindVerify, Root: ".", ManifestText: []byte{}, Resume: ParseState{Form: 3}},
	} {
		if j, err := Start(req); !errors.Is(err, ErrInvalid) {
			if j != nil {
				j.Close()
			}
			t.Errorf("%+v: error %v, want ErrInvalid", req, err)
		}
	}
	if jobs, _, _ := DebugCounters(); jobs != 0 {
		t.Fatalf("%d jobs live after refused starts", jobs)
	}
}

// TestEntriesEdges: zero entries are zero rows (however given), offsets
// may start anywhere in the names, the width is the caller's, Start copies
// (the caller may overwrite its arrays at once), a name a manifest would
// have to escape needs no escaping.
func TestEntriesEdges(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "new\nline"), "nl")
	write(t, filepath.Join(root, "a"), "A")
	for _, e := range []*Entries{{}, {Offsets: []int64{7}, Names: []byte("ignored")}} {
		c, _ := mustRun(t, Request{Kind: KindVerify, Root: root, Algorithm: SHA1, Entries: e})
		if len(c.Status) != 0 {
			t.Fatalf("%+v: %d rows", e, len(c.Status))
		}
	}
	e := &Entries{
		Names:   []byte("xxnew\nlineay"),
		Offsets: []int64{2, 10, 11},
		Digests: append(append(digestOf(SHA1, "nl"), make([]byte, 44)...), append(digestOf(SHA1, "A"), make([]byte, 44)...)...),
		Width:   64,
		Lines:   []int64{7, 0},
	}
	j, err := Start(Request{Kind: KindVerify, Root: root, Algorithm: SHA1, Entries: e})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, b := range [][]byte{e.Names, e.Digests} {
		for i := range b {
			b[i] = 0xaa
		}
	}
	e.Offsets[0], e.Lines[0] = 0, 99
	c := waitJob(t, j)
	if got := strings.Join(statuses(c), ","); got != "ok,ok" || c.Width != 64 || rowPath(c, 0) != "new\nline" || c.Line[0] != 7 {
		t.Fatalf("statuses %s width %d row 0 %q line %d", got, c.Width, rowPath(c, 0), c.Line[0])
	}
}

// TestEntriesNotChecked: an entry of algorithm None is listed, never
// opened, whatever its name names (a FIFO, a name leading out, nothing),
// counts for no file to hash, and its name is listed for Extra.
func TestEntriesNotChecked(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(root, "a"), "A")
	write(t, filepath.Join(root, "RECORD"), "listed without a digest")
	write(t, filepath.Join(root, "unlisted"), "x")
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := []string{"a", "RECORD", "fifo", "../secret", "gone"}
	e := &Entries{Width: 20, Algorithms: []Algorithm{SHA1, None, None, None, None}}
	for _, name := range names {
		e.Offsets = append(e.Offsets, int64(len(e.Names)))
		e.Names = append(e.Names, name...)
	}
	e.Offsets = append(e.Offsets, int64(len(e.Names)))
	e.Digests = append(digestOf(SHA1, "A"), make([]byte, 4*20)...)
	j, err := Start(Request{Kind: KindVerify, Root: root, Entries: e, Extra: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	c := waitJob(t, j)
	p := j.Poll(0)
	got := strings.Join(statuses(c), ",")
	if want := "ok,not_checked,not_checked,not_checked,not_checked,extra"; got != want {
		t.Fatalf("statuses %s, want %s", got, want)
	}
	if rowPath(c, 5) != "unlisted" || p.FilesTotal != 1 || p.BytesDone != 1 {
		t.Fatalf("extra row %q, files total %d, bytes %d", rowPath(c, 5), p.FilesTotal, p.BytesDone)
	}
	for i := 1; i < 5; i++ {
		if c.Size[i] != -1 || c.Errnum[i] != 0 || c.Algorithm[i] != uint8(None) {
			t.Fatalf("row %d: size %d errnum %d algorithm %d", i, c.Size[i], c.Errnum[i], c.Algorithm[i])
		}
	}
}

// TestChunkedParse: a manifest parsed in chunks, each resuming where the
// one before stopped, gives the rows, lines and warnings of one whole
// parse, at every split point. The one-space form decided in the first
// chunk still holds in the last: "HEX  b" there names " b".
func TestChunkedParse(t *testing.T) {
	hexOf := func(a Algorithm, s string) string { return fmt.Sprintf("%x", digestOf(a, s)) }
	text := []byte(hexOf(SHA1, "a") + " a\n" +
		"# comment\n" +
		"junk\n" +
		"\n" +
		hexOf(SHA1, "b") + "  b\n" +
		hexOf(SHA256, "c") + " *c\r\n" +
		"SHA1 (t) = " + hexOf(SHA1, "t") + "\n" +
		strings.Repeat("z", MaxLineLen+10) + "\n" +
		"#" + strings.Repeat("z", MaxLineLen+10) + "\n" +
		"\\" + hexOf(MD5, "e") + " e\\\\scaped\n" +
		"abc x\n" +
		hexOf(SHA1, "last") + " last")
	whole := parseText(t, text, ParseState{}, false)
	if whole.err != nil {
		t.Fatal(whole.err)
	}
	if got := strings.Join(whole.names, "|"); got != "a| b|*c|t|e\\scaped|last" {
		t.Fatalf("whole parse: names %q", got)
	}
	if whole.state != (ParseState{Line: 13, Form: FormOneSpace}) || len(whole.warns) != 3 {
		t.Fatalf("whole parse: state %+v warnings %v", whole.state, whole.warns)
	}
	starts := lineStarts(text)
	for a := 1; a < len(starts)-1; a++ {
		for b := a; b < len(starts)-1; b++ {
			cuts := []int{0, starts[a], starts[b], len(text)}
			if got := parseChunks(t, text, cuts); !reflect.DeepEqual(got, whole) {
				t.Fatalf("cut at lines %d, %d:\n got %+v\nwant %+v", a+1, b+1, got, whole)
			}
		}
	}
	// A line too long to hold may be passed on cut short: its first
	// MaxLineLen bytes and a newline are judged as the whole line.
	cut := bytes.ReplaceAll(text, []byte(strings.Repeat("z", MaxLineLen+10)), []byte(strings.Repeat("z", MaxLineLen)))
	if got := parseText(t, cut, ParseState{}, false); !reflect.DeepEqual(got, whole) {
		t.Fatalf("over-long lines cut to MaxLineLen bytes:\n got %+v\nwant %+v", got, whole)
	}
	// Strict: the chunk's error carries the stream's line and the name.
	j := &Job{req: Request{Kind: KindVerify, Manifest: "standard input", ManifestText: text[starts[2]:], Strict: true,
		Resume: ParseState{Line: 3, Form: FormOneSpace}}, changed: make(chan struct{})}
	var me *ManifestError
	if err := j.parseManifest(); !errors.As(err, &me) || me.Error() != "standard input:3: expected \"HEX  name\", \"HEX *name\" or \"ALGO (name) = HEX\"" {
		t.Fatalf("strict chunk: %v", err)
	}
	// A chunk without an entry: zero rows with AllowEmpty, else the error.
	for _, allow := range []bool{true, false} {
		got := parseText(t, text[starts[1]:starts[4]], ParseState{Line: 2, Form: FormOneSpace}, allow)
		if allow && (got.err != nil || len(got.names) != 0 || got.state != (ParseState{Line: 5, Form: FormOneSpace}) || len(got.warns) != 1 || got.warns[0].Line != 3) {
			t.Fatalf("empty chunk allowed: %+v", got)
		}
		if !allow && (!errors.As(got.err, &me) || !strings.Contains(me.Msg, "no properly formatted")) {
			t.Fatalf("empty chunk: %v", got.err)
		}
	}
}

// parsed is what a parse yields, comparable with reflect.DeepEqual.
type parsed struct {
	names   []string
	algs    []Algorithm
	lines   []int64
	digests [][]byte
	warns   []Warning
	state   ParseState
	err     error
}

// parseText runs a verify job's parse (the code its enumeration runs) over
// text on a bare job.
func parseText(t testing.TB, text []byte, st ParseState, allowEmpty bool) parsed {
	j := &Job{req: Request{Kind: KindVerify, Manifest: "m", ManifestText: text, Resume: st, AllowEmpty: allowEmpty}, changed: make(chan struct{})}
	var p parsed
	p.err = j.parseManifest()
	for i := range j.rows {
		r := &j.rows[i]
		p.names = append(p.names, j.nameOf(r))
		p.algs = append(p.algs, r.alg)
		p.lines = append(p.lines, r.line)
		p.digests = append(p.digests, j.digests[i*j.width:i*j.width+r.alg.Size()])
	}
	p.warns = j.warnings
	p.state = j.state
	return p
}

// parseChunks parses text cut at the byte offsets cuts (first 0, last
// len(text)), each chunk resuming the state of the one before.
func parseChunks(t testing.TB, text []byte, cuts []int) parsed {
	var all parsed
	for k := 0; k+1 < len(cuts); k++ {
		p := parseText(t, text[cuts[k]:cuts[k+1]], all.state, true)
		if p.err != nil {
			all.err = p.err
			return all
		}
		all.names = append(all.names, p.names...)
		all.algs = append(all.algs, p.algs...)
		all.lines = append(all.lines, p.lines...)
		all.digests = append(all.digests, p.digests...)
		all.warns = append(all.warns, p.warns...)
		all.state = p.state
	}
	return all
}

// FuzzChunkedParse: for any text and any split points on line boundaries,
// the chunks resumed one after the other give what one parse gives.
func FuzzChunkedParse(f *testing.F) {
	addGoldenSeeds(f)
	f.Add([]byte("da39a3ee5e6b4b0d3255bfef95601890afd80709 a\nda39a3ee5e6b4b0d3255bfef95601890afd80709  b\n"))
	f.Add([]byte("junk\n\nda39a3ee5e6b4b0d3255bfef95601890afd80709 *b\nda39a3ee5e6b4b0d3255bfef95601890afd80709 c"))
	f.Fuzz(func(t *testing.T, text []byte) {
		whole := parseText(t, text, ParseState{}, true)
		starts := lineStarts(text)
		rng := rand.New(rand.NewSource(int64(len(text))))
		for range 4 {
			cuts := []int{0}
			for _, s := range starts[1 : len(starts)-1] {
				if rng.Intn(3) == 0 {
					cuts = append(cuts, s)
				}
			}
			cuts = append(cuts, len(text))
			if got := parseChunks(t, text, cuts); !reflect.DeepEqual(got, whole) {
				t.Fatalf("cut at %v:\n got %+v\nwant %+v", cuts, got, whole)
			}
		}
	})
}

// FuzzEntries: any entries are either refused with ErrInvalid or taken
// exactly: every row's name, algorithm, digest and line as given, names
// without NUL, cells zero past their digest. Never a panic.
func FuzzEntries(f *testing.F) {
	f.Add([]byte("abc"), []byte{0, 1, 3}, []byte{byte(SHA1), byte(MD5)}, uint8(20), bytes.Repeat([]byte{1}, 40), true)
	f.Add([]byte("a\x00c"), []byte{0, 3}, []byte{byte(SHA1)}, uint8(20), bytes.Repeat([]byte{1}, 20), false)
	f.Add([]byte("ab"), []byte{1, 2}, []byte{byte(SHA256)}, uint8(32), make([]byte, 32), true)
	f.Fuzz(func(t *testing.T, names, offs, algs []byte, width uint8, digests []byte, withLines bool) {
		e := Entries{Names: names, Width: int(width) - 128, Digests: digests}
		if e.Width < 0 {
			e.Width = int(width)
		}
		for _, o := range offs {
			e.Offsets = append(e.Offsets, int64(int8(o)))
		}
		n := e.Len()
		var alg Algorithm
		if len(algs) > 0 && algs[0] == 0xff {
			alg = SHA1
		} else {
			for _, a := range algs {
				e.Algorithms = append(e.Algorithms, Algorithm(a%uint8(numAlgorithms+1)))
			}
		}
		if withLines {
			for i := range n {
				e.Lines = append(e.Lines, int64(i)*3-1)
			}
		}
		j := &Job{changed: make(chan struct{})}
		if err := j.takeEntries(&e, alg); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if len(j.rows) != n || j.width != e.Width || len(j.digests) != n*e.Width {
			t.Fatalf("%d rows width %d digests %d, for %d entries of width %d", len(j.rows), j.width, len(j.digests), n, e.Width)
		}
		for i := range j.rows {
			r := &j.rows[i]
			name := j.nameBytes(r)
			want := alg
			if e.Algorithms != nil {
				want = e.Algorithms[i]
			}
			cell := j.digests[i*e.Width : (i+1)*e.Width]
			// An entry of algorithm None, given per entry, is listed but not
			// checked: preset, with an all-zero cell.
			notChecked := e.Algorithms != nil && want == None
			preset := StatusPending
			if notChecked {
				preset = StatusNotChecked
			}
			if !bytes.Equal(name, names[e.Offsets[i]:e.Offsets[i+1]]) || len(name) == 0 || bytes.IndexByte(name, 0) >= 0 ||
				r.alg != want || !r.alg.Valid() && !notChecked || !bytes.Equal(cell, e.Digests[i*e.Width:(i+1)*e.Width]) || !allZero(cell[r.alg.Size():]) ||
				(withLines && r.line != e.Lines[i]) || r.line < 0 || r.size != -1 || r.preset != preset {
				t.Fatalf("row %d: %+v name %q cell %x", i, *r, name, cell)
			}
		}
	})
}

// TestInputsCancel: a job cancelled in any phase ends cancelled and lets
// go of everything: the parse of manifest text, the walk of an entries job
// with Extra, a job waiting for Attach, and workers hashing entries.
func TestInputsCancel(t *testing.T) {
	root := t.TempDir()
	var text bytes.Buffer
	for i := range 5000 {
		text.WriteString(line(SHA1, fmt.Sprintf("f%05d", i), "x"))
	}
	j := &Job{req: Request{Kind: KindVerify, ManifestText: text.Bytes()}, changed: make(chan struct{})}
	j.cancelled.Store(true)
	if err := j.parseManifest(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled parse: %v", err)
	}
	write(t, filepath.Join(root, "a"), "A")
	j = &Job{req: Request{Kind: KindVerify, Root: root, Extra: true}, changed: make(chan struct{})}
	if err := j.takeEntries(&Entries{Names: []byte("a"), Offsets: []int64{0, 1}, Digests: digestOf(SHA1, "A"), Width: 20}, SHA1); err != nil {
		t.Fatal(err)
	}
	j.cancelled.Store(true)
	if err := j.addExtra(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled walk: %v", err)
	}

	// Whole jobs, cancelled at once: whichever phase the cancel meets.
	var names []byte
	var offs = []int64{0}
	var digests []byte
	for i := range 16 {
		n := fmt.Sprintf("big%02d", i)
		write(t, filepath.Join(root, n), "")
		if err := os.Truncate(filepath.Join(root, n), 64<<20); err != nil {
			t.Fatal(err)
		}
		names = append(names, n...)
		offs = append(offs, int64(len(names)))
		digests = append(digests, digestOf(SHA256, "not it")...)
	}
	entries := &Entries{Names: names, Offsets: offs, Digests: digests, Width: 32}
	for _, req := range []Request{
		{Kind: KindVerify, Root: root, Manifest: "m", ManifestText: bytes.Repeat(text.Bytes(), 40), Workers: 2},
		{Kind: KindVerify, Root: root, Algorithm: SHA256, Entries: entries, Extra: true, Workers: 2},
		{Kind: KindVerify, Root: root, Algorithm: SHA256, Entries: entries, Workers: 2},
	} {
		j, err := Start(req)
		if err != nil {
			t.Fatal(err)
		}
		j.Cancel()
		deadline := time.Now().Add(10 * time.Second)
		for p := j.Poll(50 * time.Millisecond); p.Phase != PhaseDone; p = j.Poll(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("cancel did not stop the job (phase %v)", p.Phase)
			}
		}
		if err := j.Result(); !errors.Is(err, ErrCancelled) {
			t.Fatalf("result %v", err)
		}
		j.Close()
	}
	// Cancelled while hashing.
	j = startAttached(t, Request{Kind: KindVerify, Root: root, Algorithm: SHA256, Entries: entries, Workers: 2})
	j.Cancel()
	for j.Poll(time.Second).Phase != PhaseDone {
	}
	if err := j.Result(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("result %v", err)
	}
	j.Close()
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

// TestEntriesSizesOnce: an entries job holds its rows and digests at their
// final size from the start, and its names in the arena once.
func TestEntriesSizesOnce(t *testing.T) {
	const n = 20_000
	var names []byte
	offs := []int64{0}
	for i := range n {
		names = fmt.Appendf(names, "d%02d/f%05d", i%50, i)
		offs = append(offs, int64(len(names)))
	}
	e := &Entries{Names: names, Offsets: offs, Digests: make([]byte, n*32), Width: 32}
	j := &Job{changed: make(chan struct{})}
	if err := j.takeEntries(e, SHA256); err != nil {
		t.Fatal(err)
	}
	if len(j.rows) != n || cap(j.rows) != n || len(j.digests) != n*32 || cap(j.digests) != n*32 {
		t.Errorf("rows len %d cap %d, digests len %d cap %d: want exactly %d and %d", len(j.rows), cap(j.rows), len(j.digests), cap(j.digests), n, n*32)
	}
	var held int
	for _, c := range j.names.chunks {
		held += cap(c)
	}
	if held > len(names)+arenaChunk {
		t.Errorf("the arena holds %d bytes for %d bytes of names", held, len(names))
	}
}

// TestEntriesAllocsPerEntry: as TestJobAllocsPerEntry for a manifest: an
// entries job allocates nothing per entry (copying them included) where
// openat2 confines, a bounded number elsewhere.
func TestEntriesAllocsPerEntry(t *testing.T) {
	root := t.TempDir()
	allocs := func(n int) float64 {
		var names, digests []byte
		offs := []int64{0}
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("d/f%03d", i)
			write(t, filepath.Join(root, name), name)
			names = append(names, name...)
			offs = append(offs, int64(len(names)))
			digests = append(digests, digestOf(SHA1, name)...)
		}
		e := &Entries{Names: names, Offsets: offs, Digests: digests, Width: 20}
		return testing.AllocsPerRun(5, func() {
			c, _, err := Run(Request{Kind: KindVerify, Root: root, Algorithm: SHA1, Entries: e, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if Status(c.Status[n-1]) != StatusOK {
				t.Fatalf("last row %v", Status(c.Status[n-1]))
			}
		})
	}
	const n = 500
	small, big := allocs(n), allocs(2*n)
	perEntry := (big - small) / n
	t.Logf("%v allocations for %d entries, %v for %d: %.2f per entry", small, n, big, 2*n, perEntry)
	want := 2.0
	if o, err := openBeneath(root); err != nil {
		t.Fatal(err)
	} else if o != nil {
		o.close()
		want = 0.05
	}
	if perEntry > want {
		t.Errorf("an entries job allocates %.2f times per entry, want at most %v", perEntry, want)
	}
}

// benchManifest returns the text of an n-line SHA-1 manifest, and its
// entries.
func benchManifest(n int) ([]byte, *Entries) {
	var text, names, digests []byte
	offs := []int64{0}
	for i := range n {
		name := fmt.Sprintf("d%03d/f%07d.bin", i%1000, i)
		d := digestOf(SHA1, name)
		text = AppendLine(text, SHA1, name, d, false)
		names = append(names, name...)
		offs = append(offs, int64(len(names)))
		digests = append(digests, d...)
	}
	return text, &Entries{Names: names, Offsets: offs, Digests: digests, Width: 20}
}

// BenchmarkParseOnly: a million rows into columns from manifest text, from
// entries, and from the text in chunks of 1 MiB and 64 KiB (a job each):
// what entries and chunking cost against one parse.
func BenchmarkParseOnly(b *testing.B) {
	text, e := benchManifest(1_000_000)
	run := func(b *testing.B, req Request) {
		if _, _, err := Run(req); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("text", func(b *testing.B) {
		for b.Loop() {
			run(b, Request{Kind: KindVerify, ParseOnly: true, ManifestText: text})
		}
	})
	b.Run("entries", func(b *testing.B) {
		for b.Loop() {
			run(b, Request{Kind: KindVerify, ParseOnly: true, Algorithm: SHA1, Entries: e})
		}
	})
	for _, size := range []int{1 << 20, 64 << 10} {
		b.Run(fmt.Sprintf("chunks=%dKiB", size>>10), func(b *testing.B) {
			for b.Loop() {
				var st ParseState
				for rest := text; len(rest) > 0; {
					k := len(rest)
					if k > size {
						k = bytes.LastIndexByte(rest[:size], '\n') + 1
					}
					j, err := Start(Request{Kind: KindVerify, ParseOnly: true, AllowEmpty: true, ManifestText: rest[:k], Resume: st})
					if err != nil {
						b.Fatal(err)
					}
					for p := j.Poll(time.Second); p.Phase != PhaseDone; p = j.Poll(time.Second) {
						if p.Phase == PhaseReady {
							j.Attach(NewColumns(p))
						}
					}
					st, _ = j.ParseState()
					j.Close()
					rest = rest[k:]
				}
			}
		})
	}
}
