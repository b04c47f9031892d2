package fit

import (
	"fmt"

	"github.com/normguard/normguard/artifact"
)

// maxOutputs is artifact.MaxOutputs, lowered by tests.
var maxOutputs = artifact.MaxOutputs

// checkOutputCount refuses a fitted step (steps[si], named name, of the
// spec group at path, reading the columns inputs) that gives n output
// columns when others more are given by the groups before and the
// passthrough: an artifact holds at most artifact.MaxOutputs, and a
// one-hot encoder gives one per category. It runs before the step is
// applied to the training data, which would take a column of rows for
// each output.
func checkOutputCount(source, path string, si int, name string, inputs []string, n, others int) error {
	if n+others <= maxOutputs {
		return nil
	}
	return fmt.Errorf("fit %s: %s.steps[%d].%s gives %d output columns for %s (%d with the other outputs), more than the %d an artifact may hold; give the encoder max_categories or min_frequency to group rare categories, or encode the column with ordinal_encoder",
		source, path, si, name, n, quoteList(inputs), n+others, maxOutputs)
}
