package embed

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// constRows returns n rows of dim values, row i holding f(i) everywhere.
func constRows(n, dim int, f func(i int) float64) Matrix {
	m := Matrix{Rows: n, Dim: dim}
	for i := range n {
		for range dim {
			m.Data = append(m.Data, f(i))
		}
	}
	return m
}

// TestMaxSquaredNorm: the bound keeps the largest squared distance of two
// vectors within it finite, and is the largest that does (up to rounding).
func TestMaxSquaredNorm(t *testing.T) {
	r := math.Sqrt(MaxSquaredNorm)
	if d := (r + r) * (r + r); math.IsInf(d, 0) {
		t.Errorf("(2·√MaxSquaredNorm)² = %v, want finite", d)
	}
	if d := (2 * r * 1.0000001) * (2 * r * 1.0000001); !math.IsInf(d, 0) {
		t.Errorf("just past the bound the squared distance %v stays finite; the bound is not the largest", d)
	}
}

// TestDriftTooLarge: finite vectors whose squared norms or sums pass the
// float64 range are refused with "values too large to compare" (ErrInvalid),
// as NaN values are, instead of a drift verdict on a NaN MMD² (two rows of
// 1.7e308 gave MMD² NaN, p = 1/201 and drift true).
func TestDriftTooLarge(t *testing.T) {
	ref := glove(t)
	ref = rows(ref, 0, 200, 1)
	cases := []struct {
		name string
		cur  Matrix
		want string
	}{
		{"1.7e308", constRows(2, ref.Dim, func(int) float64 { return 1.7e308 }), "current row 0: values too large to compare: ‖x‖² overflows float64 (largest |value| 1.7e+308)"},
		// ‖x‖² = 100·(1e160)² overflows though every value is far from the limit.
		{"1e160", constRows(5, ref.Dim, func(int) float64 { return 1e160 }), "current row 0: values too large to compare"},
	}
	for _, c := range cases {
		_, err := Drift(ref, c.cur, DriftOptions{})
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrInvalid containing %q", c.name, err, c.want)
		}
	}
	// ‖x‖² = (6e153)² = 3.6e307 is within the bound, but the reference
	// dimension's variance over 40 rows, Σ(v − mean)², passes the range.
	wide := constRows(40, 1, func(i int) float64 { return float64(1-2*(i%2)) * 6e153 })
	small := constRows(40, 1, func(i int) float64 { return float64(i % 3) })
	if _, err := Drift(wide, small, DriftOptions{}); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "values too large to compare: a statistic overflowed float64") {
		t.Errorf("±6e153: got %v, want a statistic overflowed", err)
	}
	// The contract's sample as the reference: the same refusal.
	con, err := Fit(ref, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DriftFromContract(con, cases[0].cur, DriftOptions{}); err == nil || !strings.Contains(err.Error(), "values too large to compare") {
		t.Errorf("from the contract: got %v, want values too large to compare", err)
	}
	// NaN is still named as before, with its row and dimension.
	nan := constRows(3, ref.Dim, func(int) float64 { return 1 })
	nan.Data[2*ref.Dim+7] = math.NaN()
	if _, err := Drift(ref, nan, DriftOptions{}); err == nil || !strings.Contains(err.Error(), "current row 2, dimension 7: value NaN") {
		t.Errorf("NaN: got %v", err)
	}
}

// TestWassersteinOverflow: a spread past the float64 range is NaN (no
// verdict), not 0 (W₁/+Inf, which counted the dimension as not drifted).
func TestWassersteinOverflow(t *testing.T) {
	a := []float64{-1e308, 1e308, -1e308, 1e308}
	b := []float64{0, 0, 0, 1}
	if w := wassersteinNormed(a, b); !math.IsNaN(w) {
		t.Errorf("got %v, want NaN", w)
	}
	if n, ok := driftedDims(Matrix{Rows: 4, Dim: 1, Data: []float64{-1e308, 1e308, -1e308, 1e308}}, Matrix{Rows: 4, Dim: 1, Data: b}, 0.1); ok {
		t.Errorf("driftedDims: %d, ok; want not ok", n)
	}
}

// TestDomainAUCOverflow: a standardization by a standard deviation past
// the float64 range gives no AUC (it silently dropped the dimension).
func TestDomainAUCOverflow(t *testing.T) {
	train := []float64{-1e308, 1e308, -1e308, 1e308}
	pos := []bool{false, true, false, true}
	if auc, w, _ := domainAUC(train, pos, train, pos, 1); !math.IsNaN(auc) || w != nil {
		t.Errorf("got AUC %v, w %v; want NaN and none", auc, w)
	}
}

// TestFitTooLarge: fitting refuses vectors too large to compare, and
// statistics that overflowed float64, with an error that says so (the
// contract's own check failed on them and asked for a bug report).
func TestFitTooLarge(t *testing.T) {
	big := constRows(3, 4, func(int) float64 { return 1.7e308 })
	if _, err := Fit(big, FitOptions{}); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "row 0: values too large to compare") {
		t.Errorf("1.7e308: got %v", err)
	}
	// ‖x‖² = 4·(3e153)² = 3.6e307 is within the bound; the norms' spread
	// and the dimensions' variance over 40 rows are not.
	spread := constRows(40, 4, func(i int) float64 { return float64(i%2) * 3e153 })
	if _, err := Fit(spread, FitOptions{}); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "values too large to compare: a statistic of the vectors") {
		t.Errorf("spread: got %v", err)
	}
}
