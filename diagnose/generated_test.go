package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// The generated scenarios fit real artifacts (median imputer, then a
// robust, min-max or quantile scaler) on generated data with random
// column names, plant one bug per column in varied columns, seeds and
// batch sizes, and check every column's verdict.
//
// The observed values are built from the artifact's own steps (fitted,
// refitted on blocks, applied twice, ...): the tests check the diagnosis,
// while the steps' parity with scikit-learn is tested in step/.

// scalerKind is a scaler under test and the other scaler production may
// use by mistake (its center and scale computed from the training data).
type scalerKind struct {
	name, step string
	other      string
	otherParam func(train []float64) (center, scale float64)
	// affine: the scaler is an affine map (unpaired double_normalized and
	// wrong_parameters apply).
	affine bool
}

var scalerKinds = []scalerKind{
	{"robust_scaler", `{"robust_scaler": {}}`, "standard", func(x []float64) (float64, float64) { return moments(x) }, true},
	{"min_max_scaler", `{"min_max_scaler": {}}`, "robust", func(x []float64) (float64, float64) {
		return percentile(x, 0.5), percentile(x, 0.75) - percentile(x, 0.25)
	}, true},
	{"quantile_transformer", `{"quantile_transformer": {"n_quantiles": 200}}`, "min_max", func(x []float64) (float64, float64) {
		lo, hi := minMax(x)
		return lo, hi - lo
	}, false},
}

// percentile is numpy.percentile's default (linear interpolation between
// order statistics) at probability p.
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}

// genColumn draws n values of column j's distribution, shifted by
// shift and scaled by stretch (1, 0 for the training distribution).
func genColumn(r *rand.Rand, j, n int, stretch, shift float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		var x float64
		switch j % 4 {
		case 0:
			x = 50 + 10*r.NormFloat64()
		case 1:
			x = 100 * math.Exp(0.5*r.NormFloat64())
		case 2:
			x = 200 + 200*r.Float64()
		default:
			x = 1000 + 30*r.ExpFloat64()
		}
		out[i] = x*stretch + shift
	}
	return out
}

// genWorld is a fitted numeric pipeline over four randomly named columns.
type genWorld struct {
	kind  scalerKind
	names []string
	train [][]float64
	a     *artifact.Artifact
}

func fitColumns(t *testing.T, kind scalerKind, names []string, data [][]float64) *artifact.Artifact {
	t.Helper()
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	sp, err := spec.Parse(strings.NewReader(fmt.Sprintf(`{"version": 1, "columns": [{"names": [%s], "type": "numeric",
 "steps": [{"simple_imputer": {"strategy": "median"}}, %s]}]}`, strings.Join(quoted, ", "), kind.step)), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(names, ",") + "\n")
	for i := range data[0] {
		for j := range names {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(data[j][i], 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	rd, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, rd, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Encode(a); err != nil {
		t.Fatal(err)
	}
	return a
}

func newGenWorld(t *testing.T, kind scalerKind, seed uint64) *genWorld {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 23))
	w := &genWorld{kind: kind}
	for j := range 4 {
		w.names = append(w.names, "x"+randLabel(r))
		w.train = append(w.train, genColumn(r, j, 1500, 1, 0))
	}
	w.a = fitColumns(t, kind, w.names, w.train)
	return w
}

// steps returns the fitted imputer and scaler.
func (w *genWorld) steps() (imputer, scaler step.FittedStep) {
	g := w.a.Groups[0]
	return g.Steps[0], g.Steps[1]
}

// apply runs a fitted step on one column as column j of the group.
func (w *genWorld) apply(t *testing.T, f step.Fitted, j int, xs []float64) []float64 {
	t.Helper()
	in := make([]table.Column, len(w.names))
	for k := range in {
		in[k] = table.Column{Name: w.names[k], Kind: table.Numeric, Num: xs}
	}
	out, err := transform.ApplyStep(f, in, len(xs), 1)
	if err != nil {
		t.Fatal(err)
	}
	return out[j].Num[:len(xs)]
}

// outputs is the artifact's transform of raw (one slice per column).
func outputs(t *testing.T, a *artifact.Artifact, names []string, raw [][]float64) [][]float64 {
	t.Helper()
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	out := tr.NewOutput()
	if err := tr.Batch(&table.Batch{Cols: numCols(names, raw), Rows: len(raw[0])}, out, "raw"); err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(names))
	for j := range names {
		res[j] = out.Cols[j].Num[:len(raw[0])]
	}
	return res
}

