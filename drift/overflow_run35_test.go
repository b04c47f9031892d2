package drift

import (
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestSpreadOverflowNamed: finite values near float64's limit (±1.7e308)
// make the reference's standard deviation overflow; the error says that
// and to rescale, not "infinite values in the data" or "a reference
// without spread", neither of which holds (attack run 35 F6).
func TestSpreadOverflowNamed(t *testing.T) {
	var ref, cur []float64
	for i := 0; i < 300; i++ {
		x := 35 + float64(i%20)
		switch {
		case i < 100:
			x = 1.7e308
		case i < 200:
			x = -1.7e308
		}
		ref = append(ref, x)
		cur = append(cur, 35+float64(i%20))
	}
	a := table.Column{Name: "x", Kind: table.Numeric, Num: ref}
	b := table.Column{Name: "x", Kind: table.Numeric, Num: cur}
	for _, method := range []string{"auto", "wasserstein"} {
		rep, err := Compare([]table.Column{a}, []table.Column{b}, Options{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		msg := rep.Features[0].Error
		if !strings.Contains(msg, "overflows float64") || !strings.Contains(msg, "rescale") {
			t.Errorf("%s: got error %q, want the spread's overflow named and to rescale", method, msg)
		}
		for _, wrong := range []string{"infinite values in the data", "without spread", "a sample of one value"} {
			if strings.Contains(msg, wrong) {
				t.Errorf("%s: got %q, which names a cause the data do not have (%q)", method, msg, wrong)
			}
		}
	}
	// Spread within range: no note.
	if s := spreadOverflow([]float64{-1e149, 1e149}, []float64{0}); s != "" {
		t.Errorf("spreadOverflow of ±1e149: got %q, want \"\"", s)
	}
}
