package artifact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/normguard/normguard/embed"
)

// MaxStringBytes bounds every JSON string in an artifact but an
// embedding's sample (MaxSampleBytes): the bytes between its quotes as the
// file holds them (escapes included: "é" is 2 bytes, "\u003c" 6). It also
// bounds a run of other bytes that is not a string and holds no
// structural character ({ } [ ] , :): a number, a literal or white space.
// A JSON decoder holds each of these whole, and a string costs about five
// times its size to decode (a 99 MB category grew an upload by 532 MB),
// so both readers refuse one past the bound while they read the file,
// before it is held: Verify as its decoder takes the bytes, Decode before
// it decodes anything (scanStrings).
//
// What fits write is far shorter: the strings are column names (tens of
// bytes, a few hundred for generated ones), categories (identifiers,
// codes, labels, URLs: rarely past 2 KB), step and type names, digests and
// numbers. 64 KiB is thirty times a long URL and keeps what a single
// string costs a reader near 320 KB. fit refuses a value or a column name
// past the bound before it fits (fit/strings.go, CheckSpecSize), and
// Save (EncodeChecked) refuses an artifact holding one, so no fit writes
// an artifact the readers refuse.
const MaxStringBytes = 64 << 10

// MaxSampleBytes bounds the one long string an artifact holds: an
// embedding's reference sample, the value of its "base64" key (500
// vectors, 4 or 8 bytes a value, as base64: 2 MB at 768 float32
// dimensions). It is embed.MaxSampleText, 16 MiB: 500 vectors of 6,291
// float32 or 3,145 float64 dimensions; fit keeps fewer vectors past
// that. The embedding holding it is decoded whole, at about five times
// its bytes (the decoder's buffer grown by doubling, the values as
// float64): an upload of a sample of 16.8 MB grew the process by 83 MB,
// of 64 MiB (the bound before) by 311 MB.
const MaxSampleBytes = embed.MaxSampleText

// maxStringBytes and maxSampleBytes are MaxStringBytes and
// MaxSampleBytes, lowered by tests.
var (
	maxStringBytes int64 = MaxStringBytes
	maxSampleBytes int64 = MaxSampleBytes
)

// StringTooLong reports whether s takes more than MaxStringBytes in an
// artifact (its JSON encoding between the quotes: encoding/json escapes a
// byte in up to 6), with that length when it does. A string of at most a
// sixth of the bound is answered without encoding it.
func StringTooLong(s string) (encoded int, over bool) {
	if int64(len(s))*6 <= maxStringBytes {
		return 0, false
	}
	b, _ := json.Marshal(s) // a string always encodes
	if n := len(b) - 2; int64(n) > maxStringBytes {
		return n, true
	}
	return 0, false
}

// tokenTooLong is a reading's refusal of a string or other run of bytes
// past its bound (Limit), found at offset At of the file; Path, when
// found, is its JSON path.
type tokenTooLong struct {
	At     int64
	Limit  int64
	String bool // a string, else a number, literal or white space
	Path   string
	Key    bool // the string is an object's key, under Path
	Deep   bool // an array or object opening past maxDepth levels
}

func (e *tokenTooLong) Error() string { return e.fieldError().Error() }

// passed returns the offset of the byte with which the token passes its
// bound: the reading refuses it there. A section measured before it is
// decoded (the spec, a list of names) is refused instead when the reading
// passes the section's bound first.
func (e *tokenTooLong) passed() int64 {
	if e.Deep {
		return e.At
	}
	if e.String {
		return e.At + 1 + e.Limit // past the opening quote
	}
	return e.At + e.Limit
}

// fieldError is the refusal as a *FieldError: the path, or the offset
// when the path is not known.
func (e *tokenTooLong) fieldError() error {
	path := e.Path
	if path == "" {
		path = fmt.Sprintf("byte %d", e.At)
	}
	if e.Deep {
		return bad(path, "an array or object nested more than %d levels deep (at byte %d), the most an artifact may hold (artifact.MaxDepth: a fitted artifact nests about a dozen)", e.Limit, e.At)
	}
	what, bound := "a string", "artifact.MaxStringBytes: column names and categories are shorter; fit refuses longer ones"
	switch {
	case !e.String:
		what = "a number or white space"
	case e.Key:
		what = "a key"
	case e.Limit != maxStringBytes:
		bound = "artifact.MaxSampleBytes: an embedding's sample"
	}
	return bad(path, "%s of more than %d bytes (at byte %d), the most an artifact may hold (%s)", what, e.Limit, e.At, bound)
}

