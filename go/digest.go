package checksig

import (
	"errors"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// bufSize is the buffer small files (under mmapMin) are read into, in
// reads of up to bufSize: a file under bufSize in one read(2) of its size
// plus one byte (sequential). Big files are read readSize bytes at a time
// (io.go).
var bufSize int64 = 256 << 10

// hasher hashes files with one reusable buffer and one hash per algorithm.
// It is not safe for concurrent use: each worker owns one.
type hasher struct {
	buf    []byte
	bigBuf []byte        // readSize bytes, for big files, made at the first
	sum    [MaxSize]byte // the last file's digest
	hashes [numAlgorithms]hash.Hash
	ssl    [numAlgorithms]hash.Hash // OpenSSL's, for big files (hashimpl.go)
	// progress and files, when not nil, count the bytes hashed and the files
	// done. The worker counts in pending* and adds them every progressStep
	// bytes and at flush: a shared counter added to for every small file
	// sends its cache line from core to core each time, and slowed the reads
	// of the job's flags beside it (with openFiles, striped for that reason:
	// 6-7% of the time on many tiny files, measured on 2 cores).
	progress, files            *atomic.Int64
	pendingBytes, pendingFiles int64
	// cancelled, when not nil, is polled between chunks.
	cancelled *atomic.Bool
	// slot is this hasher's stripe of openFiles: its worker's number.
	slot int
	// io, when not nil, collects the paths the job's big files took
	// (io.go); ioSeen is what this hasher has already added to it.
	io     *atomic.Uint32
	ioSeen ioPath
	turn   uint32 // alternates the paths while the process calibrates
	timed  timing // the last calibration window, until it is paired
	// ready, when not nil, says whether the job's columns are attached:
	// until then the counts stay pending (the job is still enumerating)
	// and verdicts are held (writeRow).
	ready    *atomic.Bool
	held     []heldRow
	heldSums []byte
}

// progressStep is how many bytes a worker hashes before it publishes its
// counts: progress stays smooth for a big file, a small file costs no
// shared write.
const progressStep = 1 << 20

func newHasher() *hasher { return &hasher{buf: make([]byte, bufSize)} }

// hasherPool keeps hashers (and their buffers) between jobs and FileDigest calls.
var hasherPool = sync.Pool{New: func() any { return newHasher() }}

// advance counts n bytes hashed, for a job's worker only: outside a job
// (progress nil) nothing is pending, so a pooled hasher brings no count
// into the next job that takes it.
func (h *hasher) advance(n int64) {
	if h.progress == nil {
		return
	}
	h.pendingBytes += n
	if h.pendingBytes >= progressStep {
		h.flush()
	}
}

// flush publishes the counts not yet added to progress and files.
func (h *hasher) flush() {
	if h.ready != nil && !h.ready.Load() {
		return
	}
	if h.progress != nil && h.pendingBytes != 0 {
		h.progress.Add(h.pendingBytes)
	}
	if h.files != nil && h.pendingFiles != 0 {
		h.files.Add(h.pendingFiles)
	}
	h.pendingBytes, h.pendingFiles = 0, 0
}

// errChanged reports a file whose size changed while it was hashed: the
// digest describes no version of the file that ever existed whole.
var errChanged = errors.New("checksig: file changed size while it was read")

// hashFile hashes f, a regular file of the given size (-1 unknown), with a
// into out, which must hold a.Size() bytes, and returns the number of bytes
// hashed. Big files are hashed window by window, each mapped or read as
// io.go chooses, by Go's code or OpenSSL as hashimpl.go chooses; others are
// read into the hasher's buffer and hashed by Go's code.
func (h *hasher) hashFile(f io.Reader, size int64, a Algorithm, out []byte) (int64, error) {
	ff, big := f.(fder)
	big = big && size >= mmapMin
	var d hash.Hash
	if big && opensslMode != 0 && useOpenSSL(a, size >= readAheadMin && spareCPU()) {
		d = h.sslHash(a) // nil if it cannot after all
	}
	ssl := d != nil
	if !ssl {
		d = h.goHash(a)
	}
	if sd, ok := d.(sizedHash); ok { // git-sha1's header, BLAKE3's tree: they need the size first
		if err := sd.begin(size); err != nil {
			return 0, err
		}
	}
	var n int64
	var err error
	if big {
		n, err = h.hashBig(int(ff.Fd()), size, a, d, ssl)
	} else {
		n, err = h.sequential(f, size, d, 0, nil)
	}
	if err != nil {
		return n, err
	}
	sum(d, out)
	return n, nil
}

// hashRead hashes a small file (under mmapMin) of the given size with a
// into out, as hashFile does, once a first read of size+1 bytes, made
// elsewhere (io_uring, uring_scan_linux.go), has returned got: the rest, if
// any, is read from f.
func (h *hasher) hashRead(f io.Reader, size int64, a Algorithm, out, got []byte) (int64, error) {
	d := h.goHash(a)
	if sd, ok := d.(sizedHash); ok {
		if err := sd.begin(size); err != nil {
			return 0, err
		}
	}
	n, err := h.sequential(f, size, d, int(size)+1, got)
	if err != nil {
		return n, err
	}
	sum(d, out)
	return n, nil
}

// sequential reads f to its end into h.buf and hashes what it reads. When
// the size is known, a read that comes back short exactly at that size is
// taken as the end of the file, which spares small files the read(2) that
// would only return EOF. A file that grew is read on to its end, and the
// caller, seeing more bytes than the size, reports it changed. With want
// above 0, the first read, of want bytes, was made by the caller and
// returned got.
func (h *hasher) sequential(f io.Reader, size int64, d hash.Hash, want int, got []byte) (int64, error) {
	var n int64
	if want > 0 {
		if len(got) == 0 {
			return 0, nil // the end, as Read's io.EOF below
		}
		d.Write(got)
		n = int64(len(got))
		h.advance(n)
		if len(got) < want && n == size {
			return n, nil
		}
	}
	for {
		if h.cancelled != nil && h.cancelled.Load() {
			return n, ErrCancelled
		}
		want := h.buf
		if size >= 0 && n <= size && size-n < int64(len(want)) {
			// One byte more than should be left: a full answer means the
			// file grew, a short one at the size means the end.
			want = want[:size-n+1]
		}
		m, err := f.Read(want)
		if m > 0 {
			d.Write(want[:m])
			n += int64(m)
			h.advance(int64(m))
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if m < len(want) && n == size {
			return n, nil
		}
	}
}

// FileDigest hashes the file at path with a into out and returns the
// number of bytes hashed. out is a.Size() bytes long, or for BLAKE3 any
// positive length: its extendable output, the first 32 bytes of which are
// the usual digest (b3sum -l). The path is used as given, without
// confinement. Directories, FIFOs and devices are refused without being
// read.
func FileDigest(path string, a Algorithm, out []byte) (int64, error) {
	if !a.Valid() {
		return 0, ErrUnknownAlgorithm
	}
	if !validLength(a, len(out)) {
		return 0, ErrInvalid
	}
	f, size, err := openPlain(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := hasherPool.Get().(*hasher)
	defer hasherPool.Put(h)
	n, err := h.hashFile(f, size, a, out)
	if err == nil && n != size {
		err = errChanged
	}
	if errors.Is(err, errChanged) {
		// The digest would be of no version of the file: refuse it.
		return n, &os.PathError{Op: "read", Path: path, Err: errChanged}
	}
	return n, err
}
