package checksig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// walkRegular calls visit for every regular file of part of the tree
// beneath the root (name relative to the root with '/' separators, size or
// -1), in fs.WalkDir's order. Symlinks, FIFOs, devices and sockets are not
// visited, nor is the manifest of this job. The walk has its own os.Root,
// confined like every open: the job's opener may be wrapped (tests).
func (j *Job) walkRegular(part walkPart, visit func(name string, size int64)) error {
	root, err := os.OpenRoot(j.req.Root)
	if err != nil {
		return err
	}
	defer root.Close()
	skip := j.outputName()
	start := "."
	if part.dir != "" {
		// As a whole walk would: no file beneath a name that is not a
		// directory, nor beneath a symlink (not followed, even inside).
		fi, err := root.Lstat(part.dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || err == nil && !fi.IsDir() {
			return nil
		}
		if err != nil {
			return &os.PathError{Op: "walk", Path: filepath.Join(j.req.Root, part.dir), Err: unwrapPathError(err)}
		}
		start = part.dir
	}
	return walkRoot(root, start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == "." {
				return err
			}
			return &os.PathError{Op: "walk", Path: filepath.Join(j.req.Root, name), Err: unwrapPathError(err)}
		}
		if j.cancelled.Load() {
			return ErrCancelled
		}
		if part.flat && d.IsDir() && name != start {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() || name == skip {
			return nil
		}
		size := int64(-1)
		if fi, err := d.Info(); err == nil {
			size = fi.Size()
		}
		visit(name, size)
		return nil
	})
}

// walkRoot is fs.WalkDir(root.FS(), start, fn) without fs.FS's rule that a
// name be valid UTF-8, which made a walk fail outright ("invalid argument")
// at the first directory whose name is not: Linux names are any bytes but
// '/' and NUL. Entries come in name order; symbolic links are not followed
// (their DirEntry says what they are); fn's SkipDir and SkipAll work as in
// fs.WalkDir.
func walkRoot(root *os.Root, start string, fn fs.WalkDirFunc) error {
	fi, err := root.Lstat(start)
	if err != nil {
		err = fn(start, nil, err)
	} else {
		err = walkRootDir(root, start, fs.FileInfoToDirEntry(fi), fn)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}

func walkRootDir(root *os.Root, name string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := fn(name, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	entries, err := readDirRoot(root, name)
	if err != nil {
		// As fs.WalkDir: fn sees the error once more, for the directory.
		if err = fn(name, d, err); err != nil {
			if err == fs.SkipDir {
				err = nil
			}
			return err
		}
	}
	for _, e := range entries {
		if err := walkRootDir(root, path.Join(name, e.Name()), e, fn); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

// readDirRoot reads the directory name beneath root, sorted by name.
func readDirRoot(root *os.Root, name string) ([]fs.DirEntry, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// walk lists every regular file beneath the root for a make job, sorted
// by name bytes.
func (j *Job) walk() error {
	var total int64
	err := j.walkRegular(walkPart{}, func(name string, size int64) {
		total += max(size, 0)
		addRow(j, name, row{alg: j.req.Algorithm, size: size})
	})
	if err != nil {
		return err
	}
	slices.SortFunc(j.rows, func(a, b row) int { return bytes.Compare(j.nameBytes(&a), j.nameBytes(&b)) })
	j.width = j.req.Algorithm.Size()
	j.bytesTotal.Store(total)
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// outputName returns the manifest's name relative to the root, with '/'
// separators, or "" when it is written elsewhere or is no file (a verify
// job's manifest text: Manifest is then only a name). A verify job of
// entries may name the manifest they were parsed from (a part of a run
// spread over processes, shard.go), which its extra walk then skips too.
func (j *Job) outputName() string {
	if j.req.ManifestText != nil || j.req.Manifest == "" {
		return ""
	}
	root, err1 := filepath.Abs(j.req.Root)
	out, err2 := filepath.Abs(j.req.Manifest)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(root, out)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}

// writeManifest writes the make job's manifest atomically: a temporary
// file beside the target, written in full, fsynced, then renamed over the
// target. An old manifest is never replaced by a partial one.
func (j *Job) writeManifest() error {
	c, w := j.cols, j.width
	for i := range j.rows {
		if st := Status(c.Status[i]); st != StatusOK {
			name := filepath.Join(j.req.Root, j.nameOf(&j.rows[i]))
			var cause error = syscall.Errno(c.Errnum[i])
			switch st {
			case StatusNotRegular:
				cause = ErrNotRegular
			case StatusMissing:
				cause = fs.ErrNotExist
			case StatusOutsideRoot:
				cause = ErrOutsideRoot
			case StatusChanged:
				cause = errors.New("file changed size while it was read")
			default:
				if c.Errnum[i] == 0 {
					cause = fmt.Errorf("unreadable (%s)", st)
				}
			}
			return &os.PathError{Op: "read", Path: name, Err: cause}
		}
	}
	buf := make([]byte, 0, 1<<20)
	dir, base := filepath.Split(j.req.Manifest)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for i := range j.rows {
		r := &j.rows[i]
		buf = appendLine(buf, r.alg, j.nameOf(r), c.Actual[i*w:i*w+r.alg.Size()], j.req.Tag, j.req.Base64)
		if len(buf) >= 1<<20-8192 {
			if _, err := tmp.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := tmp.Write(buf); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), j.req.Manifest); err != nil {
		return err
	}
	ok = true
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
