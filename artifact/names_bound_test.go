package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// valueLen returns the length in bytes of the value at path (object keys
// and array indexes) of the JSON document data, as the file holds it.
func valueLen(t *testing.T, data []byte, path ...any) int64 {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	skip := func() {
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
				} else {
					depth--
				}
			}
			if depth == 0 {
				return
			}
		}
	}
	for _, p := range path {
		if _, err := dec.Token(); err != nil { // '{' or '['
			t.Fatal(err)
		}
		switch p := p.(type) {
		case string:
			for {
				k, err := dec.Token()
				if err != nil {
					t.Fatalf("no key %q: %v", p, err)
				}
				if k == p {
					break
				}
				skip()
			}
		case int:
			for range p {
				skip()
			}
		}
	}
	start := dec.InputOffset()
	skip()
	raw := data[start:dec.InputOffset()]
	return int64(len(bytes.TrimLeft(raw, ":, \t\r\n")))
}

// TestNamesBound holds Verify, Decode and Encode to one verdict on each
// list of column names (the input schema, passthrough, a group's columns,
// a step's inputs after a one-hot encoder), made the longest list of the
// artifact, with the bound at the list's size and one byte below it:
// refused by its path before it is decoded, worded alike.
func TestNamesBound(t *testing.T) {
	longNames := func(names []string) []string {
		for i := range 30 {
			names = append(names, fmt.Sprintf("a-long-column-name-%03d", i))
		}
		return names
	}
	cities := []string{"lyon", "nice", "paris", "brest", "metz", "lyon", "nice"}
	for _, c := range []struct {
		path []any
		edit func(a *artifact.Artifact)
	}{
		{[]any{"inputs"}, func(*artifact.Artifact) {}},
		{[]any{"groups", 0, "columns"}, func(a *artifact.Artifact) { a.Groups[0].Columns = longNames(a.Groups[0].Columns) }},
		{[]any{"groups", 0, "steps", 1, "inputs"}, func(a *artifact.Artifact) {
			a.Groups[0].Steps[1].Inputs = longNames(a.Groups[0].Steps[1].Inputs)
		}},
		{[]any{"passthrough"}, func(a *artifact.Artifact) { a.Passthrough = longNames(a.Passthrough) }},
		{[]any{"groups", 0, "steps", 1, "fitted", "feature_names_in_"}, func(a *artifact.Artifact) {
			sc := a.Groups[0].Steps[1].Fitted.(*step.StandardScaler)
			sc.Names = longNames(sc.Names)
		}},
	} {
		a, err := artifact.Decode(outputsCaseOf(t, cities, "[one_hot_encoder, standard_scaler]"), "m.json")
		if err != nil {
			t.Fatal(err)
		}
		c.edit(a)
		data, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		n := valueLen(t, data, c.path...)
		path := strings.ReplaceAll(strings.ReplaceAll(fmt.Sprintf("%v", c.path), " ", "."), ".0", "[0]")
		path = strings.ReplaceAll(strings.Trim(path, "[]"), ".1", "[1]")
		for _, bound := range []int64{n, n - 1} {
			restore := artifact.SetMaxNamesBytesForTest(bound)
			decodeErr, verifyErr := verdicts(data)
			_, encodeErr := artifact.EncodeChecked(a)
			restore()
			want := fmt.Sprintf("corrupt artifact: %s: more than the %d bytes a list of column names may hold", path, bound)
			for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				over := err != nil && strings.Contains(err.Error(), "a list of column names may hold")
				if bound == n && over || bound < n && (err == nil || !strings.Contains(err.Error(), want)) {
					t.Errorf("%s of %d bytes, bound %d: %s got %v", path, n, bound, name, err)
				}
			}
			if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
				t.Errorf("%s, bound %d: Decode and Verify word the refusal differently:\n%v\n%v", path, bound, decodeErr, verifyErr)
			}
			encodeOver := encodeErr != nil && strings.Contains(encodeErr.Error(), fmt.Sprintf("%s: %d bytes in the artifact, more than the %d", path, n, bound))
			if encodeOver != (bound < n) {
				t.Errorf("%s of %d bytes, bound %d: Encode got %v", path, n, bound, encodeErr)
			}
		}
	}
}

// TestNamesBoundAndStringBound gives the input schema a name past the
// string bound, first or last in the list, with the schema past its own
// bound: both readers refuse whichever bound the reading passes first,
// alike (Verify measures the schema before decoding it; Decode scans the
// whole file first).
func TestNamesBoundAndStringBound(t *testing.T) {
	defer artifact.SetMaxStringBytesForTest(100)()
	defer artifact.SetMaxNamesBytesForTest(200)()
	long := strings.Repeat("n", 120)
	for _, c := range []struct {
		index int
		want  string
	}{
		{0, "corrupt artifact: inputs[0].name: a string of more than 100 bytes"},
		{2, "corrupt artifact: inputs: more than the 200 bytes a list of column names may hold"},
	} {
		a, err := artifact.Decode(outputsCase(t), "m.json")
		if err != nil {
			t.Fatal(err)
		}
		a.Inputs[c.index].Name = long
		data, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		decodeErr, verifyErr := verdicts(data)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("a long name at inputs[%d]: %s got %v, want %q", c.index, name, err, c.want)
			}
		}
	}
}
