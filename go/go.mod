module github.com/checksig/checksig/go

// The one source of truth for the Go floor: recipe/meta.yaml (go >=),
// _build/backend.py and environment.yml read or are checked against it
// (tests/test_recipe.py, tests/test_build.py). conda-forge's go-cgo pins no
// version and conda sets GOTOOLCHAIN=local, so this line must name a Go that
// conda-forge has: 1.24 is the first with os.Root, which confinement needs,
// and crypto/sha3. It reads 1.24.0 because golang.org/x/crypto v0.48.0 (the
// newest whose own go line is within the floor; v0.49.0 needs 1.25) says so.
// The required modules are vendored (go/vendor, `go mod vendor`): builds use
// them, never the network.
go 1.24.0

require (
	github.com/zeebo/blake3 v0.2.4
	golang.org/x/crypto v0.48.0
	golang.org/x/sys v0.41.0
	lukechampine.com/blake3 v1.4.1
)

require github.com/klauspost/cpuid/v2 v2.0.12 // indirect
