package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/normguard/normguard/onnx/onnxpb"
	"github.com/normguard/normguard/step"
)

// simpleImputer mirrors step.SimpleImputer: numeric columns get
// where(isnan(x), statistics_[j], x); text columns remember their fill
// value (a missing entry, "" in the input, then stands for it); columns
// whose statistic is missing are dropped; indicators of the
// indicator_features_ columns follow, 1.0 where the input was missing.
func (x *exporter) simpleImputer(f *step.SimpleImputer, cols []*column) ([]*column, error) {
	if f.HasPlaceholder() {
		return nil, fmt.Errorf("simple_imputer with a missing_values placeholder (not NaN) has no ONNX export yet: replace the placeholder by empty cells and use missing_values: NaN")
	}
	b := x.b
	fields := f.Outputs()
	textStep := f.StatisticsStr != nil
	var out []*column
	for j, c := range cols {
		if c.text != textStep {
			return nil, fmt.Errorf("column %q is %s, the fitted imputer %s", c.field, kindWord(c.text), kindWord(textStep))
		}
		if textStep {
			if f.StatisticsStr[j] == nil {
				continue
			}
			nc := *c
			if nc.missingAs == nil {
				nc.missingAs = proto.String(*f.StatisticsStr[j])
			}
			out = append(out, &nc)
			continue
		}
		v := f.Statistics[j]
		if math.IsNaN(v) {
			continue
		}
		out = append(out, &column{name: b.whereConst(b.isNaN(c.name), v, c.name)})
	}
	for _, j := range f.IndicatorFeatures {
		out = append(out, &column{name: b.cast(x.isMissing(cols[j]), pb.TensorProto_DOUBLE)})
	}
	for i, c := range out {
		c.field = fields[i].Name
	}
	return out, nil
}

func kindWord(text bool) string {
	if text {
		return "text"
	}
	return "numeric"
}

// isMissing returns bool [N,1]: whether the column's value is missing.
func (x *exporter) isMissing(c *column) string {
	b := x.b
	if !c.text {
		return b.isNaN(c.name)
	}
	still := int64(1)
	if c.missingAs != nil {
		still = 0
	}
	code := b.opML("LabelEncoder", []string{c.name},
		attrStrings("keys_strings", []string{""}), attrInts("values_int64s", []int64{still}), attrInt("default_int64", 0))
	return b.cast(code, pb.TensorProto_BOOL)
}

// codes maps one text column to int64 codes [N,1] with a LabelEncoder:
// code(v) for every category v of cats (nil is the missing category),
// def for anything else. A missing entry ("") takes the code of the value
// an imputer filled in, else of the missing category when cats has one.
func (x *exporter) codes(c *column, cats step.CategoryList, code func(k int) int64, def int64) (string, error) {
	keys := []string{""}
	vals := []int64{def}
	missing := -1
	for k, v := range cats {
		if v == nil {
			missing = k
			continue
		}
		if *v == "" {
			return "", fmt.Errorf("column %q: the empty category cannot be told from a missing value in an ONNX string input: %w", c.field, ErrUnsupported)
		}
		keys, vals = append(keys, *v), append(vals, code(k))
	}
	switch {
	case c.missingAs != nil:
		for i, k := range keys[1:] {
			if k == *c.missingAs {
				vals[0] = vals[i+1]
			}
		}
	case missing >= 0:
		vals[0] = code(missing)
	}
	return x.b.opML("LabelEncoder", []string{c.name},
		attrStrings("keys_strings", keys), attrInts("values_int64s", vals), attrInt("default_int64", def)), nil
}

// text returns an error unless every column is text.
func text(cols []*column) error {
	for _, c := range cols {
		if !c.text {
			return fmt.Errorf("column %q is numeric, encoders take categorical (text) columns", c.field)
		}
	}
	return nil
}

// addUnknown records the unknown-category flag (bool [N,1]) of a column.
func (x *exporter) addUnknown(field, isUnknown string) {
	x.unknown = append(x.unknown, unknownFlag{column: field, flag: x.b.cast(isUnknown, pb.TensorProto_INT64)})
}