// genBug plants a bug in column j. ctx carries what the planters share.
type genBug struct {
	name, verdict string
	plant         func(t *testing.T, g *genCase, j int) []float64
	check         func(t *testing.T, g *genCase, j int, v Verdict)
}

type genCase struct {
	w        *genWorld
	raw      [][]float64 // with missing values
	pre, exp [][]float64 // imputed raw; the artifact's output
	block    int         // per-batch block size
	stale    *artifact.Artifact
	staleOut [][]float64
	other    [][]float64 // a same-kind artifact's outputs, fitted on other data, not passed as a candidate
	partner  map[int]int // columns_swapped pairs
}

var pairedGenBugs = []genBug{
	{"ok", OK, func(_ *testing.T, g *genCase, j int) []float64 { return g.exp[j] }, nil},
	{"raw", NotNormalized, func(_ *testing.T, g *genCase, j int) []float64 { return g.pre[j] }, nil},
	{"twice", DoubleNormalized, func(t *testing.T, g *genCase, j int) []float64 {
		_, s := g.w.steps()
		return g.w.apply(t, s.Fitted, j, g.exp[j])
	}, nil},
	{"refit per batch", PerBatchStatistics, func(t *testing.T, g *genCase, j int) []float64 {
		_, s := g.w.steps()
		out := make([]float64, 0, len(g.pre[j]))
		for lo := 0; lo < len(g.pre[j]); lo += g.block {
			blk := g.pre[j][lo:min(lo+g.block, len(g.pre[j]))]
			f, err := s.Params.Fit(&step.FitContext{}, []table.Column{{Name: g.w.names[j], Kind: table.Numeric, Num: blk}})
			if err != nil {
				t.Fatal(err)
			}
			y, err := transform.ApplyStep(f, []table.Column{{Name: g.w.names[j], Kind: table.Numeric, Num: blk}}, len(blk), 1)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, y[0].Num[:len(blk)]...)
		}
		return out
	}, func(t *testing.T, g *genCase, j int, v Verdict) {
		t.Helper()
		if v.Evidence["block_size"] != g.block {
			t.Errorf("%s block_size: got %v, want %d", v.Name, v.Evidence["block_size"], g.block)
		}
	}},
	{"standardized per batch", PerBatchStatistics, func(_ *testing.T, g *genCase, j int) []float64 {
		out := make([]float64, 0, len(g.pre[j]))
		for lo := 0; lo < len(g.pre[j]); lo += g.block {
			blk := g.pre[j][lo:min(lo+g.block, len(g.pre[j]))]
			m, s := moments(blk)
			for _, x := range blk {
				out = append(out, (x-m)/s)
			}
		}
		return out
	}, nil},
	{"stale", StaleParameters, func(_ *testing.T, g *genCase, j int) []float64 { return g.staleOut[j] },
		func(t *testing.T, g *genCase, _ int, v Verdict) {
			t.Helper()
			if v.Evidence["digest"] != g.stale.Digest {
				t.Errorf("%s digest: got %v, want %s", v.Name, v.Evidence["digest"], g.stale.Digest)
			}
		}},
	{"other parameters", WrongParameters, func(_ *testing.T, g *genCase, j int) []float64 {
		if !g.w.kind.affine {
			return g.other[j] // the same transform fitted on other data
		}
		out := make([]float64, len(g.pre[j]))
		for i, x := range g.pre[j] {
			out[i] = (x - 7) / 3.5
		}
		return out
	}, func(t *testing.T, g *genCase, _ int, v Verdict) {
		t.Helper()
		if g.w.kind.affine {
			if c, s := v.Evidence["center"].(float64), v.Evidence["scale"].(float64); math.Abs(c-7) > 1e-6 || math.Abs(s-3.5) > 1e-9 {
				t.Errorf("%s center, scale: got %v, %v, want 7, 3.5", v.Name, c, s)
			}
		}
	}},
	{"other scaler", WrongTransform, func(_ *testing.T, g *genCase, j int) []float64 {
		c, s := g.w.kind.otherParam(g.w.train[j])
		out := make([]float64, len(g.pre[j]))
		for i, x := range g.pre[j] {
			out[i] = (x - c) / s
		}
		return out
	}, func(t *testing.T, g *genCase, _ int, v Verdict) {
		t.Helper()
		if v.Evidence["transform"] != g.w.kind.other {
			t.Errorf("%s transform: got %v, want %s", v.Name, v.Evidence["transform"], g.w.kind.other)
		}
	}},
	{"zero filled before scaling", ImputeOrder, func(t *testing.T, g *genCase, j int) []float64 {
		_, s := g.w.steps()
		filled := slices.Clone(g.raw[j])
		for i, x := range filled {
			if math.IsNaN(x) {
				filled[i] = 0
			}
		}
		return g.w.apply(t, s.Fitted, j, filled)
	}, nil},
	{"swapped", ColumnsSwapped, func(_ *testing.T, g *genCase, j int) []float64 { return g.exp[g.partner[j]] },
		func(t *testing.T, g *genCase, j int, v Verdict) {
			t.Helper()
			if want := g.w.names[g.partner[j]]; v.Evidence["partner"] != want {
				t.Errorf("%s partner: got %v, want %s", v.Name, v.Evidence["partner"], want)
			}
		}},
}

