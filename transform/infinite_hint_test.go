package transform

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestInfiniteHintNamesOverflow (attack run 35 F5, its data item): a CSV
// cell 1e400 reads as +Inf, as pandas reads it, and the refusal quoted
// "+Inf", which the file does not hold, with no word of why: the hint
// says a number past float64's range reads as infinite.
func TestInfiniteHintNamesOverflow(t *testing.T) {
	// What a reader gives for the cells 1 and 1e400 (ParseNumber: +Inf).
	v, ok := table.ParseNumber([]byte("1e400"))
	if !ok || !math.IsInf(v, 1) {
		t.Fatalf("1e400 reads as %v, %v; the test assumes +Inf", v, ok)
	}
	b := &table.Batch{Rows: 2, Cols: []table.Column{{Name: "x", Kind: table.Numeric, Num: []float64{1, v}}}}
	err := CheckFiniteColumn(b, 0, []table.Field{{Name: "x", Kind: table.Numeric}}, "d.csv")
	if !errors.Is(err, ErrInfinite) {
		t.Fatalf("got %v, want an infinite-value error", err)
	}
	for _, want := range []string{`"x"`, "past float64's range", "1e400"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}
