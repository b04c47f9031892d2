package step

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:    "kbins_discretizer",
		Role:    RoleTransform,
		Accepts: []table.Kind{table.Numeric},
		NewParams: func() Params {
			return &KBinsDiscretizerParams{NBins: 5, Encode: "onehot", Strategy: "quantile", Subsample: "warn"}
		},
		NewFitted: func() Fitted { return &KBinsDiscretizer{} },
	})
}

// kbinsMinWidth is the width at or below which scikit-learn 1.2 removes a
// quantile bin.
const kbinsMinWidth = 1e-8

// KBinsDiscretizerParams configures scikit-learn's KBinsDiscretizer.
//
// n_bins is one integer for every column (scikit-learn's per-column array
// form is not supported). encode "onehot" and "onehot-dense" both give
// dense 0/1 columns. strategy "kmeans" runs scikit-learn's
// one-dimensional KMeans (see kmeansEdges). dtype is
// "float64", "float32" or null; with "float32" transform rounds its input
// to float32 before binning, as scikit-learn does (outputs are bin
// indices, exact in both). subsample ("warn", null or an integer) and
// random_state are accepted for compatibility, but normguard always fits
// on all rows: its bin edges equal scikit-learn's with subsample=None.
type KBinsDiscretizerParams struct {
	NBins       int     `json:"n_bins"`
	Encode      string  `json:"encode"`
	Strategy    string  `json:"strategy"`
	Dtype       *string `json:"dtype"`
	Subsample   any     `json:"subsample"`
	RandomState *int64  `json:"random_state"`
}

// Validate implements Params.
func (p *KBinsDiscretizerParams) Validate() error {
	bad := func(param string, v any, msg string) error {
		return &ParamError{Step: "kbins_discretizer", Param: param, Value: v, Msg: msg}
	}
	if p.NBins < 2 {
		return bad("n_bins", p.NBins, "must be an integer of at least 2")
	}
	switch p.Encode {
	case "onehot", "onehot-dense", "ordinal":
	default:
		return bad("encode", p.Encode, "must be one of onehot, onehot-dense, ordinal")
	}
	switch p.Strategy {
	case "uniform", "quantile", "kmeans":
	default:
		return bad("strategy", p.Strategy, "must be one of uniform, quantile, kmeans")
	}
	if p.Dtype != nil && *p.Dtype != "float64" && *p.Dtype != "float32" {
		return bad("dtype", *p.Dtype, "must be float64, float32 or null")
	}
	switch s := p.Subsample.(type) {
	case nil:
	case string:
		if s != "warn" {
			return bad("subsample", s, `must be an integer of at least 1, null or "warn"`)
		}
	case float64:
		if s < 1 || s != math.Trunc(s) {
			return bad("subsample", s, `must be an integer of at least 1, null or "warn"`)
		}
		if p.Strategy != "quantile" {
			return bad("subsample", s, `can only be used with strategy "quantile"`)
		}
	default:
		return bad("subsample", s, `must be an integer of at least 1, null or "warn"`)
	}
	return nil
}

// Fit implements Params: it computes each column's bin edges on all rows.
func (p *KBinsDiscretizerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("kbins_discretizer", cols); err != nil {
		return nil, err
	}
	lo, hi := make([]float64, len(cols)), make([]float64, len(cols))
	pct := make([][]float64, len(cols))
	for j := range cols {
		if err := rejectNaNOrInf("kbins_discretizer", &cols[j]); err != nil {
			return nil, err
		}
		if p.Strategy == "uniform" {
			lo[j], hi[j] = nanMinMax(cols[j].Num)
			continue
		}
		if p.Strategy == "kmeans" {
			continue
		}
		sorted, err := ctx.sorted(cols[j].Num)
		if err != nil {
			return nil, err
		}
		pct[j], err = sorted.Percentiles(p.Percentiles())
		sorted.Close()
		if err != nil {
			return nil, err
		}
	}
	var k *KBinsDiscretizer
	if p.Strategy == "kmeans" {
		f, err := p.fitKMeans(cols)
		if err != nil {
			return nil, err
		}
		k = f.(*KBinsDiscretizer)
	} else {
		k = p.FitEdges(names(cols), lo, hi, pct)
	}
	if err := k.noBinError(p.Strategy, cols); err != nil {
		return nil, err
	}
	return k, nil
}

