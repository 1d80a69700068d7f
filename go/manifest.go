package checksig

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	Source    Source    // what decided Algorithm
	Digest    []byte    // raw digest; valid until the next call to Next
	Tagged    bool      // BSD tag form: ALGO (name) = HEX
	Binary    bool      // untagged "HEX *name"
	Base64    bool      // the digest was written in base64 (cksum --base64)
}

// Source says what decided a manifest line's algorithm. Its values are part
// of the C ABI (CHECKSIG_SRC_* in capi/checksig.h).
type Source uint8

// Sources, in the order FORMATS.md B1-B2 tries them.
const (
	SourceNone    Source = iota
	SourceTag            // the line's BSD tag
	SourceRequest        // the caller named the algorithm (-a, algorithm=)
	SourceName           // the manifest's file name (SHA256SUMS, b3sums.txt)
	SourceLength         // the digest's length alone (FORMATS.md B2.3)
)

// String returns the words error messages use: "as requested", "from the
// manifest's name", ...
func (s Source) String() string {
	switch s {
	case SourceTag:
		return "from the line's tag"
	case SourceRequest:
		return "as requested"
	case SourceName:
		return "from the manifest's name"
	case SourceLength:
		return "from the digest's length"
	}
	return ""
}

// Reader reads manifest entries in the formats GNU coreutils' *sum -c,
// cksum -c and b3sum --check read: "HEX  name", "HEX *name",
// "ALGO (name) = HEX", with a leading backslash marking an escaped name,
// and base64 digests where cksum -c reads them. Blank lines and lines
// starting with '#' are skipped.
//
// Set the exported fields before the first call to Next.
type Reader struct {
	// Name is the manifest's name, used in error messages.
	Name string
	// Algorithm, when valid, is the algorithm of every untagged line; a line
	// whose digest has another length is malformed. BLAKE2b (b2sum's
	// default) reads BLAKE2b digests of every length, the length picking it,
	// as b2sum -c does.
	Algorithm Algorithm
	// Family, when Algorithm is None, is the family of the untagged lines
	// (a manifest named SHA3SUMS): each digest's length picks its member.
	// With neither, the length picks among md5, sha1, sha224, sha256, sha384
	// and sha512 (FORMATS.md B2.3).
	Family Family
	// Source says where Algorithm or Family came from (SourceRequest,
	// SourceName), for messages and Entry.Source; when unset, SourceRequest.
	Source Source

	r    *bufio.Reader
	line int64
	// reversed tracks GNU's rule against mixing "HEX  name" and the
	// single-space "HEX name" form: -1 undecided, 0 standard, 1 single space.
	reversed int
	digest   [MaxSize]byte
	table    *bySize // untagged lines' algorithms by digest size, from sizes
}

// defaultSizes is lengthDefaults by size.
var defaultSizes = sizeTable(lengthDefaults)

// sizes returns the algorithms untagged lines may use, by digest size.
func (r *Reader) sizes() *bySize {
	if r.table == nil {
		switch {
		case r.Algorithm == BLAKE2b:
			r.table = sizeTable(FamilyBLAKE2b.members())
		case r.Algorithm.Valid():
			r.table = sizeTable([]Algorithm{r.Algorithm})
		case r.Family != FamilyNone:
			r.table = sizeTable(r.Family.members())
		default:
			r.table = defaultSizes
		}
	}
	return r.table
}

// given reports whether the untagged lines' algorithm was given (by the
// caller or the manifest's name), not left to the digest's length: only
// then may their digests be base64, as for GNU (cksum -a ALGO --untagged).
func (r *Reader) given() bool { return r.Algorithm.Valid() || r.Family != FamilyNone }

