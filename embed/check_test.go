package embed

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
)

// scenario fits a contract on fit (with opt) and checks cur against it.
type scenario struct {
	name string
	fit  func(g Matrix) (Matrix, FitOptions)
	cur  func(g Matrix) Matrix
	want []string
}

// halves splits the 2,000 GloVe vectors at random (seed 7) into a fit half and a check half.
func halves(g Matrix) (Matrix, Matrix) { return split(g, 7, 1000, 1000) }

func rawFit(g Matrix) (Matrix, FitOptions) {
	a, _ := halves(g)
	return a, FitOptions{Dtype: DtypeFloat32, Model: "glove-100d"}
}

func unitFit(metric string) func(g Matrix) (Matrix, FitOptions) {
	return func(g Matrix) (Matrix, FitOptions) {
		a, _ := halves(g)
		return mapRows(a, unitRow), FitOptions{Dtype: DtypeFloat32, Metric: metric}
	}
}

func rawCur(g Matrix) Matrix  { _, b := halves(g); return b }
func unitCur(g Matrix) Matrix { return mapRows(rawCur(g), unitRow) }

func TestCheckScenarios(t *testing.T) {
	q := rotation(100, 3)
	cases := []scenario{
		{"raw clean", rawFit, rawCur, nil},
		{"unit clean", unitFit(MetricCosine), unitCur, nil},
		{"unit contract, raw vectors", unitFit(MetricCosine), rawCur, []string{CodeNotNormalized}},
		{"dot store, raw vectors", unitFit(MetricDot), rawCur, []string{CodeNotNormalized, CodeMetricMismatch}},
		{"raw contract, unit vectors", rawFit, unitCur, []string{CodeNormalizedUnexpectedly}},
		{"unit contract, mixed store", unitFit(MetricCosine), func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(i int, r []float64) []float64 {
				if i%3 == 0 {
					return r
				}
				return unitRow(i, r)
			})
		}, []string{CodeMixedNormalization}},
		{"raw contract, mixed store", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(i int, r []float64) []float64 {
				if i%10 == 0 {
					return unitRow(i, r)
				}
				return r
			})
		}, []string{CodeMixedNormalization}},
		{"raw contract, l1-normalized vectors", rawFit, func(g Matrix) Matrix { return mapRows(rawCur(g), l1Row) }, []string{CodeNotNormalized}},
		{"raw contract, a fifth l1-normalized", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(i int, r []float64) []float64 {
				if i%5 == 0 {
					return l1Row(i, r)
				}
				return r
			})
		}, []string{CodeMixedNormalization}},
		{"raw contract, vectors scaled by 10", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(_ int, r []float64) []float64 {
				for i := range r {
					r[i] *= 10
				}
				return r
			})
		}, []string{CodeNotNormalized}},
		{"raw contract, rotated copy", rawFit, func(g Matrix) Matrix { return rotate(rawCur(g), q) }, []string{CodeModelSwapped}},
		{"unit contract, rotated copy", unitFit(MetricCosine), func(g Matrix) Matrix { return rotate(unitCur(g), q) }, []string{CodeModelSwapped}},
		{"unit contract, truncated to 64", unitFit(MetricCosine), func(g Matrix) Matrix {
			return mapRows(unitCur(g), func(_ int, r []float64) []float64 { return r[:64] })
		}, []string{CodeDimensionMismatch, CodeTruncatedNotRenormalized}},
		{"unit contract, truncated to 64 and renormalized", unitFit(MetricCosine), func(g Matrix) Matrix {
			return mapRows(unitCur(g), func(i int, r []float64) []float64 { return unitRow(i, r[:64]) })
		}, []string{CodeDimensionMismatch}},
		{"raw contract, truncated to 64", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(_ int, r []float64) []float64 { return r[:64] })
		}, []string{CodeDimensionMismatch}},
		{"dimension change to 101", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(_ int, r []float64) []float64 { return append(r, 0.5) })
		}, []string{CodeDimensionMismatch}},
		{"float16 storage", unitFit(MetricCosine), func(g Matrix) Matrix {
			return mapRows(unitCur(g), func(_ int, r []float64) []float64 {
				for i := range r {
					r[i] = roundTo(r[i], 11)
				}
				return r
			})
		}, []string{CodePrecisionLoss}},
		{"bfloat16 storage", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(_ int, r []float64) []float64 {
				for i := range r {
					r[i] = roundTo(r[i], 8)
				}
				return r
			})
		}, []string{CodePrecisionLoss}},
		{"NaN vectors", rawFit, func(g Matrix) Matrix {
			return mapRows(rawCur(g), func(i int, r []float64) []float64 {
				if i == 17 || i == 400 {
					r[5] = math.NaN()
				}
				if i == 900 {
					r[0] = math.Inf(-1)
				}
				return r
			})
		}, []string{CodeNaNVectors}},
		{"zero vectors", unitFit(MetricCosine), func(g Matrix) Matrix {
			return mapRows(unitCur(g), func(i int, r []float64) []float64 {
				if i%100 == 3 {
					clear(r)
				}
				return r
			})
		}, []string{CodeZeroVectors}},
	}
	g := glove(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fm, opt := c.fit(g)
			con, err := Fit(fm, opt)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := Check(con, c.cur(g), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := codes(fs); !slices.Equal(got, c.want) {
				t.Errorf("findings %v, want %v", got, c.want)
				for _, f := range fs {
					t.Logf("%s: %s", f.Code, f.Message)
				}
			}
			for _, f := range fs {
				if f.Message == "" || f.Fix == "" || len(f.Evidence) == 0 {
					t.Errorf("%s: message %q, fix %q, evidence %v: want all three", f.Code, f.Message, f.Fix, f.Evidence)
				}
				if _, err := json.Marshal(f); err != nil {
					t.Errorf("%s: evidence does not encode as JSON: %v", f.Code, err)
				}
			}
		})
	}
}

