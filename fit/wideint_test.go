package fit

import (
	"context"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// TestPassthroughWideIntegersKeptAsText (attack run 22 F3): a
// passthrough column of 64-bit ids was inferred numeric and written
// rounded to float64 (1234567890123456789 as 1.2345678901234568e+18),
// distinct ids merged, without a word. Such a column stays text, its
// values passed through as read; ids float64 holds exactly stay numeric.
func TestPassthroughWideIntegersKeptAsText(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// 2^53 + 1 and 2^53 + 3 round to the same float64; 2^53 and 15-digit
	// ids are exact.
	csv := "x,id,small,exact\n1,9007199254740993,123456789012345,9007199254740992\n2,9007199254740995,42,\n3,,7,1\n"
	r, _ := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
	a, out, err := FitTransform(context.Background(), sp, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range a.Outputs {
		kinds = append(kinds, f.Name+":"+f.Type)
	}
	if got, want := strings.Join(kinds, ","), "x:numeric,id:categorical,small:numeric,exact:numeric"; got != want {
		t.Fatalf("outputs %s, want %s", got, want)
	}
	id := out.Cols[1]
	if id.Str[0] != "9007199254740993" || id.Str[1] != "9007199254740995" || !id.Null[2] {
		t.Errorf("id passed through as %q (null %v), want the values as read", id.Str, id.Null)
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"9007199254740993", true}, {"-9007199254740993", true}, {"12345678901234567", true},
		{"123456789012345678901234", true}, {"9007199254740992", false}, {"10000000000000000", false},
		{"0000000000000000042", false}, {"123456789012345", false}, {"1.2345678901234567e18", false},
		{"+-9007199254740993", false}, {"9007199254740993.0", false},
	} {
		if got := wideInteger(tc.s); got != tc.want {
			t.Errorf("wideInteger(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
