package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestDriftCLIMatchesScipy runs `normguard drift --reference --current
// --method M --format json` on the scipy parity cases and compares every
// feature's statistic and p-value with scipy's (testdata/peer-vectors).
func TestDriftCLIMatchesScipy(t *testing.T) {
	const dir = "../../testdata/peer-vectors/drift/numeric_2000_vs_1500"
	var want struct {
		Columns map[string]map[string]struct {
			Statistic float64  `json:"statistic"`
			PValue    *float64 `json:"p_value"`
		} `json:"columns"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected.json")), &want); err != nil {
		t.Fatal(err)
	}
	for method, key := range map[string]string{
		"ks": "ks", "wasserstein": "wasserstein", "energy": "energy", "t_test": "t_test_welch",
		"mann_whitney": "mann_whitney_u", "cramer_von_mises": "cramer_von_mises",
	} {
		code, out, errOut := runCLI(t, "drift", "--reference", filepath.Join(dir, "reference.csv"),
			"--current", filepath.Join(dir, "current.csv"), "--method", method, "--format", "json")
		if code == ExitError {
			t.Fatalf("%s: exit 2: %s", method, errOut)
		}
		var got struct {
			Features []struct {
				Name      string   `json:"name"`
				Statistic float64  `json:"statistic"`
				PValue    *float64 `json:"p_value"`
				Drift     bool     `json:"drift"`
			} `json:"features"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v\n%s", method, err, out)
		}
		anyDrift := false
		for _, f := range got.Features {
			w := want.Columns[f.Name][key]
			if d := math.Abs(f.Statistic - w.Statistic); d > 1e-7*math.Abs(w.Statistic) {
				t.Errorf("%s %s: statistic %v, scipy %v", method, f.Name, f.Statistic, w.Statistic)
			}
			if w.PValue != nil && (f.PValue == nil || math.Abs(*f.PValue-*w.PValue) > 1e-5*math.Max(1, *w.PValue)) {
				t.Errorf("%s %s: p-value %v, scipy %v", method, f.Name, f.PValue, *w.PValue)
			}
			anyDrift = anyDrift || f.Drift
		}
		if wantCode := map[bool]int{true: ExitFound, false: ExitOK}[anyDrift]; code != wantCode {
			t.Errorf("%s: exit %d, want %d", method, code, wantCode)
		}
	}
}

func TestDriftCLIErrors(t *testing.T) {
	const dir = "../../testdata/peer-vectors/drift/numeric_300_vs_200"
	ref, cur := filepath.Join(dir, "reference.csv"), filepath.Join(dir, "current.csv")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "zscore"}, "zscore"},
		{[]string{"drift", "--reference", ref}, "--current"},
		{[]string{"drift", "--current", cur}, "--reference"},
		{[]string{"drift", "--reference", ref, "--current", bad("no_such.csv")}, "no_such.csv"},
		{[]string{"drift", "--reference", ref, "--current", bad("train.csv")}, "no column in common"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--format", "xml"}, "xml"},
		// attack run 15 finding 8: thresholds no result can cross, or every
		// one does, and bins past the spec's bound, are refused, not run
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "ks", "--threshold", "-1"}, "--threshold -1: method ks tests p-values"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--threshold", "1.5"}, "--threshold 1.5: method auto tests p-values"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "ks", "--threshold", "0"}, "in (0, 1]"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "wasserstein_normed", "--threshold", "inf"}, "--threshold +Inf: give a finite number"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--threshold", "NaN"}, "--threshold NaN: give a finite number"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "psi", "--threshold", "-0.1"}, "distance, which is never negative"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "psi", "--bins", "1000000000"}, "--bins 1000000000: give between 2 and 1048576 bins"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "psi", "--bins", "1"}, "--bins 1:"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--method", "psi", "--bins", "0"}, "--bins 0:"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--drift-share", "0"}, "--drift-share 0:"},
		{[]string{"drift", "--reference", ref, "--current", cur, "--drift-share", "2"}, "--drift-share 2:"},
	}
	for _, tc := range cases {
		code, _, errOut := runCLI(t, tc.args...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
	}
}
