package step

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:    "quantile_transformer",
		Role:    RoleTransform,
		Accepts: []table.Kind{table.Numeric},
		NewParams: func() Params {
			return &QuantileTransformerParams{NQuantiles: 1000, OutputDistribution: "uniform",
				Subsample: 100000, Copy: true}
		},
		NewFitted: func() Fitted { return &QuantileTransformer{} },
	})
}

// quantileBoundsThreshold is scikit-learn's BOUNDS_THRESHOLD: values within
// it of the training extremes map to the extreme probabilities when the
// output is normal.
const quantileBoundsThreshold = 1e-7

// QuantileTransformerParams configures scikit-learn's QuantileTransformer.
// Copy and ignore_implicit_zeros (which only affects sparse input) are
// accepted and have no effect. random_state is accepted (null or an
// integer) and unused: normguard always fits on every row (see
// QuantileTransformer).
type QuantileTransformerParams struct {
	NQuantiles          int             `json:"n_quantiles"`
	OutputDistribution  string          `json:"output_distribution"`
	IgnoreImplicitZeros bool            `json:"ignore_implicit_zeros"`
	Subsample           int             `json:"subsample"`
	RandomState         json.RawMessage `json:"random_state,omitempty"`
	Copy                bool            `json:"copy"`
}

// Validate implements Params with scikit-learn 1.2's constraints:
// n_quantiles >= 1, subsample >= 1, n_quantiles <= subsample,
// output_distribution "uniform" or "normal", random_state null or an
// integer.
func (p *QuantileTransformerParams) Validate() error {
	const name = "quantile_transformer"
	switch {
	case p.NQuantiles < 1:
		return &ParamError{Step: name, Param: "n_quantiles", Value: p.NQuantiles, Msg: "must be an integer >= 1"}
	case p.Subsample < 1:
		return &ParamError{Step: name, Param: "subsample", Value: p.Subsample, Msg: "must be an integer >= 1"}
	case p.NQuantiles > p.Subsample:
		return &ParamError{Step: name, Param: "n_quantiles", Value: p.NQuantiles,
			Msg: fmt.Sprintf("the number of quantiles cannot be greater than the number of samples used (subsample=%d)", p.Subsample)}
	case p.OutputDistribution != "uniform" && p.OutputDistribution != "normal":
		return &ParamError{Step: name, Param: "output_distribution", Value: p.OutputDistribution,
			Msg: `must be "uniform" or "normal"`}
	}
	if len(p.RandomState) > 0 && string(p.RandomState) != "null" {
		var seed int64
		if err := json.Unmarshal(p.RandomState, &seed); err != nil {
			return &ParamError{Step: name, Param: "random_state", Value: string(p.RandomState),
				Msg: "must be null or an integer"}
		}
	}
	return nil
}

// Fit implements Params: it computes n_quantiles_ = min(n_quantiles, rows)
// quantiles of each column at references_, ignoring NaN (see
// QuantileTransformer).
func (p *QuantileTransformerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("quantile_transformer", cols); err != nil {
		return nil, err
	}
	ps := p.Percentiles(cols[0].Len())
	qs := make([][]float64, len(cols))
	if err := forEachColumn(ctx, len(cols), func(j int) error {
		sorted, err := ctx.sorted(cols[j].Num)
		if err != nil {
			return err
		}
		defer sorted.Close()
		qs[j], err = sorted.Percentiles(ps)
		return err
	}); err != nil {
		return nil, err
	}
	return p.FitQuantiles(names(cols), cols[0].Len(), qs), nil
}

// Percentiles returns the percentiles of each column the transformer
// reads when fitted on rows rows: 100 * references_.
func (p *QuantileTransformerParams) Percentiles(rows int) []float64 {
	refs := referenceGrid(max(1, min(p.NQuantiles, rows)))
	ps := make([]float64, len(refs))
	for i, r := range refs {
		ps[i] = r * 100
	}
	return ps
}

// FitQuantiles builds the fitted QuantileTransformer of columns with rows
// rows from their numpy nanpercentiles qs[j] at Percentiles(rows): the fit
// of those columns. qs is modified.
func (p *QuantileTransformerParams) FitQuantiles(names []string, rows int, qs [][]float64) *QuantileTransformer {
	nq := max(1, min(p.NQuantiles, rows))
	q := &QuantileTransformer{
		OutputDistribution: p.OutputDistribution,
		NQuantiles:         nq,
		References:         referenceGrid(nq),
		Quantiles:          make([]Floats, len(names)),
		Names:              names,
	}
	for j, c := range qs {
		// numpy.maximum.accumulate: interpolation can break monotonicity
		// by an ulp; NaN (an all-NaN column) propagates.
		for i := 1; i < nq; i++ {
			if c[i] < c[i-1] || math.IsNaN(c[i-1]) {
				c[i] = c[i-1]
			}
		}
		q.Quantiles[j] = c
	}
	return q
}

