package step

import "fmt"

// streamed implements streamer: references_ and quantiles_ are fed entry
// by entry.
func (q *QuantileTransformer) streamed(_ Params, c *StreamedCheck) {
	c.floats["references_"] = newFloatsCheck("references_", ruleReferences, false)
	c.floats["quantiles_"] = newFloatsCheck("quantiles_", ruleQuantiles, true)
}

// feed implements streamer.
func (q *QuantileTransformer) feed(c *StreamedCheck) {
	c.floats["references_"].feed(q.References)
	c.floats["quantiles_"].feedList(q.Quantiles)
}

// checkStreamed implements streamer: Check's rules, references_ and
// quantiles_ read from their checks. references_ is what every fit writes,
// numpy.linspace(0, 1, n_quantiles_) bit for bit (ruleReferences; the
// transform maps a training column's quantiles onto it, so other sorted
// values in [0, 1] give a silently wrong transform). A row of quantiles_
// is all NaN (a feature without any value in fit), or sorted and finite.
func (q *QuantileTransformer) checkStreamed(nIn int, c *StreamedCheck) error {
	refs, rows := c.floats["references_"], c.floats["quantiles_"]
	if err := checkLen("feature_names_in_", len(q.Names), nIn); err != nil {
		return err
	}
	if err := checkLen("quantiles_", rows.Len(), nIn); err != nil {
		return err
	}
	if q.OutputDistribution != "uniform" && q.OutputDistribution != "normal" {
		return fmt.Errorf("output_distribution %q is not uniform or normal", q.OutputDistribution)
	}
	if q.NQuantiles < 1 || refs.Len() != q.NQuantiles {
		return &PathError{Path: "references_", Msg: fmt.Sprintf("has %d entries for n_quantiles_=%d", refs.Len(), q.NQuantiles)}
	}
	if refs.err != nil {
		return refs.err
	}
	if refs.first < 0 || refs.last > 1 {
		return &PathError{Path: "references_", Msg: fmt.Sprintf("must lie in [0, 1], got %v to %v", refs.first, refs.last)}
	}
	if refs.gridErr != nil {
		return refs.gridErr
	}
	q.nanRows = rows.nanArrays
	for j := range rows.Len() {
		if n := rows.arrayLen(j); n != q.NQuantiles {
			return &PathError{Path: fmt.Sprintf("quantiles_[%d]", j), Msg: fmt.Sprintf("has %d entries for n_quantiles_=%d", n, q.NQuantiles)}
		}
		if err := rows.arrayErr(j); err != nil {
			return err
		}
	}
	return checkNames("feature_names_in_", q.Names)
}
