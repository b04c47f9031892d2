package kafka

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/table"
)

var decodeFields = []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "c", Kind: table.String}}

// TestRowsAdd pins how a record's value becomes a row: the rules of POST
// /observations (numbers or numeric strings for numeric features;
// strings, numbers as written or booleans for categorical ones; null or
// absent is missing; other keys ignored).
func TestRowsAdd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		x     float64 // NaN: missing
		c     string
		cNull bool
	}{
		{"numbers and strings", `{"x": 1.5, "c": "a"}`, 1.5, "a", false},
		{"numeric string", `{"x": "-2e3", "c": "b"}`, -2000, "b", false},
		{"number as category, kept as written", `{"x": 0, "c": 1.50}`, 0, "1.50", false},
		{"boolean category", `{"c": true}`, math.NaN(), "true", false},
		{"nulls", `{"x": null, "c": null}`, math.NaN(), "", true},
		{"absent is missing", `{"x": 3}`, 3, "", true},
		{"other keys ignored", `{"x": 4, "other": [1, {"a": 2}]}`, 4, "", true},
		{"a key naming no feature twice", `{"x": 2, "y": 1, "y": 3}`, 2, "", true},
		{"spaces around", " \n{\"x\": 5}\n ", 5, "", true},
		{"overflowing numeric string is infinite", `{"x": "1e999"}`, math.NaN(), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRows(decodeFields)
			err := r.add([]byte(tc.value), time.Time{})
			if tc.name == "overflowing numeric string is infinite" {
				var re *rowError
				if !errors.As(err, &re) || re.reason != ReasonWrongType {
					t.Fatalf("got %v, want a wrong_type error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.n != 1 {
				t.Fatalf("got %d rows, want 1", r.n)
			}
			x := r.cols[0].Num[0]
			if !(x == tc.x || math.IsNaN(x) && math.IsNaN(tc.x)) {
				t.Errorf("x: got %v, want %v", x, tc.x)
			}
			if got := r.cols[1].Str[0]; got != tc.c || r.cols[1].Null[0] != tc.cNull {
				t.Errorf("c: got %q (null %v), want %q (null %v)", got, r.cols[1].Null[0], tc.c, tc.cNull)
			}
		})
	}
}

// TestRowsAddBad names why a value is not a row, and leaves the columns
// as they were.
func TestRowsAddBad(t *testing.T) {
	for _, tc := range []struct{ value, reason string }{
		{``, ReasonNotJSON},
		{`null`, ReasonNotJSON},
		{`"x"`, ReasonNotJSON},
		{`[{"x": 1}]`, ReasonNotJSON},
		{`{"x": 1`, ReasonNotJSON},
		{`{"x": 1} {"x": 2}`, ReasonNotJSON},
		{`{"x": "abc"}`, ReasonWrongType},
		{`{"x": true}`, ReasonWrongType},
		{`{"x": [1]}`, ReasonWrongType},
		{`{"x": 1e400}`, ReasonWrongType},
		{`{"x": 1, "c": {"a": 1}}`, ReasonWrongType},
		{`{"c": ["a"]}`, ReasonWrongType},
		{`{}`, ReasonNoFeature},
		{`{"X": 1}`, ReasonNoFeature},
		// Attack run 10: the last of two values counted, where
		// /observations and the CLI refuse the row.
		{`{"x": 1, "x": 1000000}`, ReasonDuplicateKey},
		{`{"c": "LAS", "x": 1, "c": 5}`, ReasonDuplicateKey},
		{`{"x": 1, "\u0078": "x"}`, ReasonDuplicateKey},
	} {
		r := newRows(decodeFields)
		if err := r.add([]byte(`{"x": 7, "c": "k"}`), time.Time{}); err != nil {
			t.Fatal(err)
		}
		err := r.add([]byte(tc.value), time.Time{})
		var re *rowError
		if !errors.As(err, &re) || re.reason != tc.reason {
			t.Errorf("%q: got %v, want a %s error", tc.value, err, tc.reason)
			continue
		}
		if r.n != 1 || len(r.cols[0].Num) != 1 || len(r.cols[1].Str) != 1 || len(r.cols[1].Null) != 1 {
			t.Errorf("%q: a bad row changed the columns: %d rows, %+v", tc.value, r.n, r.cols)
		}
	}
}

