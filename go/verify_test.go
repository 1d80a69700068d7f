package checksig

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func line(a Algorithm, name, data string) string {
	return string(AppendLine(nil, a, name, digestOf(a, data), false))
}

func verifyTree(t *testing.T, root, manifest string, workers int) (Columns, []Warning, error) {
	t.Helper()
	return Run(Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: workers})
}

// setPrivateTableMin sets privateTableMin for the rest of the test.
func setPrivateTableMin(tb testing.TB, n int64) {
	old := privateTableMin
	privateTableMin = n
	tb.Cleanup(func() { privateTableMin = old })
}

// withURing sets uringMin for the test: 1 scans every job through io_uring
// where the kernel allows it (its workers then take descriptor tables of
// their own, as a ring needs: privateTableMin 1 too), 1<<62 none.
func withURing(tb testing.TB, min int64) {
	old := uringMin
	uringMin = min
	tb.Cleanup(func() { uringMin = old })
	if min < 1<<62 {
		setPrivateTableMin(tb, min)
	}
}

// startAttached starts a job, waits until it is ready and attaches fresh
// columns: the job is running when it returns.

func startAttached(t *testing.T, req Request) *Job {
	t.Helper()
	j, err := Start(req)
	if err != nil {
		t.Fatal(err)
	}
	for p := j.Poll(time.Second); p.Phase != PhaseReady; p = j.Poll(time.Second) {
		if p.Phase == PhaseDone {
			t.Fatal(j.Result())
		}
	}
	if err := j.Attach(NewColumns(j.Poll(0))); err != nil {
		t.Fatal(err)
	}
	return j
}

func statuses(c Columns) []string {
	out := make([]string, len(c.Status))
	for i, s := range c.Status {
		out[i] = Status(s).String()
	}
	return out
}

func rowPath(c Columns, i int) string {
	return string(c.Paths[c.PathOffsets[i]:c.PathOffsets[i+1]])
}

// TestVerifyStatuses checks every status the engine can give, at one and
// at several workers.
func TestVerifyStatuses(t *testing.T) {
	for _, workers := range []int{1, 4} {
		for _, fast := range []bool{true, false} {
			useOpenat2 = fast
			testVerifyStatuses(t, workers)
		}
	}
	useOpenat2 = true
}

func testVerifyStatuses(t *testing.T, workers int) {
	{
		root := t.TempDir()
		outside := t.TempDir()
		write(t, filepath.Join(root, "ok.txt"), "fine")
		write(t, filepath.Join(root, "sub dir", "ok 2.bin"), "also fine")
		write(t, filepath.Join(root, "bad.txt"), "changed")
		write(t, filepath.Join(outside, "secret"), "secret")
		os.Mkdir(filepath.Join(root, "dir"), 0o755)
		if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "link-out"))
		os.Symlink(outside, filepath.Join(root, "dir-out"))
		os.Symlink("ok.txt", filepath.Join(root, "link-in"))
		os.Symlink("fifo", filepath.Join(root, "link-fifo"))
		m := line(SHA1, "ok.txt", "fine") +
			line(SHA1, "sub dir/ok 2.bin", "also fine") +
			line(SHA1, "bad.txt", "original") +
			line(SHA1, "gone.txt", "x") +
			line(SHA1, "dir", "x") +
			line(SHA1, "fifo", "x") +
			line(SHA1, "link-fifo", "x") +
			line(SHA1, "../"+filepath.Base(outside)+"/secret", "secret") +
			line(SHA1, filepath.Join(outside, "secret"), "secret") +
			line(SHA1, "link-out", "secret") +
			line(SHA1, "dir-out/secret", "secret") +
			line(SHA1, "link-in", "fine") +
			line(SHA1, "ok.txt", "fine") +
			line(SHA1, "ok.txt/below", "x")
		manifest := filepath.Join(root, "sha1sum.txt")
		write(t, manifest, m)
		done := make(chan struct{})
		var c Columns
		var err error
		go func() { c, _, err = verifyTree(t, root, manifest, workers); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("verify hung (a FIFO was opened for reading?)")
		}
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ok", "ok", "mismatch", "missing", "not_regular", "not_regular", "not_regular",
			"outside_root", "outside_root", "outside_root", "outside_root", "ok", "ok", "unreadable"}
		if got := statuses(c); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("workers=%d statuses\n got %v\nwant %v", workers, got, want)
		}
		if rowPath(c, 1) != "sub dir/ok 2.bin" || c.Line[1] != 2 || c.Size[0] != 4 {
			t.Errorf("row 1 = %q line %d, size[0] = %d", rowPath(c, 1), c.Line[1], c.Size[0])
		}
		if c.Errnum[3] != int32(syscall.ENOENT) {
			t.Errorf("missing errnum %d", c.Errnum[3])
		}
		w := c.Width
		if !bytes.Equal(c.Actual[2*w:3*w], digestOf(SHA1, "changed")) || !bytes.Equal(c.Expected[2*w:3*w], digestOf(SHA1, "original")) {
			t.Errorf("mismatch row: actual %x expected %x", c.Actual[2*w:3*w], c.Expected[2*w:3*w])
		}
	}
}

