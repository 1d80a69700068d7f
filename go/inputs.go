package checksig

import (
	"bytes"
	"fmt"
	"math"
)

// The inputs of a verify job besides a manifest file (issues 15, 17, 19,
// 23): manifest text in memory, a stream of manifest text cut into chunks
// (ParseState carries the parser across them), and rows given in memory
// (Entries). ParseOnly jobs fill the columns from any of them without
// opening a listed file. Whatever the input, the rows go through the same
// job: the same confinement, statuses, columns, progress and cancellation.

// Form is the form of a manifest's untagged lines, which the first accepted
// one decides for the rest (GNU's rule, see Reader.parse): an attacker
// cannot then slip a leading space or '*' into or out of a name. Its values
// are part of the C ABI (CHECKSIG_FORM_*).
type Form int32

// Untagged line forms.
const (
	FormUndecided Form = 0 // no untagged line accepted yet
	FormStandard  Form = 1 // "HEX  name" or "HEX *name": a mode character after the space
	FormOneSpace  Form = 2 // "HEX name", as BSD's md5 -r writes: "HEX  b" names " b"
)

// reversed maps f to Reader.reversed (-1 undecided, 0 standard, 1 one space).
func (f Form) reversed() int { return int(f) - 1 }

func formOf(reversed int) Form { return Form(reversed + 1) }

// ParseState is what the parse of one chunk of a manifest stream hands to
// the next: the number of the next line and the form decided so far. The
// zero value starts a manifest afresh.
type ParseState struct {
	Line int64 // number of the next line; 0 means 1
	Form Form
}

// defaultTextName names manifest text in messages when the request gives
// no name.
const defaultTextName = "<manifest text>"

// Entries are a verify job's rows given in memory instead of a manifest:
// a parsed manifest's columns (a ParseOnly job's), a shard of them, or rows
// a caller derives from elsewhere (a BagIt or RECORD parser, blobs named by
// their digest). Entry i is named Names[Offsets[i]:Offsets[i+1]], relative
// to the root as a manifest's names are, and is checked exactly as a
// manifest line naming it would be.
//
// Start validates and copies Entries before it returns (once, straight into
// the job's own rows, name arena and digest column, with no allocation per
// entry), so the caller may reuse or free the slices as soon as it has.
type Entries struct {
	// Names holds the names, back to back (any bytes but NUL, not empty,
	// at most MaxLineLen each).
	Names []byte
	// Offsets has one element more than there are entries, nondecreasing,
	// within Names. Offsets[0] need not be 0, so a shard can point into a
	// whole manifest's names. Nil or one element: no entries.
	Offsets []int64
	// Algorithms holds each entry's algorithm; nil gives every entry
	// Request.Algorithm (then required). An entry of algorithm None (its
	// digest cell zero) is listed but not checked: its row gets
	// StatusNotChecked and its file is never opened.
	Algorithms []Algorithm
	// Digests holds the expected digests, Width bytes per entry: entry i's
	// is the first Algorithms[i].Size() bytes of Digests[i*Width:], and the
	// rest of its cell must be zero. The job's columns keep this width. A
	// ParseOnly job may take names alone: Width 0, no Digests.
	Digests []byte
	Width   int
	// Lines holds each entry's line number for the line column; nil gives
	// 0 (no line).
	Lines []int64
}

// Len returns the number of entries.
func (e *Entries) Len() int { return max(len(e.Offsets)-1, 0) }

func errEntry(i int, format string, args ...any) error {
	return fmt.Errorf("%w: entries[%d]: %s", ErrInvalid, i, fmt.Sprintf(format, args...))
}