// noBinError refuses a column the fit left without a bin: values that are
// not all equal but lie within kbinsMinWidth of each other (0 and 1e-300),
// whose "quantile" or "kmeans" bins scikit-learn 1.2 all removes
// (n_bins_ 0: its ordinal output is 0, its one-hot encoding fails). An
// artifact holds at least one bin per column.
func (k *KBinsDiscretizer) noBinError(strategy string, cols []table.Column) error {
	for j, nb := range k.NBins {
		if nb >= 1 {
			continue
		}
		lo, hi := nanMinMax(cols[j].Num)
		if !(hi-lo <= kbinsMinWidth) {
			continue // not this case: CheckFit names the parameter
		}
		return &ValueError{Step: "kbins_discretizer", Column: cols[j].Name, Row: -1, Err: ErrBadValue,
			Hint: fmt.Sprintf("its values run from %v to %v, not all equal but within the %v below which a %s bin is removed, "+
				"so no bin is left (scikit-learn's n_bins_ 0, which its one-hot encoding refuses); round the column's values, "+
				"or bin it with strategy uniform", lo, hi, kbinsMinWidth, strategy)}
	}
	return nil
}

// fitKMeans fits strategy "kmeans", which needs every value of a column
// in memory.
func (p *KBinsDiscretizerParams) fitKMeans(cols []table.Column) (Fitted, error) {
	k := p.newFitted(names(cols))
	for j := range cols {
		xs := cols[j].Num[:cols[j].Len()]
		edges := []float64{math.Inf(-1), math.Inf(1)}
		if lo, hi := nanMinMax(xs); lo != hi {
			var err error
			if edges, err = kmeansEdges(xs, p.NBins); err != nil {
				return nil, &ValueError{Step: "kbins_discretizer", Column: cols[j].Name, Row: -1, Err: ErrBadValue, Hint: err.Error()}
			}
		}
		k.BinEdges[j] = edges
		k.NBins[j] = len(edges) - 1
	}
	return k, nil
}

// newFitted returns a KBinsDiscretizer for names with no edges yet.
func (p *KBinsDiscretizerParams) newFitted(names []string) *KBinsDiscretizer {
	return &KBinsDiscretizer{
		Encode:   p.Encode,
		Float32:  p.Dtype != nil && *p.Dtype == "float32",
		BinEdges: make([]Floats, len(names)),
		NBins:    make([]int, len(names)),
		Names:    names,
	}
}

// Percentiles returns the percentiles of each column strategy "quantile"
// reads: linspace(0, 100, n_bins+1).
func (p *KBinsDiscretizerParams) Percentiles() []float64 { return linspace(0, 100, p.NBins+1) }

// FitEdges builds the fitted KBinsDiscretizer from each column's minimum
// and maximum (lo, hi; strategy "uniform") or its numpy percentiles pct[j]
// at Percentiles() (strategy "quantile"): the fit of those columns.
// Strategy "kmeans" needs the values themselves (Fit); its columns get the
// single bin of a constant column here.
func (p *KBinsDiscretizerParams) FitEdges(names []string, lo, hi []float64, pct [][]float64) *KBinsDiscretizer {
	k := p.newFitted(names)
	for j := range names {
		var edges []float64
		if p.Strategy == "uniform" {
			if lo[j] != hi[j] {
				edges = linspace(lo[j], hi[j], p.NBins+1)
			}
		} else if p.Strategy == "quantile" {
			edges = quantileEdges(pct[j])
		}
		if edges == nil { // constant column
			edges = []float64{math.Inf(-1), math.Inf(1)}
		}
		k.BinEdges[j] = edges
		k.NBins[j] = len(edges) - 1
	}
	return k
}

// quantileEdges returns the percentiles pct with the bins of width <=
// kbinsMinWidth removed, or nil for a constant column.
func quantileEdges(pct []float64) []float64 {
	if pct[0] == pct[len(pct)-1] {
		return nil
	}
	// numpy.ediff1d(edges, to_begin=inf) > 1e-8: keep the first edge and
	// every edge more than 1e-8 above the previous computed one.
	edges := []float64{pct[0]}
	for i := 1; i < len(pct); i++ {
		if pct[i]-pct[i-1] > kbinsMinWidth {
			edges = append(edges, pct[i])
		}
	}
	return edges
}