// referenceGrid returns numpy.linspace(0, 1, n) exactly as numpy 1.24
// computes it: i * (1/(n-1)) with the last point set to 1, and [0] for
// n == 1.
func referenceGrid(n int) Floats {
	out := make(Floats, n)
	if n == 1 {
		return out
	}
	step := 1 / float64(n-1)
	for i := range out {
		out[i] = float64(i) * step
	}
	out[n-1] = 1
	return out
}

// linspaceAt returns entry i of referenceGrid(n), numpy.linspace(0, 1, n):
// 1 for the last entry, else i * (1/(n-1)) (0 for n == 1).
func linspaceAt(i, n int) float64 {
	switch {
	case n == 1:
		return 0
	case i == n-1:
		return 1
	}
	return float64(i) * (1 / float64(n-1))
}

// QuantileTransformer maps each value through the empirical CDF of its
// training column, then optionally through the standard normal quantile
// function. For a value x of column j with quantiles q = quantiles_[j] and
// references r = references_:
//
//	u = (interp(x, q, r) - interp(-x, -reverse(q), -reverse(r))) / 2
//	u = 1 where x == q[last]; then u = 0 where x == q[0]         (uniform)
//	u = 1 where x + 1e-7 > q[last]; then u = 0 where x - 1e-7 < q[0]  (normal)
//	y = u                                                        (uniform)
//	y = clip(NormPPF(u), NormPPF(1e-7 - eps), NormPPF(1 - (1e-7 - eps)))  (normal)
//
// interp is numpy.interp (stats.Interp); averaging the forward and
// backward interpolation maps a value tied across several quantiles to
// the middle of their references. Values outside the training range map to
// 0 or 1 (±5.199 for normal output). quantiles_[j][i] is numpy's linear
// nanpercentile of the column at 100*references_[i], made non-decreasing
// with a running maximum; n_quantiles_ = min(n_quantiles, rows), and
// references_ = numpy.linspace(0, 1, n_quantiles_). NaN is ignored in fit
// and stays NaN in transform; an all-NaN column has NaN quantiles and
// transforms every value to NaN (as numpy.interp on NaN quantiles does).
// Ties spanning several quantiles map to the middle of their references; a
// constant column maps its value to 0 and anything above it to 1.
//
// Matches scikit-learn 1.2 QuantileTransformer when the training data has
// at most subsample rows; with more, scikit-learn fits on a random
// subsample while normguard fits exactly on all rows.
type QuantileTransformer struct {
	OutputDistribution string   `json:"output_distribution"`
	NQuantiles         int      `json:"n_quantiles_"`
	References         Floats   `json:"references_"`
	Quantiles          []Floats `json:"quantiles_"` // per input column: n_quantiles_ values (scikit-learn stores the transpose)
	Names              []string `json:"feature_names_in_"`

	// nanRows lists the rows of quantiles_ that are all NaN, as their
	// check found them (a streamed reading does not hold quantiles_): a
	// fit writes one only for a column without any value (NaNParam).
	nanRows []int
}

// Outputs implements Fitted.
func (q *QuantileTransformer) Outputs() []table.Field { return numericFields(q.Names) }

// Check implements Fitted (the rules are in quantile_transformer_check.go).
func (q *QuantileTransformer) Check(nIn int) error { return CheckStep(nil, q, nIn) }

// Transform implements Fitted.
func (q *QuantileTransformer) Transform(in, out []table.Column, n int) error {
	nq := q.NQuantiles
	// The backward interpolation runs on -reverse(q) and -reverse(r).
	negRefs := make([]float64, nq)
	for i, r := range q.References {
		negRefs[nq-1-i] = -r
	}
	negQs := make([]float64, nq)
	normal := q.OutputDistribution == "normal"
	clipLo := stats.NormPPF(quantileBoundsThreshold - 0x1p-52)
	clipHi := stats.NormPPF(1 - (quantileBoundsThreshold - 0x1p-52))
	for j := range in {
		qs := q.Quantiles[j]
		for i, v := range qs {
			negQs[nq-1-i] = -v
		}
		lo, hi := qs[0], qs[nq-1]
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		for i, x := range src {
			if math.IsNaN(x) || math.IsNaN(lo) {
				dst[i] = math.NaN()
				continue
			}
			u := 0.5 * (stats.Interp(x, qs, q.References) - stats.Interp(-x, negQs, negRefs))
			if normal {
				if x+quantileBoundsThreshold > hi {
					u = 1
				}
				if x-quantileBoundsThreshold < lo {
					u = 0
				}
				u = min(max(stats.NormPPF(u), clipLo), clipHi)
			} else {
				if x == hi {
					u = 1
				}
				if x == lo {
					u = 0
				}
			}
			dst[i] = u
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs lie in [0, 1] or are clipped normal quantiles).
func (q *QuantileTransformer) ChecksOutput() bool { return true }
