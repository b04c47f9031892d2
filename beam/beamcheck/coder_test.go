package beamcheck

import (
	"math"
	"testing"

	"github.com/normguard/normguard/validate"
)

// TestPartCoderKeepsSignedZeros pins that a Part survives its coder with
// -0, +0 and NaN minima and maxima bit for bit (gob alone drops -0).
func TestPartCoderKeepsSignedZeros(t *testing.T) {
	neg := math.Copysign(0, -1)
	p := Part{Rows: 3, Ranges: 1, Val: []validate.SummaryAcc{
		{Sum: validate.Summary{Name: "x", Min: neg, Max: 0}, Added: true},
		{Sum: validate.Summary{Name: "y", Min: math.NaN(), Max: math.Inf(1)}},
	}, Drift: [][]byte{nil, {1, 2}}}
	b, err := encodePart(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePart(b)
	if err != nil {
		t.Fatal(err)
	}
	for j, want := range [][2]float64{{neg, 0}, {math.NaN(), math.Inf(1)}} {
		for k, g := range []float64{got.Val[j].Sum.Min, got.Val[j].Sum.Max} {
			if math.Float64bits(g) != math.Float64bits(want[k]) && !(g != g && want[k] != want[k]) {
				t.Errorf("column %d: got %v (bits %x), want %v", j, g, math.Float64bits(g), want[k])
			}
		}
	}
	if got.Rows != 3 || !got.Val[0].Added || string(got.Drift[1]) != "\x01\x02" {
		t.Errorf("got %+v", got)
	}
}
