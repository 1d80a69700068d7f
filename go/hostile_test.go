package checksig

// Hostile trees, for both confined openers: the openat2(RESOLVE_BENEATH)
// fast path and the os.Root fallback (used by make jobs everywhere and by
// verify jobs on kernels without openat2). tests/test_hostile.py drives the
// same cases through the C ABI, where only the fast path runs on Linux.

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// confinedOpeners returns every confined opener for root, by name.
func confinedOpeners(t *testing.T, root string) map[string]fileOpener {
	t.Helper()
	ro, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.close() })
	openers := map[string]fileOpener{"os.Root": ro}
	bo, err := openBeneath(root)
	if err != nil {
		t.Fatal(err)
	}
	if bo != nil {
		t.Cleanup(func() { bo.close() })
		openers["openat2"] = bo
	}
	return openers
}

// TestSwapRaceNeverOpensOutside swaps names between inside targets and
// symlinks leading out, as fast as it can, while opening them from several
// goroutines: neither opener may ever return the file outside the root.
func TestSwapRaceNeverOpensOutside(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(base, "outside", "f"), "SECRET")
	write(t, filepath.Join(root, "real"), "inside")
	write(t, filepath.Join(root, "dreal", "f"), "inside")
	os.Symlink("real", filepath.Join(root, "flip"))
	os.Symlink("dreal", filepath.Join(root, "d"))
	var secret syscall.Stat_t
	if err := syscall.Stat(filepath.Join(base, "outside", "f"), &secret); err != nil {
		t.Fatal(err)
	}
	for name, o := range confinedOpeners(t, root) {
		t.Run(name, func(t *testing.T) {
			var stop atomic.Bool
			var flips atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				tmp, dtmp := filepath.Join(root, "flip.tmp"), filepath.Join(root, "d.tmp")
				for i := 0; !stop.Load(); i++ {
					switch i % 4 {
					case 0:
						os.Link(filepath.Join(root, "real"), tmp)
					case 1:
						os.Symlink(filepath.Join(base, "outside", "f"), tmp)
					case 2:
						os.Symlink("real", tmp)
					case 3:
						os.Symlink("../outside/f", tmp)
					}
					os.Rename(tmp, filepath.Join(root, "flip"))
					if i%2 == 0 {
						os.Symlink("dreal", dtmp)
					} else {
						os.Symlink(filepath.Join(base, "outside"), dtmp)
					}
					os.Rename(dtmp, filepath.Join(root, "d"))
					flips.Add(1)
				}
			}()
			var opened, refused atomic.Int64
			var leak atomic.Value
			deadline := time.Now().Add(2 * time.Second)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(deadline) && (flips.Load() < 5000 || opened.Load() < 100) {
						for _, n := range []string{"flip", "d/f"} {
							f, _, err := o.open([]byte(n))
							if err != nil {
								if errors.Is(err, ErrOutsideRoot) {
									refused.Add(1)
								}
								continue
							}
							var st syscall.Stat_t
							syscall.Fstat(fdOf(f), &st)
							f.Close()
							if st.Ino == secret.Ino && st.Dev == secret.Dev {
								leak.Store(n)
							}
							opened.Add(1)
						}
					}
				}()
			}
			time.Sleep(10 * time.Millisecond)
			for time.Now().Before(deadline) && (flips.Load() < 5000 || opened.Load() < 100) {
				time.Sleep(10 * time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			if n := leak.Load(); n != nil {
				t.Fatalf("%q opened the file outside the root", n)
			}
			if opened.Load() == 0 || refused.Load() == 0 || flips.Load() < 100 {
				t.Fatalf("the race did not run: %d flips, %d opened, %d refused", flips.Load(), opened.Load(), refused.Load())
			}
			t.Logf("%d flips, %d opened inside, %d refused", flips.Load(), opened.Load(), refused.Load())
		})
	}
}

func fdOf(f readCloser) int {
	switch f := f.(type) {
	case fdFile:
		return int(f)
	case *os.File:
		return int(f.Fd())
	}
	return -1
}

