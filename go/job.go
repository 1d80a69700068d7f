package checksig

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// The job machinery every kind of job shares (verify, digest, make): Start
// validates a Request and enumerates its rows on a goroutine of the job;
// the job waits in PhaseReady until Attach hands it the result columns,
// then its workers (plan.go) open and hash the rows and write each row's
// verdict (verify.go) into the columns; Poll reads the counters, Cancel
// and Close stop it. Every goroutine a job starts goes through goSafe, so
// a panic becomes the job's failure instead of killing the host process.

// Phase is a job's stage; values are part of the C ABI (CHECKSIG_PH_*).
type Phase int64

// Job phases.
const (
	PhaseEnumerating Phase = 1 // parsing the manifest or walking the root
	PhaseReady       Phase = 2 // sizes known, waiting for Attach
	PhaseRunning     Phase = 3 // workers hashing
	PhaseDone        Phase = 4 // finished: Result says how
)

// Progress is a snapshot of a job's counters.
type Progress struct {
	Phase       Phase
	FilesDone   int64
	FilesTotal  int64
	BytesDone   int64
	BytesTotal  int64 // -1 until known
	Rows        int64 // valid from PhaseReady
	DigestWidth int64 // valid from PhaseReady
	PathsLen    int64 // valid from PhaseReady
	Warnings    int64
	// IO holds the IO* bits of the ways the job's big files were read so
	// far (files under mmapMin are always read into a buffer): 0 when it
	// hashed none.
	IO uint32
}

// Columns receive a job's results, one element per row. They may live in
// memory the engine does not own (numpy arrays, through the C ABI); the
// engine writes to them only between Attach and the end of the job.
type Columns struct {
	Status      []uint8
	Algorithm   []uint8
	Errnum      []int32
	Size        []int64
	Line        []int64
	Expected    []byte // Rows*Width
	Actual      []byte // Rows*Width
	Width       int
	PathOffsets []int64 // Rows+1
	Paths       []byte
}

// NewColumns allocates columns in Go memory for the job's shape.
func NewColumns(p Progress) Columns {
	n, w := int(p.Rows), int(p.DigestWidth)
	return Columns{
		Status: make([]uint8, n), Algorithm: make([]uint8, n), Errnum: make([]int32, n),
		Size: make([]int64, n), Line: make([]int64, n),
		Expected: make([]byte, n*w), Actual: make([]byte, n*w), Width: w,
		PathOffsets: make([]int64, n+1), Paths: make([]byte, p.PathsLen),
	}
}

// Warning is a malformed manifest line that was skipped.
type Warning struct {
	Line int64
	Msg  string
}

// maxWarnings bounds the warnings a job keeps; more are only counted.
const maxWarnings = 1000

// row is what the engine keeps per entry: 32 bytes, with the name in the
// job's name arena, so a manifest of millions of lines costs little more
// than its names.
type row struct {
	off    int64 // where the name is: in the arena until Attach, then in the path column
	n      uint32
	alg    Algorithm
	preset Status // StatusExtra, StatusNotChecked: rows that are listed, not hashed
	// inferred: the algorithm came from the manifest's name or the
	// digest's length, not from a tag or the caller (see Inference)
	inferred bool
	line     int64
	size     int64 // from the walk (make, extra); -1 unknown
}

// Job is one run of the engine. Start it, Poll it, Attach columns when it
// is ready, and Close it. All methods are safe for concurrent use.
type Job struct {
	req  Request
	open fileOpener

	mu       sync.Mutex
	phase    Phase
	changed  chan struct{} // closed and replaced at every phase change
	err      error
	cols     Columns
	attached bool
	warnings []Warning

	rows     []row
	given    bool       // rows came from Request.Entries, copied by Start
	state    ParseState // after the manifest's last line (ParseState)
	names    arena      // the rows' names (Attach copies them into the path column)
	toHash   int64      // rows with work to do
	width    int
	pathsLen int64
	digests  []byte // expected digests, rows*width, until Attach copies them

	cancelled    atomic.Bool
	filesDone    atomic.Int64
	bytesDone    atomic.Int64
	bytesTotal   atomic.Int64
	nwarnings    atomic.Int64
	next         atomic.Int64   // the scan's next row
	scanned      sync.WaitGroup // workers still scanning
	queued       []queuedFile   // big files met by the scan, then sorted largest first
	scannedBytes int64          // bytes of every file the scan opened
	sortQueue    sync.Once
	nextQueued   atomic.Int64
	ioUsed       atomic.Uint32  // IO* bits: how big files were read
	wg           sync.WaitGroup // every goroutine the job started
	running      sync.WaitGroup // the workers
	lowGC        bool           // holds lowerGC until the job is done (under mu)

	// The workers' view of the rows (see rowsView), and whether the
	// columns are there to write to. A job whose workers start while the
	// manifest is read (early, parse.go) publishes rows as it parses them;
	// any other job publishes them all before its workers start.
	early     bool
	expect    int64 // the files the workers expect to hash (toHash, or the parse's bound)
	chunk     int   // scanChunk, fixed when the workers start
	pubMu     sync.Mutex
	pubCond   sync.Cond // on pubMu: rows published, columns attached, or the job cancelled
	pub       rowsView
	colsReady atomic.Bool
	untagged  Source    // verify: what chose the untagged lines' algorithm
	inference Inference // verify: set by finish (under mu)
}

