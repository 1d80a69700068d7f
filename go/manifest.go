package checksig

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// MaxLineLen is the longest manifest line Reader accepts. Longer lines are
// reported as malformed and skipped without being held in memory, so a
// manifest of junk cannot exhaust memory.
const MaxLineLen = 64 << 10

// Entry is one parsed manifest line.
type Entry struct {
	Line      int64     // 1-based line number
	Name      string    // the file name, unescaped, exactly as listed
	Algorithm Algorithm // from the BSD tag, the reader's algorithm, or the digest length
	Digest    []byte    // raw digest; valid until the next call to Next
	Tagged    bool      // BSD tag form: ALGO (name) = HEX
	Binary    bool      // untagged "HEX *name"
}

// Reader reads manifest entries in the formats GNU coreutils' *sum -c
// reads: "HEX  name", "HEX *name", "ALGO (name) = HEX", with a leading
// backslash marking an escaped name. Blank lines and lines starting with
// '#' are skipped.
type Reader struct {
	// Name is the manifest's name, used in error messages.
	Name string
	// Algorithm, when valid, is the algorithm of every untagged line; a line
	// whose digest has another length is malformed. When None, each untagged
	// line's algorithm is inferred from its digest length.
	Algorithm Algorithm
	// AlgorithmSource says where Algorithm came from, for error messages
	// (e.g. "from the manifest's name").
	AlgorithmSource string

	r    *bufio.Reader
	line int64
	// reversed tracks GNU's rule against mixing "HEX  name" and the
	// single-space "HEX name" form: -1 undecided, 0 standard, 1 single space.
	reversed int
	digest   [MaxSize]byte
}

// NewReader returns a Reader reading from r; name is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{Name: name, r: bufio.NewReaderSize(r, MaxLineLen), reversed: -1}
}

// Next returns the next entry. At the end of input it returns io.EOF. A
// malformed line yields a *ManifestError naming the line; reading may
// continue after it. Other errors come from the underlying reader.
func (r *Reader) Next() (Entry, error) {
	e, name, err := r.next()
	if err == nil {
		e.Name = string(name)
	}
	return e, err
}

// next is Next without the string: e.Name stays empty and the name comes
// back as bytes valid until the next call. The engine copies names into
// its own arena, so a million-line manifest allocates no string per line.
func (r *Reader) next() (Entry, []byte, error) {
	for {
		raw, err := r.readLine()
		if err != nil {
			return Entry{}, nil, err
		}
		if raw == nil {
			continue // skipped: blank line or comment
		}
		e, name, err := r.parse(raw)
		if err != nil {
			return Entry{}, nil, &ManifestError{Path: r.Name, Line: r.line, Msg: err.Error()}
		}
		e.Line = r.line
		return e, name, nil
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineLen)

// readLine returns the next line without its line ending, nil for a line to
// skip, or an error. An over-long line is drained and reported.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.line++
		comment := line[0] == '#'
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.r.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if comment {
			return nil, nil // a long comment is still a comment, as for GNU
		}
		return nil, &ManifestError{Path: r.Name, Line: r.line, Msg: errLineTooLong.Error()}
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
	} else if err != nil {
		return nil, err
	}
	r.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	// An empty line is skipped; one of blanks only is malformed, as for GNU.
	if len(line) == 0 || line[0] == '#' {
		return nil, nil
	}
	return line, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// hexValue maps a hex digit to its value and any other byte to notHex. A
// table, not a chain of range tests: in a run of random digits the chain's
// branches mispredict on about every third byte, which made the digest scan
// most of the parse.
var hexValue = func() (t [256]byte) {
	for c := range t {
		t[c] = notHex
	}
	for i := range 10 {
		t['0'+i] = byte(i)
	}
	for i := range 6 {
		t['a'+i], t['A'+i] = byte(10+i), byte(10+i)
	}
	return t
}()

const notHex = 0xff

func isHex(c byte) bool { return hexValue[c] != notHex }

