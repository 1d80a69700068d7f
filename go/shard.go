package checksig

import (
	"fmt"
	"strings"
)

// Jobs that are one part of a run spread over several processes (issue 17:
// one manifest verified across a Dask cluster). The caller parses the
// manifest once (ParseOnly), runs scan passes over contiguous shards of its
// rows (Defer: small files hashed, big ones sized), hashes the deferred
// files in shards cut by their bytes, and walks the tree for extra files in
// disjoint parts (WalkDir, WalkFlat). Each part is an ordinary job, with
// the confinement, statuses and columns of a whole one.

// checkParts refuses part requests that make no sense; checkInputs calls it.
func checkParts(req *Request) error {
	switch {
	case req.Defer && (req.Kind != KindVerify || req.ParseOnly):
		return fmt.Errorf("%w: a deferring scan is for verify jobs that open their files", ErrInvalid)
	case req.DeferMin < 0:
		return fmt.Errorf("%w: defer size %d, want 0 or more", ErrInvalid, req.DeferMin)
	case req.DeferMin != 0 && !req.Defer:
		return fmt.Errorf("%w: a defer size without defer", ErrInvalid)
	case (req.WalkDir != "" || req.WalkFlat) && (req.Kind != KindVerify || !req.Extra):
		return fmt.Errorf("%w: a walk directory is for verify jobs with extra", ErrInvalid)
	case req.WalkDir != "" && !cleanRelative(req.WalkDir):
		return fmt.Errorf("%w: walk directory %q: want a clean relative name beneath the root", ErrInvalid, req.WalkDir)
	}
	return nil
}

// cleanRelative reports whether name is a clean slash-separated name
// beneath the root: no empty, "." or ".." element, no leading or trailing
// slash. It is fs.ValidPath less that function's rule that a name be UTF-8:
// Linux names are any bytes but '/' and NUL, walkRoot walks them, and a run
// spread over processes cuts its walk at such directories as at any other.
func cleanRelative(name string) bool {
	for elem := range strings.SplitSeq(name, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return false
		}
	}
	return true
}

// walkPart is the part of the tree an extra walk covers: the subtree of
// dir ("" the root), or with flat only dir's own files.
type walkPart struct {
	dir  string
	flat bool
}

// whole reports whether the part is the whole tree.
func (p walkPart) whole() bool { return p.dir == "" && !p.flat }

// holds reports whether the clean relative name lies in the part.
func (p walkPart) holds(name string) bool {
	rest := name
	if p.dir != "" {
		var ok bool
		if rest, ok = strings.CutPrefix(name, p.dir+"/"); !ok {
			return false
		}
	}
	return !p.flat || !strings.Contains(rest, "/")
}
