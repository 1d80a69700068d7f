package checksig

import (
	"cmp"
	"path"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
)

// statPass learns every row's size before hashing, in parallel. The sizes
// give progress a real total (so an ETA means something) and let planOrder
// start the biggest files first. A size is only a hint: the report's size
// column comes from the bytes actually hashed.
func (j *Job) statPass() error {
	var next, total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	const chunk = 256
	workers := min(j.req.Workers, max(len(j.rows)/chunk, 1))
	var panicked atomic.Pointer[PanicError]
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panicked.CompareAndSwap(nil, &PanicError{Value: r, Stack: debug.Stack()})
					j.cancelled.Store(true)
				}
			}()
			var sum int64
			size, done := j.open.sizer()
			defer done()
			for !j.cancelled.Load() {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= int64(len(j.rows)) {
					break
				}
				for i := lo; i < min(lo+chunk, int64(len(j.rows))); i++ {
					r := &j.rows[i]
					if r.preset != StatusPending {
						continue
					}
					r.size = size(j.nameOf(r))
					if r.size > 0 {
						sum += r.size
					}
				}
			}
			mu.Lock()
			total += sum
			mu.Unlock()
		}()
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		return p
	}
	if j.cancelled.Load() {
		return ErrCancelled
	}
	j.bytesTotal.Store(total)
	return nil
}

// planOrder sorts the rows to hash largest first, so the biggest files never
// start last and leave one core working alone at the end.
func (j *Job) planOrder() {
	j.order = make([]int32, 0, len(j.rows))
	for i, r := range j.rows {
		if r.preset == StatusPending {
			j.order = append(j.order, int32(i))
		}
	}
	j.toHash = int64(len(j.order))
	slices.SortStableFunc(j.order, func(a, b int32) int {
		return cmp.Compare(j.rows[b].size, j.rows[a].size)
	})
}

// addExtra appends a row with StatusExtra for every regular file under the
// root that no manifest entry names (the manifest itself excepted).
func (j *Job) addExtra() error {
	listed := make(map[string]struct{}, len(j.rows))
	for i := range j.rows {
		listed[path.Clean(j.nameOf(&j.rows[i]))] = struct{}{}
	}
	var extra []string
	sizes := map[string]int64{}
	err := j.walkRegular(func(name string, size int64) {
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
		j.addRowString(name, row{size: sizes[name], preset: StatusExtra})
	}
	j.digests = append(j.digests, make([]byte, len(extra)*j.width)...)
	return nil
}
