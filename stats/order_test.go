package stats

import (
	"math"
	"slices"
	"testing"
)

func TestSortedFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	xs := []float64{3, nan, -1, inf, 2, nan, -inf}
	got := SortedFinite(xs)
	want := []float64{-inf, -1, 2, 3, inf}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !math.IsNaN(xs[1]) || xs[0] != 3 {
		t.Errorf("input modified: got %v", xs)
	}
	if got := SortedFinite([]float64{nan}); len(got) != 0 {
		t.Errorf("all NaN: got %v, want []", got)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		sorted []float64
		want   float64 // numpy.median(sorted)
	}{
		{"empty", nil, math.NaN()},
		{"one", []float64{4}, 4},
		{"odd", []float64{1, 2, 9}, 2},
		{"even", []float64{1, 2}, 1.5},
		{"even rounding", []float64{0.1, 0.7}, 0.39999999999999997},
		{"overflow as numpy", []float64{1e308, 1e308}, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Median(tt.sorted); !sameBits(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
