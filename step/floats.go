package step

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Float is a float64 that survives JSON: finite values are written as the
// shortest decimal that round-trips, and NaN, +Inf and -Inf as the strings
// "NaN", "Infinity" and "-Infinity" (JSON has no literal for them).
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	return appendFloatJSON(nil, float64(f)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := parseFloatJSON(b)
	*f = Float(v)
	return err
}

// Floats is a []float64 that survives JSON like Float does. Kernels index it
// like a plain slice.
type Floats []float64

// MarshalJSON implements json.Marshaler.
func (fs Floats) MarshalJSON() ([]byte, error) {
	if fs == nil {
		return []byte("null"), nil
	}
	out := make([]byte, 0, 2+len(fs)*20)
	out = append(out, '[')
	for i, v := range fs {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendFloatJSON(out, v)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (fs *Floats) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*fs = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Floats, len(raw))
	for i, r := range raw {
		v, err := parseFloatJSON(r)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = v
	}
	*fs = out
	return nil
}

func appendFloatJSON(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Infinity"`...)
	}
	// Same text as encoding/json writes for a float64.
	b, _ := json.Marshal(v)
	return append(dst, b...)
}

func parseFloatJSON(b []byte) (float64, error) {
	switch string(b) {
	case `"NaN"`:
		return math.NaN(), nil
	case `"Infinity"`:
		return math.Inf(1), nil
	case `"-Infinity"`:
		return math.Inf(-1), nil
	}
	if len(b) == 0 || b[0] == '"' {
		return 0, fmt.Errorf("not a number: %s", b)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %s", b)
	}
	return v, nil
}
