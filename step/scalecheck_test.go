package step

import (
	"math"
	"strings"
	"testing"
)

// TestScaleAgreesWithItsStatistics: a standard scaler's scale_ must be
// sqrt(var_) (1 for a constant column) and a max-abs scaler's its
// max_abs_ (1 for an all-zero column): an attack run re-digested
// artifacts with scale_ 5e-324 (every output infinite) or twice the
// deviation, which were accepted and applied.
func TestScaleAgreesWithItsStatistics(t *testing.T) {
	ss := func() *StandardScaler {
		return &StandardScaler{WithMean: true, WithStd: true, Mean: Floats{1, 3}, Var: Floats{4, 0},
			Scale: Floats{2, 1}, NSamplesSeen: []int64{10, 10}, Names: []string{"a", "b"}}
	}
	if err := ss().Check(2); err != nil {
		t.Fatalf("a consistent standard scaler: %v", err)
	}
	for name, c := range map[string]struct {
		edit func(*StandardScaler)
		want string
	}{
		"tiny scale":          {func(s *StandardScaler) { s.Scale[1] = 5e-324 }, "scale_[1]: 5e-324 is not sqrt(var_[1]) = 1"},
		"twice the deviation": {func(s *StandardScaler) { s.Scale[0] = 4 }, "scale_[0]: 4 is not sqrt(var_[0]) = 2"},
		"one ulp off":         {func(s *StandardScaler) { s.Scale[0] = math.Nextafter(2, 3) }, "scale_[0]"},
	} {
		s := ss()
		c.edit(s)
		if err := s.Check(2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	ma := func() *MaxAbsScaler {
		return &MaxAbsScaler{NSamplesSeen: 10, MaxAbs: Floats{3, 0}, Scale: Floats{3, 1}, Names: []string{"a", "b"}}
	}
	if err := ma().Check(2); err != nil {
		t.Fatalf("a consistent max-abs scaler: %v", err)
	}
	m := ma()
	m.MaxAbs[0] = 1 // max_abs_ edited, scale_ left
	if err := m.Check(2); err == nil || !strings.Contains(err.Error(), "scale_[0]: 3 is not max_abs_[0] = 1") {
		t.Errorf("max_abs_ edited: got %v", err)
	}
}
