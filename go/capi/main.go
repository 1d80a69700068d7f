// Command capi is the C ABI of the checksig engine, built with
//
//	go build -buildmode=c-shared -o _checksig.so ./capi
//
// checksig.h beside this file is the contract; this file only converts
// between C and Go. Rules kept by every export: C types only; a Go panic is
// recovered and reported as CHECKSIG_E_PANIC, because an unrecovered panic
// would kill the Python process (often a notebook kernel) hosting us; memory
// Go hands out is malloc'd and freed with checksig_free; Go never keeps a
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
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	checksig "github.com/checksig/checksig/go"
)

func main() {}

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

// goBytes copies n bytes at p into a Go string, refusing embedded NULs: a
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
func checksig_file_digest(path *C.uint8_t, pathLen C.int64_t, alg C.int32_t,
	out *C.uint8_t, outCap C.int64_t, size *C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	name, err := goString(path, pathLen, "path")
	if err != nil {
		return fill(e, err)
	}
	a := checksig.Algorithm(alg)
	if !a.Valid() {
		return fill(e, fmt.Errorf("%w %d", checksig.ErrUnknownAlgorithm, alg))
	}
	if out == nil || int(outCap) < a.Size() {
		return fill(e, fmt.Errorf("%w: output buffer too small", checksig.ErrInvalid))
	}
	n, err := checksig.FileDigest(name, a, unsafe.Slice((*byte)(unsafe.Pointer(out)), int(outCap)))
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
	r := checksig.Request{
		Kind:         checksig.Kind(req.kind),
		Workers:      int(req.workers),
		Algorithm:    checksig.Algorithm(req.algorithm),
		Strict:       req.flags&C.CHECKSIG_F_STRICT != 0,
		Tag:          req.flags&C.CHECKSIG_F_TAG != 0,
		Extra:        req.flags&C.CHECKSIG_F_EXTRA != 0,
		AllowOutside: req.flags&C.CHECKSIG_F_ALLOW_OUTSIDE != 0,
	}
	if req.algorithm < 0 || req.algorithm > 255 {
		return fill(e, fmt.Errorf("%w %d", checksig.ErrUnknownAlgorithm, req.algorithm))
	}
	var err error
	if r.Root, err = goString(req.root, req.root_len, "root"); err != nil {
		return fill(e, err)
	}
	if r.Manifest, err = goString(req.manifest, req.manifest_len, "manifest"); err != nil {
		return fill(e, err)
	}
	if req.n_paths < 0 || (req.n_paths > 0 && req.offsets == nil) {
		return fill(e, fmt.Errorf("%w: bad path list", checksig.ErrInvalid))
	}
	if req.n_paths > 0 {
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
	if (r.Kind == checksig.KindVerify || r.Kind == checksig.KindMake) && r.Root == "" {
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

var errHandle = fmt.Errorf("%w: unknown job handle", checksig.ErrJobState)

//export checksig_job_poll
func checksig_job_poll(h C.uint64_t, timeoutMS C.int32_t, progress *C.int64_t, n C.int64_t, e *C.checksig_error) (code C.int32_t) {
	defer guard(&code, e)
	j := lookup(h)
	if j == nil {
		return fill(e, errHandle)
	}
	p := j.Poll(time.Duration(max(timeoutMS, 0)) * time.Millisecond)
	vals := [C.CHECKSIG_P_LEN]int64{
		int64(p.Phase), p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal,
		p.Rows, p.DigestWidth, p.PathsLen, p.Warnings, int64(p.IO),
	}
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