// writeError is the refusal by a writer (EncodeChecked, CheckSpecSize) of the
// string or run e found in data, its encoding; prefix is the path of
// data's value in an artifact ("" for the whole artifact).
func (e *tokenTooLong) writeError(data []byte, prefix string) error {
	ps := scanPath(bytes.NewReader(data), e.At)
	e.Path, e.Key = ps.path, ps.key
	path := e.Path
	switch {
	case prefix != "" && path != "" && path[0] != '[':
		path = prefix + "." + path
	case prefix != "":
		path = prefix + path
	case path == "":
		path = fmt.Sprintf("byte %d", e.At)
	}
	if !e.String || e.Key {
		return e.fieldError()
	}
	n := 0 // the string's length between its quotes
	for i, escaped := e.At+1, false; i < int64(len(data)) && (escaped || data[i] != '"'); i++ {
		escaped = !escaped && data[i] == '\\'
		n++
	}
	bound := "artifact.MaxStringBytes"
	if e.Limit != maxStringBytes {
		bound = "artifact.MaxSampleBytes, an embedding's sample"
	}
	return bad(path, "a string of %d bytes in the artifact's JSON, more than the %d an artifact's string may hold (%s); every reader would refuse the artifact", n, e.Limit, bound)
}

// isStructural tells the bytes that end a run outside strings.
var isStructural = [256]bool{'{': true, '}': true, '[': true, ']': true, ',': true, ':': true}

// sampleKey is the key whose string value MaxSampleBytes bounds.
const sampleKey = "base64"

// Key states of a tokenScan: where it is after a string equal to
// sampleKey.
const (
	noKey      = iota
	afterKey   // the string may be the key: a colon should follow
	afterColon // the next string is the key's value
)

// tokenScan measures, in a stream of JSON bytes fed in pieces, each
// string (its bytes between the quotes, escapes included) and each run of
// bytes outside strings holding no structural character, and fails at
// the first past its bound: maxStringBytes, or maxSampleBytes for the
// value of a "base64" key. It does not check that the JSON is valid; the
// decoder does. Strings are skipped with bytes.IndexByte, so feeding
// costs little beside decoding.
type tokenScan struct {
	off      int64 // file offset of the next byte fed
	inString bool
	escaped  bool  // the last byte fed was a backslash in a string
	strStart int64 // offset of the current string's opening quote
	strLen   int64 // bytes of the current string fed so far
	strLimit int64 // the current string's bound
	run      int64 // bytes outside strings since the last structural byte or quote
	key      int   // noKey, afterKey, afterColon
	tail     [8]byte
	tailLen  int // bytes of tail: the last ones fed, up to 8
	depth    int // arrays and objects open (maxDepth)
	err      *tokenTooLong
}

// feed scans the next piece of the stream.
func (s *tokenScan) feed(p []byte) error {
	if s.err != nil {
		return s.err
	}
	q := -2 // index in p of the next quote at or after i; -1 none, -2 not searched
	for i := 0; i < len(p); {
		if q != -1 && q < i {
			if k := bytes.IndexByte(p[i:], '"'); k >= 0 {
				q = i + k
			} else {
				q = -1
			}
		}
		end := len(p)
		if q >= 0 {
			end = q
		}
		if !s.inString {
			if err := s.outside(p[i:end], s.off+int64(i), q >= 0); err != nil {
				return err
			}
			if q < 0 {
				break
			}
			s.inString, s.strLen, s.strStart, s.strLimit = true, 0, s.off+int64(q), maxStringBytes
			if s.key == afterColon {
				s.strLimit = maxSampleBytes
			}
			s.key = noKey
			i = q + 1
			continue
		}
		if s.escaped { // the byte after a backslash: never the string's end
			s.escaped = false
			s.strLen++
			i++
		} else if b := bytes.IndexByte(p[i:end], '\\'); b >= 0 {
			s.strLen += int64(b) + 1
			s.escaped = true
			i += b + 1
		} else {
			s.strLen += int64(end - i)
			i = end
			if q >= 0 && s.strLen <= s.strLimit {
				s.inString, s.run = false, 0
				if s.strLen == int64(len(sampleKey)) && s.endsWith(p, q, sampleKey) {
					s.key = afterKey
				}
				i++
				continue
			}
		}
		if s.strLen > s.strLimit {
			s.err = &tokenTooLong{At: s.strStart, Limit: s.strLimit, String: true}
			return s.err
		}
	}
	s.off += int64(len(p))
	if len(p) >= len(s.tail) {
		s.tailLen = copy(s.tail[:], p[len(p)-len(s.tail):])
	} else {
		keep := min(s.tailLen, len(s.tail)-len(p))
		copy(s.tail[:], s.tail[s.tailLen-keep:s.tailLen])
		s.tailLen = keep + copy(s.tail[keep:], p)
	}
	return nil
}

