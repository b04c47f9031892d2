package step

import (
	"fmt"

	"github.com/normguard/normguard/table"
)

// Indicators is a Fitted whose outputs can be 0/1 indicator columns
// (one_hot_encoder; kbins_discretizer with encode onehot or onehot-dense):
// for each row, every output is 0 or 1, never missing. Such a step's
// outputs are described by how many rows hold 1 in each, without
// materializing rows × outputs values (fit profiles them so).
type Indicators interface {
	Fitted
	// Indicators reports whether the outputs are 0/1 indicators
	// (false for kbins_discretizer with encode ordinal).
	Indicators() bool
	// CountOnes passes the n rows of in through the step as Transform
	// does, with Transform's errors, and returns for each output how
	// many rows hold 1 (ones) and whether row 0 does (first); every
	// other value is 0.
	CountOnes(in []table.Column, n int) (ones []int64, first []bool, err error)
}

// Indicators implements Indicators.
func (e *OneHotEncoder) Indicators() bool { return true }

// CountOnes implements Indicators: Transform's loop, counting.
func (e *OneHotEncoder) CountOnes(in []table.Column, n int) ([]int64, []bool, error) {
	const s = "one_hot_encoder"
	p, err := e.kernel()
	if err != nil {
		return nil, nil, err
	}
	if len(in) != len(p.cols) {
		return nil, nil, errInputs(s, len(in), len(p.cols))
	}
	if err := requireStrings(s, in, n); err != nil {
		return nil, nil, err
	}
	ones, first := make([]int64, len(p.fields)), make([]bool, len(p.fields))
	for j := range in {
		c, pc := &in[j], &p.cols[j]
		null := c.Null
		for i, v := range c.Str[:n] {
			pos := pc.position(v, null != nil && null[i])
			if pos >= 0 {
				ones[pos]++
				first[pos] = first[pos] || i == 0
			} else if pos == unknownIsFail {
				return nil, nil, unknownCategoryError(s, c, i,
					"set handle_unknown: ignore or infrequent_if_exist in the spec, or refit on data that has it")
			}
		}
	}
	return ones, first, nil
}

// Indicators implements Indicators.
func (k *KBinsDiscretizer) Indicators() bool { return k.Encode != "ordinal" }

// CountOnes implements Indicators (for encode onehot and onehot-dense):
// Transform's binning, counting.
func (k *KBinsDiscretizer) CountOnes(in []table.Column, n int) ([]int64, []bool, error) {
	total := 0
	for _, nb := range k.NBins {
		total += nb
	}
	if len(in) != len(k.NBins) || len(in) != len(k.BinEdges) {
		return nil, nil, errInputs("kbins_discretizer", len(in), len(k.NBins))
	}
	ones, first := make([]int64, total), make([]bool, total)
	o := 0
	for j := range in {
		if err := rejectNaNOrInf("kbins_discretizer", &in[j]); err != nil {
			return nil, nil, err
		}
		src := in[j].Num[:n]
		inner := k.BinEdges[j][1 : len(k.BinEdges[j])-1]
		if k.Float32 {
			src = float32Copy(src)
		}
		for _, x := range src {
			ones[o+binIndex(inner, x)]++
		}
		if n > 0 {
			first[o+binIndex(inner, src[0])] = true
		}
		o += k.NBins[j]
	}
	return ones, first, nil
}

// errInputs is CountOnes' error for a wrong number of input columns.
func errInputs(s string, got, want int) error {
	return fmt.Errorf("%s: got %d input columns, fitted for %d", s, got, want)
}
