package fit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// Attack run 8 F8: fit wrote, with exit 0, artifacts that every reader
// refused as "damaged or edited after it was fitted" (min_max_scaler's
// feature_range [-1e308, 1e308]; values near ±1e308, whose statistics
// overflow, under standard_scaler, robust_scaler, power_transformer and
// kbins_discretizer; kbins on [0, 1e-300], whose transform panicked).
// Whatever the step and the data, fit now refuses with an error that
// does not blame an edit, or returns an artifact the reader accepts.
func TestFitNeverWritesUnreadable(t *testing.T) {
	steps := []string{
		"min_max_scaler", "'min_max_scaler: {feature_range: [0, 1e308]}'", "'min_max_scaler: {feature_range: [-8e307, 8e307]}'",
		"standard_scaler", "robust_scaler", "'robust_scaler: {quantile_range: [0, 100]}'", "max_abs_scaler",
		"'kbins_discretizer: {strategy: uniform, encode: ordinal}'", "'kbins_discretizer: {strategy: quantile}'",
		"'kbins_discretizer: {strategy: kmeans, n_bins: 2}'", "power_transformer", "'power_transformer: {method: box-cox}'",
		"quantile_transformer", "'quantile_transformer: {output_distribution: normal}'", "'simple_imputer: {strategy: mean}'",
		"normalizer", "binarizer", "log1p",
	}
	data := map[string]string{
		"span":  "x\n-1e308\n1e308\n0\n",
		"large": "x\n1.7e308\n1.7e308\n1\n",
		"tiny":  "x\n0\n1e-300\n",
		"plain": "x\n1\n2\n4\n",
	}
	refused := 0
	for _, st := range steps {
		for name, csv := range data {
			text := "version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps:\n      - " + strings.Trim(st, "'") + "\n"
			a, err := fitArtifact(t, text, csv)
			if err != nil {
				refused++
				if errors.Is(err, artifact.ErrInvalid) || strings.Contains(err.Error(), "damaged") {
					t.Errorf("%s on %s: %v", st, name, err)
				}
				// box-cox refuses 0 and negatives; the outputs of the
				// 8e307 range span more than the output profile's
				// quantiles compute (NaN: a profile fault the check
				// at the end of fit now catches).
				if name == "plain" && !strings.Contains(st, "box-cox") && !strings.Contains(st, "8e307") {
					t.Errorf("%s on %s: refused: %v", st, name, err)
				}
				continue
			}
			data, err := artifact.EncodeChecked(a)
			if err != nil {
				t.Errorf("%s on %s: encode: %v", st, name, err)
				continue
			}
			if _, err := artifact.Decode(data, "a.json"); err != nil {
				t.Errorf("%s on %s: fit gave an artifact the reader refuses: %v", st, name, err)
			}
		}
	}
	if refused < 10 {
		t.Errorf("only %d fits refused; the overflow cases should be", refused)
	}
}

// The F8 spec: refused, naming the step, the parameter and its column.
func TestFitRefusesOverflowNamingColumn(t *testing.T) {
	_, err := fitArtifact(t, "version: 1\ncolumns:\n  - names: [a, x]\n    type: numeric\n    steps:\n      - standard_scaler\n", "a,x\n1,-1e308\n2,1e308\n3,0\n")
	if err == nil {
		t.Fatal("standard_scaler on [-1e308, 1e308, 0] fitted")
	}
	for _, w := range []string{"fit d.csv", "columns[0].steps[0].standard_scaler", `var_[1] for column "x"`, "+Inf", "nothing was written"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	// A spec that did not go through the parser gets the parameter bounds
	// from fit itself.
	var sp spec.Spec
	doc := `{"version":1,"remainder":"drop","columns":[{"names":["x"],"type":"numeric","steps":[{"min_max_scaler":{"feature_range":[-1e308,1e308]}}]}]}`
	if err := json.Unmarshal([]byte(doc), &sp); err != nil {
		t.Fatal(err)
	}
	r, _ := table.NewCSVReader(strings.NewReader("x\n1\n2\n"), "d.csv", table.CSVOptions{})
	_, _, err = FitTransform(context.Background(), &sp, r, Options{Source: "d.csv"})
	if err == nil || !strings.Contains(err.Error(), "columns[0].steps[0].min_max_scaler.feature_range") || !strings.Contains(err.Error(), "overflows float64") {
		t.Errorf("wide feature_range: %v", err)
	}
}

// CheckArtifact stands for every reader's verdict: it refuses what
// artifact.Check refuses, calling it fit's fault and naming the spec step
// and its columns, not an edit.
func TestCheckArtifactNamesFit(t *testing.T) {
	a, err := fitArtifact(t, "version: 1\ncolumns:\n  - names: [a, b]\n    type: numeric\n    steps:\n      - standard_scaler\n", "a,b\n1,2\n3,5\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckArtifact(a, "d.csv"); err != nil {
		t.Fatalf("a fitted artifact: %v", err)
	}
	a.Groups[0].Steps[0].Fitted.(*step.StandardScaler).Scale[1] = -1
	err = CheckArtifact(a, "d.csv")
	for _, w := range []string{"fit d.csv", "groups[0].steps[0].fitted.scale_[1]", `spec columns[0].steps[0].standard_scaler fitted on "a", "b"`, "fault of normguard's fit"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want it to say %q", err, w)
		}
	}
	if err != nil && strings.Contains(err.Error(), "damaged") {
		t.Errorf("blames damage: %v", err)
	}
}
