package embed

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Vectors is a list of vectors of one dimension (a contract's reference
// sample). In JSON it is an object holding the values as base64 of their
// little-endian bytes:
//
//	{"dtype": "float32", "rows": 500, "dim": 768, "base64": "..."}
//
// dtype is float32 when every value is a float32 value (bit for bit, as
// vectors read from float32 data are), float64 otherwise, so the decoded
// values are bit-identical to the encoded ones and the encoding is a
// function of the values alone. 500 vectors of 768 float32 values take
// 2 MB this way instead of 8.5 MB as decimal text. An array of arrays of
// numbers (how contracts were written before) is read as well; null is
// no sample.
type Vectors [][]float64

// vectorsJSON is the encoded form of Vectors.
type vectorsJSON struct {
	Dtype  string `json:"dtype"`
	Rows   int    `json:"rows"`
	Dim    int    `json:"dim"`
	Base64 string `json:"base64"`
}

// MarshalJSON encodes v as its dtype, shape and base64 bytes. Vectors of
// unequal lengths (which Contract.Check refuses) are written as an array
// of arrays so that nothing is lost.
func (v Vectors) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	dtype, rows, dim, ok := v.Encoding()
	if !ok {
		return json.Marshal([][]float64(v))
	}
	var b bytes.Buffer
	if err := v.WriteBase64(&b); err != nil {
		return nil, err
	}
	return json.Marshal(vectorsJSON{Dtype: dtype, Rows: rows, Dim: dim, Base64: b.String()})
}

// Encoding returns the dtype, rows and dim MarshalJSON writes for v, or
// ok false when it writes v otherwise (null, or an array of arrays).
func (v Vectors) Encoding() (dtype string, rows, dim int, ok bool) {
	if v == nil {
		return "", 0, 0, false
	}
	if len(v) > 0 {
		dim = len(v[0])
	}
	single := true
	for _, row := range v {
		if len(row) != dim {
			return "", 0, 0, false
		}
		for _, x := range row {
			single = single && math.Float64bits(float64(float32(x))) == math.Float64bits(x)
		}
	}
	if single {
		return DtypeFloat32, len(v), dim, true
	}
	return DtypeFloat64, len(v), dim, true
}

// WriteBase64 writes to w the base64 text MarshalJSON holds for v (when
// Encoding's ok), a few kilobytes at a time, so that writing a large
// sample does not build its bytes or its text whole.
func (v Vectors) WriteBase64(w io.Writer) error {
	dtype, _, _, ok := v.Encoding()
	if !ok {
		return errors.New("sample: vectors of unequal lengths have no base64 form")
	}
	enc := base64.NewEncoder(base64.StdEncoding, w)
	buf := make([]byte, 0, 3<<10) // a multiple of 3: whole base64 groups
	for _, row := range v {
		for _, x := range row {
			if dtype == DtypeFloat32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(x)))
			} else {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
			}
			if len(buf) == cap(buf) {
				if _, err := enc.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := enc.Write(buf); err != nil {
		return err
	}
	return enc.Close()
}

