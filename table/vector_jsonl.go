package table

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/internal/errtext"
)

// valueArray is a JSON array value: text locates it from '[' to ']'.
const valueArray = valueString + 1

// jsonlVector is the state of a Vector column of a JSONL reader: its
// dimension and the line that set it, kept across batches.
type jsonlVector struct {
	dim     int
	dimLine int64
	pending int // missing rows of this batch met before the dimension was known
}

// scanArray scans the JSON array whose '[' is at text[i] into p (kind
// valueArray) and returns the index just past its ']'. Elements must be
// numbers, numeric strings or null; nested arrays and objects are refused.
func (r *JSONLReader) scanArray(i int, p *jsonlPair) (int, error) {
	line := r.text
	start := i
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == ']' {
		p.val = jsonlValue{kind: valueArray, text: jsonlText{lo: int32(start), hi: int32(i + 1)}}
		return i + 1, nil
	}
	for {
		if i == len(line) {
			return i, r.syntaxError(i, "unterminated array for key %s", errtext.QuoteBytes(r.bytesOf(p.key)))
		}
		switch c := line[i]; {
		case c == '-' || c >= '0' && c <= '9':
			end, _, _ := scanNumber(line, i)
			if end < 0 {
				return i, r.syntaxError(i, "invalid number in the array of key %s", errtext.QuoteBytes(r.bytesOf(p.key)))
			}
			i = end
		case c == '"':
			end, _, err := r.scanString(i + 1)
			if err != nil {
				return i, err
			}
			i = end
		case c == 'n' && i+4 <= len(line) && string(line[i:i+4]) == "null":
			i += 4
		default:
			return i, &ParseError{File: r.name, Line: r.lineNo, Column: string(r.bytesOf(p.key)),
				Err:  fmt.Errorf("%w: a vector element is %s; only numbers are supported", ErrJSONLSyntax, describe(line, i)),
				Hint: "write a vector as a flat array of numbers, e.g. [0.1, -0.2, 0.3]"}
		}
		i = skipSpace(line, i)
		if i < len(line) && line[i] == ',' {
			i = skipSpace(line, i+1)
			continue
		}
		if i < len(line) && line[i] == ']' {
			p.val = jsonlValue{kind: valueArray, text: jsonlText{lo: int32(start), hi: int32(i + 1)}}
			return i + 1, nil
		}
		return i, r.syntaxError(i, "expected ',' or ']' in the array of key %s, found %s", errtext.QuoteBytes(r.bytesOf(p.key)), describe(line, i))
	}
}

// appendVector appends the value v to the Vector column c: an array's
// numbers, or a missing row for null or an absent key. The first vector
// sets the column's dimension; a later one of another length is a
// *DimensionError.
func (r *JSONLReader) appendVector(c *Column, p *jsonlProjection, v *jsonlValue) error {
	st := p.vec
	switch v.kind {
	case valueAbsent, valueNull:
		p.null = append(p.null, true)
		p.nulls = true
		if st.dim == 0 {
			st.pending++
			return nil
		}
		for range st.dim {
			c.Vec = append(c.Vec, math.NaN())
		}
		return nil
	case valueArray:
	default:
		return &ParseError{File: r.name, Line: r.lineNo, Column: c.Name,
			Err:  fmt.Errorf("a vector column holds %s, not an array", jsonKindName(v.kind)),
			Hint: "write each vector as an array of numbers, or null when it is missing"}
	}
	before := len(c.Vec)
	line := r.text
	t := v.text
	for i := skipSpace(line, int(t.lo)+1); i < int(t.hi)-1; {
		switch c0 := line[i]; {
		case c0 == '"':
			end, s, _ := r.scanString(i + 1)
			x, ok := parseNumber(r.bytesOf(s))
			if !ok {
				return &ParseError{File: r.name, Line: r.lineNo, Column: c.Name,
					Err:  fmt.Errorf("element %d of the vector: cannot parse %s as a number", len(c.Vec)-before, errtext.QuoteBytes(r.bytesOf(s))),
					Hint: "a vector holds numbers only"}
			}
			c.Vec = append(c.Vec, x)
			i = end
		case c0 == 'n':
			c.Vec = append(c.Vec, math.NaN())
			i += 4
		default:
			end, x, exact := scanNumber(line, i)
			if !exact {
				x = parseJSONNumber(line[i:end])
			}
			c.Vec = append(c.Vec, x)
			i = end
		}
		i = skipSpace(line, i)
		if i < len(line) && line[i] == ',' {
			i = skipSpace(line, i+1)
		}
	}
	n := len(c.Vec) - before
	switch {
	case st.dim == 0:
		if n == 0 {
			return &ParseError{File: r.name, Line: r.lineNo, Column: c.Name,
				Err: fmt.Errorf("the vector is empty"), Hint: "write null for a missing vector"}
		}
		st.dim, st.dimLine = n, r.lineNo
		c.Dim = n
		if st.pending > 0 {
			// Rows missing before the dimension was known: NaN placeholders.
			pre := make([]float64, st.pending*n, st.pending*n+cap(c.Vec))
			for k := range pre {
				pre[k] = math.NaN()
			}
			c.Vec = append(pre, c.Vec...)
			st.pending = 0
		}
	case n != st.dim:
		c.Vec = c.Vec[:before]
		return &DimensionError{File: r.name, Line: r.lineNo, Column: c.Name, Got: n, Want: st.dim,
			Where: fmt.Sprintf("the column's first vector (line %d)", st.dimLine)}
	}
	p.null = append(p.null, false)
	return nil
}

// readVector converts the value v for column c: a Vector column's value,
// or an array met in a column not read as a vector (an error).
func (r *JSONLReader) readVector(c *Column, p *jsonlProjection, v *jsonlValue) error {
	if p.kind != Vector {
		return r.arrayError(c.Name)
	}
	return r.appendVector(c, p, v)
}

// arrayError is the error for an array in a column not read as a vector.
func (r *JSONLReader) arrayError(column string) error {
	return &ParseError{File: r.name, Line: r.lineNo, Column: column,
		Err:  &vectorValueError{column: column, err: fmt.Errorf("%w: value is an array; only strings, numbers, booleans and null are supported", ErrJSONLSyntax)},
		Hint: "declare the column `type: vector` in the spec to read arrays of numbers as vectors, or flatten nested values into keys of their own"}
}

// jsonKindName names a scanned JSON value's kind for errors.
func jsonKindName(k uint8) string {
	switch k {
	case valueNumber:
		return "a number"
	case valueString:
		return "a string"
	case valueTrue, valueFalse:
		return "a boolean"
	case valueArray:
		return "an array"
	}
	return "null"
}
