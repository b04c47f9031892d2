package artifact

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// TestProfileMustBeFinite checks that an artifact whose profile holds an
// infinite min, max, quantile, histogram edge or value is refused as
// corrupt (attack run 15 finding 10 (a): log1p of -1 wrote a profile with
// min -Infinity that verify accepted and drift's reference CDF indexed out
// of range on).
func TestProfileMustBeFinite(t *testing.T) {
	inf := math.Inf(-1)
	for _, tc := range []struct {
		name string
		edit func(a *Artifact)
		want string
	}{
		{"two values, one -Inf (finding 10 a)", func(a *Artifact) {
			xs := make([]float64, 40)
			for i := range xs {
				xs[i] = []float64{inf, 0}[i%2]
			}
			a.Profile.Outputs[0] = profile.Columns([]table.Column{{Name: "x", Kind: table.Numeric, Num: xs}}, 1)[0]
		}, "profile.outputs[0].min: -Inf and max 0 must be finite numbers, min <= max"},
		{"min", func(a *Artifact) { v := step.Float(inf); a.Profile.Inputs[0].Min = &v }, "profile.inputs[0].min: -Inf and max"},
		{"max", func(a *Artifact) { v := step.Float(math.Inf(1)); a.Profile.Inputs[0].Max = &v }, "and max +Inf must be finite numbers"},
		{"quantile", func(a *Artifact) { a.Profile.Inputs[0].Quantiles[0] = inf }, "profile.inputs[0].quantiles[0]: must be a finite number, got -Inf"},
		{"histogram edge", func(a *Artifact) { a.Profile.Inputs[0].Histogram.Edges[0] = inf }, "profile.inputs[0].histogram.edges[0]: must be a finite number"},
	} {
		a := profiled(t)
		tc.edit(a)
		b, err := Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decode(b, "a.json")
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: got %v, want ErrCorrupt with %q", tc.name, err, tc.want)
		}
	}
}

// TestSpecUploadNamesNoSpecFile checks attack run 15 finding 9 (b): a spec
// given where an artifact of a model's version is uploaded (named
// model@version) is named as a spec with a fit command that reads a spec
// file, not the model@version, and says to push or upload the artifact; a
// spec file keeps its own name in the command.
func TestSpecUploadNamesNoSpecFile(t *testing.T) {
	const data = "version: 1\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n"
	for _, name := range []string{"m@1", "flight-delay@2001.1", "m@v2"} {
		_, err := Decode([]byte(data), name)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !errors.Is(err, ErrForeign) || !strings.Contains(msg, "`normguard fit --spec SPEC.yaml --data TRAIN.csv --out model.json`") ||
			!strings.Contains(msg, "push or upload model.json") || strings.Contains(msg, "--spec "+name) {
			t.Fatalf("%s: got %v", name, err)
		}
	}
	for _, name := range []string{"s.yaml", "dir/m@1", "spec@2.yaml", "m@1.json", "@1"} {
		_, err := Decode([]byte(data), name)
		if !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), "`normguard fit --spec "+name+" --data TRAIN.csv") {
			t.Fatalf("%s: got %v", name, err)
		}
	}
}