// Debug counters, read by tests through the C ABI to prove nothing leaks.
var (
	liveJobs  atomic.Int64
	openFiles stripedCounter // changed twice per file by every worker
)

// DebugCounters returns the live jobs, the files the engine holds open and
// the goroutines of the process.
func DebugCounters() (jobs, files, goroutines int64) {
	return liveJobs.Load(), openFiles.load(), int64(runtime.NumGoroutine())
}

// stripedCounter is a counter that many goroutines change often and few
// read: each changes its own stripe (a cache line), so no line travels
// between cores at every change. load sums the stripes. A goroutine that
// adds and then subtracts uses one stripe for both, so no stripe, and no
// sum, is ever negative.
type stripedCounter struct {
	stripes [8]struct {
		n atomic.Int64
		_ [56]byte
	}
}

func (c *stripedCounter) add(stripe int, d int64) {
	c.stripes[uint(stripe)%uint(len(c.stripes))].n.Add(d)
}

func (c *stripedCounter) load() int64 {
	var sum int64
	for i := range c.stripes {
		sum += c.stripes[i].n.Load()
	}
	return sum
}

// Start validates req and starts a job. The job enumerates its work in the
// background; Poll reports when it is ready for Attach.
func Start(req Request) (*Job, error) {
	switch req.Kind {
	case KindVerify:
		if req.Algorithm != None && !req.Algorithm.Valid() {
			return nil, ErrUnknownAlgorithm
		}
		if req.Family > FamilyBLAKE2b || req.Family != FamilyNone && req.Algorithm != None {
			return nil, fmt.Errorf("%w: family %d with algorithm %s (one or the other)", ErrInvalid, req.Family, req.Algorithm)
		}
	case KindDigest, KindMake:
		if !req.Algorithm.Valid() {
			return nil, ErrUnknownAlgorithm
		}
		if req.Kind == KindMake && req.Tag && req.Algorithm.Tag() == "" {
			return nil, fmt.Errorf("%w: no tool writes %s in tag lines: write untagged lines", ErrInvalid, req.Algorithm)
		}
	default:
		return nil, fmt.Errorf("%w: unknown job kind %d", ErrInvalid, req.Kind)
	}
	if err := checkInputs(&req); err != nil {
		return nil, err
	}
	if req.Workers < 0 {
		return nil, fmt.Errorf("%w: workers must be >= 0, got %d", ErrInvalid, req.Workers)
	}
	req.Workers = workersFor(req.Workers)
	j := &Job{req: req, phase: PhaseEnumerating, changed: make(chan struct{}), inference: Inference{Probed: -1}}
	j.pubCond.L = &j.pubMu
	j.bytesTotal.Store(-1)
	if req.Entries != nil {
		// Copied now: the caller's slices (C memory, through the C ABI) are
		// not the job's past Start.
		if err := j.takeEntries(req.Entries, req.Algorithm); err != nil {
			return nil, err
		}
		j.req.Entries = nil
	}
	var err error
	if j.open, err = openerFor(&req); err != nil {
		return nil, err
	}
	if opensslMode != 0 {
		findOpenSSL() // a libcrypto loaded since the last job (hashimpl.go)
	}
	liveJobs.Add(1)
	j.goSafe(j.enumerate, nil)
	return j, nil
}

