package kafka

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// maxDepth is the deepest nesting scanned, as in encoding/json.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// scanner checks JSON by hand, accepting exactly what encoding/json
// accepts, without building values: a row's keys are matched to fields
// and the values of the fields kept as raw spans of the input.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) next(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str scans a string and returns its content (quotes excluded) and
// whether it holds escapes.
func (s *scanner) str() ([]byte, bool, error) {
	if !s.next('"') {
		return nil, false, errSyntax
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], esc, nil
		case c < 0x20:
			return nil, false, errSyntax
		case c == '\\':
			esc = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false, errSyntax
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return nil, false, errSyntax
					}
					s.i++
				}
			default:
				return nil, false, errSyntax
			}
		default:
			s.i++
		}
	}
	return nil, false, errSyntax
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() error {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return errSyntax
	}
	if s.next('.') {
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
	return s.i - start
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return errSyntax
	}
	s.i += len(word)
	return nil
}

// value scans any JSON value.
func (s *scanner) value(depth int) error {
	if s.i >= len(s.b) {
		return errSyntax
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return errSyntax
		}
		return s.composite(depth + 1)
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || isDigit(c):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errSyntax
}

// composite scans an object or an array.
func (s *scanner) composite(depth int) error {
	obj := s.b[s.i] == '{'
	closing := byte(']')
	if obj {
		closing = '}'
	}
	s.i++
	s.space()
	if s.next(closing) {
		return nil
	}
	for {
		if obj {
			if _, _, err := s.str(); err != nil {
				return err
			}
			s.space()
			if !s.next(':') {
				return errSyntax
			}
			s.space()
		}
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.next(',') {
			s.space()
			continue
		}
		if s.next(closing) {
			return nil
		}
		return errSyntax
	}
}

// scanRow reads v, one JSON object, keeping in spans[j] the raw value of
// the key naming field j (index) and nil for fields without one. It
// reports whether v is a JSON object (nothing else but spaces around),
// and dup, the first field named by two keys, or -1.
func scanRow(v []byte, index map[string]int, spans [][]byte) (ok bool, dup int) {
	clear(spans)
	dup = -1
	s := scanner{b: v}
	s.space()
	if !s.next('{') {
		return false, dup
	}
	s.space()
	if !s.next('}') {
		for {
			key, esc, err := s.str()
			if err != nil {
				return false, dup
			}
			s.space()
			if !s.next(':') {
				return false, dup
			}
			s.space()
			start := s.i
			if s.value(1) != nil {
				return false, dup
			}
			var j int
			var named bool
			if esc || !utf8.Valid(key) {
				j, named = index[unquote(key, esc)]
			} else {
				j, named = index[string(key)] // no allocation
			}
			if named {
				if spans[j] != nil && dup < 0 {
					dup = j
				}
				spans[j] = v[start:s.i]
			}
			s.space()
			if s.next(',') {
				s.space()
				continue
			}
			if s.next('}') {
				break
			}
			return false, dup
		}
	}
	s.space()
	return s.i == len(v), dup
}

// unquote returns the content of a scanned JSON string (quotes
// excluded): itself when it holds no escapes and is valid UTF-8, else as
// encoding/json decodes it.
func unquote(content []byte, esc bool) string {
	if !esc && utf8.Valid(content) {
		return string(content)
	}
	var s string
	quoted := make([]byte, 0, len(content)+2)
	quoted = append(append(append(quoted, '"'), content...), '"')
	if json.Unmarshal(quoted, &s) != nil {
		return string(content)
	}
	return s
}
