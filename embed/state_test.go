package embed

import (
	"encoding/json"
	"errors"
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
