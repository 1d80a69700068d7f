package checksig

import (
	"bytes"
	"io"
	"runtime/debug"
	"sync"
)

// What keeps a job of a million rows small (issue 7: the whole Python
// process under 250 MiB for a million-entry manifest). Everything a job
// holds before Attach is sized once or grown in chunks, never by doubling,
// because a doubled slice briefly needs its old and its new copy, and the
// Go runtime keeps that peak as resident memory long after.

// bigJob is the number of rows from which a job trades a little CPU (more
// frequent garbage collections) for a lower peak of resident memory.
const bigJob = 100_000

// arenaChunk is the largest chunk of the name arena; smaller jobs use
// smaller chunks (4 KiB, doubling), so a one-file job stays cheap.
const arenaChunk = 1 << 20

// arena holds a job's names for the job's life: appended in chunks, so
// growing never copies what it holds (and a chunk, once written, never
// changes: workers read the names while the parse appends more), and a
// million names cost their bytes plus one partly filled chunk. A name never
// straddles chunks; its offset is the chunk's index in the high 32 bits and
// the position in the low 32.
type arena struct {
	// Each chunk at its full length, made once and never changed but by
	// the names written into it (a worker may read a view of the chunks
	// while the parse writes more: rowsView); names fill the last chunk up
	// to fill.
	chunks [][]byte
	fill   int
}

// alloc returns room for an n-byte name and the offset that get takes.
func (a *arena) alloc(n int) ([]byte, int64) {
	k := len(a.chunks) - 1
	if k < 0 || len(a.chunks[k])-a.fill < n {
		size := min(4096<<min(len(a.chunks), 8), arenaChunk)
		a.chunks = append(a.chunks, make([]byte, max(size, n)))
		a.fill = 0
		k++
	}
	pos := a.fill
	a.fill += n
	return a.chunks[k][pos : pos+n], int64(k)<<32 | int64(pos)
}

// get returns the n-byte name at off.
func (a *arena) get(off int64, n uint32) []byte { return chunkName(a.chunks, off, n) }

// chunkName returns the n-byte name at off in an arena's chunks.
func chunkName(chunks [][]byte, off int64, n uint32) []byte {
	pos := off & (1<<32 - 1)
	return chunks[off>>32][pos : pos+int64(n)]
}

// presizeRows caps the rows a manifest's line count reserves up front
// (32 MiB of rows): enough for a million entries without growing, little
// for a file of ten million junk lines, which must not reserve rows (and,
// at its first entry, digests) for every line. Longer manifests grow past
// it as slices do.
const presizeRows = 1 << 20

// minEntryLen is the shortest manifest line that can be an entry: 32 hex
// digits (MD5), a space, a one-byte name.
const minEntryLen = 34

// countLines bounds the entries of the open manifest f, size bytes long:
// its line count, and no more than size/minEntryLen+1 or presizeRows (where
// it stops reading). Reading it twice costs a few milliseconds per million
// lines; growing the rows as they come would cost their size again at the
// peak. It reads at offsets, leaving f's own offset for the parse. The bound
// is a capacity hint only: if the file changes in between, the rows still
// grow.
func countLines(f readCloser, size int64) (int, error) {
	limit := min(size/minEntryLen+1, presizeRows)
	ra, ok := f.(io.ReaderAt)
	if limit < 4096 || !ok {
		return int(limit), nil // small, not worth a second read; or not readable at offsets
	}
	r := io.NewSectionReader(ra, 0, size)
	buf := make([]byte, 64<<10)
	lines := int64(1) // a last line without a newline
	for {
		n, err := r.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF || lines >= limit {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	return int(min(lines, limit)), nil
}

// textRows bounds the entries of manifest text as countLines bounds a
// file's: a capacity hint, so the rows are allocated once.
func textRows(text []byte) int {
	limit := min(len(text)/minEntryLen+1, presizeRows)
	if limit < 4096 {
		return limit
	}
	return min(bytes.Count(text, []byte{'\n'})+1, limit)
}

// lowGCPercent is the GOGC that big jobs run with. At the default (100) the
// heap may grow to twice what is live before a collection; the rows of a
// million-entry job are tens of MiB, so that headroom alone would be tens
// of MiB of garbage (a walk's names, a name per open on the os.Root path)
// held as resident memory. The rows hold no pointers, so a collection costs
// little.
const lowGCPercent = 20

var gcHold struct {
	mu    sync.Mutex
	users int // big jobs not yet done
	saved int // the GOGC to restore when the last one is done
}

// lowerGC makes the collector run at lowGCPercent until every caller has
// called restoreGC. It never raises GOGC: a lower setting, or GOGC=off,
// stays as the user chose it. The setting is process-wide, so concurrent
// big jobs share it.
func lowerGC() {
	gcHold.mu.Lock()
	defer gcHold.mu.Unlock()
	if gcHold.users == 0 {
		gcHold.saved = debug.SetGCPercent(lowGCPercent)
		if gcHold.saved < lowGCPercent { // includes GOGC=off (-1)
			debug.SetGCPercent(gcHold.saved)
		}
	}
	gcHold.users++
}

// restoreGC undoes one lowerGC.
func restoreGC() {
	gcHold.mu.Lock()
	defer gcHold.mu.Unlock()
	gcHold.users--
	if gcHold.users == 0 {
		debug.SetGCPercent(gcHold.saved)
	}
}

var zeroPage [4096]byte

// clearLazily zeroes b without writing where it is zero already. Python
// allocates the result columns as an anonymous mmap, whose pages cost no
// resident memory until written; writing zeros would make them resident
// long before the workers fill them.
func clearLazily(b []byte) {
	for len(b) > 0 {
		n := min(len(b), len(zeroPage))
		if !bytes.Equal(b[:n], zeroPage[:n]) {
			clear(b[:n])
		}
		b = b[n:]
	}
}
