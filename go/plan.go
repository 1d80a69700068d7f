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

// scanChunk is how many consecutive rows a worker claims at a time: fewer
// claims on the shared counter, and neighbours in a manifest are usually
// neighbours on disk. Short lists take smaller chunks, so that every worker
// gets a share of a few dozen medium files.
func (j *Job) scanChunk() int {
	return min(max(len(j.rows)/(8*j.req.Workers), 1), 64)
}

// privateTableMin is the number of files to hash from which a job's workers
// take descriptor tables of their own where they can (fdtable_linux.go):
// below it, the thread each one then costs (created for it, ended with it)
// is not worth it. A variable for tests.
var privateTableMin int64 = 4096

type queuedFile struct {
	row  int32
	size int64
}

// work scans rows, then hashes queued files, until none is left or the job
// is cancelled. worker numbers the workers of the job from 0; with private,
// the worker first takes a descriptor table of its own, keeping keep.
func (j *Job) work(worker int, private bool, keep int) {
	if private {
		privateTable(keep)
	}
	busy.Add(1)
	defer busy.Add(-1)
	h := hasherPool.Get().(*hasher)
	defer hasherPool.Put(h)
	h.progress, h.files, h.cancelled, h.slot = &j.bytesDone, &j.filesDone, &j.cancelled, worker
	h.io, h.ioSeen, h.timed = &j.ioUsed, 0, timing{}
	defer func() {
		h.flush()
		h.progress, h.files, h.cancelled, h.io = nil, nil, nil, nil
	}()
	scanning := true
	defer func() {
		if scanning { // a panic: the other workers must not wait for this one
			j.scanned.Done()
		}
	}()
	var queued []queuedFile
	var sized int64 // bytes of the files opened
	chunk := j.scanChunk()
	for !j.cancelled.Load() {
		lo := int(j.next.Add(int64(chunk))) - chunk
		if lo >= len(j.rows) {
			break
		}
		for i := lo; i < min(lo+chunk, len(j.rows)) && !j.cancelled.Load(); i++ {
			if j.rows[i].preset != StatusPending {
				continue
			}
			f, size, err := j.open.open(j.nameBytes(&j.rows[i]))
			if err == nil && j.req.Defer && size >= j.req.DeferMin {
				// Left for a later job (shard.go): pending, with its size.
				f.Close()
				j.cols.Size[i] = size
				sized += size
				continue
			}
			if err == nil && size >= queueMin {
				f.Close()
				queued = append(queued, queuedFile{int32(i), size})
				sized += size
				continue
			}
			if size > 0 {
				sized += size
			}
			if !j.hashRow(h, i, f, size, err) {
				break // cancelled mid-file
			}
		}
		h.flush()
	}
	j.mu.Lock()
	j.queued = append(j.queued, queued...)
	j.scannedBytes += sized
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
			return
		}
		i := int(j.queued[k].row)
		f, size, err := j.open.open(j.nameBytes(&j.rows[i]))
		if !j.hashRow(h, i, f, size, err) {
			return
		}
		h.flush()
	}
}