// goSafe runs f in a goroutine tracked by the job, turning a panic into the
// job's failure: a panic must never reach the process hosting the engine.
// then, if not nil, runs after f and after the failure is recorded, so that
// whoever waits for it sees the job failed.
func (j *Job) goSafe(f func() error, then func()) {
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		if then != nil {
			defer then()
		}
		defer func() {
			if r := recover(); r != nil {
				pe, ok := r.(*PanicError)
				if !ok {
					pe = &PanicError{Value: r, Stack: debug.Stack()}
				}
				j.fail(pe)
			}
		}()
		if err := f(); err != nil {
			j.fail(err)
		}
	}()
}

func (j *Job) setPhaseLocked(p Phase) {
	j.phase = p
	close(j.changed)
	j.changed = make(chan struct{})
	if p == PhaseDone && j.lowGC {
		j.lowGC = false
		restoreGC()
	}
}

// fail ends the job with err unless it already ended.
func (j *Job) fail(err error) {
	j.cancelled.Store(true) // stop the other workers
	j.wake()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = err
	}
	if j.phase != PhaseDone && (j.phase != PhaseRunning) {
		// Enumeration failed: nothing will ever be attached.
		j.setPhaseLocked(PhaseDone)
	}
}

func (j *Job) warn(w Warning) {
	j.nwarnings.Add(1)
	j.mu.Lock()
	if len(j.warnings) < maxWarnings {
		j.warnings = append(j.warnings, w)
	}
	j.mu.Unlock()
}

// enumerate parses the manifest, takes the path list or walks the root,
// then moves the job to PhaseReady.
func (j *Job) enumerate() error {
	var err error
	switch j.req.Kind {
	case KindVerify:
		if !j.given {
			err = j.parseManifest()
		}
		if err == nil && j.req.Extra {
			err = j.addExtra()
		}
	case KindDigest:
		j.width = j.req.Algorithm.Size()
		j.rows = make([]row, 0, len(j.req.Paths))
		for _, p := range j.req.Paths {
			addRow(j, p, row{alg: j.req.Algorithm, size: -1})
		}
	case KindMake:
		err = j.walk()
	}
	if err != nil {
		return err
	}
	if j.cancelled.Load() {
		return ErrCancelled
	}
	if len(j.rows) >= bigJob {
		j.mu.Lock()
		if j.phase != PhaseDone && !j.lowGC {
			j.lowGC = true
			lowerGC()
		}
		j.mu.Unlock()
	}
	var pathsLen int64
	for _, r := range j.rows {
		pathsLen += int64(r.n)
		if r.preset == StatusPending && !j.req.ParseOnly {
			j.toHash++
		}
	}
	if j.req.ParseOnly {
		j.bytesTotal.Store(0)
	}
	if len(j.rows) >= bigJob {
		// Give back whatever enumeration left behind (a walk's strings, a
		// path list's copies) before the caller allocates its columns, to
		// keep the peak low.
		debug.FreeOSMemory()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.pathsLen = pathsLen
		j.setPhaseLocked(PhaseReady)
	}
	return nil
}

// addRow appends to j a row named name, copied into the name arena: bytes
// from the manifest reader, strings from a walk or a path list.
func addRow[Name string | []byte](j *Job, name Name, r row) {
	var dst []byte
	dst, r.off = j.names.alloc(len(name))
	r.n = uint32(copy(dst, name))
	j.rows = append(j.rows, r)
}

// nameOf returns r's name as a string.
func (j *Job) nameOf(r *row) string { return string(j.nameBytes(r)) }

// nameBytes returns r's name, from the arena. Workers read names through
// their rowsView instead.
func (j *Job) nameBytes(r *row) []byte { return j.names.get(r.off, r.n) }

