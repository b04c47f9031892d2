package embed

import (
	"math"
	"testing"
	"time"
)

// The reference values come from testdata/reference.py (numpy, scipy,
// scikit-learn); see testdata/README.md.

const refTol = 1e-9

func TestMMDMatchesNumpy(t *testing.T) {
	g := glove(t)
	ref := loadReference(t)
	for _, c := range ref.MMD {
		t.Run(c.Name, func(t *testing.T) {
			x := rows(g, c.Ref[0], c.Ref[1], c.Ref[2])
			y := rows(g, c.Cur[0], c.Cur[1], c.Cur[2])
			mmd, h := MMD2(x, y, 0)
			if !near(h, c.H, refTol) {
				t.Errorf("median heuristic h = %.17g, want %.17g", h, c.H)
			}
			if math.Abs(mmd-c.MMD2) > refTol {
				t.Errorf("MMD² = %.17g, want %.17g", mmd, c.MMD2)
			}
			res, err := Drift(x, y, DriftOptions{SampleSize: 1000, Permutations: 50})
			if err != nil {
				t.Fatal(err)
			}
			if res.RefSize != x.Rows || res.CurSize != y.Rows {
				t.Fatalf("sample sizes %d, %d; want all %d, %d", res.RefSize, res.CurSize, x.Rows, y.Rows)
			}
			for _, v := range []struct {
				name      string
				got, want float64
			}{
				{"MMD2", res.MMD2, c.MMD2},
				{"Bandwidth", res.Bandwidth, c.Bandwidth},
				{"MeanEuclidean", res.MeanEuclidean, c.MeanEuclidean},
				{"MeanCosine", res.MeanCosine, c.MeanCosine},
			} {
				if !near(v.got, v.want, refTol) {
					t.Errorf("%s = %.17g, want %.17g", v.name, v.got, v.want)
				}
			}
			if res.DriftedDims != c.DriftedDims {
				t.Errorf("DriftedDims = %d, want %d", res.DriftedDims, c.DriftedDims)
			}
			for a := 0; a < x.Dim; a++ {
				col := func(m Matrix) []float64 {
					out := make([]float64, m.Rows)
					for i := range out {
						out[i] = m.Data[i*m.Dim+a]
					}
					return out
				}
				if got := wassersteinNormed(col(x), col(y)); !near(got, c.WassersteinNormed[a], refTol) {
					t.Errorf("dimension %d: wasserstein_normed = %.17g, want %.17g", a, got, c.WassersteinNormed[a])
				}
			}
		})
	}
}

func TestDomainClassifierMatchesSklearn(t *testing.T) {
	g := glove(t)
	ref := loadReference(t)
	for _, c := range ref.AUC {
		t.Run(c.Name, func(t *testing.T) {
			x := rows(g, c.Ref[0], c.Ref[1], c.Ref[2])
			y := rows(g, c.Cur[0], c.Cur[1], c.Cur[2])
			var train, test []float64
			var trainPos, testPos []bool
			for _, s := range []struct {
				m   Matrix
				pos bool
			}{{x, false}, {y, true}} {
				for i := 0; i < s.m.Rows; i++ {
					if i%2 == 0 {
						train = append(train, s.m.Row(i)...)
						trainPos = append(trainPos, s.pos)
					} else {
						test = append(test, s.m.Row(i)...)
						testPos = append(testPos, s.pos)
					}
				}
			}
			auc, w, b := domainAUC(train, trainPos, test, testPos, x.Dim)
			if !near(b, c.Intercept, 1e-6) {
				t.Errorf("intercept = %.12g, want %.12g", b, c.Intercept)
			}
			for a := range w {
				if !near(w[a], c.Coef[a], 1e-6) {
					t.Errorf("coef[%d] = %.12g, want %.12g", a, w[a], c.Coef[a])
				}
			}
			if math.Abs(auc-c.AUC) > refTol {
				t.Errorf("AUC = %.17g, want %.17g (roc_auc_score of scikit-learn's classifier)", auc, c.AUC)
			}
			if got := rocAUC(c.Scores, testPos); math.Abs(got-c.AUC) > refTol {
				t.Errorf("rocAUC(scikit-learn's scores) = %.17g, want %.17g", got, c.AUC)
			}
		})
	}
}

