package checksig

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A verify job whose workers start while the manifest is read (issue 20:
// early, verify.go) against one whose workers start at Attach: the same
// columns, warnings and errors, whatever the phase it is cancelled in.

// withEarly sets earlyMin for the test: 1 makes every manifest's job early,
// 1<<62 none.
func withEarly(tb testing.TB, min int64) {
	old := earlyMin
	earlyMin = min
	tb.Cleanup(func() { earlyMin = old })
}

// TestEarlyAgrees: over every status (faults included), mixed algorithms,
// with and without Extra, from a file and from text, at one and several
// workers, on both confined openers, and for strict jobs that fail.
func TestEarlyAgrees(t *testing.T) {
	root, text := statusTree(t)
	withStatusFaults(t)
	manifest := filepath.Join(t.TempDir(), "SUMS")
	write(t, manifest, string(text))
	bad := filepath.Join(t.TempDir(), "BAD")
	write(t, bad, string(text)+"not a line\n")
	defer func() { useOpenat2 = true }()
	for _, fast := range []bool{true, false} {
		for _, workers := range []int{1, 4} {
			for _, extra := range []bool{false, true} {
				for _, fromText := range []bool{false, true} {
					useOpenat2 = fast
					req := Request{Kind: KindVerify, Root: root, Workers: workers, Extra: extra, Manifest: manifest}
					if fromText {
						req.Manifest, req.ManifestText = "SUMS", text
					}
					what := fmt.Sprintf("openat2=%v workers=%d extra=%v text=%v", fast, workers, extra, fromText)
					withEarly(t, 1<<62)
					want, wantWarns := mustRun(t, req)
					withEarly(t, 1)
					got, warns := mustRun(t, req)
					sameColumns(t, what, got, want)
					if !reflect.DeepEqual(warns, wantWarns) {
						t.Fatalf("%s: warnings %v, want %v", what, warns, wantWarns)
					}
					strict := Request{Kind: KindVerify, Root: root, Workers: workers, Extra: extra, Manifest: bad, Strict: true}
					if _, _, err := Run(strict); err == nil || !strings.Contains(err.Error(), ":5: ") {
						t.Fatalf("%s: strict: %v", what, err)
					}
				}
			}
		}
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}

// TestEarlyHeld: verdicts held before Attach go to the right rows, also
// when a worker holds so many that it waits for the columns; the counts
// stay at zero until then.
func TestEarlyHeld(t *testing.T) {
	withEarly(t, 1)
	old := maxHeld
	defer func() { maxHeld = old }()
	root := t.TempDir()
	var m strings.Builder
	for i := range 300 {
		name := fmt.Sprintf("f%03d", i)
		data := name
		if i%7 == 0 {
			data += "!" // a mismatch
		}
		write(t, filepath.Join(root, name), name)
		m.WriteString(line(SHA1, name, data))
	}
	manifest := filepath.Join(root, "SUMS")
	write(t, manifest, m.String())
	// All held until the workers end (then waiting for Attach), or a few
	// at a time (waiting for Attach when they hold 7).
	for k, workers := range []int{1, 3, 1, 3} {
		maxHeld = map[bool]int{true: 1 << 16, false: 7}[k < 2]
		j, err := Start(Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var p Progress
		for p = j.Poll(time.Second); p.Phase == PhaseEnumerating; p = j.Poll(time.Second) {
		}
		time.Sleep(50 * time.Millisecond) // the workers hash, and hold, meanwhile
		if p = j.Poll(0); p.FilesDone != 0 || p.BytesDone != 0 {
			t.Fatalf("before Attach: %d files, %d bytes done", p.FilesDone, p.BytesDone)
		}
		c := NewColumns(p)
		if err := j.Attach(c); err != nil {
			t.Fatal(err)
		}
		for j.Poll(time.Second).Phase != PhaseDone {
		}
		if err := j.Result(); err != nil {
			t.Fatal(err)
		}
		for i, st := range statuses(c) {
			if want := map[bool]string{true: "mismatch", false: "ok"}[i%7 == 0]; st != want {
				t.Fatalf("workers %d: row %d is %s, want %s", workers, i, st, want)
			}
		}
		if p = j.Poll(0); p.FilesDone != 300 {
			t.Fatalf("workers %d: %d files done, want 300", workers, p.FilesDone)
		}
		j.Close()
	}
}

// TestEarlyCancel: an early job cancelled while it parses, while it waits
// for Attach (its workers holding verdicts), and closed without either,
// ends cancelled with nothing left open.
func TestEarlyCancel(t *testing.T) {
	withEarly(t, 1)
	root := t.TempDir()
	var m strings.Builder
	for i := range 20000 {
		name := fmt.Sprintf("d%d/f%05d", i%10, i)
		if i < 2000 {
			write(t, filepath.Join(root, name), name)
		}
		m.WriteString(line(SHA1, name, name))
	}
	manifest := filepath.Join(root, "SUMS")
	write(t, manifest, m.String())
	req := Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 2}
	for _, when := range []string{"parsing", "ready", "close"} {
		j, err := Start(req)
		if err != nil {
			t.Fatal(err)
		}
		switch when {
		case "parsing":
			j.Cancel()
		case "ready":
			for j.Poll(time.Second).Phase == PhaseEnumerating {
			}
			j.Cancel()
		}
		if when != "close" {
			for j.Poll(time.Second).Phase != PhaseDone {
			}
			if err := j.Result(); !errors.Is(err, ErrCancelled) {
				t.Fatalf("%s: %v", when, err)
			}
			// Done means stopped: no worker still holds a file.
			if _, files, _ := DebugCounters(); files != 0 {
				t.Fatalf("%s: done with %d files open", when, files)
			}
		}
		j.Close()
	}
	if jobs, files, _ := DebugCounters(); jobs != 0 || files != 0 {
		t.Fatalf("leak: %d jobs, %d files", jobs, files)
	}
}
