//go:build !linux || mips || mipsle || mips64 || mips64le || alpha

package checksig

import "sync/atomic"

// No io_uring here: the scan opens and reads one file at a time.

type uringScan struct{}

// uringBatches counts the batches read through io_uring: none here.
var uringBatches atomic.Int64

func (j *Job) newURingScan(*hasher, bool) *uringScan { return nil }

func (s *uringScan) close() {}

func (j *Job) scanBatch(*hasher, *scan, int, int) bool { panic("checksig: no io_uring scan here") }
