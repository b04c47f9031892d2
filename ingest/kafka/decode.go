package kafka

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/table"
)

// Reasons a record is counted bad, the values of the reason label.
const (
	ReasonNotJSON         = "not_json"         // the value is not a JSON object
	ReasonWrongType       = "wrong_type"       // a feature's value has the wrong type
	ReasonDuplicateKey    = "duplicate_key"    // a key naming a feature is given twice
	ReasonTooLarge        = "too_large"        // the record value is past the service's body bound
	ReasonNoFeature       = "no_feature"       // no key of the row names a feature of the model
	ReasonUnknownModel    = "unknown_model"    // no model header, or the registry has no such model
	ReasonModelError      = "model_error"      // the model's artifact could not be loaded
	ReasonRefused         = "refused"          // the monitor refused the rows (invalid, over budget)
	ReasonBadBatch        = "bad_batch"        // the record's compressed batch inflates past the bound or is damaged
	ReasonVector          = "vector"           // the row holds a vector column, or one of its dimension columns
	ReasonDuplicateHeader = "duplicate_header" // two model headers name different models
)

// modelHeader returns the model a record's ModelHeader headers name, ""
// when it has none. Kafka headers are a list, so a record may carry the
// header twice: two different values make the record bad
// (duplicate_header: which model its row is for is a guess, as which
// value to take is for a key given twice, duplicate_key). The same value
// twice is no guess. Header keys are matched exactly (Kafka's are bytes):
// "Model" is not the header.
func modelHeader(hs []kgo.RecordHeader) (string, *rowError) {
	var name []byte
	seen := false
	for _, h := range hs {
		if h.Key != ModelHeader {
			continue
		}
		if seen && !bytes.Equal(h.Value, name) {
			return "", &rowError{ReasonDuplicateHeader, fmt.Sprintf("the record has two %q headers, %s and %s: which model its row is for is a guess; "+
				"give the header once in the producer", ModelHeader, errtext.QuoteBytes(name), errtext.QuoteBytes(h.Value))}
		}
		name, seen = h.Value, true
	}
	return string(name), nil
}

// rowError is why a record's value could not be read as a row.
type rowError struct {
	reason string
	msg    string
}

func (e *rowError) Error() string { return e.msg }

// rows accumulates decoded rows into columns shaped as fields.
type rows struct {
	fields []table.Field
	index  map[string]int
	cols   []table.Column
	n      int
	// The row being read, by field: raw values, then parsed ones.
	spans [][]byte
	nums  []float64
	strs  []string
	nulls []bool
	// eventTime is the index of the event-time column added beside the
	// features (withEventTime), or -1.
	eventTime int
	// timeOf is the index of the feature that is also the event-time
	// column (withEventTime), or -1; the event time is then the last
	// column of cols, after the features.
	timeOf int
	// names names every key kept: the fields, then the vector columns
	// (withVectors); vectorOf[j] is the vector column key j belongs to
	// ("" for a feature).
	names    []string
	vectorOf []string
}

func newRows(fields []table.Field) *rows {
	n := len(fields)
	r := &rows{fields: fields, index: make(map[string]int, n), cols: table.NewColumns(fields),
		spans: make([][]byte, n), nums: make([]float64, n), strs: make([]string, n), nulls: make([]bool, n), eventTime: -1, timeOf: -1}
	for j, f := range fields {
		r.index[f.Name] = j
		r.names = append(r.names, f.Name)
	}
	r.vectorOf = make([]string, n)
	return r
}

// withVectors makes a row holding a vector column of the artifact (the
// column's name, or one of its dimension columns emb_0 ...) bad: the
// monitor judges a vector column as a whole, from vector observations
// (POST .../observations?producer=), so its values here would be dropped
// without a word. vectors maps each vector column to its dimension
// columns (artifact.VectorColumns). Call it after withEventTime.
func (r *rows) withVectors(vectors map[string][]string) *rows {
	cols := make([]string, 0, len(vectors))
	for col := range vectors {
		cols = append(cols, col)
	}
	slices.Sort(cols)
	for _, col := range cols {
		for _, d := range vectors[col] {
			if j, ok := r.index[d]; ok && j != r.eventTime {
				r.vectorOf[j] = col
			}
		}
		if _, ok := r.index[col]; ok {
			continue
		}
		r.index[col] = len(r.names)
		r.names = append(r.names, col)
		r.vectorOf = append(r.vectorOf, col)
		r.spans = append(r.spans, nil)
	}
	return r
}

