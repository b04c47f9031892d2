package embed

import (
	"errors"
	"math"
	"testing"
)

// TestDriftCleanSplits: two random halves of one population. The MMD
// test's p-value is uniform there, so about Alpha of the seeds alarm;
// with 20 seeds more than 4 alarms would have probability 0.016.
func TestDriftCleanSplits(t *testing.T) {
	g := glove(t)
	alarms := 0
	for seed := uint64(0); seed < 20; seed++ {
		a, b := split(g, seed+300, 1000, 1000)
		r, err := Drift(a, b, DriftOptions{Seed: seed, SampleSize: 400, Permutations: 100})
		if err != nil {
			t.Fatal(err)
		}
		if r.Drift {
			alarms++
		}
		if r.DomainAUC < 0.35 || r.DomainAUC > 0.65 {
			t.Errorf("seed %d: domain AUC %.3f on a clean split, want near 0.5", seed, r.DomainAUC)
		}
		if r.MeanCosine > 0.05 {
			t.Errorf("seed %d: mean cosine distance %.3f on a clean split, want near 0", seed, r.MeanCosine)
		}
	}
	if alarms > 4 {
		t.Errorf("%d of 20 clean splits drifted at alpha 0.05, want at most 4", alarms)
	}
}

func TestDriftDetects(t *testing.T) {
	g := glove(t)
	a, b := split(g, 11, 1000, 1000)
	for _, c := range []struct {
		name string
		ref  Matrix
		cur  Matrix
	}{
		{"frequent vs rare words", rows(g, 0, 600, 1), rows(g, 1400, 2000, 1)},
		{"rotated copy", a, rotate(b, rotation(100, 5))},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Drift(c.ref, c.cur, DriftOptions{Seed: 1, SampleSize: 500, Permutations: 100})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Drift || r.MMDPValue > 1.0/101+1e-12 || r.DomainAUC < 0.8 || r.DriftedDimShare < 0.3 {
				t.Errorf("%+v: want drift, the smallest p-value, AUC ≥ 0.8 and a third of the dimensions drifted", r)
			}
		})
	}
}

func TestDriftDeterministic(t *testing.T) {
	g := glove(t)
	a, b := rows(g, 0, 700, 1), rows(g, 700, 1500, 1)
	opt := DriftOptions{Seed: 42, SampleSize: 300, Permutations: 60}
	r1, err := Drift(a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Drift(a, b, opt)
	if r1 != r2 {
		t.Errorf("same seed, different results: %+v vs %+v", r1, r2)
	}
	opt.Seed = 43
	r3, _ := Drift(a, b, opt)
	if r3.MMD2 == r1.MMD2 {
		t.Errorf("another seed drew the same samples (MMD² %v)", r3.MMD2)
	}
	if r1.RefSize != 300 || r1.CurSize != 300 || r1.Permutations != 60 || r1.Dimension != 100 {
		t.Errorf("sizes %+v, want 300/300, 60 permutations, dimension 100", r1)
	}
}

func TestDriftFromContract(t *testing.T) {
	g := glove(t)
	con, err := Fit(rows(g, 0, 1000, 1), FitOptions{Dtype: DtypeFloat32, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(con.Profile.Sample) != DefaultSampleSize {
		t.Fatalf("sample of %d vectors, want %d", len(con.Profile.Sample), DefaultSampleSize)
	}
	same, err := DriftFromContract(con, rows(g, 0, 1000, 1), DriftOptions{Permutations: 100})
	if err != nil {
		t.Fatal(err)
	}
	if same.Drift || same.MeanEuclidean > 1e-12 {
		t.Errorf("the fitted vectors against their own contract: %+v, want no drift and equal means", same)
	}
	moved, err := DriftFromContract(con, rows(g, 1400, 2000, 1), DriftOptions{Permutations: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !moved.Drift || moved.RefSize != DefaultSampleSize {
		t.Errorf("rare words against a contract of frequent ones: %+v, want drift on a %d-vector reference", moved, DefaultSampleSize)
	}
	con.Profile.Sample = nil
	if _, err := DriftFromContract(con, rows(g, 0, 10, 1), DriftOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("contract without sample: err %v, want ErrInvalid", err)
	}
}

func TestDriftErrors(t *testing.T) {
	g := glove(t)
	a := rows(g, 0, 10, 1)
	nan := rows(g, 0, 10, 1)
	nan.Data[37] = math.NaN()
	short := mapRows(a, func(_ int, r []float64) []float64 { return r[:50] })
	for _, c := range []struct {
		name     string
		ref, cur Matrix
		opt      DriftOptions
	}{
		{"one vector", rows(g, 0, 1, 1), a, DriftOptions{}},
		{"NaN", a, nan, DriftOptions{}},
		{"dimensions differ", a, short, DriftOptions{}},
		{"negative permutations", a, a, DriftOptions{Permutations: -1}},
		{"alpha 1", a, a, DriftOptions{Alpha: 1}},
		{"sample of 1", a, a, DriftOptions{SampleSize: 1}},
		{"sample too large", a, a, DriftOptions{SampleSize: MaxDriftSampleSize + 1}},
		{"malformed", Matrix{Rows: 3, Dim: 2, Data: make([]float64, 5)}, a, DriftOptions{}},
	} {
		if _, err := Drift(c.ref, c.cur, c.opt); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", c.name, err)
		}
	}
}

// TestMMDPermutationShortcut: the one-group pass of mmdTest.stat equals
// the direct sums of the MMD² definition for a shuffled labelling.
func TestMMDPermutationShortcut(t *testing.T) {
	g := glove(t)
	x, y := rows(g, 0, 40, 1), rows(g, 1900, 1930, 1)
	tst, h := buildMMD(x, y, 0)
	z := append(append([]float64(nil), x.Data...), y.Data...)
	ys := []int{1, 2, 5, 8, 13, 21, 34, 35, 36, 40, 41, 43, 47, 50, 51, 52, 53, 55, 58, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 3}
	in := map[int]bool{}
	for _, i := range ys {
		in[i] = true
	}
	sortInts(ys)
	var sxx, syy, sxy float64
	n := 70
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var d2 float64
			for a := 0; a < 100; a++ {
				d := z[i*100+a] - z[j*100+a]
				d2 += d * d
			}
			k := math.Exp(-d2 / h)
			switch {
			case in[i] && in[j]:
				syy += k
			case !in[i] && !in[j]:
				sxx += k
			default:
				sxy += k
			}
		}
	}
	want := 2*sxx/(40*39) + 2*syy/(30*29) - 2*sxy/(40*30)
	if got := tst.stat(ys); math.Abs(got-want) > 1e-12 {
		t.Errorf("stat = %.17g, want %.17g", got, want)
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
