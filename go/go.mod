module github.com/checksig/checksig/go

// The one source of truth for the Go floor: recipe/meta.yaml (go >=),
// _build/backend.py and environment.yml read or are checked against it
// (tests/test_recipe.py, tests/test_build.py). conda-forge's go-cgo pins no
// version and conda sets GOTOOLCHAIN=local, so this line must name a Go that
// conda-forge has: 1.24 is the first with os.Root, which confinement needs.
go 1.24