// endsWith tells whether the bytes fed before p[q], with p[:q], end with
// text (at most len(tail) bytes).
func (s *tokenScan) endsWith(p []byte, q int, text string) bool {
	if q >= len(text) {
		return string(p[q-len(text):q]) == text
	}
	rest := len(text) - q
	return rest <= s.tailLen && string(s.tail[s.tailLen-rest:s.tailLen]) == text[:rest] && string(p[:q]) == text[rest:]
}

// nesting is the change of depth each byte outside strings makes.
var nesting = [256]int8{'{': 1, '[': 1, '}': -1, ']': -1}

// outside scans seg, bytes outside strings starting at offset base;
// quoted says a quote follows it (which ends the run).
func (s *tokenScan) outside(seg []byte, base int64, quoted bool) error {
	d := s.depth
	for i, c := range seg {
		d += int(nesting[c])
		if d > maxDepth {
			s.err = &tokenTooLong{At: base + int64(i), Limit: int64(maxDepth), Deep: true}
			return s.err
		}
	}
	s.depth = d
	if s.key != noKey {
		for _, c := range seg {
			switch {
			case c == ':' && s.key == afterKey:
				s.key = afterColon
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			default:
				s.key = noKey
			}
		}
	}
	limit := maxStringBytes
	n := int64(len(seg))
	if s.run+n <= limit {
		if quoted {
			return nil // the run ends at the quote
		}
		if k := lastStructural(seg); k >= 0 {
			s.run = n - int64(k) - 1
		} else {
			s.run += n
		}
		return nil
	}
	// The run carried in ends at the first structural byte.
	j := 0
	for j < len(seg) && !isStructural[seg[j]] {
		j++
	}
	if s.run+int64(j) > limit {
		return s.fail(base - s.run)
	}
	// Every limit+1 bytes after it hold another.
	for {
		rest := seg[j+1:]
		if int64(len(rest)) <= limit {
			if k := lastStructural(rest); k >= 0 {
				s.run = int64(len(rest) - k - 1)
			} else {
				s.run = int64(len(rest))
			}
			return nil
		}
		k := lastStructural(rest[:limit+1])
		if k < 0 {
			return s.fail(base + int64(j) + 1)
		}
		j += k + 1
	}
}

func (s *tokenScan) fail(at int64) error {
	s.err = &tokenTooLong{At: at, Limit: maxStringBytes}
	return s.err
}

// lastStructural returns the index of the last structural byte of b, or -1.
func lastStructural(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isStructural[b[i]] {
			return i
		}
	}
	return -1
}

// scanReader feeds what is read through it to a tokenScan, failing the
// read that brings a string or run past its bound.
type scanReader struct {
	r    io.Reader
	scan *tokenScan
	// n counts the bytes read; limit, when > 0, is the count past which
	// a read fails with errElementBound (boundedElement).
	n, limit int64
}