// newGenCase draws n production rows (with missing: about 6% missing per
// column, one of the first rows of each column missing) and what the bugs
// need.
func newGenCase(t *testing.T, w *genWorld, seed uint64, n, block int, missing bool) *genCase {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	g := &genCase{w: w, block: block, partner: map[int]int{}}
	imp, _ := w.steps()
	for j := range w.names {
		x := genColumn(r, j, n, 1, 0)
		for i := range x {
			if missing && (i == 3*j || r.IntN(16) == 0) {
				x[i] = math.NaN()
			}
		}
		g.raw = append(g.raw, x)
		g.pre = append(g.pre, w.apply(t, imp.Fitted, j, x))
	}
	g.exp = outputs(t, w.a, w.names, g.raw)
	var staleTrain, otherTrain [][]float64
	for j := range w.names {
		staleTrain = append(staleTrain, genColumn(r, j, 800, 1.2, 5))
		otherTrain = append(otherTrain, genColumn(r, j, 300, 1, 0))
	}
	g.stale = fitColumns(t, w.kind, w.names, staleTrain)
	g.staleOut = outputs(t, g.stale, w.names, g.raw)
	g.other = outputs(t, fitColumns(t, w.kind, w.names, otherTrain), w.names, g.raw)
	return g
}

// TestPairedGenerated runs every bug in every column of robust, min-max
// and quantile pipelines, over several seeds, sample sizes (50 rows
// included) and batch sizes.
func TestPairedGenerated(t *testing.T) {
	sizes := []struct{ n, block int }{{50, 10}, {50, 25}, {400, 64}, {1000, 40}}
	for _, kind := range scalerKinds {
		for seed := uint64(0); seed < 8; seed++ {
			w := newGenWorld(t, kind, seed)
			size := sizes[int(seed)%len(sizes)]
			t.Run(fmt.Sprintf("%s/seed%d/rows%d", kind.name, seed, size.n), func(t *testing.T) {
				g := newGenCase(t, w, seed, size.n, size.block, true)
				for shift := 0; shift < len(pairedGenBugs); shift += 2 {
					// Columns 0..3 get bugs shift+seed+j; a swapped column
					// is paired with the next one, which gets the swap too.
					want := make([]int, len(w.names))
					for j := range want {
						want[j] = (shift + int(seed) + j) % len(pairedGenBugs)
					}
					g.partner = map[int]int{}
					for j := 0; j < len(want); j++ {
						if pairedGenBugs[want[j]].verdict == ColumnsSwapped {
							k := (j + 1) % len(want)
							want[k] = want[j]
							g.partner[j], g.partner[k] = k, j
							break
						}
					}
					obs := make([][]float64, len(w.names))
					for j, b := range want {
						obs[j] = pairedGenBugs[b].plant(t, g, j)
					}
					rep, err := Paired(w.a, numCols(w.names, g.raw), numCols(w.names, obs), []Candidate{{Artifact: g.stale}})
					if err != nil {
						t.Fatal(err)
					}
					for j, v := range rep.Features {
						bug := pairedGenBugs[want[j]]
						if v.Verdict != bug.verdict {
							t.Errorf("shift %d: %s with bug %q: got %s (%s; %v), want %s", shift, v.Name, bug.name, v.Verdict, v.Explanation, v.Evidence, bug.verdict)
							continue
						}
						if bug.check != nil {
							bug.check(t, g, j, v)
						}
					}
				}
			})
		}
	}
}

