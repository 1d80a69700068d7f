package checksig

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkReader measures parsing through the public Reader.Next;
// allocations per entry should stay at one (the name string).
func BenchmarkReader(b *testing.B) {
	benchParse(b, func(r *Reader) error { _, err := r.Next(); return err })
}

// BenchmarkReaderNext measures parsing as the engine does it, names as
// bytes: no allocation per entry.
func BenchmarkReaderNext(b *testing.B) {
	benchParse(b, func(r *Reader) error { _, _, err := r.next(); return err })
}

// benchParse times reading a 10,000-line SHA-256 manifest entry by entry.
func benchParse(b *testing.B, next func(*Reader) error) {
	var m bytes.Buffer
	for i := 0; i < 10000; i++ {
		// A digest per line, as in a real manifest: one repeated digest
		// lets the branch predictor learn the hex scan, hiding its cost.
		name := fmt.Sprintf("data/shard-%05d.parquet", i)
		m.Write(AppendLine(nil, SHA256, name, digestOf(SHA256, name), false))
	}
	data := m.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "SHA256SUMS")
		for {
			if err := next(r); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFileDigest(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("sha1/%dKiB", size>>10), func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "f")
			os.WriteFile(p, bytes.Repeat([]byte{7}, size), 0o644)
			var out [MaxSize]byte
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FileDigest(p, SHA1, out[:SHA1.Size()]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyPool runs whole verify jobs over many small files, which
// the workers hash as their scan meets them, each worker on a descriptor
// table of its own where it can take one (as jobs of privateTableMin files
// or more do).
func BenchmarkVerifyPool(b *testing.B) {
	setPrivateTableMin(b, 0)
	benchVerify(b, 2000, 4<<10, SHA1)
}

// BenchmarkVerifyPoolSharedTable is BenchmarkVerifyPool with the workers
// kept on the process's descriptor table, which jobs of fewer files than
// privateTableMin use everywhere and every job uses off Linux: the
// difference is what the workers' own tables save (fdtable_linux.go).
func BenchmarkVerifyPoolSharedTable(b *testing.B) {
	setPrivateTableMin(b, 1<<62)
	benchVerify(b, 2000, 4<<10, SHA1)
}

// BenchmarkVerifyBig runs whole verify jobs over files the scan queues and
// the workers hash through their mappings, largest first.
func BenchmarkVerifyBig(b *testing.B) { benchVerify(b, 8, 8<<20, SHA256) }

// benchVerify times verify jobs over n files of size bytes listed with a.
func benchVerify(b *testing.B, n, size int, a Algorithm) {
	root := b.TempDir()
	var m strings.Builder
	data := strings.Repeat("z", size)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%04d", i)
		os.WriteFile(filepath.Join(root, name), []byte(data), 0o644)
		m.WriteString(line(a, name, data))
	}
	manifest := filepath.Join(root, "SUMS")
	os.WriteFile(manifest, []byte(m.String()), 0o644)
	b.SetBytes(int64(n * size))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBigFile hashes one big file through each way of reading it
// (io.go), as a verify job of one file with two workers: the case of
// issue 22's huge1. CHECKSIG_BENCH_FILE names the file (its page cache
// state is the machine's); by default a 64 MiB file is written.
func BenchmarkBigFile(b *testing.B) {
	path := os.Getenv("CHECKSIG_BENCH_FILE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "big")
		os.WriteFile(path, bytes.Repeat([]byte("big file "), 64<<20/9), 0o644)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	root, name := filepath.Split(path)
	manifest := filepath.Join(b.TempDir(), "SHA1SUMS")
	os.WriteFile(manifest, []byte(line(SHA1, name, "")), 0o644) // a mismatch: hashed all the same
	for _, mode := range []struct {
		name  string
		path  ioPath
		ahead int64
	}{{"mmap", ioMap, 1 << 62}, {"read", ioRead, 1 << 62}, {"readahead", ioRead, 0}} {
		b.Run(mode.name, func(b *testing.B) {
			savedMode, savedAhead := ioMode, readAheadMin
			defer func() { ioMode, readAheadMin = savedMode, savedAhead }()
			ioMode, readAheadMin = mode.path, mode.ahead
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest, Workers: 2}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