// untaggedSource is the Source of an untagged line's algorithm.
func (r *Reader) untaggedSource() Source {
	switch {
	case !r.given():
		return SourceLength
	case r.Source == SourceNone:
		return SourceRequest
	}
	return r.Source
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
			return e, nil, unknownTag(tag)
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
		d := bytes.TrimLeft(rest[1:], " \t")
		switch {
		case len(d) == a.Size()*2 && scanHex(r.digest[:], d) == len(d):
		case len(d) == base64Len(a.Size()) && decodeBase64(r.digest[:], d) == a.Size():
			e.Base64 = true
		default:
			return e, nil, fmt.Errorf("expected %d hex digits or %d base64 characters for %s, found %s",
				a.Size()*2, base64Len(a.Size()), tag, describeDigest(d))
		}
		e.Algorithm, e.Source, e.Tagged = a, SourceTag, true
	} else {
		a, n, b64 := r.untaggedDigest(s, hexRun)
		if a == None {
			return e, nil, r.untaggedError(s, hexRun)
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
		e.Algorithm, e.Source, e.Base64 = a, r.untaggedSource(), b64
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

// untaggedDigest reads the digest that starts the untagged line s, whose
// first hexRun bytes are hex digits (decoded into r.digest): its algorithm
// (None if s starts with no digest this reader accepts), its length in
// bytes of s, and whether it is base64.
func (r *Reader) untaggedDigest(s []byte, hexRun int) (a Algorithm, n int, b64 bool) {
	t := r.sizes()
	if hexRun%2 == 0 && hexRun/2 <= MaxSize {
		a = t[hexRun/2] // t[0] is None
	}
	if a != None && (hexRun == len(s) || isBlank(s[hexRun])) {
		return a, hexRun, false
	}
	if r.given() {
		// Hex first, as GNU: a base64 digest of only hex digits is read as
		// hex when a hex digest of its length fits (never with one
		// algorithm: no size has as many base64 as hex characters).
		tok := s[:tokenLen(s)]
		var d [MaxSize]byte
		if m := decodeBase64(d[:], tok); m > 0 && t[m] != None {
			copy(r.digest[:], d[:m])
			return t[m], len(tok), true
		}
	}
	if a != None {
		return a, hexRun, false // "expected a space" follows
	}
	return None, 0, false
}

// untaggedError explains why the untagged line s starts with no digest
// this reader accepts.
func (r *Reader) untaggedError(s []byte, hexRun int) error {
	tok := s[:tokenLen(s)]
	// Base64 is worth naming only when tok decodes to the size of an
	// algorithm's own digest (BLAKE2b's shorter -l lengths aside, which
	// make every size from 1 byte): "junk" is four base64 characters, and
	// no digest.
	m := 0
	if !allHex(tok) {
		m = decodeBase64(make([]byte, MaxSize), tok)
	}
	b64 := m > 0 && anySize(m)
	found := fmt.Sprintf("found %d", hexRun)
	if b64 {
		found = fmt.Sprintf("found %d base64 characters", len(tok))
	}
	switch a := r.Algorithm; {
	case hexRun == 0 && !b64:
		return errors.New(`expected "HEX  name", "HEX *name" or "ALGO (name) = HEX"`)
	case a.Valid() && a != BLAKE2b:
		if b64 {
			return fmt.Errorf("expected %d hex digits or %d base64 characters (%s%s), %s", a.Size()*2, base64Len(a.Size()), a, r.source(), found)
		}
		return fmt.Errorf("expected %d hex digits (%s%s), %s", a.Size()*2, a, r.source(), found)
	case a == BLAKE2b || r.Family != FamilyNone:
		f := r.Family
		if a == BLAKE2b {
			f = FamilyBLAKE2b
		}
		return fmt.Errorf("expected a %s digest (%s%s), %s", f, describeLengths(f.members()), r.source(), found)
	case b64:
		return fmt.Errorf(`expected a hex digest, %s: base64 digests in untagged lines need the algorithm named (-a, algorithm=) or a tagged line ("SHA256 (name) = ...")`, found)
	}
	msg := fmt.Sprintf("expected a digest of 32, 40, 56, 64, 96 or 128 hex digits, %s", found)
	if hexRun%2 == 0 && hexRun/2 <= MaxSize {
		var fits []string
		for b := Algorithm(1); int(b) < numAlgorithms; b++ {
			if b.Size() == hexRun/2 {
				fits = append(fits, b.String())
			}
		}
		if len(fits) > 0 {
			msg += fmt.Sprintf(" (%s makes %d: name the algorithm to read it)", strings.Join(fits, ", "), hexRun)
		}
	}
	return errors.New(msg)
}

// anySize reports whether some algorithm makes digests of n bytes at its
// own length (not counting BLAKE2b's shorter -l lengths).
func anySize(n int) bool {
	for a := Algorithm(1); int(a) < numAlgorithms; a++ {
		if a > blake2bBase && a < BLAKE2b {
			continue
		}
		if a.Valid() && a.Size() == n {
			return true
		}
	}
	return false
}

// describeLengths says which hex lengths the algorithms of f make.
func describeLengths(f []Algorithm) string {
	if len(f) > 8 {
		return fmt.Sprintf("an even number of hex digits from %d to %d", 2*f[0].Size(), 2*f[len(f)-1].Size())
	}
	var l []string
	for _, a := range f {
		l = append(l, strconv.Itoa(2*a.Size()))
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1] + " hex digits"
}

// unknownTag explains a tag no algorithm has.
func unknownTag(tag string) error {
	if strings.HasPrefix(tag, "BLAKE2b-") {
		return fmt.Errorf("unknown algorithm tag %q (BLAKE2b-N takes N a multiple of 8 from 8 to 512, in decimal)", tag)
	}
	return fmt.Errorf("unknown algorithm tag %q (expected MD5, SHA1, SHA224, SHA256, SHA384, SHA512, SHA2-N, SHA3-N, BLAKE2b, BLAKE2b-N, BLAKE2s or BLAKE3)", tag)
}

// tokenLen returns the length of the run of non-blank bytes s starts with.
func tokenLen(s []byte) int {
	n := 0
	for n < len(s) && !isBlank(s[n]) {
		n++
	}
	return n
}

// base64Len is the length of n bytes in padded standard base64.
func base64Len(n int) int { return (n + 2) / 3 * 4 }

// decodeBase64 decodes tok, padded standard base64 as cksum --base64
// writes it, into dst and returns the number of bytes; 0 when tok is not
// such base64 or decodes to more than len(dst) bytes. Line breaks are not
// skipped, and the unused bits of the last character must be zero: the
// encoding is the one cksum writes (GNU compares the text with the
// encoding of the file's digest, so another spelling of the same bytes
// never matches there either).
func decodeBase64(dst, tok []byte) int {
	if len(tok) == 0 || len(tok)%4 != 0 {
		return 0
	}
	pad := 0
	for pad < 2 && tok[len(tok)-1-pad] == '=' {
		pad++
	}
	n := len(tok)/4*3 - pad
	if n > len(dst) {
		return 0
	}
	for _, c := range tok[:len(tok)-pad] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return 0
		}
	}
	m, err := base64.StdEncoding.Strict().Decode(dst, tok)
	if err != nil || m != n {
		return 0
	}
	return n
}

