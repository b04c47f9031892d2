package embed

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

// TestCheckerStateRoundTrip: two windows stored as JSON, restored and
// merged give the findings and norms of one checker fed both.
func TestCheckerStateRoundTrip(t *testing.T) {
	g := glove(t)
	fm, opt := unitFit(MetricDot)(g)
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	cur := mapRows(rawCur(g), func(i int, r []float64) []float64 {
		if i%3 == 0 {
			return unitRow(i, r)
		}
		if i == 10 {
			clear(r)
		}
		return r
	})
	first, second := rows(cur, 0, 400, 1), rows(cur, 400, 1000, 1)
	whole, _ := NewChecker(con, 100, CheckOptions{})
	_ = whole.Add(cur)
	var restored []*Checker
	for _, part := range []Matrix{first, second} {
		k, _ := NewChecker(con, 100, CheckOptions{})
		_ = k.Add(part)
		b, err := json.Marshal(k.State())
		if err != nil {
			t.Fatal(err)
		}
		var s CheckerState
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		// each window restored against its own decoding of the contract,
		// as two processes would
		cb, _ := json.Marshal(con)
		var own Contract
		if err := json.Unmarshal(cb, &own); err != nil {
			t.Fatal(err)
		}
		r, err := RestoreChecker(&own, s, CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		restored = append(restored, r)
	}
	if err := restored[0].Merge(restored[1]); err != nil {
		t.Fatal(err)
	}
	a, _ := whole.Findings()
	b, _ := restored[0].Findings()
	if !reflect.DeepEqual(codes(a), codes(b)) || len(a) != 3 {
		t.Errorf("restored and merged: %v, want %v (zero_vectors, mixed_normalization, metric_mismatch)", codes(b), codes(a))
	}
	if na, nb := whole.Norms(), restored[0].Norms(); na.Count != nb.Count || !reflect.DeepEqual(na.Histogram, nb.Histogram) || !near(na.Mean, nb.Mean, 1e-12) {
		t.Errorf("norms %+v, want %+v", nb, na)
	}
	// An empty checker's state (no norms: min and max are not infinite in JSON).
	empty, _ := NewChecker(con, 100, CheckOptions{})
	if _, err := json.Marshal(empty.State()); err != nil {
		t.Errorf("empty state does not encode: %v", err)
	}
	// A state that does not fit the contract.
	s := restored[1].State()
	s.Hist = s.Hist[:3]
	if _, err := RestoreChecker(con, s, CheckOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("short histogram: err %v, want ErrInvalid", err)
	}
	s = restored[1].State()
	s.Rows++
	if _, err := RestoreChecker(con, s, CheckOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("rows not adding up: err %v, want ErrInvalid", err)
	}
}

// TestCheckerStateOfHugeVectors: a checker fed vectors of finite values
// whose sums pass the float64 range (infinite and NaN sums, infinite
// norms) restores to the same state, bit for bit, as a live checker
// holds it; states no checker can hold (a negative or NaN sum of
// squares, norm_min above norm_max) are refused.
func TestCheckerStateOfHugeVectors(t *testing.T) {
	g := glove(t)
	fm, opt := unitFit(MetricDot)(g)
	con, err := Fit(fm, opt)
	if err != nil {
		t.Fatal(err)
	}
	cur := mapRows(rows(rawCur(g), 0, 40, 1), func(i int, r []float64) []float64 {
		for j := range r {
			switch {
			case i%4 == 0:
				r[j] *= 1e300 // squares overflow: infinite norms and sums of squares
			case i%4 == 1 && i < 20:
				r[j] = 1e308 // sums overflow to +Inf in the first window
			case i%4 == 1:
				r[j] = -1e308 // and to -Inf in the second
			}
		}
		return r
	})
	// Sums of finite values only grow to infinity; NaN comes from merging
	// windows whose sums went to opposite infinities.
	k, _ := NewChecker(con, 100, CheckOptions{})
	other, _ := NewChecker(con, 100, CheckOptions{})
	if err := k.Add(rows(cur, 0, 20, 1)); err != nil {
		t.Fatal(err)
	}
	if err := other.Add(rows(cur, 20, 40, 1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Merge(other); err != nil {
		t.Fatal(err)
	}
	s := k.State()
	nonFinite := func(xs []float64) (inf, nan bool) {
		for _, x := range xs {
			inf, nan = inf || math.IsInf(x, 0), nan || math.IsNaN(x)
		}
		return
	}
	_, sumNaN := nonFinite(s.Sum)
	sqInf, _ := nonFinite(s.SumSq)
	if !sumNaN || !sqInf || !math.IsInf(s.NormMax, 1) {
		t.Fatalf("the vectors did not overflow as meant: sum NaN %v, sum_sq infinite %v, norm_max %v", sumNaN, sqInf, s.NormMax)
	}
	r, err := RestoreChecker(con, s, CheckOptions{})
	if err != nil {
		t.Fatalf("a live checker's state is refused: %v", err)
	}
	if got := r.State(); !sameBits(t, got, s) {
		t.Errorf("restored state differs from the live one:\n%+v\n%+v", got, s)
	}
	for name, edit := range map[string]func(*CheckerState){
		"negative sum of squares": func(s *CheckerState) { s.SumSq[0] = -1 },
		"NaN sum of squares":      func(s *CheckerState) { s.SqSum = s.SqSum - s.SqSum },
		"norm_min above norm_max": func(s *CheckerState) { s.NormMin, s.NormMax = 2, 1 },
	} {
		bad := k.State()
		edit(&bad)
		if _, err := RestoreChecker(con, bad, CheckOptions{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

// sameBits tells whether two states are equal, floats compared by their
// bits (NaN equals NaN).
func sameBits(t *testing.T, a, b CheckerState) bool {
	t.Helper()
	var eq func(x, y reflect.Value) bool
	eq = func(x, y reflect.Value) bool {
		switch x.Kind() {
		case reflect.Float64:
			return math.Float64bits(x.Float()) == math.Float64bits(y.Float())
		case reflect.Slice:
			if x.Len() != y.Len() {
				return false
			}
			for i := 0; i < x.Len(); i++ {
				if !eq(x.Index(i), y.Index(i)) {
					return false
				}
			}
			return true
		case reflect.Struct:
			for i := 0; i < x.NumField(); i++ {
				if !eq(x.Field(i), y.Field(i)) {
					return false
				}
			}
			return true
		}
		return reflect.DeepEqual(x.Interface(), y.Interface())
	}
	return eq(reflect.ValueOf(a), reflect.ValueOf(b))
}