func TestProfileMatchesNumpy(t *testing.T) {
	g := glove(t)
	ref := loadReference(t).Profile
	c, err := Fit(g, FitOptions{Dtype: DtypeFloat32})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Profile
	for a := range p.Mean {
		if !near(p.Mean[a], ref.Mean[a], refTol) || !near(p.Std[a], ref.Std[a], refTol) {
			t.Errorf("dimension %d: mean, std = %.17g, %.17g; want %.17g, %.17g", a, p.Mean[a], p.Std[a], ref.Mean[a], ref.Std[a])
		}
	}
	for i, q := range p.Norms.Quantiles {
		if !near(q, ref.NormQuantiles[i], 1e-12) {
			t.Errorf("norm quantile %g = %.17g, want %.17g", NormQuantileProbs[i], q, ref.NormQuantiles[i])
		}
	}
	if !near(p.Norms.Mean, ref.NormMean, refTol) || !near(p.Norms.Std, ref.NormStd, refTol) {
		t.Errorf("norm mean, std = %v, %v; want %v, %v", p.Norms.Mean, p.Norms.Std, ref.NormMean, ref.NormStd)
	}
	if !near(p.TotalVariance, ref.TotalVariance, refTol) {
		t.Errorf("total variance = %.17g, want %.17g", p.TotalVariance, ref.TotalVariance)
	}
	// The share is measured on other rows than the directions were found
	// on, so it moves with the directions' own accuracy (subspace
	// iteration stops when the Ritz values settle to 1e-12, which leaves
	// the vectors accurate to about 1e-6): compare within 1e-6.
	if !near(p.ComponentShare, ref.ComponentShare, 1e-6) {
		t.Errorf("component share on the held-out rows = %.17g, want %.17g", p.ComponentShare, ref.ComponentShare)
	}
	if len(p.Components) != len(ref.Variances) {
		t.Fatalf("%d components, want %d", len(p.Components), len(ref.Variances))
	}
	for i, cp := range p.Components {
		if !near(cp.Variance, ref.Variances[i], 1e-9) {
			t.Errorf("component %d: variance = %.17g, want %.17g", i, cp.Variance, ref.Variances[i])
		}
		// Directions are compared where the eigenvalue gap to both
		// neighbours is at least 5%; inside a near-degenerate pair only
		// the subspace is defined.
		gap := math.Inf(1)
		if i > 0 {
			gap = math.Min(gap, ref.Variances[i-1]-ref.Variances[i])
		}
		if i+1 < len(ref.Variances) {
			gap = math.Min(gap, ref.Variances[i]-ref.Variances[i+1])
		}
		if gap < 0.05*ref.Variances[i] {
			continue
		}
		if c := dot(cp.Direction, ref.Directions[i]); c < 1-1e-8 {
			t.Errorf("component %d: cosine with numpy's eigenvector = %.12g, want 1", i, c)
		}
	}
	if c.UnitLength {
		t.Errorf("GloVe vectors (norms %.3g..%.3g) inferred unit length", p.Norms.Min, p.Norms.Max)
	}
}

// TestCheckerNormsMatchNumpy: a Checker's norm distribution (exact
// count, mean, extremes; quantiles read from the histogram) against
// numpy's on the same 2,000 vectors.
func TestCheckerNormsMatchNumpy(t *testing.T) {
	g := glove(t)
	ref := loadReference(t).Profile
	c, err := Fit(g, FitOptions{Dtype: DtypeFloat32})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := NewChecker(c, 100, CheckOptions{})
	for i := 0; i < g.Rows; i += 300 {
		if err := k.Add(rows(g, i, min(i+300, g.Rows), 1)); err != nil {
			t.Fatal(err)
		}
	}
	s := k.Norms()
	if s.Count != 2000 || !near(s.Mean, ref.NormMean, 1e-12) || !near(s.Std, ref.NormStd, 1e-9) {
		t.Errorf("count %d mean %v std %v, want 2000, %v, %v", s.Count, s.Mean, s.Std, ref.NormMean, ref.NormStd)
	}
	last := len(ref.NormQuantiles) - 1
	if !near(s.Min, ref.NormQuantiles[0], 1e-12) || !near(s.Max, ref.NormQuantiles[last], 1e-12) {
		t.Errorf("min %v max %v, want %v, %v", s.Min, s.Max, ref.NormQuantiles[0], ref.NormQuantiles[last])
	}
	for i, q := range s.Quantiles {
		if want := ref.NormQuantiles[i]; math.Abs(q-want) > 0.075*want {
			t.Errorf("quantile %g = %v, want %v within a bin's 7.5%%", NormQuantileProbs[i], q, want)
		}
	}
}

// TestROCAUCNaNScores: a NaN score (vectors near the float64 limit
// overflow the standardization) made the tie loop spin forever, and
// `normguard drift` with it (attack run 7); the AUC is NaN instead.
func TestROCAUCNaNScores(t *testing.T) {
	done := make(chan float64, 1)
	go func() { done <- rocAUC([]float64{0.1, math.NaN(), 0.3, math.NaN()}, []bool{true, false, true, false}) }()
	select {
	case got := <-done:
		if !math.IsNaN(got) {
			t.Errorf("rocAUC with NaN scores = %v, want NaN", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("rocAUC with NaN scores did not return within 10 s")
	}
	if got := rocAUC([]float64{0.1, 0.2, 0.3, 0.4}, []bool{false, false, true, true}); got != 1 {
		t.Errorf("rocAUC of separated scores = %v, want 1", got)
	}
}