// withEventTime makes the rows carry the event time column name, in
// which a row without the key (or with null) takes the record's
// timestamp.
//
// When a feature has that name, it is read as any feature (missing in a
// row without it), and a column of the same name and kind is added after
// the features, the last of that name, which the monitor reads the event
// time from (monitor.Options.TimeColumn): the feature's value, or the
// record's timestamp where the feature is absent or null (text in RFC
// 3339 for a categorical feature, seconds since the Unix epoch for a
// numeric one). The monitor reads a time from it as from the feature
// (attack run 31 F2: the row was untimed, windowed by its arrival).
//
// Otherwise a numeric column of that name is added, in seconds since the
// Unix epoch: a number is taken as such, a string is read by
// monitor.ParseEventTime (NaN when it does not parse: the monitor counts
// the row as untimed).
func (r *rows) withEventTime(name string) *rows {
	if name == "" {
		return r
	}
	if j, ok := r.index[name]; ok {
		r.timeOf = j
		r.cols = append(r.cols, table.Column{Name: name, Kind: r.fields[j].Kind})
		return r
	}
	r.eventTime = len(r.fields)
	r.fields = append(r.fields[:len(r.fields):len(r.fields)], table.Field{Name: name, Kind: table.Numeric})
	r.index[name] = r.eventTime
	r.cols = append(r.cols, table.Column{Name: name, Kind: table.Numeric})
	r.spans = append(r.spans, nil)
	r.nums = append(r.nums, 0)
	r.strs = append(r.strs, "")
	r.nulls = append(r.nulls, false)
	r.names = append(r.names, name)
	r.vectorOf = append(r.vectorOf, "")
	return r
}

// add decodes value, one JSON object, as a row: numbers (or numeric
// strings) for numeric features; strings, numbers (as written) or booleans
// for categorical ones; null or an absent key for a missing value. Keys
// that name no feature are ignored, but at least one key must name one; a
// key naming a feature twice makes the row bad (duplicate_key: which value
// to take is a guess, and /observations and the CLI refuse it too). It
// accepts exactly the JSON that
// encoding/json accepts (scan.go checks it by hand, without a map per
// row). A row that fails leaves the columns as they were.
//
// ts is the record's timestamp, the event time of a row without one
// (withEventTime).
func (r *rows) add(value []byte, ts time.Time) error {
	valid, dup := scanRow(value, r.index, r.spans)
	if !valid {
		return &rowError{ReasonNotJSON, "the record value is not a JSON object"}
	}
	if dup >= 0 {
		return &rowError{ReasonDuplicateKey, fmt.Sprintf("key %s is given twice; give each key once", errtext.Quote(r.names[dup]))}
	}
	for j, sp := range r.spans {
		if col := r.vectorOf[j]; col != "" && sp != nil && !bytes.Equal(sp, null) {
			what := fmt.Sprintf("%s is a vector column", errtext.Quote(col))
			if r.names[j] != col {
				what = fmt.Sprintf("%s is a dimension column of the vector column %s", errtext.Quote(r.names[j]), errtext.Quote(col))
			}
			return &rowError{ReasonVector, what + ": a vector is observed whole, per producer, with POST .../observations?producer=NAME " +
				"to the service, not from the topic; send the record's features without it"}
		}
	}
	known := false
	for j, sp := range r.spans[:len(r.fields)] {
		if sp != nil && j != r.eventTime && r.vectorOf[j] == "" {
			known = true
			break
		}
	}
	if !known {
		return &rowError{ReasonNoFeature, "no key of the row names a feature of the model"}
	}
	// Parse every value before appending any, so a bad row leaves no trace.
	for j, raw := range r.spans[:len(r.fields)] {
		if j == r.eventTime {
			r.nums[j] = eventSeconds(raw, ts)
			continue
		}
		x, s, null, err := r.parse(j, raw)
		if err != nil {
			return err
		}
		r.nums[j], r.strs[j], r.nulls[j] = x, s, null
	}
	for j := range r.fields {
		c := &r.cols[j]
		if c.Kind == table.Numeric {
			c.Num = append(c.Num, r.nums[j])
			continue
		}
		c.Str = append(c.Str, r.strs[j])
		c.Null = append(c.Null, r.nulls[j])
	}
	if r.timeOf >= 0 {
		r.appendTime(ts)
	}
	r.n++
	return nil
}

