package artifact

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// profiled returns the sample artifact with a passthrough text column of
// dates and the training profile of both columns (x has 300 distinct
// values, so a quantile grid and a histogram; d is of kind time).
func profiled(t *testing.T) *Artifact {
	t.Helper()
	a := sample(t)
	const n = 300
	x := table.Column{Name: "x", Kind: table.Numeric, Num: make([]float64, n)}
	d := table.Column{Name: "d", Kind: table.String, Str: make([]string, n), Null: make([]bool, n)}
	for i := 0; i < n; i++ {
		x.Num[i] = float64(i%150) + float64(i)/1000
		d.Str[i] = fmt.Sprintf("2024-01-%02d %02d:00", 1+i%28, i%24)
	}
	x.Num[7] = math.NaN()
	a.Inputs = []Field{{Name: "x", Type: "numeric"}, {Name: "d", Type: "categorical"}}
	a.Spec.Remainder = spec.RemainderPassthrough // as a fit that passes d through writes it
	a.Passthrough = []string{"d"}
	a.Outputs = []Field{{Name: "x", Type: "numeric"}, {Name: "d", Type: "categorical"}}
	ins := profile.Columns([]table.Column{x, d}, 1)
	outX := table.Column{Name: "x", Kind: table.Numeric, Num: make([]float64, n)}
	for i, v := range x.Num {
		if v > 0.5 {
			outX.Num[i] = 1
		}
	}
	outs := profile.Columns([]table.Column{outX, d}, 1)
	// The binarizer's output has no missing value; x had one, which the
	// profile of the raw input counts.
	a.Profile = &profile.Set{Inputs: ins, Outputs: outs}
	a.Training.Rows = n
	if ins[1].Kind != profile.KindTime || ins[0].Quantiles == nil || ins[0].Histogram == nil || outs[0].Values == nil {
		t.Fatalf("the sample profile does not cover what the test needs: %+v", ins)
	}
	return a
}

func TestCheckAcceptsAFittedArtifact(t *testing.T) {
	a := profiled(t)
	if err := Check(a); err != nil {
		t.Fatal(err)
	}
	b, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b, "a.json"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckNamesTheField(t *testing.T) {
	cases := []struct {
		edit func(a *Artifact)
		path string
	}{
		{func(a *Artifact) { a.Profile.Inputs[0].CDF = a.Profile.Inputs[0].CDF[:10] }, "profile.inputs[0].cdf"},
		{func(a *Artifact) { a.Profile.Inputs[0].CDF[5] = 1.5 }, "profile.inputs[0].cdf[5]"},
		{func(a *Artifact) { a.Profile.Inputs[0].CDF[100] = 0 }, "profile.inputs[0].cdf[100]"},
		{func(a *Artifact) { a.Profile.Inputs[0].CDF[3] = math.NaN() }, "profile.inputs[0].cdf[3]"},
		{func(a *Artifact) { a.Profile.Inputs[0].Quantiles = a.Profile.Inputs[0].Quantiles[1:] }, "profile.inputs[0].quantiles"},
		{func(a *Artifact) { q := a.Profile.Inputs[0].Quantiles; q[50], q[150] = q[150], q[50] }, "profile.inputs[0].quantiles[51]"},
		{func(a *Artifact) { a.Profile.Inputs[0].Histogram.Counts[4]++ }, "profile.inputs[0].histogram.counts"},
		{func(a *Artifact) { a.Profile.Inputs[0].Histogram.Counts[4] = -1 }, "profile.inputs[0].histogram.counts[4]"},
		{func(a *Artifact) { a.Profile.Inputs[0].Histogram.Edges = a.Profile.Inputs[0].Histogram.Edges[:5] }, "profile.inputs[0].histogram.edges"},
		{func(a *Artifact) { a.Profile.Inputs[0].Missing++ }, "profile.inputs[0].count"},
		{func(a *Artifact) { a.Profile.Inputs[0].Min = nil }, "profile.inputs[0].min"},
		{func(a *Artifact) { a.Profile.Outputs[0].Values.Counts = a.Profile.Outputs[0].Values.Counts[:1] }, "profile.outputs[0].values.counts"},
		{func(a *Artifact) { v := a.Profile.Outputs[0].Values.Numbers; v[0], v[1] = v[1], v[0] }, "profile.outputs[0].values.numbers[1]"},
		{func(a *Artifact) { c := a.Profile.Inputs[1].Categories; c.Values[1] = c.Values[0] }, "profile.inputs[1].categories.values[1]"},
		{func(a *Artifact) { a.Profile.Inputs[1].Categories.Other = 3 }, "profile.inputs[1].categories.counts"},
		{func(a *Artifact) { a.Profile.Inputs[1].Categories.Distinct = 1 }, "profile.inputs[1].categories.distinct"},
		{func(a *Artifact) { tm := a.Profile.Inputs[1].Time; tm.Hours = tm.Hours[:23] }, "profile.inputs[1].time.hours"},
		{func(a *Artifact) { a.Profile.Inputs[1].Time.Weekdays[2] += 5 }, "profile.inputs[1].time.weekdays"},
		{func(a *Artifact) { a.Profile.Inputs[1].Kind = "clock" }, "profile.inputs[1].kind"},
		{func(a *Artifact) { a.Profile.Inputs = a.Profile.Inputs[:1] }, "profile.inputs"},
		{func(a *Artifact) { a.Outputs[1].Name = "x" }, "outputs[1].name"},
		{func(a *Artifact) { a.Outputs[0].Name = "y" }, "outputs[0]"},
		{func(a *Artifact) { a.Passthrough = []string{"d", "d"} }, "passthrough[1]"},
		{func(a *Artifact) { a.Groups[0].Steps[1].Inputs = []string{"z"} }, "groups[0].steps[1].inputs[0]"},
		{func(a *Artifact) { a.Groups[0].Type = "vector" }, "groups[0].type"},
	}
	for _, c := range cases {
		a := profiled(t)
		c.edit(a)
		err := Check(a)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != c.path || !errors.Is(err, ErrInvalid) {
			t.Errorf("want a refusal of %s, got %v", c.path, err)
		}
	}
}

func TestDecodeRefusesInvalidWithPathAndHint(t *testing.T) {
	a := profiled(t)
	a.Profile.Inputs[0].CDF[9] = 2
	b, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(b, "a.json")
	want := "load artifact a.json: corrupt artifact: profile.inputs[0].cdf[9]: must lie in [0, 1], got 2; the artifact was damaged or edited after it was fitted; refit it"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want an ErrCorrupt and ErrInvalid starting %q", err, want)
	}
}

func TestSpecIsNamedAsSpec(t *testing.T) {
	for _, data := range []string{
		"version: 1\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n",
		`{"version": 1, "columns": [{"name": "x", "steps": ["standard_scaler"]}]}`,
	} {
		_, err := Decode([]byte(data), "s.yaml")
		if !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), "s.yaml is a spec, not an artifact: fit it first with `normguard fit --spec s.yaml") {
			t.Errorf("%q: got %v", data, err)
		}
	}
	// Other JSON is still foreign, not a spec.
	if _, err := Decode([]byte(`{"columns": 1}`), "o.json"); !errors.Is(err, ErrForeign) || strings.Contains(err.Error(), "spec") {
		t.Errorf("other JSON: got %v", err)
	}
}
