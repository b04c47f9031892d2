package step

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "normalizer",
		Role:      RoleTransform,
		Accepts:   []table.Kind{table.Numeric},
		NewParams: func() Params { return &NormalizerParams{Norm: "l2", Copy: true} },
		NewFitted: func() Fitted { return &Normalizer{} },
	})
}

// NormalizerParams configures scikit-learn's Normalizer. Copy is accepted
// for compatibility and has no effect.
type NormalizerParams struct {
	Norm string `json:"norm"`
	Copy bool   `json:"copy"`
}

// Validate implements Params.
func (p *NormalizerParams) Validate() error {
	if err := checkNorm(p.Norm); err != nil {
		return &ParamError{Step: "normalizer", Param: "norm", Value: p.Norm, Msg: err.Error()}
	}
	return nil
}

func checkNorm(norm string) error {
	switch norm {
	case "l1", "l2", "max":
		return nil
	}
	return fmt.Errorf("must be one of l1, l2, max")
}

// Fit implements Params. Normalizer is stateless; fit only checks the data
// (scikit-learn refuses NaN and ±Inf in fit too).
func (p *NormalizerParams) Fit(_ *FitContext, cols []table.Column) (Fitted, error) {
	for i := range cols {
		if err := rejectNaNOrInf("normalizer", &cols[i]); err != nil {
			return nil, err
		}
	}
	return p.FitNames(names(cols)), nil
}

// FitNames builds the fitted Normalizer of the named columns: it reads no
// data (its transform refuses NaN and ±Inf as its fit does).
func (p *NormalizerParams) FitNames(names []string) *Normalizer {
	return &Normalizer{Norm: p.Norm, Names: names}
}

