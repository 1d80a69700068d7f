package checksig

import (
	"cmp"
	"slices"
)

// The workers' plan. Sizing every file before hashing (so that progress has
// a byte total and the biggest files start first) would cost a stat per
// file on top of the open: for many small files a sixth of the work
// (measured, when the engine did so). Instead the workers scan the rows in
// manifest order, a chunk at a time, and open each one: a file under
// queueMin is hashed there and then (it takes at most a millisecond, so no
// tail can come of it); a bigger one is closed and queued with the size the
// open found, and opened again when its turn comes (kept open, a manifest
// of many big files would hold a descriptor for each until the scan ends).
// When every worker has finished scanning, the queue is sorted largest
// first and the workers hash it, so the biggest files never start last and
// leave one core working alone at the end. The byte total is known once
// the scan is over.

// queueMin is the size from which the scan queues a file instead of hashing
// it at once. A variable so tests can queue every file.
var queueMin int64 = 1 << 20

// privateTableMin is the number of files to hash from which a job's workers
// take descriptor tables of their own where they can (fdtable_linux.go):
// below it, the thread each one then costs (created for it, ended with it)
// is not worth it. A variable for tests.
var privateTableMin int64 = 4096

// uringMin is the number of files to hash from which a job's workers scan
// in batches through io_uring, where the kernel allows it. Only a worker
// that took a descriptor table of its own makes a ring (uring_scan_linux.go
// says why), so the threshold as shipped is privateTableMin's, and uringMin
// is 0: every such worker. CHECKSIG_TUNE's uring_min=1T turns rings off
// (benchmarks/ab.py's "uring"); a variable for tests too.
var uringMin int64 = 0

type queuedFile struct {
	row  int32
	size int64
}

// work scans rows, then hashes queued files, until none is left or the job
// is cancelled. worker numbers the workers of the job from 0; with private,
// the worker first takes a descriptor table of its own, keeping keep.
//
// The scan claims j.chunk consecutive rows at a time (startWorkers sizes
// it: fewer claims on the shared counter, and neighbours in a manifest are
// usually neighbours on disk; short lists take smaller chunks, so that
// every worker gets a share of a few dozen medium files), waiting for the
// parse to publish them where it is still reading the manifest.
func (j *Job) work(worker int, private bool, keep int) {
	own := private && privateTable(keep)
	busy.Add(1)
	defer busy.Add(-1)
	h := hasherPool.Get().(*hasher)
	defer hasherPool.Put(h)
	h.progress, h.files, h.cancelled, h.slot = &j.bytesDone, &j.filesDone, &j.cancelled, worker
	h.io, h.ioSeen, h.timed, h.ready = &j.ioUsed, 0, timing{}, &j.colsReady
	defer func() {
		h.flush()
		// Nothing for the next job (a panic, a cancel before Attach).
		h.progress, h.files, h.cancelled, h.io, h.ready = nil, nil, nil, nil, nil
		h.held, h.heldSums, h.pendingBytes, h.pendingFiles = h.held[:0], h.heldSums[:0], 0, 0
	}()
	scanning := true
	defer func() {
		if scanning { // a panic: the other workers must not wait for this one
			j.scanned.Done()
		}
	}()
	s := scan{ring: j.newURingScan(h, own)} // after privateTable: the ring is the thread's
	defer s.ring.close()
	chunk := j.chunk
	for !j.cancelled.Load() {
		lo := int(j.next.Add(int64(chunk))) - chunk
		if !j.waitRows(&s.view, lo+chunk) || lo >= len(s.view.rows) {
			break
		}
		hi := min(lo+chunk, len(s.view.rows))
		if s.ring != nil {
			if !j.scanBatch(h, &s, lo, hi) {
				break // cancelled mid-file
			}
			h.flush()
			continue
		}
		for i := lo; i < hi && !j.cancelled.Load(); i++ {
			if s.view.rows[i].preset != StatusPending {
				continue
			}
			f, size, err := j.open.open(s.view.name(&s.view.rows[i]))
			if !j.scanOne(h, &s, i, f, size, err) {
				break // cancelled mid-file
			}
		}
		h.flush()
	}
	s.ring.close() // its last closes, before the queue's opens
	j.mu.Lock()
	j.queued = append(j.queued, s.queued...)
	j.scannedBytes += s.sized
	j.mu.Unlock()
	scanning = false
	j.scanned.Done()
	j.scanned.Wait()
	j.sortQueue.Do(func() {
		slices.SortStableFunc(j.queued, func(a, b queuedFile) int { return cmp.Compare(b.size, a.size) })
		if !j.cancelled.Load() {
			j.bytesTotal.Store(j.scannedBytes)
		}
	})
	for !j.cancelled.Load() {
		k := int(j.nextQueued.Add(1) - 1)
		if k >= len(j.queued) {
			break
		}
		i := int(j.queued[k].row)
		r := &s.view.rows[i]
		f, size, err := j.open.open(s.view.name(r))
		if !j.hashRow(h, r, i, f, size, err) {
			break
		}
		h.flush()
	}
	// Rows hashed before the columns were attached go there now.
	if len(h.held) > 0 && j.waitCols() {
		j.putHeld(h)
	}
}

// scan is what a worker's scan keeps: the big files it met, the bytes of the
// files it opened, and its io_uring, if any.
type scan struct {
	view   rowsView
	queued []queuedFile
	sized  int64
	ring   *uringScan
}

// scanOne does row i's part of the scan once its file has been opened (f,
// with size, or the open's err): a file deferred (Request.Defer) or big
// enough to queue is closed and left for later with its size, any other is
// hashed now, or gets the status its open's error says. It returns false if
// the job was cancelled mid-file.
func (j *Job) scanOne(h *hasher, s *scan, i int, f readCloser, size int64, err error) bool {
	if err == nil && j.req.Defer && size >= j.req.DeferMin {
		// Left for a later job (shard.go): pending, with its size.
		f.Close()
		j.deferRow(h, i, size)
		s.sized += size
		return true
	}
	if err == nil && size >= queueMin {
		f.Close()
		s.queued = append(s.queued, queuedFile{int32(i), size})
		s.sized += size
		return true
	}
	if size > 0 {
		s.sized += size
	}
	return j.hashRow(h, &s.view.rows[i], i, f, size, err)
}
