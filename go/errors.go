package checksig

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test for them with errors.Is; the C ABI maps each
// to a status code (see capi/checksig.h).
var (
	// ErrCancelled reports that a job was stopped by Cancel or Close.
	ErrCancelled = errors.New("checksig: cancelled")
	// ErrUnknownAlgorithm reports an algorithm name or index checksig does not know.
	ErrUnknownAlgorithm = errors.New("checksig: unknown algorithm")
	// ErrNotRegular reports a FIFO, socket, device or directory where a
	// regular file was needed. Such files are never read.
	ErrNotRegular = errors.New("checksig: not a regular file")
	// ErrOutsideRoot reports a manifest entry that would resolve outside the
	// root directory: an absolute name, a ".." component, or a symlink that
	// leads out.
	ErrOutsideRoot = errors.New("checksig: path escapes the root directory")
	// ErrInvalid reports a malformed argument, such as an embedded NUL.
	ErrInvalid = errors.New("checksig: invalid argument")
	// ErrJobState reports a job method called in the wrong phase.
	ErrJobState = errors.New("checksig: job is not in the right phase for this call")
)

// ManifestError describes a manifest that cannot be used: a malformed line
// under strict checking, or a manifest with no usable line at all.
// Line is 1-based; it is 0 when the error concerns the whole file.
type ManifestError struct {
	Path string
	Line int64
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// PanicError carries a panic recovered inside the engine, so that a bug is
// reported as an error instead of killing the process that hosts the engine.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("checksig: internal error (please report): %v", e.Value)
}
