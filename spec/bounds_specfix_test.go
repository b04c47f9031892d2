package spec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Attack run 8 F7 and F8: the spec reader refuses, with the file, line,
// parameter path, value and bound, an n_bins past step.MaxBins (1e9 made
// fit allocate 8 GB) and a feature_range whose width overflows float64
// (fit wrote an artifact every reader refused).
func TestParseRefusesFitBounds(t *testing.T) {
	for _, c := range []struct {
		step, field string
		want        []string
	}{
		{"kbins_discretizer: {n_bins: 1000000000}", "columns[0].steps[0].kbins_discretizer.n_bins", []string{"1048576", "got 1000000000"}},
		{"kbins_discretizer: {n_bins: 1048577, encode: ordinal}", "columns[0].steps[0].kbins_discretizer.n_bins", []string{"1048576", "got 1048577"}},
		{"min_max_scaler: {feature_range: [-1e308, 1e308]}", "columns[0].steps[0].min_max_scaler.feature_range", []string{"overflows float64", "[-1e+308, 1e+308]"}},
	} {
		text := "version: 1\ncolumns:\n  - name: delay\n    type: numeric\n    steps:\n      - " + c.step + "\n"
		_, err := Parse(strings.NewReader(text), "s.yaml")
		var se *Error
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want a spec error", c.step, err)
			continue
		}
		if se.File != "s.yaml" || se.Line != 6 || se.Field != c.field {
			t.Errorf("%s: at %s:%d %s, want s.yaml:6 %s", c.step, se.File, se.Line, se.Field, c.field)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.step, err, w)
			}
		}
	}
	for _, ok := range []string{"kbins_discretizer: {n_bins: 1048576}", "min_max_scaler: {feature_range: [0, 1e308]}"} {
		text := "version: 1\ncolumns:\n  - name: delay\n    steps:\n      - " + ok + "\n"
		if _, err := Parse(strings.NewReader(text), "s.yaml"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// A spec not read by the parser (an artifact's, a program's) is held to
// the same bounds by CheckFitParams, which fit runs, but not by Validate,
// which the artifact readers run: an artifact fitted before the bounds
// stays readable.
func TestCheckFitParamsSpec(t *testing.T) {
	var sp Spec
	doc := `{"version":1,"remainder":"drop","columns":[{"names":["a"],"type":"numeric","steps":[{"standard_scaler":{}}]},` +
		`{"names":["b"],"type":"numeric","steps":[{"kbins_discretizer":{"n_bins":2000000,"encode":"ordinal"}}]}]}`
	if err := json.Unmarshal([]byte(doc), &sp); err != nil {
		t.Fatal(err)
	}
	if err := sp.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	err := sp.CheckFitParams()
	var se *Error
	if !errors.As(err, &se) || se.Field != "columns[1].steps[0].kbins_discretizer.n_bins" || !strings.Contains(err.Error(), "got 2000000") {
		t.Errorf("CheckFitParams: %v", err)
	}
}
