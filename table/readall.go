package table

import (
	"math"
	"strconv"
	"strings"
)

// ReadAll reads every remaining batch of r (already projected) into whole
// columns, one per projected field.
func ReadAll(r Reader, fields []Field) ([]Column, int, error) {
	cols := NewColumns(fields)
	rows := 0
	for r.Next() {
		b := r.Batch()
		for j := range b.Cols {
			src, dst := &b.Cols[j], &cols[j]
			if dst.Kind == Numeric {
				dst.Num = append(dst.Num, src.Num[:b.Rows]...)
				continue
			}
			dst.Str = append(dst.Str, src.Str[:b.Rows]...)
			if src.Null != nil && dst.Null == nil {
				dst.Null = make([]bool, rows, rows+b.Rows)
			}
			if dst.Null != nil {
				if src.Null != nil {
					dst.Null = append(dst.Null, src.Null[:b.Rows]...)
				} else {
					dst.Null = append(dst.Null, make([]bool, b.Rows)...)
				}
			}
		}
		rows += b.Rows
	}
	return cols, rows, r.Err()
}

// InferNumeric returns a String column as a Numeric one when every present
// value parses as a number (spaces around it allowed) and at least one is
// present; ok is false otherwise.
func InferNumeric(c *Column) (Column, bool) {
	if c.Kind == Numeric {
		return *c, true
	}
	nums := make([]float64, len(c.Str))
	present := 0
	for i, s := range c.Str {
		if c.Null != nil && c.Null[i] {
			nums[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return Column{}, false
		}
		nums[i] = v
		present++
	}
	if present == 0 {
		return Column{}, false
	}
	return Column{Name: c.Name, Kind: Numeric, Num: nums}, true
}