// oneHot mirrors step.OneHotEncoder's plan: each category's output after
// infrequent grouping and drop_idx_, unknown values to the infrequent
// column (infrequent_if_exist, when there is one) or to no column
// (ignore); with handle_unknown error, which a graph cannot raise, the
// column's outputs are NaN for an unknown value. Unknown values are
// flagged in UnknownOutput.
func (x *exporter) oneHot(f *step.OneHotEncoder, cols []*column) ([]*column, error) {
	if err := text(cols); err != nil {
		return nil, err
	}
	b := x.b
	fields := f.Outputs()
	var out []*column
	for j, c := range cols {
		cats := f.Categories[j]
		infrequent := make([]bool, len(cats))
		nInf := 0
		if f.InfrequentCategories != nil {
			for _, v := range f.InfrequentCategories[j] {
				for k, w := range cats {
					if (v == nil) == (w == nil) && (v == nil || *v == *w) {
						infrequent[k] = true
						nInf++
					}
				}
			}
		}
		nFreq := len(cats) - nInf
		nOut := nFreq
		if nInf > 0 {
			nOut++
		}
		drop := -1
		if f.DropIdx != nil && f.DropIdx[j] != nil {
			drop = *f.DropIdx[j]
		}
		// final maps a position before dropping to the column's output
		// position, -1 for the dropped one.
		final := func(m int) int64 {
			switch {
			case m == drop:
				return -1
			case drop >= 0 && m > drop:
				m--
			}
			return int64(m)
		}
		mapped := make([]int, len(cats))
		next := 0
		for k := range cats {
			if infrequent[k] {
				mapped[k] = nFreq
				continue
			}
			mapped[k] = next
			next++
		}
		const unknownCode = -2
		pos, err := x.codes(c, cats, func(k int) int64 { return final(mapped[k]) }, unknownCode)
		if err != nil {
			return nil, err
		}
		isUnknown := b.equal(pos, b.int64s([]int64{unknownCode}))
		x.addUnknown(c.field, isUnknown)
		width := nOut
		if drop >= 0 {
			width--
		}
		if width == 0 {
			continue
		}
		unknownTo := int64(-1)
		if f.HandleUnknown == "infrequent_if_exist" && nInf > 0 {
			unknownTo = final(nFreq)
		}
		pos = b.where(isUnknown, b.int64s([]int64{unknownTo}), pos)
		block := b.oneHot(pos, width)
		if f.HandleUnknown == "error" {
			block = b.nanIf(isUnknown, block)
		}
		for _, name := range b.splitCols(block, width) {
			out = append(out, &column{name: name})
		}
	}
	if len(out) != len(fields) {
		return nil, fmt.Errorf("built %d one-hot columns, the encoder has %d outputs", len(out), len(fields))
	}
	for i, c := range out {
		c.field = fields[i].Name
	}
	return out, nil
}

// ordinal mirrors step.OrdinalEncoder: category k's code is k, the
// missing category's is encoded_missing_value, an unknown value's is
// unknown_value (NaN with handle_unknown error, which a graph cannot
// raise). Unknown values are flagged in UnknownOutput.
func (x *exporter) ordinal(f *step.OrdinalEncoder, cols []*column) ([]*column, error) {
	if err := text(cols); err != nil {
		return nil, err
	}
	b := x.b
	unknown := math.NaN()
	if f.UnknownValue != nil {
		unknown = float64(*f.UnknownValue)
	}
	out := make([]*column, len(cols))
	for j, c := range cols {
		cats := f.Categories[j]
		// Index 0 of the table is the unknown code, k+1 category k's.
		table := make([]float64, len(cats)+1)
		table[0] = unknown
		for k, v := range cats {
			table[k+1] = float64(k)
			if v == nil {
				table[k+1] = float64(f.EncodedMissingValue)
			}
		}
		idx, err := x.codes(c, cats, func(k int) int64 { return int64(k + 1) }, 0)
		if err != nil {
			return nil, err
		}
		x.addUnknown(c.field, b.equal(idx, b.int64s([]int64{0})))
		out[j] = &column{name: b.op("Gather", []string{b.doubles(table, int64(len(table))), idx}, attrInt("axis", 0)),
			field: c.field}
	}
	return out, nil
}
