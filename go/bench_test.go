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

// BenchmarkReader measures parsing; allocations per entry should stay at one
// (the name string).
func BenchmarkReader(b *testing.B) {
	var m bytes.Buffer
	d := digestOf(SHA256, "x")
	for i := 0; i < 10000; i++ {
		m.Write(AppendLine(nil, SHA256, fmt.Sprintf("data/shard-%05d.parquet", i), d, false))
	}
	data := m.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "SHA256SUMS")
		for {
			if _, err := r.Next(); err == io.EOF {
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
				if _, err := FileDigest(p, SHA1, out[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyPool runs whole verify jobs over many small files.
func BenchmarkVerifyPool(b *testing.B) {
	root := b.TempDir()
	var m strings.Builder
	const n, size = 2000, 4 << 10
	data := strings.Repeat("z", size)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%04d", i)
		os.WriteFile(filepath.Join(root, name), []byte(data), 0o644)
		m.WriteString(line(SHA1, name, data))
	}
	manifest := filepath.Join(root, "sha1sum.txt")
	os.WriteFile(manifest, []byte(m.String()), 0o644)
	b.SetBytes(n * size)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBig runs whole verify jobs over files the scan queues and
// the workers hash through their mappings, largest first.
func BenchmarkVerifyBig(b *testing.B) {
	root := b.TempDir()
	var m strings.Builder
	const n, size = 8, 8 << 20
	data := strings.Repeat("b", size)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("big%d", i)
		os.WriteFile(filepath.Join(root, name), []byte(data), 0o644)
		m.WriteString(line(SHA256, name, data))
	}
	manifest := filepath.Join(root, "SHA256SUMS")
	os.WriteFile(manifest, []byte(m.String()), 0o644)
	b.SetBytes(n * size)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Run(Request{Kind: KindVerify, Root: root, Manifest: manifest}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderNext measures parsing as the engine does it, names as
// bytes: no allocation per entry.
func BenchmarkReaderNext(b *testing.B) {
	var m bytes.Buffer
	d := digestOf(SHA256, "x")
	for i := 0; i < 10000; i++ {
		m.Write(AppendLine(nil, SHA256, fmt.Sprintf("data/shard-%05d.parquet", i), d, false))
	}
	data := m.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "SHA256SUMS")
		for {
			if _, _, err := r.next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
