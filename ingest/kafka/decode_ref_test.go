package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/normguard/normguard/internal/jsontest"
	"github.com/normguard/normguard/table"
)

// referenceRow decodes value as rows.add must, but with encoding/json
// building a map and values: the oracle for the hand scanner. It returns
// the reason of a bad row, or the parsed values.
func referenceRow(fields []table.Field, eventTime int, value []byte, ts time.Time) (nums []float64, strs []string, nulls []bool, reason string) {
	v := bytes.TrimLeft(value, " \t\r\n")
	var obj map[string]json.RawMessage
	if len(v) == 0 || v[0] != '{' || json.Unmarshal(value, &obj) != nil {
		return nil, nil, nil, ReasonNotJSON
	}
	if jsontest.KeyTwice(value, fieldNames(fields)) {
		return nil, nil, nil, ReasonDuplicateKey
	}
	known := false
	for j, f := range fields {
		if _, ok := obj[f.Name]; ok && j != eventTime {
			known = true
		}
	}
	if !known {
		return nil, nil, nil, ReasonNoFeature
	}
	nums, strs, nulls = make([]float64, len(fields)), make([]string, len(fields)), make([]bool, len(fields))
	for j, f := range fields {
		raw, ok := obj[f.Name]
		if j == eventTime {
			nums[j] = eventSeconds(raw, ts)
			continue
		}
		var val any
		if ok {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&val); err != nil {
				panic(err) // the map held it: valid JSON
			}
		}
		numeric := f.Kind == table.Numeric
		switch x := val.(type) {
		case nil:
			nums[j], nulls[j] = math.NaN(), true
		case json.Number:
			if !numeric {
				strs[j] = string(x)
				continue
			}
			y, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.IsInf(y, 0) {
				return nil, nil, nil, ReasonWrongType
			}
			nums[j] = y
		case string:
			if !numeric {
				strs[j] = x
				continue
			}
			// A number given as text reads as /observations reads it.
			y, ok := table.ParseNumber([]byte(x))
			if !ok || math.IsInf(y, 0) {
				return nil, nil, nil, ReasonWrongType
			}
			nums[j] = y
		case bool:
			if numeric {
				return nil, nil, nil, ReasonWrongType
			}
			strs[j] = strconv.FormatBool(x)
		default:
			return nil, nil, nil, ReasonWrongType
		}
	}
	return nums, strs, nulls, ""
}

// checkAgainstReference decodes value with rows.add and with the
// encoding/json oracle and reports any difference.
func checkAgainstReference(t *testing.T, value []byte) {
	t.Helper()
	ts := time.Unix(1717200000, 0)
	r := newRows(decodeFields).withEventTime("t")
	err := r.add(value, ts)
	nums, strs, nulls, reason := referenceRow(r.fields, r.eventTime, value, ts)
	var re *rowError
	switch {
	case err != nil && !errors.As(err, &re):
		t.Fatalf("%q: error %v is not a rowError", value, err)
	case err != nil && re.reason != reason:
		t.Fatalf("%q: got %s, encoding/json says %q", value, re.reason, reason)
	case err == nil && reason != "":
		t.Fatalf("%q: got a row, encoding/json says %s", value, reason)
	case err != nil:
		return
	}
	for j, c := range r.cols {
		if c.Kind == table.Numeric {
			if got := c.Num[0]; !(got == nums[j] || math.IsNaN(got) && math.IsNaN(nums[j])) {
				t.Fatalf("%q: %s = %v, encoding/json says %v", value, c.Name, got, nums[j])
			}
			continue
		}
		if c.Str[0] != strs[j] || c.Null[0] != nulls[j] {
			t.Fatalf("%q: %s = %q (null %v), encoding/json says %q (null %v)", value, c.Name, c.Str[0], c.Null[0], strs[j], nulls[j])
		}
	}
}

// TestRowsMatchEncodingJSON holds the hand scanner to encoding/json on
// valid and invalid JSON of every kind.
func TestRowsMatchEncodingJSON(t *testing.T) {
	for _, v := range []string{
		`{"x": 1, "c": "a", "t": 5}`, ` {"x":-0.5e+3}`, `{"x": 01}`, `{"x": 1.}`, `{"x": .5}`, `{"x": 1e}`, `{"x": -}`,
		`{"x": 1, }`, `{,"x": 1}`, `{"x" 1}`, `{"x": 1}}`, `{"x": 1} x`, `{"x": tru}`, `{"x": nul}`, `{"c": "\u0041\n"}`,
		`{"c": "\x"}`, `{"c": "\u12"}`, "{\"c\": \"a\tb\"}", "{\"c\": \"\xff\xfe\"}", `{"\u0078": 2}`, "{\"x\xff\": 2}",
		`{"o": {"a": [1, {"b": null}], "c": "}"}, "x": 3}`, `{"o": [1, 2,]}`, `{"o": [}`, `{"x": "1e400"}`, `{"x": 1e400}`,
		`{"x": "  7"}`, `{"x": "0x10"}`, `{"x": "inf"}`, `{"x": "NaN"}`, `{"c": 1E5}`, `{"c": false}`, `{"t": "x"}`,
		`{"x": 1, "x": "2", "x": null}`, "{\"x\": 1}\u00a0", `{"c": "\ud800"}`, `{"x":1}` + "\n\t\r ", `{}`, `[]`, ``,
	} {
		checkAgainstReference(t, []byte(v))
	}
	deep := bytes.Repeat([]byte("["), 10001)
	checkAgainstReference(t, append(append([]byte(`{"o": `), deep...), `}`...))
}

// FuzzRowsMatchEncodingJSON holds the hand scanner to encoding/json on
// any input.
func FuzzRowsMatchEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"x": 1, "c": "a"}`, `{"x": "2", "t": "2024-01-01T00:00:00Z"}`, `{}`, `[`,
		`{"x": {"y": [1, 2]}}`, `{"c": 1e5}`, `{"c": "\u00e9\\"}`, `{"x": -0.0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, value []byte) { checkAgainstReference(t, value) })
}

// fieldNames lists the names of fields.
func fieldNames(fields []table.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