// Poll waits up to timeout for the phase to change, then returns the
// counters. A zero timeout returns at once.
func (j *Job) Poll(timeout time.Duration) Progress {
	j.mu.Lock()
	ch, ph, attached := j.changed, j.phase, j.attached
	j.mu.Unlock()
	// Nothing changes in PhaseReady until Attach (the caller's own move), so
	// waiting there would only sleep.
	if timeout > 0 && ph != PhaseDone && !(ph == PhaseReady && !attached) {
		t := time.NewTimer(timeout)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	p := Progress{
		Phase:      j.phase,
		FilesDone:  j.filesDone.Load(),
		FilesTotal: -1,
		BytesDone:  j.bytesDone.Load(),
		BytesTotal: j.bytesTotal.Load(),
		Warnings:   j.nwarnings.Load(),
		IO:         j.ioUsed.Load(),
	}
	if j.phase == PhaseEnumerating {
		// The enumerating goroutine owns rows and friends until it moves the
		// phase on (under mu): read none of them before.
		p.BytesTotal = -1
		return p
	}
	p.FilesTotal = j.toHash
	if j.err == nil || j.attached {
		p.Rows = int64(len(j.rows))
		p.DigestWidth = int64(j.width)
		p.PathsLen = j.pathsLen
	}
	return p
}

// Attach hands the job its result columns, shaped as Poll reported in
// PhaseReady, and starts the workers (or, for a job whose workers started
// while it parsed, lets them write).
func (j *Job) Attach(c Columns) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phase != PhaseReady || j.attached {
		return ErrJobState
	}
	n, w, pathsLen := len(j.rows), j.width, int(j.pathsLen)
	if len(c.Status) != n || len(c.Algorithm) != n || len(c.Errnum) != n || len(c.Size) != n ||
		len(c.Line) != n || c.Width != w || len(c.Expected) != n*w || len(c.Actual) != n*w ||
		len(c.PathOffsets) != n+1 || len(c.Paths) != pathsLen {
		return fmt.Errorf("%w: columns do not match the job's shape (%d rows, width %d, %d path bytes)", ErrInvalid, n, w, pathsLen)
	}
	// Columns that are mostly zero (status, errnum, actual) are written
	// only where they are not zero already: see clearLazily.
	var off int64
	for i, r := range j.rows {
		c.PathOffsets[i] = off
		off += int64(copy(c.Paths[off:], j.names.get(r.off, r.n)))
		if c.Status[i] != uint8(r.preset) {
			c.Status[i] = uint8(r.preset)
		}
		c.Algorithm[i] = uint8(r.alg)
		if c.Errnum[i] != 0 {
			c.Errnum[i] = 0
		}
		c.Size[i] = r.size
		c.Line[i] = r.line
	}
	c.PathOffsets[n] = off
	clearLazily(c.Actual)
	if j.digests != nil {
		copy(c.Expected, j.digests)
		j.digests = nil
	} else {
		clearLazily(c.Expected)
	}
	j.cols, j.attached = c, true
	j.setPhaseLocked(PhaseRunning)
	if !j.early && !j.req.ParseOnly { // a parse-only job's columns are filled: done
		j.expect = j.toHash
		j.publish(j.rows, true)
		j.startWorkers(min(j.req.Workers, max(n, 1)), len(j.rows))
	}
	j.colsReady.Store(true) // the workers may write: after the columns are filled
	j.wake()
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		if n >= bigJob {
			// The expected digests now live in the columns: give their
			// memory back while the workers start, not at the next
			// collection, which at the heap's size before Attach would let
			// the workers' garbage pile up to that size again.
			debug.FreeOSMemory()
		}
		j.running.Wait()
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = &PanicError{Value: r, Stack: debug.Stack()}
				}
			}()
			err = j.finish()
		}()
		j.mu.Lock()
		defer j.mu.Unlock()
		if j.err == nil {
			j.err = err
		}
		if j.err == nil && j.cancelled.Load() {
			j.err = ErrCancelled
		}
		j.setPhaseLocked(PhaseDone)
	}()
	return nil
}

// startWorkers starts the job's workers, for rows rows (or, while the
// manifest is read, as many as it may have).
func (j *Job) startWorkers(workers, rows int) {
	j.chunk = min(max(rows/(8*j.req.Workers), 1), 64)
	keep, plain := j.open.plainFDs()
	private := plain && j.expect >= privateTableMin && tablesWorthTaking()
	j.running.Add(workers)
	j.scanned.Add(workers)
	for w := range workers {
		j.goSafe(func() error { j.work(w, private, keep); return nil }, j.running.Done)
	}
}

// rowsView is what a worker reads of the job's rows: those published so
// far, with the name arena's chunks they point into. The parse appends to
// j.rows and j.names while workers read, so a worker never reads those
// fields themselves, only a view: rows below its length never change, nor
// do the chunks' bytes they name.
type rowsView struct {
	rows   []row
	chunks [][]byte
	done   bool // every row is published
}

// name returns r's name.
func (v *rowsView) name(r *row) []byte { return chunkName(v.chunks, r.off, r.n) }