// scanHex returns how many hex digits s starts with, decoding the first
// 2*len(dst) of them into dst on the way: the scan that finds where a
// digest ends also decodes it, so a line is read once.
func scanHex(dst, s []byte) int {
	n := 0
	for ; n+1 < len(s); n += 2 { // two digits, one byte, at a time
		hi, lo := hexValue[s[n]], hexValue[s[n+1]]
		if hi|lo > 0xf { // either is notHex
			break
		}
		if k := n / 2; k < len(dst) {
			dst[k] = hi<<4 | lo
		}
	}
	for n < len(s) && hexValue[s[n]] != notHex { // at most one more
		n++
	}
	return n
}

func (r *Reader) parseLine(s []byte) (Entry, error) {
	e, name, err := r.parse(s)
	if err == nil {
		e.Name = string(name)
	}
	return e, err
}

// parse is parseLine leaving e.Name empty: the name is returned as bytes,
// a slice of s unless the line was escaped.
func (r *Reader) parse(s []byte) (Entry, []byte, error) {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	escaped := false
	if i < len(s) && s[i] == '\\' {
		escaped = true
		i++
	}
	s = s[i:]
	var e Entry
	var name []byte
	reversed := r.reversed
	// The common line starts with its digest: a run of hex digits ended by
	// a blank. No tag can start so (a tag is followed by "(", and an
	// all-hex word is never a tag), so such a line skips cutTag's scan;
	// the scan decodes the digest as it goes.
	hexRun := scanHex(r.digest[:], s)
	var tag string
	var rest []byte
	ok := false
	if !(hexRun > 0 && hexRun < len(s) && isBlank(s[hexRun])) {
		tag, rest, ok = cutTag(s)
	}
	if ok {
		a := tagAlgorithm(tag)
		if a == None {
			return e, nil, fmt.Errorf("unknown algorithm tag %q (expected one of MD5, SHA1, SHA224, SHA256, SHA384, SHA512)", tag)
		}
		// GNU's rule: the name runs to the last ')' (BSD tools do not
		// escape names), then blanks, '=', blanks and the digest.
		j := bytes.LastIndexByte(rest, ')')
		if j < 0 {
			return e, nil, errors.New(`expected "ALGO (name) = HEX"`)
		}
		name, rest = rest[:j], bytes.TrimLeft(rest[j+1:], " \t")
		if len(rest) == 0 || rest[0] != '=' {
			return e, nil, errors.New(`expected "ALGO (name) = HEX"`)
		}
		hexDigest := bytes.TrimLeft(rest[1:], " \t")
		if len(hexDigest) != a.Size()*2 || scanHex(r.digest[:], hexDigest) != len(hexDigest) {
			return e, nil, fmt.Errorf("expected %d hex digits for %s, found %s", a.Size()*2, tag, describeDigest(hexDigest))
		}
		e.Algorithm, e.Tagged = a, true
	} else {
		n := hexRun
		a := r.Algorithm
		switch {
		case n == 0:
			return e, nil, errors.New(`expected "HEX  name", "HEX *name" or "ALGO (name) = HEX"`)
		case a.Valid() && n != a.Size()*2:
			return e, nil, fmt.Errorf("expected %d hex digits (%s%s), found %d", a.Size()*2, a, r.source(), n)
		case !a.Valid():
			a = algorithmForHexLen(n)
			if a == None {
				return e, nil, fmt.Errorf("expected a digest of 32, 40, 56, 64, 96 or 128 hex digits, found %d", n)
			}
		}
		s = s[n:]
		if len(s) == 0 || !isBlank(s[0]) {
			return e, nil, errors.New("expected a space between the digest and the file name")
		}
		s = s[1:]
		// GNU's rule: "HEX  name" and "HEX *name" carry a mode character;
		// "HEX name" (one space, as BSD's md5 -r writes) has none. The first
		// line decides the form for the whole manifest, so an attacker cannot
		// slip a leading space or '*' in or out of a name: in the one-space
		// form, "HEX  b" names " b".
		if len(s) <= 1 || (s[0] != ' ' && s[0] != '*') {
			if reversed == 0 {
				return e, nil, errors.New(`expected two spaces or " *" between the digest and the file name`)
			}
			reversed = 1
		} else if reversed != 1 {
			reversed = 0
			e.Binary = s[0] == '*'
			s = s[1:]
		}
		name = s
		e.Algorithm = a
		if len(name) == 0 {
			return e, nil, errors.New("missing file name")
		}
	}
	if escaped {
		var err error
		if name, err = unescape(name); err != nil {
			return e, nil, err
		}
	}
	if bytes.IndexByte(name, 0) >= 0 {
		return e, nil, errors.New("file name contains a NUL byte")
	}
	// Only a line that is accepted decides the form (GNU's behaviour too).
	r.reversed = reversed
	e.Digest = r.digest[:e.Algorithm.Size()]
	return e, name, nil
}

