//go:build linux && !mips && !mipsle && !mips64 && !mips64le && !alpha

package checksig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenat2Names: names on both sides of openat2's stack buffer (255 bytes
// fit with their NUL, 256 do not) open the file they name, and a NUL in a
// name is refused on both, as the syscall package refuses it.
func TestOpenat2Names(t *testing.T) {
	root := t.TempDir()
	o, err := openBeneath(root)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil {
		t.Skip("openat2 is not available here")
	}
	defer o.close()
	for _, n := range []int{5, 200, 255, 256, 300} {
		// A name of n bytes: a file, or over 200 bytes a directory and a
		// file (a component may not exceed 255 bytes).
		name := fmt.Sprintf("n%03d", n) + strings.Repeat("x", min(n, 200)-4)
		if n > 200 {
			name = name[:150] + "/" + strings.Repeat("y", n-151)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		f, size, err := o.open([]byte(name))
		if err != nil || size != int64(n) {
			t.Fatalf("%d-byte name: size %d, %v", n, size, err)
		}
		f.Close()
		_, _, err = o.open([]byte(name[:n/2] + "\x00" + name[n/2:]))
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%d-byte name with a NUL: %v, want EINVAL", n+1, err)
		}
	}
}
