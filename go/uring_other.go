//go:build !linux || mips || mipsle || mips64 || mips64le || alpha

package checksig

// No io_uring here: the scan opens and reads one file at a time.

type uringScan struct{}

func (j *Job) newURingScan(*hasher, bool) *uringScan { return nil }

func (s *uringScan) close() {}

func (j *Job) scanBatch(*hasher, *scan, int, int) bool { panic("checksig: no io_uring scan here") }