// unpairedGenBugs are the bugs unpaired mode can tell from the values and
// the training profile alone; affineOnly bugs need an affine scaler and
// sized ones a known batch size unless searchable.
var unpairedGenBugs = []struct {
	name, verdict string
	affineOnly    bool
	// searchable: the batch size can be found without being given.
	searchable bool
	plant      func(t *testing.T, g *genCase, j int) []float64
}{
	{"ok", OK, false, true, pairedGenBugs[0].plant},
	{"raw", NotNormalized, false, true, pairedGenBugs[1].plant},
	{"twice", DoubleNormalized, true, true, pairedGenBugs[2].plant},
	{"refit per batch", PerBatchStatistics, false, false, pairedGenBugs[3].plant},
	{"standardized per batch", PerBatchStatistics, false, true, pairedGenBugs[4].plant},
	{"other parameters", WrongParameters, true, true, func(_ *testing.T, g *genCase, j int) []float64 {
		// 20% wider and half a spread off: the fitted map of a scaler
		// fitted on other data.
		out := make([]float64, len(g.exp[j]))
		for i, y := range g.exp[j] {
			out[i] = (y - 0.5) / 1.2
		}
		return out
	}},
	{"many missing, imputed right", Drift, false, true, func(t *testing.T, g *genCase, j int) []float64 {
		// A third of the inputs missing (none in training), imputed and
		// scaled by the artifact: the values that are there are right.
		imp, s := g.w.steps()
		xs := slices.Clone(g.raw[j])
		for i := 0; i < len(xs); i += 3 {
			xs[i] = math.NaN()
		}
		return g.w.apply(t, s.Fitted, j, g.w.apply(t, imp.Fitted, j, xs))
	}},
	{"drift", Drift, false, true, func(t *testing.T, g *genCase, j int) []float64 {
		// The correct transform of inputs whose halves moved apart by two
		// spreads around the median: no affine map closes that gap.
		med := percentile(g.w.train[j], 0.5)
		iqr := percentile(g.w.train[j], 0.75) - percentile(g.w.train[j], 0.25)
		moved := make([]float64, len(g.pre[j]))
		for i, x := range g.pre[j] {
			moved[i] = x + math.Copysign(1.5*iqr, x-med)
		}
		_, s := g.w.steps()
		return g.w.apply(t, s.Fitted, j, moved)
	}},
}

