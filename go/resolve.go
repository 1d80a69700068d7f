package checksig

import (
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Confinement. A manifest is input from outside: its names must not reach
// files outside the root it is checked against. Three layers keep them in:
//
//  1. Lexically, before touching the file system: absolute names and names
//     with a ".." component are refused (status outside_root).
//  2. On Linux 5.6+, openat2 with RESOLVE_BENEATH resolves the whole name in
//     the kernel relative to the root's descriptor and fails if any step
//     would leave it (openat2_linux.go). Elsewhere os.Root resolves every remaining name component by component with
//     openat and refuses symlinks that lead out of the root, including in
//     intermediate directories and when a file is swapped for a symlink
//     between our checks and the open (the kernel resolves each step
//     relative to an already-open directory).
//  3. Neither refuses FIFOs and devices, and opening a FIFO blocks forever.
//     We open with O_NONBLOCK|O_NOCTTY and fstat the open descriptor: only a
//     regular file is ever read. The os.Root path also Lstats first, so such
//     names are not even opened there.

// lexicallyOutside reports whether name escapes any root without looking at
// the file system: an absolute name or a ".." component. On POSIX a
// backslash or a colon is an ordinary character: `C:\x` and `..\x` are
// names of files inside the root, as GNU reads them too, and cannot reach
// outside it (they are one path component).
func lexicallyOutside[Name string | []byte](name Name) bool {
	if len(name) > 0 && name[0] == '/' {
		return true
	}
	start := 0 // component by component, without allocating (once per file)
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			if i-start == 2 && name[start] == '.' && name[start+1] == '.' {
				return true
			}
			start = i + 1
		}
	}
	return false
}

// isEscape reports whether err is os.Root's refusal of a path leading out.
// os.Root does not export its sentinel; its text has been stable since Go
// 1.24 and TestConfinement fails if it ever changes.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// fileOpener is the engine's only way to open files under a root. Tests
// replace it to inject faults (see fault_test.go).
type fileOpener interface {
	// open opens name beneath the root for reading, confined as described
	// above, and returns it with its size. name is a row's bytes in the path
	// column, valid during the call: by bytes, not as a string, so that the
	// openat2 path allocates nothing per file (a string and a NUL-terminated
	// copy of it were garbage for the collector: ~1% of the time on many
	// small files).
	open(name []byte) (readCloser, int64, error)
	close() error
	// plainFDs reports whether the files open returns are plain
	// descriptors (no *os.File, whose finalizer could close its number
	// later), which lets workers take descriptor tables of their own
	// (fdtable_linux.go), and a descriptor of the opener's own that they
	// must keep (-1: none).
	plainFDs() (keep int, ok bool)
}

// useOpenat2 selects the openat2 fast path where the kernel has it; tests
// turn it off to run the portable os.Root path too.
var useOpenat2 = true

// wrapOpener, when set by a test, wraps the opener of every verify or make
// job: the fault-injection seam (fault_test.go).
var wrapOpener func(fileOpener) fileOpener

// openerFor returns the opener of a job of req: none for a parse-only job,
// names confined beneath the root for verify and make jobs (joined to it
// without confinement with AllowOutside), paths as given for digest jobs.
func openerFor(req *Request) (fileOpener, error) {
	switch {
	case req.ParseOnly:
		return noOpener{}, nil
	case req.Kind == KindVerify || req.Kind == KindMake:
		var o fileOpener
		var err error
		switch {
		case req.Kind == KindVerify && req.AllowOutside:
			o, err = openJoined(req.Root)
		case req.Kind == KindVerify && useOpenat2:
			o, err = openBeneath(req.Root)
		}
		if o == nil && err == nil {
			o, err = openRoot(req.Root)
		}
		if err != nil {
			return nil, err
		}
		if wrapOpener != nil {
			return wrapOpener(o), nil
		}
		return o, nil
	}
	return plainOpener{}, nil
}

type rootOpener struct{ root *os.Root }

func openRoot(dir string) (*rootOpener, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &rootOpener{root: r}, nil
}

func (o *rootOpener) close() error { return o.root.Close() }

func (o *rootOpener) plainFDs() (int, bool) { return -1, false }

func (o *rootOpener) open(b []byte) (readCloser, int64, error) {
	name := string(b)
	if lexicallyOutside(name) {
		return nil, -1, &os.PathError{Op: "open", Path: name, Err: ErrOutsideRoot}
	}
	fi, err := o.root.Lstat(name)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// Stat resolves the link beneath the root: a link leading out fails here.
		fi, err = o.root.Stat(name)
	}
	if err != nil {
		return nil, -1, classify(name, err)
	}
	if fi.IsDir() {
		return nil, -1, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		return nil, -1, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	f, err := o.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, -1, classify(name, err)
	}
	fi, err = checkRegular(f, name)
	if err != nil {
		return nil, -1, err
	}
	return f, fi.Size(), nil
}

// checkRegular fstats f and closes it unless it is a regular file.
func checkRegular(f *os.File, name string) (os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, &os.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return fi, nil
}

// classify turns os.Root's escape error into ErrOutsideRoot.
func classify(name string, err error) error {
	if isEscape(err) {
		return &os.PathError{Op: "open", Path: name, Err: ErrOutsideRoot}
	}
	return err
}

// plainOpener opens paths as given, unconfined: for digest jobs, whose
// paths come from the caller, not from a manifest.
type plainOpener struct{}

func (plainOpener) close() error { return nil }

func (plainOpener) plainFDs() (int, bool) { return -1, true }

func (plainOpener) open(name []byte) (readCloser, int64, error) { return openPlain(string(name)) }

// joinedOpener resolves names against the root without confinement, for
// manifests the user trusts (Request.AllowOutside). Special files are
// still refused by openPlain.
type joinedOpener struct{ root string }

func openJoined(root string) (fileOpener, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &os.PathError{Op: "open", Path: root, Err: syscall.ENOTDIR}
	}
	return joinedOpener{root: root}, nil
}

func (o joinedOpener) path(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return o.root + "/" + name
}

func (o joinedOpener) open(name []byte) (readCloser, int64, error) {
	return openPlain(o.path(string(name)))
}

func (joinedOpener) close() error { return nil }

func (joinedOpener) plainFDs() (int, bool) { return -1, true }
