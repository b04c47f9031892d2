package step

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/normguard/normguard/internal/errtext"
)

// What a fit may be asked for. Parameters set the size of some fitted
// arrays whatever the data: n_bins edges per column for a
// kbins_discretizer with strategy "uniform" on two rows. A fit refuses,
// before it allocates them, parameters past what an artifact holds
// (CheckFitParams, when the spec is read) and steps whose grids would
// take the artifact past its bound (GridEntries, when the step is about
// to be fitted). Artifact readers do not apply these bounds: an artifact
// fitted before them stays readable.
const (
	// MaxBins bounds kbins_discretizer's n_bins. With encode "onehot" each
	// bin is an output column, and an artifact holds at most
	// artifact.MaxOutputs (1,048,576) of those (step cannot import
	// artifact; a test checks the two agree). With "ordinal" the same
	// bound keeps one column's bin edges to 8 MiB.
	MaxBins = 1 << 20
	// MaxGridEntries bounds the entries of the grids one fit writes, in
	// all its steps: a kbins_discretizer's bin_edges_, a
	// quantile_transformer's quantiles_ and references_. Written one a
	// line, an entry takes up to about 42 bytes of the artifact, so the
	// grids stay within about 700 MB of the 1 GiB artifact.MaxSize every
	// reader holds an artifact to, and within 128 MiB of memory.
	MaxGridEntries = 1 << 24
)

// fitBounded is implemented by parameters with rules that a fit holds
// them to beyond Validate (see CheckFitParams).
type fitBounded interface {
	checkFit() error
}

// CheckFitParams refuses parameters a fit cannot honour, whatever the
// data: a size past what an artifact holds (kbins_discretizer's n_bins
// above MaxBins), a range wider than float64 represents
// (min_max_scaler's feature_range). Errors are *ParamError naming the
// parameter. The spec reader runs it on every step of a spec, and fit
// on every step of the spec it is given. Readers of an artifact do not:
// Validate is what they hold parameters to.
func CheckFitParams(p Params) error {
	if b, ok := p.(fitBounded); ok {
		return b.checkFit()
	}
	return nil
}

// gridSized is implemented by parameters whose fit writes grids whose
// size a parameter sets (see GridEntries).
type gridSized interface {
	gridEntries(nIn, rows int) int
}

// GridEntries returns at most how many grid entries (bin edges,
// quantiles and references) the fit of p on nIn columns of rows rows
// allocates and writes: nIn * (n_bins + 1) for a kbins_discretizer,
// (nIn + 1) * min(n_quantiles, rows) for a quantile_transformer, 0 for
// the other steps, whose fitted arrays hold an entry per column or per
// category the data has. A fit adds them up over its steps and refuses,
// before fitting it, the step that takes the sum past MaxGridEntries.
// The result saturates at math.MaxInt.
func GridEntries(p Params, nIn, rows int) int {
	if g, ok := p.(gridSized); ok {
		return g.gridEntries(nIn, rows)
	}
	return 0
}

// mulSat returns a*b for a, b >= 0, or math.MaxInt when it overflows.
func mulSat(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// checkFit implements fitBounded: n_bins is at most MaxBins.
func (p *KBinsDiscretizerParams) checkFit() error {
	if p.NBins > MaxBins {
		return &ParamError{Step: "kbins_discretizer", Param: "n_bins", Value: p.NBins,
			Msg: fmt.Sprintf("must be at most %d, the bins a column may have (step.MaxBins: with encode onehot each bin is an output column, and an artifact holds at most artifact.MaxOutputs = 1048576 of them); lower n_bins", MaxBins)}
	}
	return nil
}

// gridEntries implements gridSized: n_bins + 1 edges per column.
func (p *KBinsDiscretizerParams) gridEntries(nIn, _ int) int {
	return mulSat(nIn, p.NBins+1)
}

// gridEntries implements gridSized: min(n_quantiles, rows) quantiles per
// column, and references_ once.
func (p *QuantileTransformerParams) gridEntries(nIn, rows int) int {
	return mulSat(nIn+1, max(1, min(p.NQuantiles, rows)))
}

// checkFit implements fitBounded: feature_range's width, which every
// scale_ is a multiple of, is a finite float64.
func (p *MinMaxScalerParams) checkFit() error {
	r := p.FeatureRange
	if len(r) == 2 && math.IsInf(r[1]-r[0], 0) {
		return &ParamError{Step: "min_max_scaler", Param: "feature_range", Value: []float64(r),
			Msg: fmt.Sprintf("is too wide to represent: its width %v - (%v) overflows float64 (at most %v), so every scale_ would be infinite; give a narrower range", r[1], r[0], math.MaxFloat64)}
	}
	return nil
}

// FitError reports a step whose fit gave a parameter that no artifact
// reader accepts (CheckStep's rules): a statistic that overflowed
// float64, a column left without a bin. Fit refuses it instead of writing
// an artifact every reader would refuse.
type FitError struct {
	// Column is the input column the parameter belongs to ("" when it
	// belongs to the step).
	Column string
	// Path is the fitted parameter's JSON path in the step
	// ("scale_[0]").
	Path string
	// Msg says what is wrong with it.
	Msg string
}

func (e *FitError) Error() string {
	col := ""
	if e.Column != "" {
		col = " for column " + errtext.Quote(e.Column)
	}
	return fmt.Sprintf("the fit gave %s%s a value no artifact may hold (%s), so nothing was written: "+
		"the column's values or the step's parameters take a statistic past what float64 represents "+
		"(magnitudes up to about 1.8e308); rescale or clean the column, or change the step's parameters",
		e.Path, col, e.Msg)
}

// CheckFit runs on a step fit has just fitted, on the columns named
// inputs, the rules every artifact reader holds a step to (CheckStep),
// so that fit refuses what no reader would accept. The error is a
// *FitError naming the parameter and, for a per-column one, the column.
func CheckFit(p Params, f Fitted, inputs []string) error {
	err := CheckStep(p, f, len(inputs))
	if err == nil {
		return nil
	}
	pe := Under("", err)
	return &FitError{Column: columnOf(pe.Path, inputs), Path: pe.Path, Msg: pe.Msg}
}

// perColumnPath matches a fitted attribute's path whose first index is
// an input column's ("scale_[3]", "bin_edges_[0][5]").
var perColumnPath = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]`)

// columnOf returns the input column a fitted parameter's path points
// into, or "" for a parameter of the whole step.
func columnOf(path string, inputs []string) string {
	m := perColumnPath.FindStringSubmatch(path)
	if m == nil {
		return ""
	}
	switch m[1] {
	case "references_", "feature_range", "quantile_range":
		return ""
	}
	i, err := strconv.Atoi(m[2])
	if err != nil || i >= len(inputs) {
		return ""
	}
	return inputs[i]
}