// linspace returns num evenly spaced values from start to stop inclusive,
// computed as numpy 1.24's linspace does:
//
//	step = (stop - start) / (num - 1)
//	y_i  = i*step + start   (i/(num-1) * (stop-start) + start when step == 0)
//	y_last = stop
func linspace(start, stop float64, num int) []float64 {
	y := make([]float64, num)
	div := float64(num - 1)
	delta := stop - start
	step := delta / div
	for i := range y {
		if step == 0 {
			y[i] = float64(float64(i)/div*delta) + start
		} else {
			y[i] = float64(float64(i)*step) + start
		}
	}
	y[num-1] = stop
	return y
}

// KBinsDiscretizer replaces each value by the index of its bin:
//
//	bin = #{interior edges e : e <= x}   (numpy.searchsorted(bin_edges_[1:-1], x, side="right"))
//
// so values below the first edge fall in bin 0 and values above the last
// in bin n_bins_-1. With encode "ordinal" the output is the bin index
// (one column per input); with "onehot"/"onehot-dense" it is one 0/1
// column per bin, named <col>_<bin> with the bin printed as a Python
// float ("x0_0.0").
//
// Edges match scikit-learn 1.2 KBinsDiscretizer(subsample=None): "uniform"
// is numpy.linspace(min, max, n_bins+1); "quantile" is numpy.percentile at
// numpy.linspace(0, 100, n_bins+1), after which bins of width <= 1e-8 are
// removed and n_bins_ reduced (ties in the data). A constant column gets
// edges [-Inf, +Inf] and n_bins_ 1 (all values in bin 0). NaN and ±Inf are
// refused in fit and transform, as scikit-learn's input validation does.
type KBinsDiscretizer struct {
	Encode string `json:"encode"`
	// Float32 is set for dtype "float32": values are rounded to float32
	// before they are binned.
	Float32  bool     `json:"float32"`
	BinEdges []Floats `json:"bin_edges_"`
	NBins    []int    `json:"n_bins_"`
	Names    []string `json:"feature_names_in_"`
}

// Outputs implements Fitted.
func (k *KBinsDiscretizer) Outputs() []table.Field {
	if k.Encode == "ordinal" {
		return numericFields(k.Names)
	}
	var out []table.Field
	for j, name := range k.Names {
		for b := 0; b < k.NBins[j]; b++ {
			out = append(out, table.Field{Name: name + "_" + pythonIntFloat(b), Kind: table.Numeric})
		}
	}
	return out
}

// pythonIntFloat returns repr(float(b)) as Python prints it.
func pythonIntFloat(b int) string {
	if b < 1e16 {
		return strconv.Itoa(b) + ".0"
	}
	return strconv.FormatFloat(float64(b), 'e', -1, 64) // 1e+16, like Python
}

// Check implements Fitted (the rules are in kbins_discretizer_check.go).
func (k *KBinsDiscretizer) Check(nIn int) error { return CheckStep(nil, k, nIn) }

// Transform implements Fitted. Each input column is binned before any of
// its outputs is written, and outputs are written in input order, so out
// may share storage with in.
func (k *KBinsDiscretizer) Transform(in, out []table.Column, n int) error {
	var bins []int
	o := 0
	for j := range in {
		if err := rejectNaNOrInf("kbins_discretizer", &in[j]); err != nil {
			return err
		}
		src := in[j].Num[:n]
		inner := k.BinEdges[j][1 : len(k.BinEdges[j])-1]
		if k.Float32 {
			src = float32Copy(src)
		}
		if k.Encode == "ordinal" {
			out[j].Resize(n)
			dst := out[j].Num[:n]
			for i, x := range src {
				dst[i] = float64(binIndex(inner, x))
			}
			continue
		}
		if bins == nil {
			bins = make([]int, n)
		}
		for i, x := range src {
			bins[i] = binIndex(inner, x)
		}
		nb := k.NBins[j]
		for b := 0; b < nb; b++ {
			out[o+b].Resize(n)
			clear(out[o+b].Num[:n])
		}
		for i, b := range bins {
			out[o+b].Num[i] = 1
		}
		o += nb
	}
	return nil
}

// float32Copy returns xs rounded to float32, as numpy's astype(float32).
func float32Copy(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(float32(x))
	}
	return out
}

// binIndex returns the number of inner edges <= x
// (numpy.searchsorted(inner, x, side="right")).
func binIndex(inner []float64, x float64) int {
	return sort.Search(len(inner), func(i int) bool { return inner[i] > x })
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs are bin numbers or 0 and 1).
func (k *KBinsDiscretizer) ChecksOutput() bool { return true }