// Normalizer scales each row of the group (across all its columns) to
// unit norm:
//
//	l2:  ||x|| = sqrt(sum x_j^2)
//	l1:  ||x|| = sum |x_j|
//	max: ||x|| = max |x_j|
//	y_j = x_j / ||x||     (||x|| < 10*eps -> 1: a zero row is left unchanged)
//
// Matches scikit-learn 1.2 Normalizer on a C-ordered array (what it gets
// from a pandas DataFrame) bit for bit: the l2 sum of squares is added in
// the order of numpy 1.24's einsum kernel on x86-64 (two lanes holding the
// even and odd columns, eight columns per step, then lane0 + lane1) and
// the l1 sum in the order of numpy's pairwise summation. NaN and ±Inf are
// refused (scikit-learn's input validation rejects them).
//
// A row whose l2 or l1 norm passes float64's range (finite values from
// about 1.3e154 for l2) is refused, naming the row and its values, where
// scikit-learn writes a row of zeros with a RuntimeWarning. A row whose
// squares underflow has a norm below 1.5e-154, far under 10*eps, and is
// left unchanged, as its exact norm would leave it in scikit-learn.
type Normalizer struct {
	Norm  string   `json:"norm"`
	Names []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (nz *Normalizer) Outputs() []table.Field { return numericFields(nz.Names) }

// Check implements Fitted.
func (nz *Normalizer) Check(nIn int) error {
	if err := checkNorm(nz.Norm); err != nil {
		return fmt.Errorf("norm %q: %w", nz.Norm, err)
	}
	if err := checkLen("feature_names_in_", len(nz.Names), nIn); err != nil {
		return err
	}
	return checkNames("feature_names_in_", nz.Names)
}

// Transform implements Fitted. Every output row depends on the whole input
// row, so the norms are computed before any output is written (out may
// share storage with in).
func (nz *Normalizer) Transform(in, out []table.Column, n int) error {
	for j := range in {
		if err := rejectNaNOrInf("normalizer", &in[j]); err != nil {
			return err
		}
	}
	var norm func(row []float64) float64
	switch nz.Norm {
	case "l1":
		norm = l1Norm
	case "max":
		norm = maxNorm
	default:
		norm = l2Norm
	}
	norms := make([]float64, n)
	row := make([]float64, len(in))
	for i := range norms {
		for j := range in {
			row[j] = in[j].Num[i]
		}
		r := norm(row)
		if math.IsInf(r, 0) {
			return nz.overflowError(in, i)
		}
		norms[i] = zeroScaleToOne(r)
	}
	for j := range in {
		src := in[j].Num[:n]
		out[j].Resize(n)
		dst := out[j].Num[:n]
		for i, x := range src {
			dst[i] = x / norms[i]
		}
	}
	return nil
}

// overflowError is the error for row i of in, whose l2 or l1 norm passes
// float64's range (the sum of the squares, or of the |values|, overflows
// to +Inf although every value is finite: from about 1.3e154 for l2,
// 9e307 for l1). scikit-learn's Normalizer divides by that infinite norm
// and writes a row of zeros, which no normalized row can be: normguard
// refuses the row instead, naming it (Row), the column of its largest
// |value| and its largest values. Value is left empty (the values are in
// the message), so that the transform engine keeps this text for a
// normalizer that follows other steps; the error wraps ErrNotFinite, the
// class of a value past float64's range.
func (nz *Normalizer) overflowError(in []table.Column, i int) *ValueError {
	big := 0
	for j := range in {
		if math.Abs(in[j].Num[i]) > math.Abs(in[big].Num[i]) {
			big = j
		}
	}
	// The (at most) three largest |values| of the row, largest first.
	order := make([]int, 0, 3)
	for j := range in {
		order = append(order, j)
		for k := len(order) - 1; k > 0 && math.Abs(in[order[k]].Num[i]) > math.Abs(in[order[k-1]].Num[i]); k-- {
			order[k], order[k-1] = order[k-1], order[k]
		}
		if len(order) > 3 {
			order = order[:3]
		}
	}
	vals := make([]string, len(order))
	for k, j := range order {
		vals[k] = fmt.Sprintf("%s = %s", errtext.Quote(in[j].Name), strconv.FormatFloat(in[j].Num[i], 'g', -1, 64))
	}
	list := strings.Join(vals, ", ")
	if len(in) > len(order) {
		list = fmt.Sprintf("largest of its %d values: %s", len(in), list)
	}
	what := "the sum of the squares of its values"
	if nz.Norm == "l1" {
		what = "the sum of the |values|"
	}
	return &ValueError{Step: "normalizer", Column: in[big].Name, Row: i,
		Err: fmt.Errorf("%w: %w: the row's %s norm is past float64's range (%s overflows to +Inf; scikit-learn's Normalizer would write a row of zeros) for the row's values (%s)",
			ErrBadValue, ErrNotFinite, nz.Norm, what, list),
		Hint: "values this large leave no " + nz.Norm + " norm in float64; check the data, or scale the values down before the normalizer (normguard never writes zeros for a row that is not zero)"}
}

// l2Norm returns sqrt(sum x_j^2) with the additions in the order numpy
// 1.24's einsum("ij,ij->i") performs them on a C-ordered row with SSE2
// (two-lane) vectors: lane l accumulates columns l, l+2, l+4, ...; each
// step of eight columns adds columns 6..7, 4..5, 2..3, 0..1 of the step in
// that order; the lanes are summed last and added to 0.
func l2Norm(row []float64) float64 {
	var a0, a1 float64
	i, m := 0, len(row)
	for ; m-i >= 8; i += 8 {
		for k := 6; k >= 0; k -= 2 {
			x0, x1 := row[i+k], row[i+k+1]
			// Conversions keep each product rounded on its own (no FMA),
			// as the SSE2 kernel's separate multiply and add do.
			a0 = float64(x0*x0) + a0
			a1 = float64(x1*x1) + a1
		}
	}
	for ; i < m; i += 2 {
		a0 = float64(row[i]*row[i]) + a0
		if i+1 < m {
			a1 = float64(row[i+1]*row[i+1]) + a1
		}
	}
	return math.Sqrt(0 + (a0 + a1))
}

// l1Norm returns sum |x_j| with numpy's pairwise summation (what
// numpy.abs(X).sum(axis=1) does on a C-ordered row).
func l1Norm(row []float64) float64 {
	for j, x := range row {
		row[j] = math.Abs(x)
	}
	return 0 + pairwiseSum(row)
}

// maxNorm returns max |x_j| (the order does not matter).
func maxNorm(row []float64) float64 {
	m := 0.0
	for _, x := range row {
		if a := math.Abs(x); a > m {
			m = a
		}
	}
	return m
}

// pairwiseSum sums xs as numpy 1.24's pairwise_sum does: a plain loop
// below 8 values, eight interleaved accumulators up to 128 values, and a
// recursive split (at a multiple of 8 below the half) above.
func pairwiseSum(xs []float64) float64 {
	n := len(xs)
	switch {
	case n < 8:
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], xs[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] += xs[i+k]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += xs[i]
		}
		return s
	default:
		h := n / 2
		h -= h % 8
		return pairwiseSum(xs[:h]) + pairwiseSum(xs[h:])
	}
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (a value divided by a norm at least its size), and a
// norm past float64's range is refused (overflowError).
func (nz *Normalizer) ChecksOutput() bool { return true }
