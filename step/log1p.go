package step

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "log1p",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &Log1pParams{} },
		NewFitted: func() Fitted { return &Log1p{} },
	})
}

// Log1pParams configures the log1p step; it has no parameters.
type Log1pParams struct{}

// Validate implements Params.
func (p *Log1pParams) Validate() error { return nil }

// Fit implements Params. It fits nothing but refuses training data holding
// a value <= -1, as Transform does.
func (p *Log1pParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	for j := range cols {
		if i := firstBelowLog1pDomain(cols[j].Num); i >= 0 {
			err := log1pDomainError(cols[j].Name, -1, cols[j].Num[i]).(*ValueError)
			err.Hint = fmt.Sprintf("the training data hold it on data row %d (counting from 1, header not counted); %s", i+1, err.Hint)
			return nil, err
		}
	}
	return p.FitNames(names(cols)), nil
}

// errLog1pDomain is the error for a value log1p is not defined for.
var errLog1pDomain = fmt.Errorf("%w: log1p is defined only for values above -1, got", ErrBadValue)

// log1pDomainError is the *ValueError for the value x <= -1 at row (-1 in
// fit) of column.
func log1pDomainError(column string, row int, x float64) error {
	return &ValueError{Step: "log1p", Column: column, Row: row, Value: formatValue(x), Err: errLog1pDomain,
		Hint: "log(1 + x) is -Infinity at -1 and not a number below it; fix or drop the value, or shift or clip the column above -1 before log1p"}
}

// firstBelowLog1pDomain returns the index of the first value <= -1 of xs
// (NaN, missing, passes), or -1.
func firstBelowLog1pDomain(xs []float64) int {
	for i, x := range xs {
		if x <= -1 {
			return i
		}
	}
	return -1
}

// FitNames builds the fitted Log1p of the named columns: it reads no data.
func (p *Log1pParams) FitNames(names []string) *Log1p { return &Log1p{Names: names} }

// Log1p applies the natural logarithm of one plus the value:
//
//	y = log(1 + x)
//
// Matches scikit-learn 1.2 FunctionTransformer(np.log1p) on its domain,
// x > -1; NaN (missing) stays NaN. A value <= -1, where numpy's log1p gives
// -Inf (x = -1) or NaN (x < -1) with only a warning, is refused in fit and
// in transform with a *ValueError naming it, as box-cox refuses x <= 0.
type Log1p struct {
	Names []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (l *Log1p) Outputs() []table.Field { return numericFields(l.Names) }

// Check implements Fitted.
func (l *Log1p) Check(nIn int) error {
	if err := checkLen("feature_names_in_", len(l.Names), nIn); err != nil {
		return err
	}
	return checkNames("feature_names_in_", l.Names)
}

// Transform implements Fitted.
func (l *Log1p) Transform(in, out []table.Column, n int) error {
	for j := range in {
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		for i, x := range src {
			if x <= -1 {
				return log1pDomainError(in[j].Name, i, x)
			}
			dst[i] = math.Log1p(x)
		}
	}
	return nil
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (log1p of a value above -1 is at most 709.8).
func (l *Log1p) ChecksOutput() bool { return true }
