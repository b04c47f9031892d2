package fit

import (
	"fmt"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// indicatorIntoEncoder refuses step si of a categorical group g (an
// encoder, or another imputer) that would receive a missing-indicator
// column: a simple_imputer before it with add_indicator: true adds one
// (numeric 0/1) per column that had missing cells, and those steps take
// categorical columns only (attack run 32 F3: the encoder's refusal named
// the indicator a bad value and told the user to declare the group with
// type: categorical, which it was). scikit-learn 1.2 encodes such a
// column as the categories False and True; normguard does not, and says
// what to write instead. cur are the step's input columns.
func indicatorIntoEncoder(source, path string, g *spec.Group, si int, cur []table.Column) error {
	if g.Kind() != table.String {
		return nil
	}
	st := g.Steps[si]
	for k := si - 1; k >= 0; k-- {
		p, ok := g.Steps[k].Params.(*step.SimpleImputerParams)
		if !ok || !p.AddIndicator {
			continue
		}
		for _, c := range cur {
			if c.Kind == table.String {
				continue
			}
			return fmt.Errorf("fit %s: %s.steps[%d].%s: would receive %q, the missing-indicator column %s.steps[%d].simple_imputer adds (add_indicator: true), a numeric 0/1 column; encoders and a second imputer take categorical columns only: remove add_indicator, or, to keep which rows were missing, remove the imputer: the encoder takes missing cells itself (one_hot_encoder gives them a column of their own, ordinal_encoder its encoded_missing_value)",
				source, path, si, st.Name, c.Name, path, k)
		}
		return nil
	}
	return nil
}
