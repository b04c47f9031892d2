package embed

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"

	"github.com/normguard/normguard/internal/jsonnum"
)

// Reports hold numbers computed from whatever vectors arrive: a vector of
// finite values whose squares pass the float64 range has norm +Inf (as
// numpy's sqrt(dot(x, x)) gives), and so has the distance between two
// such means. JSON has no infinity, so the findings and drift results
// write a number that is not finite as null, as the drift reports do
// (drift.JSONFloat); the text reports print it as +Inf.

// MarshalJSON writes the finding as encoding/json would, a number of its
// evidence that is not finite as null.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	p := plain(f)
	p.Evidence = jsonnum.Map(f.Evidence)
	return json.Marshal(p)
}

// MarshalJSON writes the result as encoding/json would, a number that is
// not finite (a mean distance past the float64 range) as null.
func (r DriftResult) MarshalJSON() ([]byte, error) {
	type plain DriftResult
	if b, err := json.Marshal(plain(r)); err == nil {
		return b, nil
	}
	return flatFiniteJSON(reflect.ValueOf(r))
}

// flatFiniteJSON writes the struct v, whose exported fields are numbers,
// booleans and strings tagged with their JSON names, in their order, a
// float that is not finite as null.
func flatFiniteJSON(v reflect.Value) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	t := v.Type()
	n := 0
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		fv := v.Field(i)
		if k := fv.Kind(); (k == reflect.Float64 || k == reflect.Float32) && (math.IsNaN(fv.Float()) || math.IsInf(fv.Float(), 0)) {
			b.WriteString("null")
			continue
		}
		val, err := json.Marshal(fv.Interface())
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// binJSON is Bin's JSON form: an infinite upper edge is null.
type binJSON struct {
	Lo    float64  `json:"lo"`
	Hi    *float64 `json:"hi"`
	Count int      `json:"count"`
}

// MarshalJSON writes the bin with an upper edge of +Inf (the last norm
// bin's) as null: contracts of vectors whose norms reach 1e4 could not be
// written before.
func (b Bin) MarshalJSON() ([]byte, error) {
	j := binJSON{Lo: b.Lo, Count: b.Count}
	if !math.IsInf(b.Hi, 1) {
		j.Hi = &b.Hi
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a bin MarshalJSON wrote: a null hi is +Inf.
func (b *Bin) UnmarshalJSON(data []byte) error {
	var j binJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*b = Bin{Lo: j.Lo, Hi: math.Inf(1), Count: j.Count}
	if j.Hi != nil {
		b.Hi = *j.Hi
	}
	return nil
}
