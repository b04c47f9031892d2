package server

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/normguard/normguard/internal/jsontest"
	"github.com/normguard/normguard/table"
)

var testFields = []table.Field{{Name: "age", Kind: table.Numeric}, {Name: "city", Kind: table.String}}

// reference decodes body the slow, obviously right way: encoding/json with
// UseNumber, then the conversions transform.Transformer.RowsBatch applies.
func reference(body []byte, fields []table.Field, absentOK bool) ([]table.Column, int, bool) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, 0, false
	}
	if len(doc) != 1 {
		// A key besides "rows" is refused: it would be dropped unread.
		return nil, 0, false
	}
	raw, ok := doc["rows"]
	if !ok || jsontest.KeyTwice(body, []string{"rows"}) {
		// "rows" given twice is refused: the first list would be dropped.
		return nil, 0, false
	}
	var rows []map[string]any
	rd := json.NewDecoder(bytes.NewReader(raw))
	rd.UseNumber()
	if err := rd.Decode(&rows); err != nil || rows == nil {
		return nil, 0, false
	}
	// A field's key given twice in a row is refused (the CLI's JSONL
	// reader refuses it too); a map cannot show it.
	var rawRows []json.RawMessage
	if err := json.Unmarshal(raw, &rawRows); err != nil {
		return nil, 0, false
	}
	for _, r := range rawRows {
		if jsontest.KeyTwice(r, fieldNames(fields)) || rowNotUTF8(r, fields) {
			return nil, 0, false
		}
	}
	cols := table.NewColumns(fields)
	for j := range cols {
		cols[j].Resize(len(rows))
	}
	for i, row := range rows {
		if row == nil {
			return nil, 0, false
		}
		for j, f := range fields {
			v, ok := row[f.Name]
			if !ok && !absentOK {
				return nil, 0, false
			}
			c := &cols[j]
			if f.Kind == table.Numeric {
				switch x := v.(type) {
				case nil:
					c.Num[i] = math.NaN()
				case json.Number:
					y, err := strconv.ParseFloat(string(x), 64)
					if err != nil || math.IsInf(y, 0) {
						return nil, 0, false
					}
					c.Num[i] = y
				case string: // a numeric cell given as text, as the file readers read it
					y, ok := table.ParseNumber([]byte(x))
					if !ok || math.IsInf(y, 0) {
						return nil, 0, false
					}
					c.Num[i] = y
				default:
					return nil, 0, false
				}
				continue
			}
			switch x := v.(type) {
			case nil:
				c.SetNull(i)
			case string:
				c.Str[i] = x
			case json.Number:
				c.Str[i] = string(x)
			case bool:
				c.Str[i] = strconv.FormatBool(x)
			default:
				return nil, 0, false
			}
		}
	}
	return cols, len(rows), true
}

func sameColumns(t *testing.T, got, want []table.Column, n int) {
	t.Helper()
	for j := range want {
		for i := 0; i < n; i++ {
			g, w := &got[j], &want[j]
			if w.Kind == table.Numeric {
				if math.Float64bits(g.Num[i]) != math.Float64bits(w.Num[i]) && !(math.IsNaN(g.Num[i]) && math.IsNaN(w.Num[i])) {
					t.Fatalf("row %d %s: got %v, want %v", i, w.Name, g.Num[i], w.Num[i])
				}
				continue
			}
			if g.IsMissing(i) != w.IsMissing(i) || (!w.IsMissing(i) && g.Str[i] != w.Str[i]) {
				t.Fatalf("row %d %s: got %q (missing %v), want %q (missing %v)", i, w.Name, g.Str[i], g.IsMissing(i), w.Str[i], w.IsMissing(i))
			}
		}
	}
}

func TestRowsBodyMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		`{"rows":[]}`,
		`{"rows":[{"age":31,"city":"x"}]}`,
		` { "rows" : [ { "city" : "a\"b\\u00e9\u00e9" , "age" : -1.5e-3 } , {"age":null,"city":null} ] } `,
		`{"rows":[{"age":"42","other":{"deep":[1,2,{"x":null}]},"city":7,"extra":[true,false]}]}`,
		`{"rows":[{"city":true,"extra":1,"extra":2,"age":2}]}`,
		`{"rows":[{"age":1e308,"city":"\ud83d\ude00"}]}`,
		`{"rows":[{"age":"NaN","city":""}]}`,
		`{"rows":[{"age":0.1,"city":"<&>"}]}`,
	}
	for _, body := range cases {
		t.Run(body, func(t *testing.T) {
			want, wn, ok := reference([]byte(body), testFields, false)
			if !ok {
				t.Fatalf("reference refused %s", body)
			}
			got, n, err := newRowsBody(testFields, false, 1000).decode([]byte(body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if n != wn {
				t.Fatalf("got %d rows, want %d", n, wn)
			}
			sameColumns(t, got, want, n)
		})
	}
}

func TestRowsBodyRefusesBadBodies(t *testing.T) {
	cases := map[string]string{
		"empty":            ``,
		"not an object":    `[1,2]`,
		"no rows":          `{"data":[]}`,
		"rows not array":   `{"rows":{}}`,
		"row not object":   `{"rows":[1]}`,
		"missing column":   `{"rows":[{"age":1}]}`,
		"bool for number":  `{"rows":[{"age":true,"city":"x"}]}`,
		"array value":      `{"rows":[{"age":[1],"city":"x"}]}`,
		"infinite":         `{"rows":[{"age":1e999,"city":"x"}]}`,
		"infinite string":  `{"rows":[{"age":"Infinity","city":"x"}]}`,
		"text for number":  `{"rows":[{"age":"old","city":"x"}]}`,
		"trailing comma":   `{"rows":[{"age":1,"city":"x"},]}`,
		"trailing garbage": `{"rows":[]} x`,
		"bad number":       `{"rows":[{"age":01,"city":"x"}]}`,
		"bad escape":       `{"rows":[{"age":1,"city":"\q"}]}`,
		"unterminated":     `{"rows":[{"age":1,"city":"x`,
		"control char":     "{\"rows\":[{\"age\":1,\"city\":\"a\x01\"}]}",
		"duplicate key":    `{"rows":[{"age":1,"city":true,"age":2}]}`,
		"rows twice":       `{"rows":[{"age":1,"city":"x"}],"rows":[{"age":2,"city":"y"}]}`,
		"deep nesting":     `{"rows":[{"age":1,"city":"x","deep":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]}`,
		"unknown key":      `{"stage":"output","rows":[{"age":1,"city":"x"}]}`, // attack run 15: stored as input
		"key for rows":     `{"row":[{"age":1,"city":"x"}],"rows":[]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := newRowsBody(testFields, false, 1000).decode([]byte(body)); err == nil {
				t.Fatalf("decode(%q) accepted the body, want an error", body)
			}
		})
	}
}

func TestRowsBodyLimitsRows(t *testing.T) {
	body := `{"rows":[{"age":1,"city":"a"},{"age":2,"city":"b"},{"age":3,"city":"c"}]}`
	_, _, err := newRowsBody(testFields, false, 2).decode([]byte(body))
	ae, ok := err.(*apiError)
	if !ok || ae.status != 413 {
		t.Fatalf("got %v, want a 413 too_many_rows error", err)
	}
}

func TestRowsBodyAbsentIsMissingForObservations(t *testing.T) {
	cols, n, err := newRowsBody(testFields, true, 10).decode([]byte(`{"rows":[{"city":"x"},{"age":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || !math.IsNaN(cols[0].Num[0]) || cols[0].Num[1] != 3 || cols[1].IsMissing(0) || !cols[1].IsMissing(1) {
		t.Fatalf("got %d rows %v %v %v, want age [NaN 3], city [x missing]", n, cols[0].Num, cols[1].Str, cols[1].Null)
	}
}

// rowNotUTF8 reports whether the row object raw has a key, or a string
// value of a field, holding text that is not UTF-8, which encoding/json
// reads as U+FFFD and the decoder refuses (attack run 32 F2).
func rowNotUTF8(raw json.RawMessage, fields []table.Field) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		before := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return false
		}
		if notUTF8Text(raw[before:dec.InputOffset()]) {
			return true
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return false
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, f := range fields {
		if v := m[f.Name]; len(v) > 0 && v[0] == '"' && notUTF8Text(v) {
			return true
		}
	}
	return false
}

var (
	escapedBackslash = regexp.MustCompile(`\\\\`)
	surrogatePair    = regexp.MustCompile(`\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}`)
	surrogate        = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)
)

// notUTF8Text reports whether JSON text holds bytes that are not UTF-8 or
// a surrogate escape outside a pair.
func notUTF8Text(text []byte) bool {
	if !utf8.Valid(text) {
		return true
	}
	text = escapedBackslash.ReplaceAll(text, []byte("_"))
	return surrogate.Match(surrogatePair.ReplaceAll(text, []byte("_")))
}

// FuzzRowsBody checks that the hand-written decoder accepts what the
// encoding/json reference accepts, with the same values, and refuses what
// it refuses.
func FuzzRowsBody(f *testing.F) {
	for _, s := range []string{
		`{"rows":[{"age":31,"city":"x"}]}`, `{"rows":[{"age":"1","city":1.5e3}]}`,
		`{"rows":[{"age":null,"city":null,"z":{"a":[1,"b"]}}]}`, `{"rows":[]}`, `{"a":1}`,
		"{\"rows\":[{\"age\":1,\"city\":\"caf\xe9\",\"z\":\"\xe8\"}]}", `{"rows":[{"age":1,"city":"\\\udce9 \ud83d\ude00"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wn, ok := reference(body, testFields, false)
		got, n, err := newRowsBody(testFields, false, 1<<20).decode(body)
		if ok != (err == nil) {
			t.Fatalf("reference ok=%v, decoder error %v, body %q", ok, err, body)
		}
		if !ok {
			return
		}
		if n != wn {
			t.Fatalf("got %d rows, want %d", n, wn)
		}
		sameColumns(t, got, want, n)
	})
}

// TestRowsBodyNumbersAsText: a number given as a JSON string is read as
// the CLI's readers read a cell (table.ParseNumber), so a row gives the
// same numbers through POST /transform as through a .jsonl file: pandas'
// missing-value tokens are missing, spaces trimmed, and what pandas does
// not read as a number (hex floats, underscores) is refused, where
// strconv.ParseFloat took "0x1p3" as 8.
func TestRowsBodyNumbersAsText(t *testing.T) {
	d := newRowsBody(testFields, false, 100)
	cols, n, err := d.decode([]byte(`{"rows":[{"age":"NA","city":"a"},{"age":" 12 ","city":"b"},{"age":"1e3","city":"c"}]}`))
	if err != nil || n != 3 {
		t.Fatalf("decode: %v, %d rows", err, n)
	}
	if got := cols[0].Num; !math.IsNaN(got[0]) || got[1] != 12 || got[2] != 1000 {
		t.Errorf("ages %v, want NaN 12 1000", got)
	}
	for _, bad := range []string{`"0x1p3"`, `"4_7.4"`, `"12 min"`} {
		_, _, err := d.decode([]byte(`{"rows":[{"age":` + bad + `,"city":"a"}]}`))
		if err == nil || !strings.Contains(err.Error(), "cannot parse") {
			t.Errorf("age %s: %v, want a refusal", bad, err)
		}
	}
}

// TestRowsBodyRefusesDuplicateKeys: a key normguard reads, a feature or a
// vector column, given twice in one row is refused naming it, as the
// CLI's JSONL reader refuses it; POST /transform took the last of
// {"delay":1,"delay":500} (attack run 8, F10). Keys it does not read are
// skipped, twice or not.
func TestRowsBodyRefusesDuplicateKeys(t *testing.T) {
	fields := []table.Field{{Name: "age", Kind: table.Numeric}, {Name: "emb_0", Kind: table.Numeric}, {Name: "emb_1", Kind: table.Numeric}}
	dec := func() *rowsBody {
		d := newRowsBody(fields, true, 100)
		d.vectors = map[string][]int{"emb": {1, 2}}
		return d
	}
	for body, want := range map[string]string{
		`{"rows":[{"age":1},{"age":1,"age":500}]}`:     "rows[1].age: duplicate key",
		`{"rows":[{"emb":[1,2],"age":3,"emb":[3,4]}]}`: "rows[0].emb: duplicate key",
		`{"rows":[{"emb":null,"emb":[3,4]}]}`:          "rows[0].emb: duplicate key",
	} {
		if _, _, err := dec().decode([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decode(%s): %v, want %q", body, err, want)
		}
	}
	cols, n, err := dec().decode([]byte(`{"rows":[{"x":1,"x":2,"emb":[1,2],"age":3}]}`))
	if err != nil || n != 1 || cols[0].Num[0] != 3 || cols[1].Num[0] != 1 || cols[2].Num[0] != 2 {
		t.Errorf("a key not read, twice: %v %d %v", err, n, cols)
	}
}

// fieldNames lists the names of fields.
func fieldNames(fields []table.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
