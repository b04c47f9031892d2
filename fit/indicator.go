package fit

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// indicatorOutputs profiles the outputs of an indicator step (one-hot
// encoders and binners: step.Indicators) from how many rows hold 1 in
// each, without materializing rows × outputs values: a one-hot encoding
// of 200,000 categories on 300,000 rows would take 480 GB. It returns
// the outputs as columns without values, and their profiles, the bits
// profile.Column gives for the dense columns (TestIndicatorProfile).
func indicatorOutputs(f step.Indicators, in []table.Column, rows int) ([]table.Column, []*profile.Feature, error) {
	ones, first, err := f.CountOnes(in, rows)
	if err != nil {
		return nil, nil, err
	}
	fields := f.Outputs()
	if len(fields) != len(ones) {
		return nil, nil, fmt.Errorf("%d outputs, but %d counts of ones", len(fields), len(ones))
	}
	out := table.NewColumns(fields)
	profs := make([]*profile.Feature, len(out))
	for i := range out {
		p := indicatorProfile(out[i].Name, int64(rows), ones[i], first[i])
		profs[i] = &p
	}
	return out, profs, nil
}

// indicatorProfile is the profile (profile.Column) of a numeric column of
// rows values, each 0 or 1, ones of them 1, row 0 among them when first.
// profile.NumericFeature takes the moments about the first value x0:
// numpy-order sums of x - x0 and of its squares, every term -1, 0 or 1,
// so every partial sum is an integer below 2^53 and exact in any order:
//
//	x0 = 0: S = Q = ones;  x0 = 1: S = -(rows - ones), Q = rows - ones
//
// and mean = x0 + S/n, std = sqrt(max((Q - S*S/n)/n, 0)), as there.
func indicatorProfile(name string, rows, ones int64, first bool) profile.Feature {
	x0, sum, sq := 0.0, float64(ones), float64(ones)
	if first {
		x0, sum, sq = 1, -float64(rows-ones), float64(rows-ones)
	}
	n := float64(rows)
	v := (sq - sum*sum/n) / n
	lo, hi := 0.0, 1.0
	if ones == rows {
		lo = 1
	}
	if ones == 0 {
		hi = 0
	}
	vals, counts := step.Floats{0, 1}, []int64{rows - ones, ones}
	switch ones {
	case 0:
		vals, counts = step.Floats{0}, []int64{rows}
	case rows:
		vals, counts = step.Floats{1}, []int64{rows}
	}
	return profile.Feature{Name: name, Type: "numeric", Count: rows,
		Mean: fl(x0 + sum/n), Std: fl(math.Sqrt(math.Max(v, 0))), Min: fl(lo), Max: fl(hi),
		Values: &profile.Counts{Numbers: vals, Counts: counts, Distinct: int64(len(vals))}}
}

func fl(x float64) *step.Float {
	v := step.Float(x)
	return &v
}