// appendTime appends the event time of the row just parsed to the last
// column (withEventTime, a feature that is the time column): the
// feature's value, or ts when the row has it absent or null.
func (r *rows) appendTime(ts time.Time) {
	j := r.timeOf
	c := &r.cols[len(r.cols)-1]
	raw := r.spans[j]
	given := len(raw) > 0 && !bytes.Equal(raw, null)
	if c.Kind == table.Numeric {
		x := r.nums[j]
		if !given {
			x = eventSeconds(nil, ts)
		}
		c.Num = append(c.Num, x)
		return
	}
	s := r.strs[j]
	if !given {
		s = ts.UTC().Format(time.RFC3339Nano)
	}
	c.Str = append(c.Str, s)
	c.Null = append(c.Null, false)
}

// parse reads raw, a JSON value scanned by scanRow (nil: absent), as
// feature j's value: a number (NaN when missing) for a numeric feature, a
// string (null true when missing) for a categorical one.
func (r *rows) parse(j int, raw []byte) (x float64, s string, null bool, err error) {
	if len(raw) == 0 {
		return math.NaN(), "", true, nil
	}
	name := r.fields[j].Name
	numeric := r.fields[j].Kind == table.Numeric
	wrong := func(msg string) error {
		return &rowError{ReasonWrongType, fmt.Sprintf("column %q: %s", name, msg)}
	}
	switch ch := raw[0]; {
	case ch == 'n':
		return math.NaN(), "", true, nil
	case ch == '"':
		content := raw[1 : len(raw)-1]
		s := unquote(content, bytes.IndexByte(content, '\\') >= 0)
		if !numeric {
			return 0, s, false, nil
		}
		// As /observations and the CLI's readers read a numeric cell given
		// as text (table.ParseNumber: pandas' syntax, spaces trimmed,
		// missing-value tokens such as "NA" or "" give NaN, a missing
		// value), so that a row gives the same numbers through every
		// entry point (attack run 23: strconv's syntax counted "NA" and
		// " 12 " wrong_type and read "0x10" as 16).
		x, ok := table.ParseNumber([]byte(s))
		if !ok {
			return 0, "", false, wrong(fmt.Sprintf("cannot parse %s as a number", errtext.Quote(s)))
		}
		if math.IsInf(x, 0) {
			return 0, "", false, wrong(fmt.Sprintf("%s is infinite", errtext.Quote(s)))
		}
		return x, "", false, nil
	case ch == '-' || ch >= '0' && ch <= '9':
		if !numeric {
			return 0, string(raw), false, nil
		}
		x, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(x, 0) {
			return 0, "", false, wrong(fmt.Sprintf("%s is out of the float64 range", errtext.QuoteBytes(raw)))
		}
		return x, "", false, nil
	case ch == 't' || ch == 'f':
		if numeric {
			return 0, "", false, wrong("expected a number or null, got " + errtext.QuoteBytes(raw))
		}
		return 0, string(raw), false, nil
	default:
		return 0, "", false, wrong("expected a number, a string or null")
	}
}

// eventSeconds reads an event time in seconds since the Unix epoch: a
// JSON number as is, a string by monitor.ParseEventTime (NaN when it does
// not parse), null or absent as ts.
func eventSeconds(raw []byte, ts time.Time) float64 {
	if len(raw) == 0 || raw[0] == 'n' {
		return float64(ts.UnixNano()) / 1e9
	}
	if raw[0] == '"' {
		content := raw[1 : len(raw)-1] // scanned by scanRow: a valid string
		t, ok := monitor.ParseEventTime(unquote(content, bytes.IndexByte(content, '\\') >= 0))
		if !ok {
			return math.NaN()
		}
		return float64(t.UnixNano()) / 1e9
	}
	x, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return math.NaN()
	}
	return x
}

// null is the JSON null, as scanRow keeps it.
var null = []byte("null")

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// reset empties the columns, keeping their storage.
func (r *rows) reset() {
	for j := range r.cols {
		c := &r.cols[j]
		c.Num, c.Str, c.Null = c.Num[:0], c.Str[:0], c.Null[:0]
	}
	r.n = 0
}