func TestVerifyMixedAlgorithms(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "A")
	m := string(AppendLine(nil, MD5, "a", digestOf(MD5, "A"), true)) +
		string(AppendLine(nil, SHA512, "a", digestOf(SHA512, "A"), true)) +
		line(SHA1, "a", "A")
	write(t, filepath.Join(root, "SUMS"), m)
	c, _, err := verifyTree(t, root, filepath.Join(root, "SUMS"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(c); strings.Join(got, ",") != "ok,ok,ok" {
		t.Fatalf("statuses %v", got)
	}
	if c.Width != SHA512.Size() || Algorithm(c.Algorithm[0]) != MD5 || Algorithm(c.Algorithm[2]) != SHA1 {
		t.Fatalf("width %d algorithms %v", c.Width, c.Algorithm)
	}
}

func TestVerifyManifestErrors(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "A")
	_, _, err := verifyTree(t, root, filepath.Join(root, "nope.txt"), 1)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing manifest: %v", err)
	}
	write(t, filepath.Join(root, "empty.txt"), "")
	_, _, err = verifyTree(t, root, filepath.Join(root, "empty.txt"), 1)
	var me *ManifestError
	if !errors.As(err, &me) || !strings.Contains(me.Msg, "empty") {
		t.Errorf("empty manifest: %v", err)
	}
	write(t, filepath.Join(root, "junk.txt"), "junk\nmore junk\n")
	_, _, err = verifyTree(t, root, filepath.Join(root, "junk.txt"), 1)
	if !errors.As(err, &me) || !strings.Contains(me.Msg, "no properly formatted") {
		t.Errorf("junk manifest: %v", err)
	}
	write(t, filepath.Join(root, "sha1sum.txt"), line(SHA1, "a", "A")+"junk\n")
	c, warns, err := verifyTree(t, root, filepath.Join(root, "sha1sum.txt"), 1)
	if err != nil || len(warns) != 1 || warns[0].Line != 2 || len(c.Status) != 1 {
		t.Errorf("lenient: err %v warnings %v", err, warns)
	}
	_, _, err = Run(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "sha1sum.txt"), Strict: true})
	if !errors.As(err, &me) || me.Line != 2 {
		t.Errorf("strict: %v", err)
	}
	// The manifest may not be a FIFO: never block on it.
	syscall.Mkfifo(filepath.Join(root, "fifo.txt"), 0o644)
	_, _, err = verifyTree(t, root, filepath.Join(root, "fifo.txt"), 1)
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("fifo manifest: %v", err)
	}
}

func TestMakeThenVerify(t *testing.T) {
	for _, tag := range []bool{false, true} {
		root := t.TempDir()
		names := []string{"b.txt", "a/z.bin", "a-b", "sp ace", "new\nline", `back\slash`, "é"}
		if runtime.GOOS == "linux" {
			// Names are bytes: a directory and a file whose names are not
			// UTF-8 are walked like any other (fs.FS refuses them).
			names = append(names, "d\xff/f\xfe", "\xc3(")
		}
		for i, n := range names {
			write(t, filepath.Join(root, n), strings.Repeat(n, i*1000))
		}
		os.Symlink("b.txt", filepath.Join(root, "link"))
		out := filepath.Join(root, "sha256sum.txt")
		write(t, out, "old manifest, to be replaced\n")
		c, _, err := Run(Request{Kind: KindMake, Root: root, Manifest: out, Algorithm: SHA256, Tag: tag})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Status) != len(names) {
			t.Fatalf("make listed %d files, want %d (no symlink, no manifest)", len(c.Status), len(names))
		}
		for i := 1; i < len(c.Status); i++ {
			if rowPath(c, i-1) >= rowPath(c, i) {
				t.Fatalf("not sorted: %q before %q", rowPath(c, i-1), rowPath(c, i))
			}
		}
		v, warns, err := verifyTree(t, root, out, 3)
		if err != nil || len(warns) > 0 {
			t.Fatal(err, warns)
		}
		for i, s := range statuses(v) {
			if s != "ok" {
				t.Errorf("row %d %q: %s", i, rowPath(v, i), s)
			}
		}
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file left behind: %s", e.Name())
			}
		}
	}
}