// publish makes rows (and the names written so far) visible to the workers.
func (j *Job) publish(rows []row, done bool) {
	j.pubMu.Lock()
	j.pub = rowsView{rows: rows, chunks: j.names.chunks, done: done}
	j.pubCond.Broadcast()
	j.pubMu.Unlock()
}

// wake wakes the workers waiting for rows or for the columns: something
// they wait for changed, or the job was cancelled.
func (j *Job) wake() {
	j.pubMu.Lock()
	j.pubCond.Broadcast()
	j.pubMu.Unlock()
}

// waitRows updates v until it holds n rows, or all there are; it returns
// false if the job was cancelled.
func (j *Job) waitRows(v *rowsView, n int) bool {
	if len(v.rows) >= n || v.done {
		return true
	}
	j.pubMu.Lock()
	defer j.pubMu.Unlock()
	for {
		*v = j.pub
		if j.cancelled.Load() {
			return false
		}
		if len(v.rows) >= n || v.done {
			return true
		}
		j.pubCond.Wait()
	}
}

// waitCols waits until the columns are attached; it returns false if the
// job was cancelled first.
func (j *Job) waitCols() bool {
	if j.colsReady.Load() {
		return true
	}
	j.pubMu.Lock()
	defer j.pubMu.Unlock()
	for !j.colsReady.Load() {
		if j.cancelled.Load() {
			return false
		}
		j.pubCond.Wait()
	}
	return true
}

// finish runs after the workers: a make job writes its manifest, a verify
// job looks at the algorithms it inferred (infer.go).
func (j *Job) finish() error {
	if j.cancelled.Load() {
		return nil
	}
	switch j.req.Kind {
	case KindMake:
		return j.writeManifest()
	case KindVerify:
		j.infer()
	}
	return nil
}

// Cancel asks the job to stop. It returns at once; Poll reports PhaseDone
// when the job has stopped. A job still waiting for Attach stops at once,
// or, where its workers started while the manifest was read, as soon as
// they have (each ends at its next file, closing what it holds).
func (j *Job) Cancel() {
	j.cancelled.Store(true)
	j.wake()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phase == PhaseReady && !j.attached {
		if j.err == nil {
			j.err = ErrCancelled
		}
		if !j.early {
			j.setPhaseLocked(PhaseDone)
			return
		}
		go func() {
			j.running.Wait()
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.phase != PhaseDone {
				j.setPhaseLocked(PhaseDone)
			}
		}()
	}
}

// Result returns nil if the job finished its work, or why it did not. It
// returns ErrJobState before PhaseDone.
func (j *Job) Result() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phase != PhaseDone {
		return ErrJobState
	}
	return j.err
}

// Warnings returns the malformed lines skipped so far (at most 1000; Poll
// counts them all).
func (j *Job) Warnings() []Warning {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Warning(nil), j.warnings...)
}

// ParseState returns the state the parse of the job's manifest ended in:
// the Resume of the job for the stream's next chunk. It returns
// ErrJobState while the job is still enumerating, and the zero value for a
// job that parsed no manifest.
func (j *Job) ParseState() (ParseState, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phase == PhaseEnumerating {
		return ParseState{}, ErrJobState
	}
	return j.state, nil
}

// Close cancels the job and waits until none of its goroutines runs, so no
// file stays open and the columns are no longer written. It is safe to
// call more than once.
func (j *Job) Close() {
	j.cancelled.Store(true)
	j.wake()
	j.wg.Wait()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.open != nil {
		j.open.close()
		j.open = nil
		liveJobs.Add(-1)
	}
	if j.phase != PhaseDone {
		if j.err == nil {
			j.err = ErrCancelled
		}
		j.setPhaseLocked(PhaseDone)
	}
	j.cols = Columns{}
}

// Run starts a job, attaches Go-allocated columns and waits for the end:
// the simple way to use the engine from Go.
func Run(req Request) (Columns, []Warning, error) {
	j, err := Start(req)
	if err != nil {
		return Columns{}, nil, err
	}
	defer j.Close()
	var cols Columns
	for {
		p := j.Poll(time.Second)
		switch p.Phase {
		case PhaseReady:
			cols = NewColumns(p)
			if err := j.Attach(cols); err != nil {
				return Columns{}, nil, err
			}
		case PhaseDone:
			return cols, j.Warnings(), j.Result()
		}
	}
}
