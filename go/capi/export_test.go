package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"
)

// TestExports builds the shared library as the Python build does and checks
// that it exports exactly the functions checksig.h declares: the header is
// the contract _native.py is written against.
func TestExports(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads ELF symbols")
	}
	if testing.Short() {
		t.Skip("builds the library")
	}
	out := filepath.Join(t.TempDir(), "_checksig.so")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -buildmode=c-shared: %v", err)
	}
	header, err := os.ReadFile("checksig.h")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^(?:int32_t|void)\s+(checksig_\w+)\(`).FindAllSubmatch(header, -1) {
		declared = append(declared, string(m[1]))
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF && regexp.MustCompile(`^checksig_`).MatchString(s.Name) {
			exported = append(exported, s.Name)
		}
	}
	slices.Sort(declared)
	slices.Sort(exported)
	if len(declared) < 10 || !slices.Equal(declared, exported) {
		t.Fatalf("header declares %v\nlibrary exports %v", declared, exported)
	}
}