var (
	vectorFields  = append(decodeFields[:2:2], table.Field{Name: "emb_0", Kind: table.Numeric}, table.Field{Name: "emb_1", Kind: table.Numeric})
	vectorColumns = map[string][]string{"emb": {"emb_0", "emb_1"}}
)

// TestRowsVectors (attack run 21 F2's family): a record holding a vector
// column of the artifact, as an array or as its dimension columns, had
// the vector dropped without a word (the monitor judges a vector whole,
// from ?producer= observations) and its features counted. It is bad,
// counted "vector", naming the column and ?producer=; null vector cells
// and a duplicate vector key are what they were.
func TestRowsVectors(t *testing.T) {
	for _, tc := range []struct{ value, reason, msg string }{
		{`{"x": 1, "emb": [0.5, 0.5]}`, ReasonVector, `"emb" is a vector column: a vector is observed whole`},
		{`{"emb": [0.5, 0.5]}`, ReasonVector, `"emb" is a vector column`},
		{`{"x": 1, "c": "a", "emb_1": 0.5}`, ReasonVector, `"emb_1" is a dimension column of the vector column "emb"`},
		{`{"x": 1, "emb": "zz"}`, ReasonVector, "?producer=NAME"},
		{`{"x": 1, "emb": 1, "emb": 2}`, ReasonDuplicateKey, `key "emb" is given twice`},
		{`{"emb_0": null, "emb": null}`, ReasonNoFeature, "no key"},
		{`{"x": 1, "emb_0": null, "emb": null, "t": 3}`, "", ""},
	} {
		r := newRows(vectorFields).withEventTime("t").withVectors(vectorColumns)
		err := r.add([]byte(tc.value), time.Unix(9, 0))
		if tc.reason == "" {
			if err != nil || r.n != 1 || r.cols[0].Num[0] != 1 || !math.IsNaN(r.cols[2].Num[0]) || r.cols[4].Num[0] != 3 {
				t.Errorf("%s: %v, %d rows %+v; want one row, x 1, emb_0 missing, t 3", tc.value, err, r.n, r.cols)
			}
			continue
		}
		var re *rowError
		if !errors.As(err, &re) || re.reason != tc.reason || !strings.Contains(re.msg, tc.msg) {
			t.Errorf("%s: got %v, want a %s error with %q", tc.value, err, tc.reason, tc.msg)
		}
		if r.n != 0 || len(r.cols[0].Num) != 0 {
			t.Errorf("%s: a bad row changed the columns", tc.value)
		}
	}
}

