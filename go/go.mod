module github.com/checksig/checksig/go

// Keep in sync with recipe/meta.yaml (go >= floor), pyproject.toml's Go
// floor check (_build/backend.py) and .ci/run. conda-forge's go-cgo pins no
// version and conda sets GOTOOLCHAIN=local, so this line must name a Go that
// conda-forge has: 1.24 is the first with os.Root, which confinement needs.
go 1.24