// takeEntries validates e and copies it into the job's rows, name arena and
// expected digests: every entry or none (the first bad one is the error).
// alg is the algorithm of every entry when e.Algorithms is nil. A
// parse-only job may take names without digests (width 0): to list the
// files a stream named, for Extra.
func (j *Job) takeEntries(e *Entries, alg Algorithm) error {
	namesOnly := j.req.ParseOnly && e.Width == 0
	n := e.Len()
	switch {
	case n > math.MaxInt32: // plan.go numbers queued rows in 32 bits
		return fmt.Errorf("%w: %d entries, at most %d", ErrInvalid, n, math.MaxInt32)
	case e.Algorithms != nil && len(e.Algorithms) != n:
		return fmt.Errorf("%w: %d algorithms for %d entries", ErrInvalid, len(e.Algorithms), n)
	case e.Algorithms == nil && !alg.Valid():
		return fmt.Errorf("%w: entries without algorithms need the request's algorithm", ErrInvalid)
	case e.Algorithms != nil && alg != None:
		return fmt.Errorf("%w: give one algorithm for every entry or one per entry, not both", ErrInvalid)
	case e.Width < 0 || e.Width > MaxSize:
		return fmt.Errorf("%w: digest width %d, want 0 to %d bytes", ErrInvalid, e.Width, MaxSize)
	case len(e.Digests) != n*e.Width:
		return fmt.Errorf("%w: %d digest bytes for %d entries of width %d, want %d", ErrInvalid, len(e.Digests), n, e.Width, n*e.Width)
	case e.Lines != nil && len(e.Lines) != n:
		return fmt.Errorf("%w: %d line numbers for %d entries", ErrInvalid, len(e.Lines), n)
	}
	j.rows = make([]row, 0, n)
	w := e.Width
	for i := range n {
		lo, hi := e.Offsets[i], e.Offsets[i+1]
		if lo < 0 || hi < lo || hi > int64(len(e.Names)) {
			return errEntry(i, "name offsets %d..%d out of order or outside the %d bytes of names", lo, hi, len(e.Names))
		}
		name := e.Names[lo:hi]
		switch {
		case len(name) == 0:
			return errEntry(i, "empty name")
		case len(name) > MaxLineLen:
			return errEntry(i, "name of %d bytes, longer than %d", len(name), MaxLineLen)
		case bytes.IndexByte(name, 0) >= 0:
			return errEntry(i, "name contains a NUL byte")
		}
		a := alg
		if e.Algorithms != nil {
			a = e.Algorithms[i]
		}
		preset := StatusPending
		if a == None && e.Algorithms != nil {
			// A row listed without a digest (a RECORD's own line, a .pyc
			// cache, a file rewritten at install whose digest was not
			// recorded): never opened, and still a listed name for Extra.
			preset = StatusNotChecked
		} else if !a.Valid() {
			return errEntry(i, "unknown algorithm %d", a)
		}
		cell := e.Digests[i*w : (i+1)*w]
		switch {
		case namesOnly:
		case preset == StatusNotChecked && !allZero(cell):
			return errEntry(i, "a digest without an algorithm (algorithm 0 is for rows not checked)")
		case a.Size() > w:
			return errEntry(i, "a %s digest is %d bytes, the digest width only %d", a, a.Size(), w)
		case !allZero(cell[a.Size():]):
			return errEntry(i, "the %d bytes after its %d-byte %s digest are not zero (wrong width or layout?)", w-a.Size(), a.Size(), a)
		}
		var line int64
		if e.Lines != nil {
			if line = e.Lines[i]; line < 0 {
				return errEntry(i, "negative line number %d", line)
			}
		}
		addRow(j, name, row{line: line, alg: a, size: -1, preset: preset})
	}
	j.width = w
	if n > 0 {
		j.digests = append(make([]byte, 0, n*w), e.Digests...)
	}
	j.given = true
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkInputs refuses requests that combine inputs which do not go
// together; Start calls it for every request.
func checkInputs(req *Request) error {
	other := req.Entries != nil || req.ManifestText != nil || req.ParseOnly || req.Resume != (ParseState{})
	switch {
	case req.Kind != KindVerify && other:
		return fmt.Errorf("%w: entries, manifest text, parse-only and a parse state are for verify jobs", ErrInvalid)
	case req.Entries != nil && req.ManifestText != nil:
		return fmt.Errorf("%w: give entries or manifest text, not both", ErrInvalid)
	case req.Entries != nil && req.Resume != (ParseState{}):
		return fmt.Errorf("%w: a parse state continues a manifest, not entries", ErrInvalid)
	case req.Resume.Line < 0:
		return fmt.Errorf("%w: first line %d, want 1 or more (0: 1)", ErrInvalid, req.Resume.Line)
	case req.Resume.Form < FormUndecided || req.Resume.Form > FormOneSpace:
		return fmt.Errorf("%w: unknown line form %d", ErrInvalid, req.Resume.Form)
	}
	return checkParts(req)
}

// noOpener is the opener of a ParseOnly job, which opens no listed file:
// should anything ask it to, it refuses.
type noOpener struct{}

func (noOpener) open([]byte) (readCloser, int64, error) {
	return nil, -1, fmt.Errorf("%w: a parse-only job opens no file", ErrInvalid)
}

func (noOpener) close() error { return nil }

func (noOpener) plainFDs() (int, bool) { return -1, false }