// FuzzRowsAdd checks that any value is a row or a counted reason, never
// a panic, and that the columns stay the same length.
func FuzzRowsAdd(f *testing.F) {
	for _, s := range []string{`{"x": 1, "c": "a"}`, `{"x": "2"}`, `{}`, `[`, `{"x": {"y": [1, 2]}}`, `{"c": 1e5}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"x": 1, "emb": [1, 2], "emb_0": null, "t": 5}`))
	f.Add([]byte(`{"emb": 1, "emb": 2}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		for _, r := range []*rows{newRows(decodeFields), newRows(vectorFields).withEventTime("t").withVectors(vectorColumns)} {
			err := r.add(value, time.Time{})
			var re *rowError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("error %v is not a rowError", err)
			}
			want := 1
			if err != nil {
				want = 0
			}
			if r.n != want || len(r.cols[0].Num) != want || len(r.cols[1].Str) != want || len(r.cols[1].Null) != want {
				t.Fatalf("%d rows, columns %+v", r.n, r.cols)
			}
			if want == 1 && math.IsInf(r.cols[0].Num[0], 0) {
				t.Fatalf("an infinite value was kept")
			}
		}
	})
}

// TestRowsEventTime reads the event time column beside the features: a
// number is seconds since the epoch, a string a time, absent or null the
// record's timestamp, anything else NaN (the monitor counts it untimed).
func TestRowsEventTime(t *testing.T) {
	ts := time.Date(2024, 6, 1, 0, 0, 0, 500_000_000, time.UTC) // 1717200000.5
	for _, tc := range []struct {
		value string
		want  float64
	}{
		{`{"x": 1, "t": "2024-03-05T10:00:00Z"}`, 1709632800},
		{`{"x": 1, "t": 1700000000.5}`, 1700000000.5},
		{`{"x": 1}`, 1717200000.5},
		{`{"x": 1, "t": null}`, 1717200000.5},
		{`{"x": 1, "t": "yesterday"}`, math.NaN()},
		{`{"x": 1, "t": true}`, math.NaN()},
	} {
		r := newRows(decodeFields).withEventTime("t")
		if err := r.add([]byte(tc.value), ts); err != nil {
			t.Fatalf("%s: %v", tc.value, err)
		}
		got := r.cols[2].Num[0]
		if r.cols[2].Name != "t" || !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: column %q holds %v, want %v", tc.value, r.cols[2].Name, got, tc.want)
		}
	}
	// The time alone names no feature.
	r := newRows(decodeFields).withEventTime("t")
	var re *rowError
	if err := r.add([]byte(`{"t": 5}`), ts); !errors.As(err, &re) || re.reason != ReasonNoFeature {
		t.Errorf("a row of only its time: got %v, want no_feature", err)
	}
	// A feature named as the time column is read as the feature, and its
	// value is also the event time (TestRowsEventTimeOfAnInput).
	r = newRows(decodeFields).withEventTime("c")
	if err := r.add([]byte(`{"c": "2024-03-05T10:00:00Z"}`), ts); err != nil || len(r.cols) != 3 ||
		r.cols[1].Str[0] != "2024-03-05T10:00:00Z" || r.cols[2].Str[0] != "2024-03-05T10:00:00Z" {
		t.Errorf("time column that is a feature: %v, %+v", err, r.cols)
	}
}

// TestNumericTextAsObservations (attack run 23 F3): a number given as
// text was read with strconv's syntax, unlike /observations and the
// CLI's readers (table.ParseNumber): "NA", "" and " 12 " were counted
// wrong_type, "0x10" read as 16. Each reads as /observations reads it.
func TestNumericTextAsObservations(t *testing.T) {
	for _, tc := range []struct {
		text string
		want float64 // NaN: missing
		bad  bool
	}{
		{"12", 12, false}, {" 12 ", 12, false}, {"\t7", 7, false}, {"12 ", 12, false},
		{"", math.NaN(), false}, {"NA", math.NaN(), false}, {"N/A", math.NaN(), false}, {"None", math.NaN(), false},
		{"NULL", math.NaN(), false}, {"#N/A", math.NaN(), false}, {"-nan", math.NaN(), false},
		{"0x10", 0, true}, {"1_000", 0, true}, {"abc", 0, true}, {"1e999", 0, true}, {"-Infinity", 0, true},
	} {
		value, _ := json.Marshal(map[string]string{"x": tc.text})
		r := newRows(decodeFields)
		err := r.add(value, time.Time{})
		if tc.bad {
			var re *rowError
			if !errors.As(err, &re) || re.reason != ReasonWrongType {
				t.Errorf("%q: got %v, want wrong_type", tc.text, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if x := r.cols[0].Num[0]; !(x == tc.want || math.IsNaN(x) && math.IsNaN(tc.want)) {
			t.Errorf("%q: read %v, want %v", tc.text, x, tc.want)
		}
		ref, ok := table.ParseNumber([]byte(tc.text))
		if x := r.cols[0].Num[0]; !ok || !(x == ref || math.IsNaN(x) && math.IsNaN(ref)) {
			t.Errorf("%q: read %v, /observations' reader %v (ok %v)", tc.text, x, ref, ok)
		}
	}
}
