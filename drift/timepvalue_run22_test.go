package drift

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestTimeDistanceHasNoPValue checks that a time column compared by a
// distance has no p-value, as every distance (p_value null, "-"), in both
// modes, for the feature and each calendar part, while a test keeps its
// p-value in (0, 1] (attack run 22 finding 5: p = 0 for a distance, which
// reads as certain drift).
func TestTimeDistanceHasNoPValue(t *testing.T) {
	jan := time.Date(2024, 1, 1, 0, 7, 0, 0, time.UTC)
	ref := stampsColumn(jan, 17*time.Minute, 60*24*60/17)                  // 60 days
	cur := stampsColumn(jan.AddDate(0, 5, 0), 23*time.Minute, 30*24*60/23) // a month
	p := profile.Column(&ref)
	for _, method := range []string{"psi", "hellinger", "jensenshannon", "kl_div", "l_infinity", "chisquare", "auto"} {
		a, err := CompareProfile([]profile.Feature{p}, []table.Column{cur}, Options{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compare([]table.Column{ref}, []table.Column{cur}, Options{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		isTest := method == "chisquare" || method == "auto"
		for mode, rep := range map[string]*Report{"artifact": a, "reference": r} {
			f := rep.Features[0]
			if f.Time == nil || len(f.Time.Parts) != 2 || f.Error != "" || f.Skipped != "" {
				t.Fatalf("%s %s: not compared by two parts: %+v", method, mode, f)
			}
			ps := []float64{float64(f.PValue)}
			for _, pt := range f.Time.Parts {
				ps = append(ps, float64(pt.PValue))
			}
			for _, pv := range ps {
				if isTest && !(pv > 0 && pv <= 1) {
					t.Errorf("%s %s: test p-value %v, want in (0, 1]", method, mode, pv)
				}
				if !isTest && !math.IsNaN(pv) {
					t.Errorf("%s %s: distance p-value %v, want none (NaN)", method, mode, pv)
				}
			}
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), `"p_value":null`); !isTest && n != 3 {
				t.Errorf("%s %s: %d of 3 p_values null in %s", method, mode, n, b)
			}
		}
	}
}
