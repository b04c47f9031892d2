package stats

import (
	"math"
	"testing"
)

func TestInterp(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name   string
		x      float64
		xp, fp []float64
		want   float64
	}{
		// numpy.interp(x, [0, 1, 1, 2, 4], [0, 10, 20, 30, 50])
		{"left of range", -1, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 0},
		{"first point", 0, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 0},
		{"inside", 0.5, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 5},
		{"tie takes last", 1, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 20},
		{"after tie", 1.5, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 25},
		{"on a point", 2, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 30},
		{"slope 10", 3, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 40},
		{"last point", 4, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 50},
		{"right of range", 5, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, 50},
		{"nan", nan, []float64{0, 1, 1, 2, 4}, []float64{0, 10, 20, 30, 50}, nan},
		// numpy.interp(x, [0, 1, inf], [0, 1, 2])
		{"finite segment", 0.5, []float64{0, 1, inf}, []float64{0, 1, 2}, 0.5},
		{"infinite segment", 2, []float64{0, 1, inf}, []float64{0, 1, 2}, 1},
		{"at +inf", inf, []float64{0, 1, inf}, []float64{0, 1, 2}, 2},
		// numpy.interp(x, [-inf, 0], [5, 5]): NaN fallbacks
		{"fallback", -1, []float64{-inf, 0}, []float64{5, 5}, 5},
		{"at -inf", -inf, []float64{-inf, 0}, []float64{5, 5}, 5},
		// numpy.interp(x, [1], [7]) is 7 for every x, NaN included
		{"single point nan", nan, []float64{1}, []float64{7}, 7},
		{"single point left", 0, []float64{1}, []float64{7}, 7},
		{"empty", 1, nil, nil, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Interp(tt.x, tt.xp, tt.fp); !sameBits(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