// UnmarshalJSON reads the object MarshalJSON writes, an array of arrays
// of numbers, or null.
func (v *Vectors) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] != '{' {
		var rows [][]float64
		if err := json.Unmarshal(data, &rows); err != nil {
			return errors.New(`sample: must be {"dtype", "rows", "dim", "base64"} or an array of vectors`)
		}
		*v = rows
		return nil
	}
	var enc struct {
		Dtype  string    `json:"dtype"`
		Rows   int       `json:"rows"`
		Dim    int       `json:"dim"`
		Base64 rawString `json:"base64"`
	}
	if err := json.Unmarshal(data, &enc); err != nil {
		return fmt.Errorf("sample: %v; a sample is {\"dtype\", \"rows\", \"dim\", \"base64\"}", err)
	}
	size := 0
	switch enc.Dtype {
	case DtypeFloat32:
		size = 4
	case DtypeFloat64:
		size = 8
	default:
		return fmt.Errorf("sample.dtype: %q: must be float32 or float64", enc.Dtype)
	}
	if enc.Rows < 0 || enc.Dim < 0 || (enc.Rows > 0 && enc.Dim == 0) {
		return fmt.Errorf("sample: rows %d and dim %d must not be negative, and vectors need at least one value", enc.Rows, enc.Dim)
	}
	text := []byte(enc.Base64) // nil when missing or null: no values
	if len(text) == 0 {
		text = nil
	} else if bytes.IndexByte(text, '\\') >= 0 { // escaped: decoded as a string (a copy)
		var str string
		if err := json.Unmarshal(text, &str); err != nil {
			return fmt.Errorf("sample.base64: %v", err)
		}
		text = []byte(str)
	} else {
		text = text[1 : len(text)-1] // between the quotes, in place
	}
	n, err := decodedLen(text)
	if err != nil {
		return fmt.Errorf("sample.base64: %v; it must be standard base64 of the little-endian values", err)
	}
	if enc.Rows > 0 && enc.Dim > 0 && (n/size/enc.Dim < enc.Rows || n%(size*enc.Dim) != 0) ||
		n != enc.Rows*enc.Dim*size {
		return fmt.Errorf("sample.base64: holds %d bytes; %d rows of %d %s values take %d", n, enc.Rows, enc.Dim, enc.Dtype, enc.Rows*enc.Dim*size)
	}
	if bytes.ContainsAny(text, "\r\n") { // skipped by the decoder: dropped (a copy)
		text = bytes.ReplaceAll(bytes.ReplaceAll(text, []byte("\r"), nil), []byte("\n"), nil)
	}
	out := make(Vectors, enc.Rows)
	vals := make([]float64, enc.Rows*enc.Dim)
	// Decoded a piece at a time, straight into the values: the sample's
	// bytes are never held whole.
	var raw [3 << 10]byte
	k := 0
	for len(text) > 0 {
		piece := text[:min(len(text), 4<<10)]
		text = text[len(piece):]
		m, err := base64.StdEncoding.Decode(raw[:], piece)
		if err != nil {
			return fmt.Errorf("sample.base64: %v; it must be standard base64 of the little-endian values", err)
		}
		for b := 0; b < m; b += size {
			if size == 4 {
				vals[k] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[b:])))
			} else {
				vals[k] = math.Float64frombits(binary.LittleEndian.Uint64(raw[b:]))
			}
			k++
		}
	}
	for i := range out {
		out[i] = vals[i*enc.Dim : (i+1)*enc.Dim : (i+1)*enc.Dim]
	}
	*v = out
	return nil
}

// sampleForm records whether a sample is written in the array form,
// reading only its first byte (not a copy of the sample).
type sampleForm bool

func (f *sampleForm) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*f = len(b) > 0 && b[0] == '['
	return nil
}

// LegacySample tells whether the profile's sample was read in the array
// form, in which MarshalJSON writes it back.
func (p *Profile) LegacySample() bool { return p.legacySample }

// rawString is a JSON string kept as the bytes it was read from, quotes
// included, without a copy: valid only during the UnmarshalJSON call that
// reads it.
type rawString []byte

func (r *rawString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil // as a string is left empty
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return errors.New("base64: must be a string")
	}
	*r = b
	return nil
}

// decodedLen returns the bytes the standard base64 text holds, or the
// error base64.StdEncoding gives for it, checking it a piece at a time
// (pieces of whole 4-byte groups). Text the pieces cannot follow alone
// (line breaks, which the decoder skips; padding before the end) and
// text with an error are decoded whole, so that the verdict and the
// error are the whole decoding's.
func decodedLen(text []byte) (int, error) {
	whole := func() (int, error) {
		raw, err := base64.StdEncoding.DecodeString(string(text))
		return len(raw), err
	}
	if bytes.ContainsAny(text, "\r\n") || bytes.IndexByte(text, '=') < len(text)-2 && bytes.IndexByte(text, '=') >= 0 {
		return whole()
	}
	var raw [3 << 10]byte
	n := 0
	for off := 0; off < len(text); {
		piece := text[off:min(len(text), off+4<<10)]
		m, err := base64.StdEncoding.Decode(raw[:], piece)
		if err != nil {
			return whole()
		}
		n += m
		off += len(piece)
	}
	return n, nil
}

// profileFields is Profile without its JSON methods.
type profileFields Profile

// MarshalJSON writes the profile as encoding/json would, except that a
// sample read in the array form is written back in it (see Vectors).
func (p Profile) MarshalJSON() ([]byte, error) {
	if !p.legacySample {
		return json.Marshal(profileFields(p))
	}
	rows := [][]float64(p.Sample)
	p.Sample = nil
	data, err := json.Marshal(profileFields(p))
	if err != nil {
		return nil, err
	}
	sample, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	return bytes.Replace(data, []byte(`"sample":null`), append([]byte(`"sample":`), sample...), 1), nil
}

// UnmarshalJSON reads a profile and notes in which form its sample was
// written.
func (p *Profile) UnmarshalJSON(data []byte) error {
	var f profileFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	var probe struct {
		Sample sampleForm `json:"sample"`
	}
	_ = json.Unmarshal(data, &probe) // it parsed just above
	*p = Profile(f)
	p.legacySample = bool(probe.Sample)
	return nil
}
