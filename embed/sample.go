package embed

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
	dim := 0
	if len(v) > 0 {
		dim = len(v[0])
	}
	single := true
	for _, row := range v {
		if len(row) != dim {
			return json.Marshal([][]float64(v))
		}
		for _, x := range row {
			single = single && math.Float64bits(float64(float32(x))) == math.Float64bits(x)
		}
	}
	size, dtype := 8, DtypeFloat64
	if single {
		size, dtype = 4, DtypeFloat32
	}
	buf := make([]byte, 0, len(v)*dim*size)
	for _, row := range v {
		for _, x := range row {
			if single {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(x)))
			} else {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
			}
		}
	}
	return json.Marshal(vectorsJSON{Dtype: dtype, Rows: len(v), Dim: dim, Base64: base64.StdEncoding.EncodeToString(buf)})
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
	var enc vectorsJSON
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
	raw, err := base64.StdEncoding.DecodeString(enc.Base64)
	if err != nil {
		return fmt.Errorf("sample.base64: %v; it must be standard base64 of the little-endian values", err)
	}
	if enc.Rows > 0 && enc.Dim > 0 && (len(raw)/size/enc.Dim < enc.Rows || len(raw)%(size*enc.Dim) != 0) ||
		len(raw) != enc.Rows*enc.Dim*size {
		return fmt.Errorf("sample.base64: holds %d bytes; %d rows of %d %s values take %d", len(raw), enc.Rows, enc.Dim, enc.Dtype, enc.Rows*enc.Dim*size)
	}
	out := make(Vectors, enc.Rows)
	vals := make([]float64, enc.Rows*enc.Dim)
	for i := range vals {
		if size == 4 {
			vals[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		} else {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	for i := range out {
		out[i] = vals[i*enc.Dim : (i+1)*enc.Dim : (i+1)*enc.Dim]
	}
	*v = out
	return nil
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
		Sample json.RawMessage `json:"sample"`
	}
	_ = json.Unmarshal(data, &probe) // it parsed just above
	*p = Profile(f)
	s := bytes.TrimSpace(probe.Sample)
	p.legacySample = len(s) > 0 && s[0] == '['
	return nil
}