// TestSpecialFilesNeverBlock opens FIFOs (one with a writer holding data in
// it), sockets, devices and directories through both openers: each is
// refused at once, nothing is read.
func TestSpecialFilesNeverBlock(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"fifo", "fifo-held"} {
		if err := syscall.Mkfifo(filepath.Join(root, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// O_RDWR opens a FIFO without waiting for a reader; the data written
	// would be read, and then the read would block, if it were ever read.
	held, err := os.OpenFile(filepath.Join(root, "fifo-held"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	held.WriteString("data")
	os.Mkdir(filepath.Join(root, "dir"), 0o755)
	os.Symlink("fifo-held", filepath.Join(root, "link-fifo"))
	sockName := filepath.Join(root, "sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sockName}); err != nil {
		t.Fatal(err)
	}
	names := []string{"fifo", "fifo-held", "link-fifo", "dir", "dir/", ".", "sock"}
	devices := map[string]int{"zero": 1<<8 | 5, "tty": 5 << 8, "nodriver": 250<<8 | 250}
	for n, dev := range devices {
		if err := syscall.Mknod(filepath.Join(root, n), syscall.S_IFCHR|0o666, dev); err == nil {
			names = append(names, n)
		} else {
			t.Logf("mknod %s: %v (devices not tested)", n, err)
		}
	}
	for oname, o := range confinedOpeners(t, root) {
		for _, n := range names {
			done := make(chan error, 1)
			go func() {
				f, _, err := o.open([]byte(n))
				if err == nil {
					f.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if st, _ := statusOf(err); err == nil || st != StatusNotRegular {
					t.Errorf("%s: open(%q) = %v, want not_regular", oname, n, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: open(%q) blocked", oname, n)
			}
		}
	}
}

// TestFallbackConfinementParity runs hostile names through whole verify
// jobs with and without openat2: every name that leads out is outside_root
// on both paths, and the file outside is never hashed.
func TestFallbackConfinementParity(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(base, "secret"), "SECRET")
	write(t, filepath.Join(base, "outdir", "f"), "SECRET")
	write(t, filepath.Join(root, "in"), "inside")
	os.Mkdir(filepath.Join(root, "sub"), 0o755)
	os.Symlink(filepath.Join(base, "secret"), filepath.Join(root, "abs-out"))
	os.Symlink("../secret", filepath.Join(root, "rel-out"))
	os.Symlink(filepath.Join(base, "outdir"), filepath.Join(root, "dir-out"))
	os.Symlink("../../outdir", filepath.Join(root, "sub", "deep-out"))
	os.Symlink("chain2", filepath.Join(root, "chain1"))
	os.Symlink("sub/../../secret", filepath.Join(root, "chain2"))
	os.Symlink("../root/in", filepath.Join(root, "reenter"))
	os.Symlink("/dev/zero", filepath.Join(root, "zero"))
	os.Symlink("sub/../in", filepath.Join(root, "rel-in"))
	os.Symlink(filepath.Join(root, "in"), filepath.Join(root, "abs-in"))
	escaping := []string{
		"../secret", "../../../secrets.json", "/dev/null", filepath.Join(base, "secret"),
		"sub/../../secret",
		"abs-out", "rel-out", "dir-out/f", "sub/deep-out/f", "chain1", "zero",
		"abs-in", // absolute symlinks are refused even when they point inside
	}
	// Windows-style names are single POSIX components: literal files inside
	// the root (as GNU reads them), never a way out. One exists, three don't.
	write(t, filepath.Join(root, `C:\secret`), "inside")
	m := line(SHA1, "in", "inside") + line(SHA1, "rel-in", "inside") + line(SHA1, "~/.ssh/id_rsa", "") +
		line(SHA1, `C:\secret`, "inside") + line(SHA1, `..\secret`, "") + line(SHA1, "c:secret", "") +
		line(SHA1, `\\server\share`, "")
	const inside = 7
	for _, n := range escaping {
		m += line(SHA1, n, "SECRET")
	}
	write(t, filepath.Join(root, "SHA1SUMS"), m)
	secret := digestOf(SHA1, "SECRET")
	defer func() { useOpenat2 = true }()
	for _, fast := range []bool{true, false} {
		useOpenat2 = fast
		c, _, err := verifyTree(t, root, filepath.Join(root, "SHA1SUMS"), 4)
		if err != nil {
			t.Fatal(err)
		}
		got := statuses(c)
		if strings.Join(got[:inside], ",") != "ok,ok,missing,ok,missing,missing,missing" {
			t.Errorf("openat2=%v: inside rows %v", fast, got[:inside])
		}
		for i, n := range escaping {
			if got[inside+i] != "outside_root" {
				t.Errorf("openat2=%v: %q is %s, want outside_root", fast, n, got[inside+i])
			}
		}
		for i := range c.Status {
			if string(c.Actual[i*c.Width:i*c.Width+len(secret)]) == string(secret) {
				t.Errorf("openat2=%v: row %d (%q) hashed the file outside the root", fast, i, rowPath(c, i))
			}
		}
		if c.Size[inside] != -1 {
			t.Errorf("openat2=%v: an outside_root row has size %d, want -1", fast, c.Size[inside])
		}
	}
}

// TestProgressTotalStaysInside: the byte total, which the scan adds up from
// the files it opens, never counts a file outside the root reached through
// a symlinked directory.
func TestProgressTotalStaysInside(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(base, "outside", "secret"), strings.Repeat("s", 12345))
	write(t, filepath.Join(root, "in"), "12")
	os.Symlink("../outside", filepath.Join(root, "out"))
	write(t, filepath.Join(root, "SUMS"), line(MD5, "in", "12")+line(MD5, "out/secret", ""))
	for _, fast := range []bool{true, false} {
		useOpenat2 = fast
		j, err := Start(Request{Kind: KindVerify, Root: root, Manifest: filepath.Join(root, "SUMS")})
		useOpenat2 = true
		if err != nil {
			t.Fatal(err)
		}
		var totals []int64
		for p := j.Poll(0); p.Phase != PhaseDone; p = j.Poll(time.Second) {
			totals = append(totals, p.BytesTotal)
			if p.Phase == PhaseReady {
				j.Attach(NewColumns(p))
			}
		}
		p := j.Poll(0)
		j.Close()
		if p.BytesTotal != 2 || slices.Contains(totals, 12345) || slices.Contains(totals, 12347) {
			t.Errorf("openat2=%v: bytes total %d (seen %v), want 2 (the outside file counted?)", fast, p.BytesTotal, totals)
		}
	}
}