// l1Row divides a row by the sum of its absolute values (scikit-learn's
// Normalizer(norm="l1")).
func l1Row(_ int, r []float64) []float64 {
	var s float64
	for _, v := range r {
		s += math.Abs(v)
	}
	for i := range r {
		r[i] /= s
	}
	return r
}

func TestCheckFindingDetails(t *testing.T) {
	g := glove(t)
	fm, opt := unitFit(MetricCosine)(g)
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	// NaN rows are named.
	cur := mapRows(unitCur(g), func(i int, r []float64) []float64 {
		if i == 17 || i == 400 {
			r[5] = math.NaN()
		}
		return r
	})
	fs, err := Check(con, cur, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || !reflect.DeepEqual(fs[0].Evidence["rows"], []int{17, 400}) || fs[0].Evidence["count"] != 2 {
		t.Errorf("NaN finding %+v, want rows [17 400], count 2", fs)
	}
	// The truncation finding names the energy the first 64 dimensions hold.
	trunc := mapRows(unitCur(g), func(_ int, r []float64) []float64 { return r[:64] })
	fs, err = Check(con, trunc, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := fs[1].Evidence
	if got, want := e["mean_squared_norm"].(float64), e["expected_squared_norm"].(float64); math.Abs(got-want) > 0.05*want || want > 0.8 || want < 0.5 {
		t.Errorf("truncation: mean squared norm %v, expected %v; want them within 5%% and near 0.65", got, want)
	}
}

// TestCheckCleanSplits: vectors from the same population as the contract
// get no finding, over many seeds, sizes and both contract kinds.
func TestCheckCleanSplits(t *testing.T) {
	g := glove(t)
	u := mapRows(g, unitRow)
	for seed := uint64(0); seed < 20; seed++ {
		for _, size := range []int{50, 300, 1000} {
			for _, kind := range []struct {
				name string
				m    Matrix
				opt  FitOptions
			}{
				{"raw", g, FitOptions{Dtype: DtypeFloat32, Seed: seed}},
				{"unit", u, FitOptions{Dtype: DtypeFloat32, Metric: MetricDot, Seed: seed}},
			} {
				a, b := split(kind.m, seed+100, 1000, size)
				con, err := Fit(a, kind.opt)
				if err != nil {
					t.Fatal(err)
				}
				fs, err := Check(con, b, CheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(fs) > 0 {
					t.Errorf("%s, seed %d, %d vectors: false alarm %v: %s", kind.name, seed, size, codes(fs), fs[0].Message)
				}
			}
		}
	}
}

// TestCheckNaturalShift: frequent words against rare ones moved
// (drift), but it is not another model.
func TestCheckNaturalShift(t *testing.T) {
	g := glove(t)
	con, err := Fit(rows(g, 0, 500, 1), FitOptions{Dtype: DtypeFloat32})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Check(con, rows(g, 1500, 2000, 1), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) > 0 {
		t.Errorf("frequent vs rare words: findings %v (%s), want none", codes(fs), fs[0].Message)
	}
}

func TestCheckCanaries(t *testing.T) {
	g := glove(t)
	fm, opt := rawFit(g)
	var canaries, same, swapped []Canary
	q := rotation(100, 9)
	for i, w := range []string{"the", "water", "music"} {
		v := append([]float64(nil), g.Row(i*37)...)
		canaries = append(canaries, Canary{ID: w, Vector: v})
		r := make([]float64, len(v))
		for j := range r {
			r[j] = roundTo(v[j], 11) // float16 re-embedding of the same model
		}
		same = append(same, Canary{ID: w, Vector: r})
		rot := make([]float64, len(v))
		for j := range rot {
			rot[j] = dot(q[j*100:(j+1)*100], v)
		}
		swapped = append(swapped, Canary{ID: w, Vector: rot})
	}
	opt.Canaries = canaries
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	cur := rawCur(g)
	if fs, err := Check(con, cur, CheckOptions{Canaries: same}); err != nil || len(fs) > 0 {
		t.Errorf("same model's canaries: findings %v, err %v; want none", codes(fs), err)
	}
	fs, err := Check(con, cur, CheckOptions{Canaries: swapped})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(codes(fs), []string{CodeModelSwapped}) {
		t.Fatalf("swapped canaries: findings %v, want [model_swapped]", codes(fs))
	}
	if n := len(fs[0].Evidence["canaries"].([]map[string]any)); n != 3 {
		t.Errorf("%d canaries reported, want 3", n)
	}
	if _, err := Check(con, cur, CheckOptions{Canaries: []Canary{{ID: "unknown", Vector: canaries[0].Vector}}}); err == nil {
		t.Error("unknown canary id: no error")
	}
}

// TestCanaryExtremeScale: canaries of tiny values (squares underflow to 0)
// and a re-embedding scaled to 1e300 (squares overflow) still match
// themselves: the cosine does not depend on a vector's scale (attack run
// 15 finding 12 reported model_swapped, "lowest cosine 1", for the very
// same canaries).
func TestCanaryExtremeScale(t *testing.T) {
	g := glove(t)
	fm, opt := rawFit(g)
	tiny := make([]float64, 100)
	for j, x := range g.Row(3) {
		tiny[j] = x * 1e-170
	}
	opt.Canaries = []Canary{{ID: "tiny", Vector: tiny}, {ID: "plain", Vector: slices.Clone(g.Row(5))}}
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	huge := make([]float64, 100)
	for j, x := range g.Row(5) {
		huge[j] = x * 1e300 / 8
	}
	cur := rawCur(g)
	fs, err := Check(con, cur, CheckOptions{Canaries: []Canary{{ID: "tiny", Vector: tiny}, {ID: "plain", Vector: huge}}})
	if err != nil || len(fs) > 0 {
		t.Errorf("the same canaries, one scaled to 1e300: findings %v, err %v; want none", codes(fs), err)
	}
	// the cosine of a vector with itself, scaled or not, is 1 to rounding
	for _, v := range [][]float64{tiny, huge, g.Row(7)} {
		if c := cosine(v, v); math.Abs(c-1) > 1e-15 {
			t.Errorf("cosine of a vector with itself = %v, want 1", c)
		}
	}
}

// TestCheckerStreaming: the findings and norms do not depend on how the
// rows arrive (one batch, batches of 1 and 7, merged checkers).
func TestCheckerStreaming(t *testing.T) {
	g := glove(t)
	fm, opt := unitFit(MetricDot)(g)
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	cur := mapRows(rawCur(g), func(i int, r []float64) []float64 {
		if i%4 == 0 {
			return unitRow(i, r)
		}
		if i == 5 || i == 601 {
			r[1] = math.NaN()
		}
		return r
	})
	whole, err := Check(con, cur, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(whole); !slices.Equal(got, []string{CodeNaNVectors, CodeMixedNormalization, CodeMetricMismatch}) {
		t.Fatalf("findings %v, want nan_vectors, mixed_normalization, metric_mismatch", got)
	}
	for _, batch := range []int{1, 7, 333} {
		k, _ := NewChecker(con, 100, CheckOptions{})
		other, _ := NewChecker(con, 100, CheckOptions{})
		for i := 0; i < cur.Rows; i += batch {
			part := rows(cur, i, min(i+batch, cur.Rows), 1)
			target := k
			if i >= cur.Rows/2 {
				target = other
			}
			if err := target.Add(part); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.Merge(other); err != nil {
			t.Fatal(err)
		}
		fs, err := k.Findings()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(codes(fs), codes(whole)) || !reflect.DeepEqual(fs[0].Evidence["rows"], whole[0].Evidence["rows"]) {
			t.Errorf("batches of %d: findings %v rows %v, want %v rows %v", batch, codes(fs), fs[0].Evidence["rows"], codes(whole), whole[0].Evidence["rows"])
		}
		if k.Rows() != cur.Rows || k.Norms().Count != 998 {
			t.Errorf("batches of %d: %d rows, %d norms; want %d, 998", batch, k.Rows(), k.Norms().Count, cur.Rows)
		}
	}
}

// TestCheckerParallelAdd: a batch large enough to be split over cores
// gives the same findings and counts as rows added one by one.
func TestCheckerParallelAdd(t *testing.T) {
	g := glove(t)
	con, err := Fit(rows(g, 0, 1000, 1), FitOptions{Dtype: DtypeFloat32})
	if err != nil {
		t.Fatal(err)
	}
	var big Matrix
	big.Dim = 100
	for i := 0; i < 5; i++ { // 10,000 rows, 2 zero vectors
		big.Data = append(big.Data, g.Data...)
		big.Rows += g.Rows
	}
	clear(big.Row(5000))
	clear(big.Row(9999))
	one, _ := NewChecker(con, 100, CheckOptions{})
	for i := 0; i < big.Rows; i++ {
		_ = one.Add(rows(big, i, i+1, 1))
	}
	par, _ := NewChecker(con, 100, CheckOptions{})
	if err := par.Add(big); err != nil {
		t.Fatal(err)
	}
	a, _ := one.Findings()
	b, _ := par.Findings()
	if !reflect.DeepEqual(codes(a), codes(b)) || !reflect.DeepEqual(a[0].Evidence["rows"], []int{5000, 9999}) || !reflect.DeepEqual(b[0].Evidence["rows"], []int{5000, 9999}) {
		t.Errorf("row by row %v %v, parallel %v %v; want zero_vectors at rows [5000 9999]", codes(a), a[0].Evidence["rows"], codes(b), b[0].Evidence["rows"])
	}
	na, nb := one.Norms(), par.Norms()
	if na.Count != nb.Count || !reflect.DeepEqual(na.Histogram, nb.Histogram) || !near(na.Mean, nb.Mean, 1e-12) {
		t.Errorf("norms differ: %+v vs %+v", na, nb)
	}
}

func TestCheckErrors(t *testing.T) {
	g := glove(t)
	con, err := Fit(rows(g, 0, 100, 1), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(con, Matrix{Rows: 2, Dim: 3, Data: make([]float64, 5)}, CheckOptions{}); err == nil {
		t.Error("malformed matrix: no error")
	}
	if _, err := Check(nil, rows(g, 0, 2, 1), CheckOptions{}); err == nil {
		t.Error("nil contract: no error")
	}
	if _, err := Check(nil, Matrix{}, CheckOptions{}); err == nil {
		t.Error("nil contract, empty matrix: no error")
	}
	k, _ := NewChecker(con, 100, CheckOptions{})
	if err := k.Add(rows(mapRows(g, func(_ int, r []float64) []float64 { return r[:50] }), 0, 2, 1)); err == nil {
		t.Error("batch of another dimension: no error")
	}
	fs, err := Check(con, Matrix{Dim: 100}, CheckOptions{})
	if err != nil || len(fs) != 0 {
		t.Errorf("empty batch: %v, %v; want no finding", fs, err)
	}
}

// TestCheckSmallFits: contracts fitted on few vectors (whose principal
// directions overfit their sample) raise no false alarm on fresh vectors
// of the same population, and still see a rotated copy from 100 fitted
// vectors on.
func TestCheckSmallFits(t *testing.T) {
	g := glove(t)
	for _, nf := range []int{20, 50, 100, 101, 150, 300} {
		for seed := uint64(0); seed < 10; seed++ {
			for _, nc := range []int{50, 200, 1000} {
				a, b := split(g, seed, nf, nc)
				c, err := Fit(a, FitOptions{Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				fs, err := Check(c, b, CheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(fs) > 0 {
					t.Errorf("fit on %d, seed %d, %d checked: false alarm %v: %s", nf, seed, nc, codes(fs), fs[0].Message)
				}
			}
		}
	}
	q := rotation(100, 3)
	for _, nf := range []int{100, 200} {
		for _, nc := range []int{50, 200} {
			a, b := split(g, 5, nf, nc)
			c, err := Fit(a, FitOptions{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			fs, err := Check(c, rotate(b, q), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(codes(fs), []string{CodeModelSwapped}) {
				t.Errorf("fit on %d, %d rotated vectors checked: findings %v, want [model_swapped]", nf, nc, codes(fs))
			}
		}
	}
}
