// Package checksig verifies files against checksum manifests, in parallel,
// without reading outside the directory it is given.
//
// It reads every manifest GNU coreutils' *sum -c reads ("HEX  name",
// "HEX *name", the BSD tag form "SHA256 (name) = HEX", escaped names) with
// [Reader], writes lines as the *sum tools write them with [AppendLine],
// and hashes one file with [FileDigest].
//
// Long work is a [Job], started from a [Request]: verify a manifest's
// entries under a root ([KindVerify]), hash a list of paths ([KindDigest]),
// or walk a root and write a manifest ([KindMake]). A job enumerates its
// work, waits in [PhaseReady] until the caller hands it result [Columns] of
// the size [Job.Poll] reports (so the columns can live in memory the engine
// does not own, such as a Python buffer), then hashes on its own goroutines
// and reports progress through atomic counters until [PhaseDone]. [Run] does
// all of that for a Go caller. Each row of the result has a [Status]; a bad
// entry is a status, never an error: errors are for whole-job failures.
//
// Names in a manifest are input from outside. A verify job resolves each
// beneath its root (openat2 with RESOLVE_BENEATH on Linux, os.Root
// elsewhere): "..", absolute names and symlinks leading out get
// [StatusOutsideRoot] and are never opened; FIFOs, sockets and devices get
// [StatusNotRegular] and are never read; memory grows with the number of
// entries, never with file or line sizes.
//
// The package is the engine of the checksig Python package: the capi
// directory builds it as a C shared library, whose header
// (capi/checksig.h) is the contract with Python. Algorithm, Status, Kind
// and Phase values are part of that ABI.
package checksig
