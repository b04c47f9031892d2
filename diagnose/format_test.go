package diagnose

import (
	"math"
	"testing"
)

func TestFmtNum(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{3.09104, "3.091"},
		{5.41872, "5.419"},
		{-3.2, "-3.2"},
		{12345.678, "12346"},
		{0.162037, "0.162"},
		{0.0123456, "0.01235"},
		{0.0001234, "1.234e-04"},
		{2.5e9, "2.500e+09"},
		{0, "0"},
		{-0.00001, "-1.000e-05"},
		{1, "1"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Inf"},
	} {
		if got := fmtNum(c.x); got != c.want {
			t.Errorf("fmtNum(%v): got %q, want %q", c.x, got, c.want)
		}
	}
}

func TestAffineText(t *testing.T) {
	for _, c := range []struct {
		center, scale float64
		want          string
	}{
		{3.09104, 5.41872, "(x - 3.091) / 5.419"},
		{-3.2, 5.4, "(x + 3.2) / 5.4"},
		{0, 2, "x / 2"},
		{1, -2, "(x - 1) / (-2)"},
	} {
		if got := affineText("x", c.center, c.scale); got != c.want {
			t.Errorf("affineText(x, %v, %v): got %q, want %q", c.center, c.scale, got, c.want)
		}
	}
}