// TestUnpairedGenerated plants the unpaired bugs in robust, min-max and
// quantile pipelines (2,000 rows from the training distribution), with
// the batch size given, keyed, and, where the bug allows, searched.
func TestUnpairedGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("distribution tests on 2,000 rows, 9 pipelines")
	}
	const rows = 2000
	for _, kind := range scalerKinds {
		for seed := uint64(0); seed < 3; seed++ {
			block := []int{128, 100, 50}[seed]
			w := newGenWorld(t, kind, seed+100)
			g := newGenCase(t, w, seed+100, rows, block, false)
			keys := make([]string, rows)
			for i := range keys {
				keys[i] = "batch" + strconv.Itoa(i/block)
			}
			for _, on := range []string{"size", "keyed", "searched"} {
				if on == "keyed" && seed > 0 {
					continue // the same batches as "size", grouped by key
				}
				opt := map[string]UnpairedOptions{"size": {BatchSize: block}, "keyed": {BatchColumn: keys}, "searched": {}}[on]
				t.Run(fmt.Sprintf("%s/seed%d/%s", kind.name, seed, on), func(t *testing.T) {
					t.Parallel() // g and w are only read
					var bugs []int
					for b, bug := range unpairedGenBugs {
						if (!bug.affineOnly || kind.affine) && (on != "searched" || bug.searchable) {
							bugs = append(bugs, b)
						}
					}
					for shift := range bugs {
						want := make([]int, len(w.names))
						obs := make([][]float64, len(w.names))
						for j := range want {
							want[j] = bugs[(shift+j+int(seed))%len(bugs)]
							obs[j] = unpairedGenBugs[want[j]].plant(t, g, j)
						}
						rep, err := Unpaired(w.a, numCols(w.names, obs), opt)
						if err != nil {
							t.Fatal(err)
						}
						for j, v := range rep.Features {
							bug := unpairedGenBugs[want[j]]
							if v.Verdict != bug.verdict {
								t.Errorf("%s with bug %q: got %s (%s; %v), want %s", v.Name, bug.name, v.Verdict, v.Explanation, v.Evidence, bug.verdict)
							}
							if v.Verdict == PerBatchStatistics && on != "searched" && v.Evidence["batch_size"] != block {
								t.Errorf("%s batch_size: got %v, want %d", v.Name, v.Evidence["batch_size"], block)
							}
						}
					}
				})
			}
		}
	}
}

// TestGeneratedCleanNoFalseAlarm checks, over 100 seeds, that correct
// robust, min-max and quantile pipelines (one column integer-valued, so
// that its extremes repeat in every block) and correct one-hot and
// ordinal encodings are never flagged: paired on 50 rows with missing
// values, unpaired on 2,000 fresh rows from the training distribution.
func TestGeneratedCleanNoFalseAlarm(t *testing.T) {
	if testing.Short() {
		t.Skip("100 seeds")
	}
	for seed := uint64(0); seed < 100; seed++ {
		kind := scalerKinds[seed%uint64(len(scalerKinds))]
		r := rand.New(rand.NewPCG(seed, 41))
		names := []string{"x" + randLabel(r), "x" + randLabel(r), "x" + randLabel(r)}
		draw := func(n int, missing bool) [][]float64 {
			cols := [][]float64{genColumn(r, int(seed), n, 1, 0), genColumn(r, int(seed)+1, n, 1, 0), make([]float64, n)}
			for i := range n {
				cols[2][i] = float64(r.IntN(7)) // integer-valued
				if missing && i%9 == int(seed)%9 {
					cols[i%3][i] = math.NaN()
				}
			}
			return cols
		}
		a := fitColumns(t, kind, names, draw(3000, false))
		raw := draw(50, true)
		paired, err := Paired(a, numCols(names, raw), numCols(names, outputs(t, a, names, raw)), nil)
		if err != nil {
			t.Fatal(err)
		}
		fresh := draw(2000, false)
		unpaired, err := Unpaired(a, numCols(names, outputs(t, a, names, fresh)), UnpairedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := newCatWorld(t, seed)
		prod := w.sample(r, 2000)
		var catRaw, catObs []table.Column
		for i, col := range w.columns() {
			bugs := oneHotBugs
			if i >= len(w.oneHot) {
				bugs = ordinalBugs
			}
			o, _ := bugs[0].plant(r, w, col, prod[col], make([]bool, len(prod[col])))
			for k, v := range o {
				catObs = append(catObs, table.Column{Name: k, Kind: table.Numeric, Num: v})
			}
			catRaw = append(catRaw, table.Column{Name: col, Kind: table.String, Str: prod[col]})
		}
		catPaired, err := Paired(w.a, catRaw, catObs, nil)
		if err != nil {
			t.Fatal(err)
		}
		catUnpaired, err := Unpaired(w.a, catObs, UnpairedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for mode, rep := range map[string]*Report{"paired": paired, "unpaired": unpaired, "categorical paired": catPaired, "categorical unpaired": catUnpaired} {
			for _, v := range rep.Features {
				if v.Verdict != OK {
					t.Errorf("seed %d %s %s: %s: got %s (%s; %v), want ok", seed, kind.name, mode, v.Name, v.Verdict, v.Explanation, v.Evidence)
				}
			}
		}
	}
}