func (r *Reader) source() string {
	if r.Source == SourceNone {
		return ""
	}
	return ", " + r.Source.String()
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
// the matching tool writes it: GNU coreutils' *sum, b2sum and cksum -a
// ALGO, or b3sum. Untagged: "HEX  name\n"; tagged (--tag):
// "TAG (name) = HEX\n", TAG being a.Tag() (an algorithm without one, such
// as git-sha1, is written untagged). A name holding a backslash, newline or
// carriage return is escaped and the line starts with a backslash.
func AppendLine(dst []byte, a Algorithm, name string, d []byte, tag bool) []byte {
	return appendLine(dst, a, name, d, tag, false)
}

// AppendLineBase64 is AppendLine with the digest in padded standard base64,
// as cksum --base64 (GNU 9.2+) writes it: "TAG (name) = B64\n" tagged,
// "B64  name\n" with --untagged.
func AppendLineBase64(dst []byte, a Algorithm, name string, d []byte, tag bool) []byte {
	return appendLine(dst, a, name, d, tag, true)
}

func appendLine(dst []byte, a Algorithm, name string, d []byte, tag, b64 bool) []byte {
	tag = tag && a.Tag() != ""
	esc := needsEscape(name)
	if esc {
		dst = append(dst, '\\')
	}
	if tag {
		dst = append(dst, a.Tag()...)
		dst = append(dst, " ("...)
	} else {
		dst = appendDigest(dst, d, b64)
		dst = append(dst, "  "...)
	}
	if esc {
		dst = escapeName(dst, name)
	} else {
		dst = append(dst, name...)
	}
	if tag {
		dst = append(dst, ") = "...)
		dst = appendDigest(dst, d, b64)
	}
	return append(dst, '\n')
}

func appendDigest(dst, d []byte, b64 bool) []byte {
	if b64 {
		return base64.StdEncoding.AppendEncode(dst, d)
	}
	return hex.AppendEncode(dst, d)
}
