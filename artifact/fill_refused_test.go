package artifact_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestFillRefusedByNextStep: an imputer's statistic the next step refuses
// (box-cox of -17, log1p of -5) was accepted, and transform then blamed
// the user's data on each row with a missing cell (attack run 35 F7). A
// fit takes its own fill value through the steps, so Decode and the
// streamed Verify refuse such a statistic naming it and the refusing
// step; the fitted artifact, and a fill value the steps take, pass.
func TestFillRefusedByNextStep(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 30 {
		x, y := fmt.Sprint(float64(i%9)+17), fmt.Sprint(float64(i*7%40)*100+3000)
		if i%6 == 2 {
			x = ""
		}
		if i%5 == 1 {
			y = ""
		}
		fmt.Fprintf(&b, "%s,%s\n", x, y)
	}
	a := fitRun27(t, `version: 1
columns:
  - names: [x]
    type: numeric
    steps:
      - simple_imputer: {strategy: most_frequent}
      - power_transformer: {method: box-cox}
  - names: [y]
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - log1p: {}
      - standard_scaler: {}
`, b.String())
	stats := func(tree map[string]any, gi int) []any {
		return tree["groups"].([]any)[gi].(map[string]any)["steps"].([]any)[0].(map[string]any)["fitted"].(map[string]any)["statistics_"].([]any)
	}
	for _, tc := range []struct {
		name string
		gi   int
		fill float64
		want string // "" accepted
	}{
		{"box-cox of -17", 0, -17, `groups[0].steps[0].fitted.statistics_[0]: fills column "x"'s missing cells with a value the next steps refuse: groups[0].steps[1] (power_transformer) refuses it`},
		{"box-cox of 0", 0, 0, `groups[0].steps[0].fitted.statistics_[0]: fills column "x"'s missing cells with a value the next steps refuse: groups[0].steps[1] (power_transformer) refuses it`},
		{"log1p of -5", 1, -5, `groups[1].steps[0].fitted.statistics_[0]: fills column "y"'s missing cells with a value the next steps refuse: groups[1].steps[1] (log1p) refuses it`},
		{"box-cox of 0.5", 0, 0.5, ""}, // most_frequent: a value the profile does not pin
	} {
		tree := treeOf(t, a)
		stats(tree, tc.gi)[0] = json.Number(fmt.Sprint(tc.fill))
		data, ok := reencodeTree(tree)
		if !ok {
			t.Fatalf("%s: not re-encoded", tc.name)
		}
		if tc.want == "" {
			if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
				t.Errorf("%s: refused: Decode: %v, Verify: %v", tc.name, decErr, verErr)
			}
			continue
		}
		refusedAlike(t, tc.name, data, tc.want)
	}
	data, ok := reencodeTree(treeOf(t, a))
	if !ok {
		t.Fatal("the fitted artifact is not re-encoded")
	}
	if decErr, verErr := bothReadings(data); decErr != nil || verErr != nil {
		t.Fatalf("the fitted artifact is refused: Decode: %v, Verify: %v", decErr, verErr)
	}
}
