package step

import (
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

// Fit implements Params.
func (p *Log1pParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	return p.FitNames(names(cols)), nil
}

// FitNames builds the fitted Log1p of the named columns: it reads no data.
func (p *Log1pParams) FitNames(names []string) *Log1p { return &Log1p{Names: names} }

// Log1p applies the natural logarithm of one plus the value:
//
//	y = log(1 + x)
//
// Matches scikit-learn 1.2 FunctionTransformer(np.log1p): NaN stays NaN,
// x = -1 gives -Inf and x < -1 gives NaN (numpy's log1p).
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
			dst[i] = math.Log1p(x)
		}
	}
	return nil
}
