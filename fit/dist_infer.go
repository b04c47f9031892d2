package fit

import (
	"math"
	"strings"

	"github.com/normguard/normguard/table"
)

// NumericScan is what type inference needs to know about a text column,
// tallied over a range of its rows so that ranges read on different
// machines can be merged: the column is numeric when every present value
// parses as a finite number and at least one value is present. Merging
// scans in any order gives the scan of the whole column.
type NumericScan struct {
	// Present counts the present (non-missing) values.
	Present int64
	// Stop is the row of the first present value that is not a finite
	// number, or -1 when there is none.
	Stop int64
	// Inf tells whether that value is infinite (else it does not parse).
	Inf bool
	// Value is its text.
	Value string
	// Wide tells whether a present value is an integer float64 does not
	// hold exactly (wideInteger): a passthrough column holding one stays
	// text (InferPassthroughScanned).
	Wide bool
}

// ScanNumeric scans rows [0, n) of the String column c, whose first row is
// row offset of the whole column.
func ScanNumeric(c *table.Column, n int, offset int64) NumericScan {
	s := NumericScan{Stop: -1}
	for i, v := range c.Str[:n] {
		if c.Null != nil && c.Null[i] {
			continue
		}
		s.Present++
		if !s.Wide && len(v) >= 16 && wideInteger(strings.TrimSpace(v)) {
			s.Wide = true
		}
		if s.Stop >= 0 {
			continue
		}
		x, ok := parseCell(v)
		if !ok || math.IsInf(x, 0) {
			s.Stop, s.Inf, s.Value = offset+int64(i), ok, v
		}
	}
	return s
}

// Merge adds the scan of other rows of the same column.
func (s *NumericScan) Merge(o *NumericScan) {
	s.Present += o.Present
	s.Wide = s.Wide || o.Wide
	if o.Stop >= 0 && (s.Stop < 0 || o.Stop < s.Stop) {
		s.Stop, s.Inf, s.Value = o.Stop, o.Inf, o.Value
	}
}

// InferScanned decides the kind of a group whose type the spec leaves out
// from the scans of its columns (in group order), as the local fit does:
// Numeric when every column is numeric, else String. An infinite value
// met before the group is found categorical is an error naming its row.
func InferScanned(names []string, scans []NumericScan, source string) (table.Kind, error) {
	for j, s := range scans {
		if s.Stop >= 0 && s.Inf {
			return table.KindUnknown, infiniteError(source, names[j], s.Stop, s.Value)
		}
		if s.Stop >= 0 || s.Present == 0 {
			return table.String, nil
		}
	}
	return table.Numeric, nil
}

// InferPassthroughScanned decides the kind of a passthrough column from
// its scan, as the local fit does: String when it holds an integer
// float64 does not hold exactly, else as InferScanned.
func InferPassthroughScanned(name string, s NumericScan, source string) (table.Kind, error) {
	if s.Wide {
		return table.String, nil
	}
	return InferScanned([]string{name}, []NumericScan{s}, source)
}

// ParseNumeric returns rows [0, n) of a String column that InferScanned
// found numeric, parsed as the local fit parses it (missing values are
// NaN).
func ParseNumeric(c *table.Column, n int) []float64 {
	nums := make([]float64, n)
	for i, v := range c.Str[:n] {
		if c.Null != nil && c.Null[i] {
			nums[i] = math.NaN()
			continue
		}
		nums[i], _ = parseCell(v)
	}
	return nums
}
