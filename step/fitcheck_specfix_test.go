package step

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Attack run 8 F7: n_bins 1e9 made fit allocate an 8 GB edge list
// (fatal error: out of memory). A fit refuses n_bins past MaxBins before
// anything is allocated; Validate (the readers' rule) still accepts it.
func TestCheckFitParamsNBins(t *testing.T) {
	for _, n := range []int{2, 5, MaxBins} {
		p := &KBinsDiscretizerParams{NBins: n, Encode: "onehot", Strategy: "uniform", Subsample: "warn"}
		if err := CheckFitParams(p); err != nil {
			t.Errorf("n_bins %d: %v", n, err)
		}
	}
	for _, n := range []int{MaxBins + 1, 2_000_000, 1_000_000_000, math.MaxInt} {
		p := &KBinsDiscretizerParams{NBins: n, Encode: "ordinal", Strategy: "quantile", Subsample: "warn"}
		err := CheckFitParams(p)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "n_bins" || pe.Value != n || !strings.Contains(pe.Msg, "1048576") {
			t.Errorf("n_bins %d: got %v, want a ParamError on n_bins naming the bound 1048576", n, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("n_bins %d: Validate refuses it (%v); only a fit should", n, err)
		}
	}
}

func TestGridEntries(t *testing.T) {
	kb := &KBinsDiscretizerParams{NBins: 5}
	qt := &QuantileTransformerParams{NQuantiles: 1000}
	for _, c := range []struct {
		p          Params
		nIn, rows  int
		want       int
		whatParams string
	}{
		{kb, 3, 10, 18, "kbins: 3 columns x 6 edges, whatever the rows"},
		{&KBinsDiscretizerParams{NBins: math.MaxInt - 1}, 3, 10, math.MaxInt, "saturates"},
		{qt, 2, 50, 150, "quantiles: min(1000, 50) per column and references"},
		{qt, 2, 5000, 3000, "quantiles: 1000 per column and references"},
		{&QuantileTransformerParams{NQuantiles: 2_000_000_000}, 1, 32214, 2 * 32214, "clamped to rows"},
		{&StandardScalerParams{}, 1000, 1 << 30, 0, "per-column arrays only"},
	} {
		if got := GridEntries(c.p, c.nIn, c.rows); got != c.want {
			t.Errorf("%s: GridEntries = %d, want %d", c.whatParams, got, c.want)
		}
	}
}