func (r *Reader) source() string {
	if r.AlgorithmSource == "" {
		return ""
	}
	return ", " + r.AlgorithmSource
}

func allHex(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func describeDigest(b []byte) string {
	if !allHex(b) {
		return fmt.Sprintf("%q", truncate(b, 40))
	}
	return fmt.Sprintf("%d", len(b))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// cutTag splits "TAG (rest" or "TAG(rest" into TAG and rest when s has
// that shape, with TAG a run of letters, digits and '-'.
func cutTag(s []byte) (tag string, rest []byte, ok bool) {
	i := 0
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '-') {
		i++
	}
	j := i
	if j < len(s) && s[j] == ' ' {
		j++
	}
	if i == 0 || j >= len(s) || s[j] != '(' {
		return "", nil, false
	}
	// A run of hex digits is a digest, not a tag: tags always hold a
	// letter past 'f' (MD5, SHA256, ...).
	if allHex(s[:i]) {
		return "", nil, false
	}
	return string(s[:i]), s[j+1:], true
}

func tagAlgorithm(tag string) Algorithm {
	for a := MD5; a < numAlgorithms; a++ {
		if bsdTags[a] == tag {
			return a
		}
	}
	return None
}

// unescape undoes GNU's escaping of file names: \\ is a backslash, \n a
// newline and \r a carriage return. Any other escape is an error.
func unescape(s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(s) {
			return nil, errors.New(`file name ends in a lone "\"`)
		}
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		default:
			return nil, fmt.Errorf(`unknown escape "\%c" in file name (expected \\, \n or \r)`, s[i])
		}
	}
	return out, nil
}

// needsEscape reports whether GNU would escape name.
func needsEscape(name string) bool { return strings.ContainsAny(name, "\\\n\r") }

func escapeName(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendLine appends the manifest line for name with digest d, exactly as
// GNU coreutils' *sum writes it: "HEX  name\n", or with tag
// "ALGO (name) = HEX\n"; a name holding a backslash, newline or carriage
// return is escaped and the line starts with a backslash.
func AppendLine(dst []byte, a Algorithm, name string, d []byte, tag bool) []byte {
	esc := needsEscape(name)
	if esc {
		dst = append(dst, '\\')
	}
	if tag {
		dst = append(dst, bsdTags[a]...)
		dst = append(dst, " ("...)
	} else {
		dst = hex.AppendEncode(dst, d)
		dst = append(dst, "  "...)
	}
	if esc {
		dst = escapeName(dst, name)
	} else {
		dst = append(dst, name...)
	}
	if tag {
		dst = append(dst, ") = "...)
		dst = hex.AppendEncode(dst, d)
	}
	return append(dst, '\n')
}

// AlgorithmFromName infers the algorithm of a manifest from its file name,
// as the naming conventions of GNU and BagIt imply: sha1sum.txt,
// SHA256SUMS, MD5SUMS, data.sha256, manifest-sha512.txt. It returns None
// when the name says nothing.
func AlgorithmFromName(path string) Algorithm {
	base := strings.ToLower(filepath.Base(path))
	found := None
	for _, tok := range strings.FieldsFunc(base, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		tok = strings.TrimSuffix(strings.TrimSuffix(tok, "sums"), "sum")
		if a, err := ParseAlgorithm(tok); err == nil {
			if found != None && found != a {
				return None // two algorithms named: ambiguous
			}
			found = a
		}
	}
	return found
}
