package validate

import (
	"fmt"
	"testing"

	"github.com/normguard/normguard/profile"
)

// TestUnseenRateFallIsNoAnomaly (attack run 29 F3): a column of 400
// categories whose profile keeps the top 100 estimates the rate at which
// new values appear from its singletons, an upper bound (here 15%); a
// sample of the training distribution holding fewer new values (0.7%) was
// flagged unseen_categories, as the test was two-sided. Only a rise is an
// anomaly.
func TestUnseenRateFallIsNoAnomaly(t *testing.T) {
	values := make([]string, 100)
	counts := make([]int64, 100)
	for i := range values {
		values[i], counts[i] = fmt.Sprintf("k%03d", i), 4
	}
	f := catFeature("c", values, counts, 1600, 400) // 2,000 rows; 300 categories outside the top 100
	known := append([]string(nil), values...)       // the encoder's categories: all 400
	for i := 100; i < 400; i++ {
		known = append(known, fmt.Sprintf("k%03d", i))
	}
	sc := &Schema{Features: []profile.Feature{f}, Known: map[string][]string{"c": known}}
	for _, tc := range []struct {
		unseen int64
		want   string
	}{{14, ""}, {300, ""}, {800, "c/unseen_categories"}} {
		s := present("c", 2000)
		s.Unseen, s.UnseenDistinct, s.UnseenExamples, s.Distinct = tc.unseen, 1, []string{"zz"}, 2
		r, err := CheckSummaries(sc, 2000, []Summary{s}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(r); got != tc.want {
			t.Errorf("%d of 2,000 values new (training's rate at most 15%%): anomalies %q, want %q", tc.unseen, got, tc.want)
		}
	}
}
