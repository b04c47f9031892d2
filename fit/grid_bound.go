package fit

import (
	"fmt"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// maxGridEntries is step.MaxGridEntries, lowered by tests.
var maxGridEntries = step.MaxGridEntries

// checkGrid refuses, before it is fitted, the step st (steps[si] of the
// spec group at path, reading the columns inputs of rows rows) whose
// grids (bin edges, quantiles: need entries, step.GridEntries) would take
// the fit's grids past maxGridEntries, with done entries taken by the
// steps fitted before it.
func checkGrid(source, path string, si int, st spec.Step, inputs []string, rows, need, done int) error {
	if need <= maxGridEntries-done {
		return nil
	}
	var asked string
	switch p := st.Params.(type) {
	case *step.KBinsDiscretizerParams:
		asked = fmt.Sprintf("n_bins %d for %d columns asks for %d bin edges", p.NBins, len(inputs), need)
	case *step.QuantileTransformerParams:
		asked = fmt.Sprintf("n_quantiles %d (%d on %d rows) for %d columns asks for %d quantiles and references", p.NQuantiles, min(p.NQuantiles, rows), rows, len(inputs), need)
	default:
		asked = fmt.Sprintf("its grids take %d entries", need)
	}
	return fmt.Errorf("fit %s: %s.steps[%d].%s: %s (columns %s), and the steps before it %d: more than the %d grid entries one artifact may hold (step.MaxGridEntries, about 700 MB of the artifact); lower the parameter, or give the columns to fewer steps",
		source, path, si, st.Name, asked, errtext.List(inputs), done, maxGridEntries)
}
