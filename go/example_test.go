package checksig_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	checksig "github.com/checksig/checksig/go"
)

// A manifest is read entry by entry; a malformed line is an error naming
// its line, and reading goes on after it.
func ExampleReader() {
	manifest := "# SHA256SUMS\n" +
		"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  hello.txt\n" +
		"not a checksum line\n" +
		"MD5 (data/world.bin) = 7d793037a0760186574b0282f2f435e7\n"
	r := checksig.NewReader(strings.NewReader(manifest), "SHA256SUMS")
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var me *checksig.ManifestError
		if errors.As(err, &me) {
			fmt.Println("skipped line", me.Line)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Line, e.Algorithm, e.Name)
	}
	// Output:
	// 2 sha256 hello.txt
	// skipped line 3
	// 4 md5 data/world.bin
}

// AppendLine writes what GNU's sha256sum writes, escaping names as it does.
func ExampleAppendLine() {
	d, _ := hex.DecodeString("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	var out []byte
	out = checksig.AppendLine(out, checksig.SHA256, "hello.txt", d, false)
	out = checksig.AppendLine(out, checksig.SHA256, "two\nlines", d, true)
	fmt.Print(string(out))
	// Output:
	// 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  hello.txt
	// \SHA256 (two\nlines) = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
}

// The algorithm of untagged lines can come from the manifest's name; a name
// that says only a family (B2SUMS) leaves the digest's length to pick its
// member.
func ExampleAlgorithmFromName() {
	for _, name := range []string{"SHA256SUMS", "data/md5sum.txt", "manifest-sha512.txt", "b3sums.txt", "B2SUMS", "notes.txt"} {
		a, family := checksig.AlgorithmFromName(name)
		if a == checksig.None && family != checksig.FamilyNone {
			fmt.Printf("%s: the %s family\n", name, family)
			continue
		}
		fmt.Printf("%s: %s (%d bytes)\n", name, a, a.Size())
	}
	// Output:
	// SHA256SUMS: sha256 (32 bytes)
	// data/md5sum.txt: md5 (16 bytes)
	// manifest-sha512.txt: sha512 (64 bytes)
	// b3sums.txt: blake3 (32 bytes)
	// B2SUMS: the BLAKE2b family
	// notes.txt: unknown (0 bytes)
}

func ExampleFileDigest() {
	dir, err := os.MkdirTemp("", "checksig-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		log.Fatal(err)
	}
	a, _ := checksig.ParseAlgorithm("SHA256")
	out := make([]byte, a.Size())
	n, err := checksig.FileDigest(path, a, out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, hex.EncodeToString(out[:a.Size()]))
	// Output:
	// 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
}

// exampleTree makes a root holding hello.txt and a manifest listing it,
// another file with a wrong digest, a missing file and a name leading out.
func exampleTree() (root, manifest string) {
	root, err := os.MkdirTemp("", "checksig-example")
	if err != nil {
		log.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("hello.txt", "hello")
	write("changed.txt", "not what was listed")
	hello := "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	write("SHA256SUMS", hello+"  hello.txt\n"+hello+"  changed.txt\n"+hello+"  gone.txt\n"+hello+"  ../hello.txt\n")
	return root, filepath.Join(root, "SHA256SUMS")
}

// Run verifies a manifest from Go: one row per entry, in manifest order,
// each with its status.
func ExampleRun() {
	root, manifest := exampleTree()
	defer os.RemoveAll(root)
	cols, warnings, err := checksig.Run(checksig.Request{
		Kind:     checksig.KindVerify,
		Root:     root,
		Manifest: manifest,
		Workers:  2,
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, st := range cols.Status {
		name := cols.Paths[cols.PathOffsets[i]:cols.PathOffsets[i+1]]
		fmt.Printf("%s: %s\n", name, checksig.Status(st))
	}
	fmt.Println(len(warnings), "malformed lines")
	// Output:
	// hello.txt: ok
	// changed.txt: mismatch
	// gone.txt: missing
	// ../hello.txt: outside_root
	// 0 malformed lines
}

// A Job is what Run drives and what the C ABI hands to Python: start it,
// poll it, give it columns of the size it asks for once it is ready, and
// close it. Cancel stops it at any point; Close waits until no file is open.
func ExampleJob() {
	root, manifest := exampleTree()
	defer os.RemoveAll(root)
	j, err := checksig.Start(checksig.Request{Kind: checksig.KindVerify, Root: root, Manifest: manifest})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	var cols checksig.Columns
	for {
		p := j.Poll(50 * time.Millisecond)
		if p.Phase == checksig.PhaseReady {
			fmt.Println("rows:", p.Rows, "files to hash:", p.FilesTotal)
			cols = checksig.NewColumns(p) // the caller's memory; Python allocates its own
			if err := j.Attach(cols); err != nil {
				log.Fatal(err)
			}
		}
		if p.Phase == checksig.PhaseDone {
			break
		}
	}
	if err := j.Result(); err != nil {
		log.Fatal(err)
	}
	p := j.Poll(0)
	fmt.Println("files done:", p.FilesDone, "bytes hashed:", p.BytesDone)
	fmt.Println("first row:", checksig.Status(cols.Status[0]))
	// Output:
	// rows: 4 files to hash: 4
	// files done: 4 bytes hashed: 24
	// first row: ok
}
