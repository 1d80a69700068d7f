// Command capi is the C ABI of the checksig engine, built with
//
//	go build -buildmode=c-shared -o _checksig.so ./capi
//
// checksig.h beside this file is the contract; this file only converts
// between C and Go (and its init keeps the runtime's first thread idle).
// Rules kept by every export: C types only; a Go panic is recovered and
// reported as CHECKSIG_E_PANIC, because an unrecovered panic would kill
// the Python process (often a notebook kernel) hosting us; memory Go
// hands out is malloc'd and freed with checksig_free; Go never keeps a
// pointer into Go memory on the C side, and never calls back into C.
package main

/*
#include <stdlib.h>
#include <string.h>
#include "checksig.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	checksig "github.com/checksig/checksig/go"
)

func main() {}

// init keeps the runtime's first thread (m0) from ever running engine work.
// The goroutine that runs the package inits stays locked to m0 and, in a
// c-shared library, ends once they are done (main is not run); the runtime
// cannot end the first thread of its own, so it parks it for good. A worker
// that ran on m0 could not take a descriptor table of its own
// (fdtable_linux.go) and with it scan small files through io_uring: in a
// Python process one of a job's two workers landed there in about one run
// in four. The cost is one idle thread.
func init() { runtime.LockOSThread() }

// Job handles. A handle is an opaque nonzero integer naming a *checksig.Job
// in this table; zero is never a valid handle. Python owns each handle and
// must release it with checksig_job_free exactly once.
var (
	jobsMu  sync.Mutex
	jobs    = map[uint64]*checksig.Job{}
	nextJob uint64
)

func lookup(h C.uint64_t) *checksig.Job {
	jobsMu.Lock()
	defer jobsMu.Unlock()
	return jobs[uint64(h)]
}

// goString copies n bytes at p into a Go string, refusing embedded NULs: a
// NUL would silently truncate the path at the system call.
func goString(p *C.uint8_t, n C.int64_t, what string) (string, error) {
	if n < 0 || (p == nil && n > 0) {
		return "", fmt.Errorf("%w: bad %s buffer", checksig.ErrInvalid, what)
	}
	if n == 0 {
		return "", nil
	}
	s := C.GoStringN((*C.char)(unsafe.Pointer(p)), C.int(n))
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return "", fmt.Errorf("%w: %s contains a NUL byte", checksig.ErrInvalid, what)
		}
	}
	return s, nil
}

// fill records err in e (if e is not NULL) and returns its status code.
func fill(e *C.checksig_error, err error) C.int32_t {
	code, errnum, line, path := classify(err)
	if e != nil {
		C.checksig_error_clear(e)
		e.code = code
		e.errnum = C.int32_t(errnum)
		e.line = C.int64_t(line)
		e.message = C.CString(message(err))
		if path != "" {
			e.path = (*C.char)(C.CBytes([]byte(path)))
			e.path_len = C.int64_t(len(path))
		}
	}
	return code
}

// message is err's text without the path, which travels separately, for
// OS errors; Python rebuilds OSError(errno, strerror, filename) from it.
func message(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && !errors.Is(err, checksig.ErrNotRegular) {
		return pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	var pn *checksig.PanicError
	if errors.As(err, &pn) {
		return pn.Error() + "\n" + string(pn.Stack)
	}
	return err.Error()
}

func classify(err error) (code C.int32_t, errnum int, line int64, path string) {
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) {
		path = pe.Path
	} else if errors.As(err, &le) {
		path = le.New // a rename onto the manifest failed: name the target
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		errnum = int(errno)
	}
	var me *checksig.ManifestError
	var pn *checksig.PanicError
	switch {
	case errors.As(err, &pn):
		code = C.CHECKSIG_E_PANIC
	case errors.As(err, &me):
		code, path, line = C.CHECKSIG_E_MANIFEST, me.Path, me.Line
	case errors.Is(err, checksig.ErrCancelled):
		code = C.CHECKSIG_E_CANCELLED
	case errors.Is(err, checksig.ErrJobState):
		code = C.CHECKSIG_E_HANDLE
	case errors.Is(err, checksig.ErrInvalid), errors.Is(err, checksig.ErrUnknownAlgorithm):
		code = C.CHECKSIG_E_INVALID
	case errors.Is(err, checksig.ErrNotRegular):
		code = C.CHECKSIG_E_NOT_REGULAR
	case errno == syscall.EISDIR:
		code = C.CHECKSIG_E_IS_DIR
	case errors.Is(err, fs.ErrNotExist):
		code = C.CHECKSIG_E_NOT_FOUND
	case errors.Is(err, fs.ErrPermission):
		code = C.CHECKSIG_E_PERMISSION
	default:
		code = C.CHECKSIG_E_OS
	}
	return
}

// guard recovers a panic in an export and reports it through e.
func guard(code *C.int32_t, e *C.checksig_error) {
	if r := recover(); r != nil {
		*code = fill(e, &checksig.PanicError{Value: r, Stack: stack()})
	}
}

//export checksig_abi_version
func checksig_abi_version() C.int32_t { return C.CHECKSIG_ABI_VERSION }

//export checksig_free
func checksig_free(p unsafe.Pointer) { C.free(p) }

//export checksig_error_clear
func checksig_error_clear(e *C.checksig_error) {
	if e == nil {
		return
	}
	C.free(unsafe.Pointer(e.message))
	C.free(unsafe.Pointer(e.path))
	*e = C.checksig_error{}
}

//export checksig_file_digest
func checksig_file_digest(path *C.uint8_t, pathLen C.int64_t, alg C.int32_t, length C.int64_t,
	out *C.uint8_t, outCap C.int64_t, size *C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	name, err := goString(path, pathLen, "path")
	if err != nil {
		return fill(e, err)
	}
	if alg < 0 || alg > 255 || !checksig.Algorithm(alg).Valid() {
		return fill(e, fmt.Errorf("%w %d", checksig.ErrUnknownAlgorithm, alg))
	}
	a := checksig.Algorithm(alg)
	if length == 0 {
		length = C.int64_t(a.Size())
	}
	if length < 0 || (int(length) != a.Size() && a != checksig.BLAKE3) {
		return fill(e, fmt.Errorf("%w: %s digests are %d bytes, not %d (only blake3 makes other lengths)", checksig.ErrInvalid, a, a.Size(), length))
	}
	if out == nil || outCap < length {
		return fill(e, fmt.Errorf("%w: output buffer too small", checksig.ErrInvalid))
	}
	n, err := checksig.FileDigest(name, a, unsafe.Slice((*byte)(unsafe.Pointer(out)), int(length)))
	if err != nil {
		return fill(e, err)
	}
	if size != nil {
		*size = C.int64_t(n)
	}
	return C.CHECKSIG_OK
}

//export checksig_job_start
func checksig_job_start(req *C.checksig_request, job *C.uint64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	if req == nil || job == nil {
		return fill(e, fmt.Errorf("%w: NULL request or job", checksig.ErrInvalid))
	}
	if unknown := req.flags &^ knownFlags; unknown != 0 {
		return fill(e, fmt.Errorf("%w: unknown request flags %#x", checksig.ErrInvalid, unknown))
	}
	r := checksig.Request{
		Kind:         checksig.Kind(req.kind),
		Workers:      int(req.workers),
		Algorithm:    checksig.Algorithm(req.algorithm),
		Strict:       req.flags&C.CHECKSIG_F_STRICT != 0,
		Tag:          req.flags&C.CHECKSIG_F_TAG != 0,
		Extra:        req.flags&C.CHECKSIG_F_EXTRA != 0,
		AllowOutside: req.flags&C.CHECKSIG_F_ALLOW_OUTSIDE != 0,
		ParseOnly:    req.flags&C.CHECKSIG_F_PARSE_ONLY != 0,
		AllowEmpty:   req.flags&C.CHECKSIG_F_ALLOW_EMPTY != 0,
		Defer:        req.flags&C.CHECKSIG_F_DEFER != 0,
		DeferMin:     int64(req.defer_min),
		WalkFlat:     req.flags&C.CHECKSIG_F_WALK_FLAT != 0,
		Resume:       checksig.ParseState{Line: int64(req.first_line), Form: checksig.Form(req.form)},
		Base64:       req.flags&C.CHECKSIG_F_BASE64 != 0,
	}
	if req.algorithm < 0 || req.algorithm > 255 {
		return fill(e, fmt.Errorf("%w %d", checksig.ErrUnknownAlgorithm, req.algorithm))
	}
	if req.family < 0 || req.family > 255 {
		return fill(e, fmt.Errorf("%w: family %d", checksig.ErrUnknownAlgorithm, req.family))
	}
	r.Family = checksig.Family(req.family)
	var err error
	if r.Root, err = goString(req.root, req.root_len, "root"); err != nil {
		return fill(e, err)
	}
	if r.Manifest, err = goString(req.manifest, req.manifest_len, "manifest"); err != nil {
		return fill(e, err)
	}
	if r.WalkDir, err = goString(req.walk_dir, req.walk_dir_len, "walk directory"); err != nil {
		return fill(e, err)
	}
	if req.flags&C.CHECKSIG_F_TEXT != 0 {
		text, err := view((*byte)(unsafe.Pointer(req.manifest_text)), int64(req.manifest_text_len), "manifest text")
		if err != nil {
			return fill(e, err)
		}
		// One copy: the job parses it after this call returns. Non-nil
		// even when empty: an empty text is an empty manifest.
		r.ManifestText = append(make([]byte, 0, len(text)), text...)
	} else if req.manifest_text != nil || req.manifest_text_len != 0 {
		return fill(e, fmt.Errorf("%w: manifest text without CHECKSIG_F_TEXT", checksig.ErrInvalid))
	}
	if req.n_paths < 0 || (req.n_paths > 0 && req.offsets == nil) {
		return fill(e, fmt.Errorf("%w: bad path list", checksig.ErrInvalid))
	}
	if req.flags&C.CHECKSIG_F_ENTRIES != 0 {
		// Views of the caller's arrays, valid during this call only:
		// checksig.Start validates and copies them before it returns.
		if r.Entries, err = entries(req); err != nil {
			return fill(e, err)
		}
	} else if req.entry_algorithms != nil || req.entry_digests != nil || req.entry_lines != nil || req.entry_width != 0 {
		return fill(e, fmt.Errorf("%w: entry fields without CHECKSIG_F_ENTRIES", checksig.ErrInvalid))
	} else if req.n_paths > 0 {
		offs := unsafe.Slice((*int64)(unsafe.Pointer(req.offsets)), int(req.n_paths)+1)
		blob := unsafe.Slice((*byte)(unsafe.Pointer(req.paths)), int(req.paths_len))
		r.Paths = make([]string, req.n_paths)
		for i := range r.Paths {
			lo, hi := offs[i], offs[i+1]
			if lo < 0 || hi < lo || hi > int64(len(blob)) {
				return fill(e, fmt.Errorf("%w: path offsets out of range", checksig.ErrInvalid))
			}
			p := string(blob[lo:hi])
			for k := 0; k < len(p); k++ {
				if p[k] == 0 {
					return fill(e, fmt.Errorf("%w: path %d contains a NUL byte", checksig.ErrInvalid, i))
				}
			}
			r.Paths[i] = p
		}
	}
	needRoot := r.Kind == checksig.KindMake || (r.Kind == checksig.KindVerify && (!r.ParseOnly || r.Extra))
	if needRoot && r.Root == "" {
		return fill(e, fmt.Errorf("%w: empty root directory", checksig.ErrInvalid))
	}
	j, err := checksig.Start(r)
	if err != nil {
		return fill(e, err)
	}
	jobsMu.Lock()
	nextJob++
	h := nextJob
	jobs[h] = j
	jobsMu.Unlock()
	*job = C.uint64_t(h)
	return C.CHECKSIG_OK
}

// knownFlags are the CHECKSIG_F_* bits this library reads.
const knownFlags = C.CHECKSIG_F_STRICT | C.CHECKSIG_F_TAG | C.CHECKSIG_F_EXTRA | C.CHECKSIG_F_ALLOW_OUTSIDE |
	C.CHECKSIG_F_ENTRIES | C.CHECKSIG_F_TEXT | C.CHECKSIG_F_PARSE_ONLY | C.CHECKSIG_F_ALLOW_EMPTY |
	C.CHECKSIG_F_BASE64 | C.CHECKSIG_F_DEFER | C.CHECKSIG_F_WALK_FLAT

// The header's CHECKSIG_MAX_LINE_LEN is the engine's MaxLineLen: a build
// fails here (a constant overflows uint) if they part.
const _ = uint(C.CHECKSIG_MAX_LINE_LEN-checksig.MaxLineLen) + uint(checksig.MaxLineLen-C.CHECKSIG_MAX_LINE_LEN)

// view is a caller-owned C buffer of n elements as a Go slice, for reading
// during the current call only; NULL is allowed for n == 0 only.
func view[T any](p *T, n int64, what string) ([]T, error) {
	if n < 0 || (p == nil && n > 0) {
		return nil, fmt.Errorf("%w: bad %s buffer", checksig.ErrInvalid, what)
	}
	return cslice(p, n), nil
}

// entries views a request's F_ENTRIES arrays. Only the lengths the header
// promises are read: the pointers' sizes follow from n_paths and
// entry_width, which must therefore be in range before anything is sliced.
func entries(req *C.checksig_request) (*checksig.Entries, error) {
	n, w := int64(req.n_paths), int64(req.entry_width)
	if w < 0 || w > checksig.MaxSize {
		return nil, fmt.Errorf("%w: digest width %d, want 0 to %d bytes", checksig.ErrInvalid, w, checksig.MaxSize)
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d entries, at most %d", checksig.ErrInvalid, n, math.MaxInt32)
	}
	var e checksig.Entries
	var err error
	if e.Names, err = view((*byte)(unsafe.Pointer(req.paths)), int64(req.paths_len), "names"); err != nil {
		return nil, err
	}
	if n > 0 {
		if e.Offsets, err = view((*int64)(unsafe.Pointer(req.offsets)), n+1, "offsets"); err != nil {
			return nil, err
		}
	}
	if e.Digests, err = view((*byte)(unsafe.Pointer(req.entry_digests)), n*w, "digests"); err != nil {
		return nil, err
	}
	e.Width = int(w)
	if req.entry_algorithms != nil {
		e.Algorithms = cslice((*checksig.Algorithm)(unsafe.Pointer(req.entry_algorithms)), n)
	}
	if req.entry_lines != nil {
		e.Lines = cslice((*int64)(unsafe.Pointer(req.entry_lines)), n)
	}
	return &e, nil
}

var errHandle = fmt.Errorf("%w: unknown job handle", checksig.ErrJobState)

//export checksig_job_poll
func checksig_job_poll(h C.uint64_t, timeoutMS C.int32_t, progress *C.int64_t, n C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	p := j.Poll(time.Duration(max(timeoutMS, 0)) * time.Millisecond)
	// Each counter by its name in checksig.h, never by position: the
	// header's CHECKSIG_P_* list is the one table (tests/test_native.py
	// checks that this block, the header and _native.PROGRESS_FIELDS agree).
	var vals [C.CHECKSIG_P_LEN]int64
	vals[C.CHECKSIG_P_PHASE] = int64(p.Phase)
	vals[C.CHECKSIG_P_FILES_DONE] = p.FilesDone
	vals[C.CHECKSIG_P_FILES_TOTAL] = p.FilesTotal
	vals[C.CHECKSIG_P_BYTES_DONE] = p.BytesDone
	vals[C.CHECKSIG_P_BYTES_TOTAL] = p.BytesTotal
	vals[C.CHECKSIG_P_ROWS] = p.Rows
	vals[C.CHECKSIG_P_DIGEST_WIDTH] = p.DigestWidth
	vals[C.CHECKSIG_P_PATHS_LEN] = p.PathsLen
	vals[C.CHECKSIG_P_WARNINGS] = p.Warnings
	vals[C.CHECKSIG_P_IO] = int64(p.IO)
	if progress != nil && n > 0 {
		out := unsafe.Slice((*int64)(unsafe.Pointer(progress)), int(n))
		copy(out, vals[:])
	}
	return C.CHECKSIG_OK
}

// cslice views a caller-owned C array as a Go slice. The memory is not Go's:
// the caller keeps it alive until the job is done or freed.
func cslice[T any](p *T, n int64) []T {
	if n == 0 {
		return []T{}
	}
	if p == nil {
		return nil
	}
	return unsafe.Slice(p, int(n))
}

//export checksig_job_attach
func checksig_job_attach(h C.uint64_t, c *C.checksig_columns, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	if c == nil || c.rows < 0 || c.digest_width < 0 || c.paths_len < 0 {
		return fill(e, fmt.Errorf("%w: bad columns", checksig.ErrInvalid))
	}
	n, w := int64(c.rows), int64(c.digest_width)
	cols := checksig.Columns{
		Status:      cslice((*uint8)(unsafe.Pointer(c.status)), n),
		Algorithm:   cslice((*uint8)(unsafe.Pointer(c.algorithm)), n),
		Errnum:      cslice((*int32)(unsafe.Pointer(c.errnum)), n),
		Size:        cslice((*int64)(unsafe.Pointer(c.size)), n),
		Line:        cslice((*int64)(unsafe.Pointer(c.line)), n),
		Expected:    cslice((*byte)(unsafe.Pointer(c.expected)), n*w),
		Actual:      cslice((*byte)(unsafe.Pointer(c.actual)), n*w),
		Width:       int(w),
		PathOffsets: cslice((*int64)(unsafe.Pointer(c.path_offsets)), n+1),
		Paths:       cslice((*byte)(unsafe.Pointer(c.paths)), int64(c.paths_len)),
	}
	if err := j.Attach(cols); err != nil {
		return fill(e, err)
	}
	return C.CHECKSIG_OK
}

//export checksig_job_cancel
func checksig_job_cancel(h C.uint64_t) (code C.int32_t) {
	defer guard(&code, nil)
	j := lookup(h)
	if j == nil {
		return C.CHECKSIG_E_HANDLE
	}
	j.Cancel()
	return C.CHECKSIG_OK
}

//export checksig_job_result
func checksig_job_result(h C.uint64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	if err := j.Result(); err != nil {
		return fill(e, err)
	}
	return C.CHECKSIG_OK
}

//export checksig_job_inference
func checksig_job_inference(h C.uint64_t, out *C.int64_t, n C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	if err := j.Result(); errors.Is(err, checksig.ErrJobState) {
		return fill(e, err)
	}
	inf := j.Inference()
	vals := [C.CHECKSIG_I_LEN]int64{
		int64(inf.Algorithm), int64(inf.Source), inf.Rows, inf.OK, inf.Mismatch, inf.Probed, int64(inf.Match),
	}
	if out != nil && n > 0 {
		copy(unsafe.Slice((*int64)(unsafe.Pointer(out)), int(n)), vals[:])
	}
	return C.CHECKSIG_OK
}

//export checksig_job_warnings
func checksig_job_warnings(h C.uint64_t, out **C.uint8_t, outLen *C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	if out == nil || outLen == nil {
		return fill(e, fmt.Errorf("%w: NULL output", checksig.ErrInvalid))
	}
	var buf []byte
	for _, w := range j.Warnings() {
		buf = strconv.AppendInt(buf, w.Line, 10)
		buf = append(buf, '\t')
		buf = append(buf, w.Msg...)
		buf = append(buf, '\n')
	}
	*out, *outLen = nil, 0
	if len(buf) > 0 {
		*out = (*C.uint8_t)(C.CBytes(buf))
		*outLen = C.int64_t(len(buf))
	}
	return C.CHECKSIG_OK
}

//export checksig_job_parse_state
func checksig_job_parse_state(h C.uint64_t, nextLine *C.int64_t, form *C.int32_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	if nextLine == nil || form == nil {
		return fill(e, fmt.Errorf("%w: NULL output", checksig.ErrInvalid))
	}
	st, err := j.ParseState()
	if err != nil {
		return fill(e, err)
	}
	*nextLine, *form = C.int64_t(max(st.Line, 1)), C.int32_t(st.Form)
	return C.CHECKSIG_OK
}

//export checksig_job_free
func checksig_job_free(h C.uint64_t) (code C.int32_t) {
	defer guard(&code, nil)
	jobsMu.Lock()
	j := jobs[uint64(h)]
	delete(jobs, uint64(h))
	jobsMu.Unlock()
	if j == nil {
		return C.CHECKSIG_E_HANDLE
	}
	j.Close()
	return C.CHECKSIG_OK
}

//export checksig_engine_info
func checksig_engine_info(out **C.uint8_t, outLen *C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	if out == nil || outLen == nil {
		return fill(e, fmt.Errorf("%w: NULL output", checksig.ErrInvalid))
	}
	buf, err := json.Marshal(checksig.CurrentEngineInfo())
	if err != nil {
		return fill(e, err)
	}
	*out = (*C.uint8_t)(C.CBytes(buf))
	*outLen = C.int64_t(len(buf))
	return C.CHECKSIG_OK
}

//export checksig_debug_counters
func checksig_debug_counters(out *C.int64_t, n C.int64_t) (code C.int32_t) {
	defer guard(&code, nil)
	jobsMu.Lock()
	handles := int64(len(jobs))
	jobsMu.Unlock()
	live, files, goroutines := checksig.DebugCounters()
	vals := []int64{handles, live, files, goroutines}
	if out != nil && n > 0 {
		copy(unsafe.Slice((*int64)(unsafe.Pointer(out)), int(n)), vals)
	}
	return C.CHECKSIG_OK
}