func (r *scanReader) Read(p []byte) (int, error) {
	if r.limit > 0 {
		room := r.limit - r.n
		if room <= 0 {
			return 0, errElementBound
		}
		if int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	if serr := r.scan.feed(p[:n]); serr != nil {
		return 0, serr
	}
	return n, err
}

// scanStrings scans data, a whole file, for a string or run past its
// bound.
func scanStrings(data []byte) *tokenTooLong {
	var s tokenScan
	if s.feed(data) == nil {
		return nil
	}
	return s.err
}

// boundRefusal is how both readers word the refusal of a file whose first
// string or run past its bound is tl: the top-level section (the spec,
// the input schema, passthrough) holding it, or before it, when that
// section passes its own bound first (Verify measures these before
// decoding them: valueOver), else tl under its JSON path. r reads the
// file from its start.
func boundRefusal(r io.Reader, tl *tokenTooLong) error {
	ps := scanPath(r, tl.At)
	tl.Path, tl.Key = ps.path, ps.key
	for _, sec := range []struct {
		key      string
		limit    int64
		tooLarge func() error
	}{
		{"spec", maxSpecBytes, specTooLarge},
		{"inputs", maxNamesBytes, func() error { return namesTooLarge("inputs") }},
		{"passthrough", maxNamesBytes, func() error { return namesTooLarge("passthrough") }},
	} {
		span, ok := ps.sections[sec.key]
		// Ended or not, the section passes its bound at start+limit; one
		// still open at tl.At holds tl, so it goes on past that byte.
		if ok && span[0]+sec.limit < tl.passed() && (span[1] < 0 || span[1]-span[0] > sec.limit) {
			return sec.tooLarge()
		}
	}
	return tl.fieldError()
}

// maxPathDepth and maxPathKey bound what scanPath keeps: an artifact
// nests a dozen levels deep, with short keys.
const (
	maxPathDepth = 64
	maxPathKey   = 256
)

// pathFrame is one open object or array of scanPath.
type pathFrame struct {
	array   bool
	index   int
	key     string
	wantKey bool // an object expecting a key (after '{' or ',')
}

// pathScan is what scanPath finds.
type pathScan struct {
	// path is the JSON path (as FieldError writes it:
	// groups[0].steps[1].fitted.categories_[0][2]) of the value at the
	// offset, "" when the file nests too deep or has keys too long to
	// name one; key tells the value is an object's key, path then naming
	// the object.
	path string
	key  bool
	// sections holds, by key, where each top-level value starts and
	// ends (-1: it does not end before the offset).
	sections map[string][2]int64
}

// scanPath reads the file r from its start to offset at, following its
// nesting.
func scanPath(r io.Reader, at int64) pathScan {
	br := bufio.NewReaderSize(io.LimitReader(r, at), 64<<10)
	var stack []pathFrame
	var keyBuf []byte
	ps := pathScan{sections: map[string][2]int64{}}
	inString, escaped, readingKey, deep := false, false, false, false
	top := "" // the top-level key whose value is open
	for off := int64(0); ; off++ {
		c, err := br.ReadByte()
		if err != nil {
			break
		}
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if readingKey {
					readingKey = false
					var k string
					if json.Unmarshal(append(append([]byte{'"'}, keyBuf...), '"'), &k) != nil {
						k = string(keyBuf)
					}
					stack[len(stack)-1].key = k
					stack[len(stack)-1].wantKey = false
				}
				continue
			}
			if readingKey {
				if len(keyBuf) >= maxPathKey {
					readingKey, deep = false, true // named by offset only
				}
				keyBuf = append(keyBuf, c)
			}
			continue
		}
		if startsValue(c) && len(stack) == 1 && !stack[0].array && !stack[0].wantKey && top == "" {
			top = stack[0].key // a top-level value starts
			ps.sections[top] = [2]int64{off, -1}
		}
		switch c {
		case '"':
			inString = true
			if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
				readingKey, keyBuf = true, keyBuf[:0]
			}
		case '{', '[':
			if len(stack) >= maxPathDepth {
				deep = true
				stack = append(stack, pathFrame{array: true}) // depth only
				continue
			}
			stack = append(stack, pathFrame{array: c == '[', wantKey: c == '{'})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].array {
					stack[n-1].index++
				} else {
					stack[n-1].wantKey = true
				}
			}
		}
		if len(stack) == 1 && top != "" && (c == ',' || c == '}' || c == ']') {
			sec := ps.sections[top]
			end := off // a scalar, ended by the comma
			if c != ',' {
				end++ // the value's closing brace or bracket
			}
			ps.sections[top] = [2]int64{sec[0], end}
			top = ""
		}
	}
	if deep {
		return ps
	}
	n := len(stack)
	if n > 0 && !stack[n-1].array && stack[n-1].wantKey {
		ps.key = true
		stack = stack[:n-1] // the key names a field of this object
		n--
	}
	var b strings.Builder
	for i, f := range stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if i == n-1 && f.key == "" {
			break // an object whose first key is not read
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	ps.path = b.String()
	return ps
}

// startsValue tells the bytes a JSON value starts with.
func startsValue(c byte) bool {
	return c == '{' || c == '[' || c == '"' || c == '-' || c >= '0' && c <= '9' || c == 't' || c == 'f' || c == 'n'
}