// TestExtraNamesNotUTF8: files beneath a directory whose name is not UTF-8
// are listed as extra, and listed ones are not, rather than the walk failing
// ("invalid argument") at that directory.
func TestExtraNamesNotUTF8(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("names that are not UTF-8: Linux file systems take them")
	}
	root := t.TempDir()
	for _, n := range []string{"a", "d\xff/listed", "d\xff/new\xfe", "ok/x"} {
		write(t, filepath.Join(root, n), n)
	}
	manifest := filepath.Join(root, "SHA1SUMS")
	write(t, manifest, line(SHA1, "a", "a")+line(SHA1, "d\xff/listed", "d\xff/listed"))
	c, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest, Extra: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, s := range statuses(c) {
		got = append(got, rowPath(c, i)+" "+s)
	}
	want := []string{"a ok", "d\xff/listed ok", "d\xff/new\xfe extra", "ok/x extra"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

func TestMakeFailsWithoutReplacing(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a"), "A")
	out := filepath.Join(t.TempDir(), "SUMS")
	write(t, out, "old\n")
	if err := os.Chmod(filepath.Join(root, "a"), 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root reads any file; the Python suite tests this as an unprivileged user")
	}
	_, _, err := Run(Request{Kind: KindMake, Root: root, Manifest: out, Algorithm: SHA1})
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "old\n" {
		t.Fatalf("old manifest replaced: %q", b)
	}
}

func TestDigestJob(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a"), "A")
	paths := []string{filepath.Join(dir, "a"), filepath.Join(dir, "missing"), dir, filepath.Join(dir, "a")}
	c, _, err := Run(Request{Kind: KindDigest, Paths: paths, Algorithm: SHA224, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(statuses(c), ","); got != "ok,missing,not_regular,ok" {
		t.Fatalf("statuses %s", got)
	}
	if hex.EncodeToString(c.Actual[:c.Width]) != hex.EncodeToString(digestOf(SHA224, "A")) {
		t.Fatal("wrong digest")
	}
}

func TestFileDigestRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	var out [MaxSize]byte
	if _, err := FileDigest(fifo, SHA1, out[:SHA1.Size()]); !errors.Is(err, ErrNotRegular) {
		t.Errorf("fifo: %v", err)
	}
	if _, err := FileDigest(dir, SHA1, out[:SHA1.Size()]); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("dir: %v", err)
	}
	if _, err := FileDigest("/dev/zero", SHA1, out[:SHA1.Size()]); !errors.Is(err, ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
}

// TestVectors checks every algorithm against the digests Python's hashlib
// computed for tests/vectors.json, shared with the pytest suite.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	dir := t.TempDir()
	var out [MaxSize]byte
	for _, v := range vs {
		a, err := ParseAlgorithm(v.Algorithm)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "f")
		os.WriteFile(p, v.data(), 0o644)
		n, err := FileDigest(p, a, out[:a.Size()])
		if err != nil || n != int64(len(v.data())) {
			t.Fatal(err, n)
		}
		if got := hex.EncodeToString(out[:a.Size()]); got != v.Hex {
			t.Errorf("%s(%s) = %s, want %s", v.Algorithm, v.Name, got, v.Hex)
		}
	}
}

func TestLexicallyOutside(t *testing.T) {
	for name, want := range map[string]bool{
		"a": false, "a/b": false, "a/../b": true, "..": true, "../x": true, "/etc/passwd": true,
		`..\x`: false, `a\..\..\x`: false, `C:\Windows`: false, "c:x": false, `\\server\share`: false,
		"~/.ssh/id_rsa": false, "...": false, "a..b": false, `back\slash`: false, "1:x": false,
		"a/..": true, "a//../b": true, "a/b/": false, "a//b": false, "": false, "./..": true,
	} {
		if got := lexicallyOutside(name); got != want {
			t.Errorf("lexicallyOutside(%q) = %v, want %v", name, got, want)
		}
		if got := lexicallyOutside([]byte(name)); got != want {
			t.Errorf("lexicallyOutside([]byte(%q)) = %v, want %v", name, got, want)
		}
	}
	// It runs once per file: it must not allocate.
	if n := testing.AllocsPerRun(100, func() { lexicallyOutside("data/2024/shard-00017.parquet") }); n != 0 {
		t.Errorf("lexicallyOutside allocates %v times per call", n)
	}
	b := []byte("data/2024/shard-00017.parquet")
	if n := testing.AllocsPerRun(100, func() { lexicallyOutside(b) }); n != 0 {
		t.Errorf("lexicallyOutside([]byte) allocates %v times per call", n)
	}
}

func TestDotAndSocketAreNotRegular(t *testing.T) {
	root := t.TempDir()
	sock := filepath.Join(root, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	defer l.Close()
	m := line(SHA1, ".", "") + line(SHA1, "./.", "") + line(SHA1, "sock", "")
	write(t, filepath.Join(root, "sha1sum.txt"), m)
	for _, fast := range []bool{true, false} {
		useOpenat2 = fast
		c, _, err := verifyTree(t, root, filepath.Join(root, "sha1sum.txt"), 2)
		useOpenat2 = true
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(statuses(c), ","); got != "not_regular,not_regular,not_regular" {
			t.Fatalf("openat2=%v statuses %s (errnums %v)", fast, got, c.Errnum)
		}
	}
	var out [MaxSize]byte
	if _, err := FileDigest(sock, SHA1, out[:SHA1.Size()]); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("FileDigest(socket) = %v", err)
	}
}
