package artifact

import (
	"fmt"

	"github.com/normguard/normguard/step"
)

// A quantile transformer's n_quantiles_ is what its fit computed from the
// rows it was fitted on, as scikit-learn 1.2 does:
//
//	n_quantiles_ = max(1, min(params.n_quantiles, n_samples))
//
// n_samples being every row of the training data (training.rows: a row
// whose value is missing counts, and subsample plays no part, since
// params.n_quantiles may not exceed it). The step's own rules hold
// references_ and quantiles_ to n_quantiles_ entries and n_quantiles_ to
// at most params.n_quantiles; this rule, which needs training.rows (an
// artifact file holds it after the groups), holds n_quantiles_ to the
// formula: one quantile fewer, say, leaves a transform that still runs
// and gives every row another value.

// quantileCount is what a sectionCheck keeps of a quantile transformer:
// where it is, its n_quantiles_ and params.n_quantiles.
type quantileCount struct {
	gi, si       int
	fitted, want int
}

// noteQuantiles records the quantile transformers of groups[gi].
func (c *sectionCheck) noteQuantiles(gi int, g *Group) {
	for si := range g.Steps {
		f, ok := g.Steps[si].Fitted.(*step.QuantileTransformer)
		if !ok {
			continue
		}
		p, ok := g.Steps[si].Params.(*step.QuantileTransformerParams)
		if !ok {
			continue
		}
		c.quantiles = append(c.quantiles, quantileCount{gi: gi, si: si, fitted: f.NQuantiles, want: p.NQuantiles})
	}
}

// quantilesError refuses the first quantile transformer whose
// n_quantiles_ is not max(1, min(params.n_quantiles, training.rows)).
func (c *sectionCheck) quantilesError() error {
	for _, q := range c.quantiles {
		want := max(1, min(int64(q.want), c.trainingRows))
		if int64(q.fitted) != want {
			return bad(fmt.Sprintf("groups[%d].steps[%d].fitted.n_quantiles_", q.gi, q.si),
				"is %d; a fit on training.rows %d rows with params.n_quantiles %d writes max(1, min(n_quantiles, rows)) = %d (scikit-learn's n_quantiles_), with as many references_ and quantiles_ per column",
				q.fitted, c.trainingRows, q.want, want)
		}
	}
	return nil
}
