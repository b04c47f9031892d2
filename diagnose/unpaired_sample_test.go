package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// sampleSpec imputes x (its missing values marked by an indicator) and
// min-max scales both outputs, and robust-scales the counts k.
const sampleSpec = `{"version": 1, "remainder": "drop", "columns": [
	{"names": ["x"], "type": "numeric", "steps": [{"simple_imputer": {"strategy": "median", "add_indicator": true}}, {"min_max_scaler": {}}]},
	{"name": "k", "steps": [{"robust_scaler": {}}]}]}`

// countWeights are the shares of the counts 0, 1, 2 and 3 in drawCounts;
// the rest spreads evenly over 4..30, each of those under the quantile
// grid's spacing of half a percent (so that some fall between its
// points). The quartiles are 1, 1 and 2, each at least 5% of the rows
// away from the next count.
var countWeights = []float64{0.15, 0.40, 0.30, 0.08}

// shiftedWeights are another population's shares of 0..3: quartiles 1,
// 2 and 3.
var shiftedWeights = []float64{0.05, 0.25, 0.30, 0.30}

// drawCount draws one count: 0..len(w)-1 with the shares w, else one of
// 4..30 evenly.
func drawCount(r *rand.Rand, w []float64) float64 {
	u := r.Float64()
	for k, p := range w {
		if u < p {
			return float64(k)
		}
		u -= p
	}
	return float64(4 + r.IntN(27))
}

// sampleWorld is the training data of sampleSpec: x normal(50, 10) with
// 28% of its values missing (its indicator's ones), k drawn by
// countWeights.
type sampleWorld struct {
	x, k []float64
}

func newSampleWorld(seed uint64, n int) *sampleWorld {
	r := rand.New(rand.NewPCG(seed, 11))
	w := &sampleWorld{}
	for range n {
		x := 50 + 10*r.NormFloat64()
		if r.Float64() < 0.28 {
			x = math.NaN()
		}
		w.x = append(w.x, x)
		w.k = append(w.k, drawCount(r, countWeights))
	}
	return w
}

func (w *sampleWorld) csv() string {
	var b strings.Builder
	b.WriteString("x,k\n")
	for i := range w.x {
		x := "NA"
		if !math.IsNaN(w.x[i]) {
			x = strconv.FormatFloat(w.x[i], 'g', -1, 64)
		}
		fmt.Fprintf(&b, "%s,%v\n", x, w.k[i])
	}
	return b.String()
}

// fitSample fits sampleSpec on w and returns the artifact with its output
// on w's own rows.
func fitSample(t *testing.T, w *sampleWorld) (*artifact.Artifact, []table.Column) {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(sampleSpec), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader(w.csv()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]table.Column{
		"x": {Name: "x", Kind: table.Numeric, Num: w.x},
		"k": {Name: "k", Kind: table.Numeric, Num: w.k},
	}
	in := &table.Batch{Rows: len(w.x)}
	for _, f := range a.Inputs {
		in.Cols = append(in.Cols, cols[f.Name])
	}
	out := tr.NewOutput()
	if err := tr.Batch(in, out, "train"); err != nil {
		t.Fatal(err)
	}
	res := make([]table.Column, len(out.Cols))
	for j, c := range out.Cols {
		res[j] = table.Column{Name: a.Outputs[j].Name, Kind: c.Kind, Num: c.Num[:in.Rows]}
	}
	return a, res
}

// pickRows returns the rows idx of every column, in that order.
func pickRows(cols []table.Column, idx []int) []table.Column {
	out := make([]table.Column, len(cols))
	for j, c := range cols {
		out[j] = table.Column{Name: c.Name, Kind: c.Kind, Num: make([]float64, len(idx))}
		for i, r := range idx {
			out[j].Num[i] = c.Num[r]
		}
	}
	return out
}

// TestUnpairedSampleOwnOutput: random samples and shuffles of the
// artifact's own output are ok, batched by 500 rows (attack run 32
// finding 7). Each batch of the indicator (28% ones, min-max scaled:
// still 0 and 1) then has median 0 and, holding 25% ones or more,
// interquartile range 1; each batch of the robust-scaled counts has the
// training output's quartiles, the counts minus 1: median 0 and
// interquartile range 1. Neither is fitted per batch.
func TestUnpairedSampleOwnOutput(t *testing.T) {
	w := newSampleWorld(1, 10000)
	a, own := fitSample(t, w)
	if len(a.Outputs) != 3 {
		t.Fatalf("got outputs %v, want x, its indicator and k", a.Outputs)
	}
	n := len(w.x)
	for seed := uint64(1); seed <= 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		perm := r.Perm(n)
		for name, idx := range map[string][]int{"sample": perm[:3*n/10], "shuffle": perm} {
			t.Run(fmt.Sprintf("%s%d", name, seed), func(t *testing.T) {
				rep, err := Unpaired(a, pickRows(own, idx), UnpairedOptions{BatchSize: 500})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Features) != len(a.Outputs) {
					t.Fatalf("got %d verdicts, want %d", len(rep.Features), len(a.Outputs))
				}
				for _, v := range rep.Features {
					if v.Verdict != OK {
						t.Errorf("%s: got %s (%s; %v), want ok", v.Name, v.Verdict, v.Explanation, v.Evidence)
					}
				}
			})
		}
	}
}

// TestUnpairedSampleRobustPerBatch: counts robust-scaled batch by batch
// are still per_batch_statistics when the batches differ, every other
// one drawn from a population with quartiles 1, 2 and 3 (so scaled by
// its median 2 and interquartile range 2, to halves the training output
// does not take).
func TestUnpairedSampleRobustPerBatch(t *testing.T) {
	const b, batches = 500, 12
	a, _ := fitSample(t, newSampleWorld(1, 10000))
	r := rand.New(rand.NewPCG(2, 5))
	var k []float64
	for i := range batches {
		raw := make([]float64, b)
		wts := countWeights
		if i%2 == 1 {
			wts = shiftedWeights
		}
		for j := range raw {
			raw[j] = drawCount(r, wts)
		}
		med, iqr := percentile(raw, 0.5), percentile(raw, 0.75)-percentile(raw, 0.25)
		for _, x := range raw {
			k = append(k, (x-med)/iqr)
		}
	}
	// x and its indicator as the artifact gives them: a constant input.
	obs := []table.Column{
		{Name: "x", Kind: table.Numeric, Num: make([]float64, len(k))},
		{Name: "missingindicator_x", Kind: table.Numeric, Num: make([]float64, len(k))},
		{Name: "k", Kind: table.Numeric, Num: k},
	}
	rep, err := Unpaired(a, obs, UnpairedOptions{BatchSize: b})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Features {
		if v.Name == "k" && (v.Verdict != PerBatchStatistics || v.Evidence["batch_size"] != b) {
			t.Errorf("k: got %s, batch_size %v (%s; %v), want %s, %d", v.Verdict, v.Evidence["batch_size"], v.Explanation, v.Evidence, PerBatchStatistics, b)
		}
	}
}
