package step

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "binarizer",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &BinarizerParams{} },
		NewFitted: func() Fitted { return &Binarizer{} },
	})
}

// BinarizerParams configures scikit-learn's Binarizer.
type BinarizerParams struct {
	Threshold Float `json:"threshold"`
}

// Validate implements Params.
func (p *BinarizerParams) Validate() error {
	if math.IsNaN(float64(p.Threshold)) {
		return &ParamError{Step: "binarizer", Param: "threshold", Value: p.Threshold, Msg: "must be a number"}
	}
	return nil
}

// Fit implements Params. Binarizer is stateless; fit only checks the data.
func (p *BinarizerParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	for i := range cols {
		if err := rejectNaN("binarizer", &cols[i]); err != nil {
			return nil, err
		}
	}
	return p.FitNames(names(cols)), nil
}

// FitNames builds the fitted Binarizer of the named columns: it reads no
// data (its transform refuses NaN as its fit does).
func (p *BinarizerParams) FitNames(names []string) *Binarizer {
	return &Binarizer{Threshold: p.Threshold, Names: names}
}

// Binarizer maps each value to 1 when it is greater than Threshold, else 0.
//
//	y = 1 if x > threshold else 0
//
// Matches scikit-learn 1.2 Binarizer: NaN is refused (scikit-learn's input
// validation rejects it), +Inf gives 1, -Inf gives 0.
type Binarizer struct {
	Threshold Float    `json:"threshold"`
	Names     []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (b *Binarizer) Outputs() []table.Field { return numericFields(b.Names) }

// Check implements Fitted.
func (b *Binarizer) Check(nIn int) error {
	if math.IsNaN(float64(b.Threshold)) {
		return &PathError{Path: "threshold", Msg: "must be a number, got NaN"}
	}
	if err := checkLen("feature_names_in_", len(b.Names), nIn); err != nil {
		return err
	}
	return checkNames("feature_names_in_", b.Names)
}

// Transform implements Fitted.
func (b *Binarizer) Transform(in, out []table.Column, n int) error {
	t := float64(b.Threshold)
	for j := range in {
		if err := rejectNaN("binarizer", &in[j]); err != nil {
			return err
		}
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		for i, x := range src {
			if x > t {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
		}
	}
	return nil
}

// names returns the columns' names.
func names(cols []table.Column) []string {
	out := make([]string, len(cols))
	for i := range cols {
		out[i] = cols[i].Name
	}
	return out
}

// numericFields returns Numeric fields with the given names.
func numericFields(names []string) []table.Field {
	out := make([]table.Field, len(names))
	for i, n := range names {
		out[i] = table.Field{Name: n, Kind: table.Numeric}
	}
	return out
}

// checkLen reports an attribute whose length does not match the inputs.
func checkLen(attr string, got, want int) error {
	if got != want {
		return &PathError{Path: attr, Msg: fmt.Sprintf("has %d entries for %d input columns", got, want)}
	}
	return nil
}

// rejectNaN returns a *ValueError for the first NaN in a numeric column.
// Steps that scikit-learn's input validation guards with
// force_all_finite="allow-nan"=false use it.
func rejectNaN(stepName string, c *table.Column) error {
	for i, x := range c.Num {
		if math.IsNaN(x) {
			return &ValueError{Step: stepName, Column: c.Name, Row: i, Value: "NaN", Err: ErrBadValue,
				Hint: "this step does not accept missing values: put a simple_imputer before it"}
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs are 0 and 1).
func (b *Binarizer) ChecksOutput() bool { return true }
