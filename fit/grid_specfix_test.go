package fit

import (
	"context"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// step.MaxBins is artifact.MaxOutputs (step cannot import artifact).
func TestMaxBinsIsMaxOutputs(t *testing.T) {
	if step.MaxBins != artifact.MaxOutputs {
		t.Errorf("step.MaxBins %d, artifact.MaxOutputs %d", step.MaxBins, artifact.MaxOutputs)
	}
	// An entry of a grid takes up to ~42 bytes of the file: the grids'
	// bound leaves room in artifact.MaxSize.
	if step.MaxGridEntries*42 > artifact.MaxSize*3/4 {
		t.Errorf("step.MaxGridEntries %d takes up to %d bytes, near artifact.MaxSize %d", step.MaxGridEntries, step.MaxGridEntries*42, artifact.MaxSize)
	}
}

func fitArtifact(t *testing.T, specText, csv string) (*artifact.Artifact, error) {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "s.yaml")
	if err != nil {
		return nil, err
	}
	r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := FitTransform(context.Background(), sp, r, Options{Source: "d.csv"})
	return a, err
}

// Attack run 8 F7: bin edges took memory in n_bins whatever the data, in
// every group. The grids of one fit are bounded (step.MaxGridEntries),
// and the step that would pass the bound is refused before it is fitted.
func TestFitGridBudget(t *testing.T) {
	defer func(m int) { maxGridEntries = m }(maxGridEntries)
	maxGridEntries = 100
	group := func(c, st string) string {
		return "  - name: " + c + "\n    type: numeric\n    steps:\n      - " + st + "\n"
	}
	csv := "a,b,c\n1,2,3\n4,5,6\n"
	ok := "version: 1\ncolumns:\n" + group("a", "kbins_discretizer: {n_bins: 40, encode: ordinal, strategy: uniform}") +
		group("b", "kbins_discretizer: {n_bins: 58, encode: ordinal, strategy: uniform}")
	if _, err := fitArtifact(t, ok, csv); err != nil {
		t.Fatalf("41 + 59 edges: %v", err)
	}
	over := ok + group("c", "kbins_discretizer: {n_bins: 2, encode: ordinal, strategy: uniform}")
	_, err := fitArtifact(t, over, csv)
	for _, w := range []string{"columns[2].steps[0].kbins_discretizer", "n_bins 2 for 1 columns asks for 3 bin edges", "the steps before it 100", "more than the 100 grid entries"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want it to say %q", err, w)
		}
	}
	// quantile_transformer counts min(n_quantiles, rows) per column and its references.
	qt := "version: 1\ncolumns:\n" + group("a", "kbins_discretizer: {n_bins: 97, encode: ordinal, strategy: uniform}") +
		group("b", "quantile_transformer: {n_quantiles: 1000000, subsample: 1000000}")
	_, err = fitArtifact(t, qt, csv)
	if err == nil || !strings.Contains(err.Error(), "n_quantiles 1000000 (2 on 2 rows) for 1 columns asks for 4") {
		t.Errorf("quantile_transformer past the budget: %v", err)
	}
}
