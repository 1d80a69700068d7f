package checksig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"syscall"
)

// What is particular to verify jobs: reading the manifest into rows, the
// extra files (Request.Extra), and the verdict of every row of every kind
// of job, which the workers (plan.go) write into the columns.

// Status is the outcome for one result row. Its values are part of the C
// ABI (CHECKSIG_ST_* in capi/checksig.h).
type Status uint8

// Row statuses.
const (
	StatusPending     Status = iota // not reached: the job was cancelled or failed
	StatusOK                        // the digest matches
	StatusMismatch                  // the file was read and its digest differs
	StatusMissing                   // no such file
	StatusUnreadable                // the file exists but could not be read
	StatusNotRegular                // a directory, FIFO, socket or device: never read
	StatusOutsideRoot               // the name leads outside the root: never read
	StatusExtra                     // under the root but not listed (Request.Extra)
	StatusChanged                   // the file's size changed while it was read
	StatusNotChecked                // an entry given without a digest (Entries): never opened
)

var statusNames = [...]string{"pending", "ok", "mismatch", "missing", "unreadable", "not_regular", "outside_root", "extra", "changed", "not_checked"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// parseManifest reads the manifest (a file, or Request.ManifestText) into
// the job's rows, name arena and expected digests; a malformed line is a
// warning, or with Strict the job's error.
func (j *Job) parseManifest() error {
	var src io.Reader
	var maxRows int
	name := j.req.Manifest
	if j.req.ManifestText != nil {
		src, maxRows = bytes.NewReader(j.req.ManifestText), textRows(j.req.ManifestText)
		if name == "" {
			name = defaultTextName
		}
	} else {
		f, size, err := openPlain(j.req.Manifest)
		if err != nil {
			return err
		}
		openFiles.add(0, 1)
		defer func() { f.Close(); openFiles.add(0, -1) }()
		// Size the rows (and below, the digests) once from the line count, so
		// a million-line manifest never holds a slice and its grown copy at once.
		if maxRows, err = countLines(f, size); err != nil {
			return err
		}
		src = f
	}
	j.rows = make([]row, 0, maxRows)
	if int64(maxRows) >= earlyMin && !j.req.ParseOnly && j.open != nil && j.req.Workers > 0 { // a job Start made
		// Hash while the manifest is read: the workers start now and take
		// rows as they are published.
		j.early, j.expect = true, int64(maxRows)
		j.startWorkers(min(j.req.Workers, maxRows), maxRows)
	}
	r := NewReader(src, name)
	r.Algorithm, r.Family, r.Source = j.req.Algorithm, j.req.Family, SourceRequest
	if r.Algorithm == None && r.Family == FamilyNone {
		r.Algorithm, r.Family = AlgorithmFromName(name)
		r.Source = SourceName
	}
	// A later chunk of a stream goes on where the one before stopped.
	r.line = max(j.req.Resume.Line, 1) - 1
	r.reversed = j.req.Resume.Form.reversed()
	defer func() { j.state = ParseState{Line: r.line + 1, Form: formOf(r.reversed)} }()
	var digests []byte
	for {
		if len(j.rows)%4096 == 0 && j.cancelled.Load() {
			return ErrCancelled
		}
		e, name, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil { // only then: errors.As's target escapes, an allocation per line
			var me *ManifestError
			if errors.As(err, &me) {
				if j.req.Strict {
					return me
				}
				j.warn(Warning{Line: me.Line, Msg: me.Msg})
				continue
			}
			return fmt.Errorf("reading %s: %w", r.Name, err)
		}
		addRow(j, name, row{line: e.Line, alg: e.Algorithm, size: -1, inferred: e.Source == SourceName || e.Source == SourceLength})
		if j.early && len(j.rows)%publishEvery == 0 {
			j.publish(j.rows, false)
		}
		if n := e.Algorithm.Size(); n > j.width {
			digests = widen(digests, len(j.rows)-1, j.width, n, cap(j.rows))
			j.width = n
		}
		digests = append(digests, e.Digest...)
		digests = append(digests, make([]byte, j.width-len(e.Digest))...)
	}
	if j.req.ManifestText != nil {
		j.req.ManifestText = []byte{} // the rows hold what the job needs: let the text go
	}
	if len(j.rows) == 0 && !j.req.AllowEmpty {
		msg := "no properly formatted checksum lines found"
		if j.nwarnings.Load() == 0 {
			msg = "no checksum lines found (the manifest is empty)"
		}
		return &ManifestError{Path: r.Name, Msg: msg}
	}
	j.digests = digests
	j.untagged = r.untaggedSource()
	if j.early {
		j.publish(j.rows, true) // rows Extra adds next are never the workers'
	}
	return nil
}

// earlyMin is the bound on a manifest's entries (countLines) from which
// its verify job's workers start while it is read (issue 20: on a million
// entries the parse is ~8% of the job). A variable for tests and
// CHECKSIG_TUNE.
var earlyMin int64 = 4096

// publishEvery is how many rows the parse adds between two publications to
// the workers of an early job.
const publishEvery = 256

// widen re-lays n rows of width w into width nw, with room for capRows.
func widen(d []byte, n, w, nw, capRows int) []byte {
	out := make([]byte, n*nw, max(n+1, capRows)*nw)
	for i := 0; i < n; i++ {
		copy(out[i*nw:], d[i*w:(i+1)*w])
	}
	return out
}

// addExtra appends a row with StatusExtra for every regular file under the
// root that no manifest entry names (the manifest itself excepted), or in
// the part of the root the request names (WalkDir, WalkFlat).
func (j *Job) addExtra() error {
	part := walkPart{dir: j.req.WalkDir, flat: j.req.WalkFlat}
	var listed map[string]struct{}
	if part.whole() {
		listed = make(map[string]struct{}, len(j.rows))
	} else {
		listed = map[string]struct{}{} // most names lie elsewhere: no presizing
	}
	for i := range j.rows {
		if name := path.Clean(j.nameOf(&j.rows[i])); part.holds(name) {
			listed[name] = struct{}{}
		}
	}
	var extra []string
	sizes := map[string]int64{}
	err := j.walkRegular(part, func(name string, size int64) {
		if _, ok := listed[name]; !ok {
			extra = append(extra, name)
			sizes[name] = size
		}
	})
	if err != nil {
		return err
	}
	slices.Sort(extra)
	for _, name := range extra {
		addRow(j, name, row{size: sizes[name], preset: StatusExtra})
	}
	j.digests = append(j.digests, make([]byte, len(extra)*j.width)...)
	return nil
}

// hashRow hashes row i, r, from f, opened with the given size and error,
// and writes the outcome into the columns. It returns false if the job was
// cancelled mid-file: the row then stays pending.
func (j *Job) hashRow(h *hasher, r *row, i int, f readCloser, size int64, err error) bool {
	sum := h.sum[:r.alg.Size()] // the worker's: a local array would escape, once per file
	st, errnum, n := j.hashOpen(h, r, f, size, err, sum)
	return j.writeRow(h, i, st, errnum, n, sum)
}

// writeRow writes row i's verdict: the status hashing gave it, its errno
// and the bytes read, and for a file read whole its digest, sum, compared
// with the expected one. Before the columns are attached (a job whose
// workers start while the manifest is read), the worker holds the verdict
// until they are. It returns false for a row left pending (the job was
// cancelled mid-file).
func (j *Job) writeRow(h *hasher, i int, st Status, errnum int32, n int64, sum []byte) bool {
	if st == StatusPending {
		return false
	}
	h.pendingFiles++
	if !j.colsReady.Load() {
		h.held = append(h.held, heldRow{row: int32(i), st: st, errnum: errnum, n: n, sum: int32(len(h.heldSums)), sumLen: uint8(len(sum))})
		h.heldSums = append(h.heldSums, sum...)
		if len(h.held) >= maxHeld && j.waitCols() { // bounded: wait for the columns
			j.putHeld(h)
		}
		return true
	}
	if len(h.held) > 0 {
		j.putHeld(h)
	}
	j.putRow(i, st, errnum, n, sum)
	return true
}

// deferRow leaves row i pending with the size its open found, for a later
// job (Request.Defer): held as writeRow holds verdicts.
func (j *Job) deferRow(h *hasher, i int, size int64) {
	if !j.colsReady.Load() {
		h.held = append(h.held, heldRow{row: int32(i), st: StatusPending, n: size})
		if len(h.held) >= maxHeld && j.waitCols() {
			j.putHeld(h)
		}
		return
	}
	j.cols.Size[i] = size
}

// putRow writes row i's verdict into the columns; a pending row gets only
// its size (deferRow).
func (j *Job) putRow(i int, st Status, errnum int32, n int64, sum []byte) {
	c, w := j.cols, j.width
	if st == StatusPending {
		c.Size[i] = n
		return
	}
	if st == StatusOK {
		copy(c.Actual[i*w:], sum)
		if j.req.Kind == KindVerify && !bytes.Equal(sum, c.Expected[i*w:i*w+len(sum)]) {
			st = StatusMismatch
		}
	}
	c.Size[i] = n
	c.Errnum[i] = errnum
	c.Status[i] = uint8(st)
}

// heldRow is a verdict a worker holds until the columns are attached.
type heldRow struct {
	row    int32
	st     Status
	sumLen uint8
	errnum int32
	sum    int32 // where its digest starts in heldSums
	n      int64
}

// maxHeld is the most verdicts a worker holds before it waits for the
// columns: enough for the time a parse and an Attach take, bounded if
// nobody attaches. A variable for tests.
var maxHeld = 1 << 16

// putHeld writes the verdicts h holds into the columns, which are attached.
func (j *Job) putHeld(h *hasher) {
	for _, r := range h.held {
		j.putRow(int(r.row), r.st, r.errnum, r.n, h.heldSums[r.sum:r.sum+int32(r.sumLen)])
	}
	h.held, h.heldSums = h.held[:0], h.heldSums[:0]
}

// hashOpen closes f after hashing it into out and returns the row's status,
// errno and size. err is the open's error, if any.
func (j *Job) hashOpen(h *hasher, r *row, f readCloser, size int64, err error, out []byte) (Status, int32, int64) {
	if err != nil {
		st, errnum := statusOf(err)
		return st, errnum, size
	}
	openFiles.add(h.slot, 1)
	defer func() { f.Close(); openFiles.add(h.slot, -1) }() // also when a bug panics
	n, err := h.hashFile(f, size, r.alg, out)
	return outcome(size, n, err)
}

// outcome is the status, errno and size of a file of the given size (from
// its open) of which hashing read n bytes and ended with err.
func outcome(size, n int64, err error) (Status, int32, int64) {
	if errors.Is(err, ErrCancelled) {
		return StatusPending, 0, size
	}
	if errors.Is(err, errChanged) {
		return StatusChanged, 0, n
	}
	if err != nil {
		st, errnum := statusOf(err)
		return st, errnum, n
	}
	if n != size {
		// Truncated or grown while we read it: the digest describes no
		// version of the file that ever existed whole.
		return StatusChanged, 0, n
	}
	return StatusOK, 0, n
}

// statusOf maps an open or read error to a row status and errno.
func statusOf(err error) (Status, int32) {
	var errno syscall.Errno
	hasErrno := errors.As(err, &errno)
	switch {
	case errors.Is(err, ErrOutsideRoot):
		return StatusOutsideRoot, 0
	case errors.Is(err, ErrNotRegular):
		return StatusNotRegular, 0
	case hasErrno && errno == syscall.EISDIR:
		return StatusNotRegular, int32(errno)
	case errors.Is(err, fs.ErrNotExist):
		return StatusMissing, int32(syscall.ENOENT)
	// ENOTDIR (a path component is a file) is "unreadable", not "missing":
	// GNU's --ignore-missing ignores ENOENT only.
	case hasErrno:
		return StatusUnreadable, int32(errno)
	}
	return StatusUnreadable, 0
}
