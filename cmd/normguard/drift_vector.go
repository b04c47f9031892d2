package main

import (
	"fmt"

	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/table"
)

// Vector columns in drift. With --artifact, a vector column's current
// vectors are compared with its contract (driftcheck.Vectors:
// embed.DriftFromContract, the stored sample and mean vector) and its
// dimension columns are not compared one by one; with --reference, the vector columns the two files
// share are compared with embed.Drift. A vector column drifts when the MMD
// test does (exit 1); one that cannot be compared (no vectors, another
// dimension) is an error (exit 2).

// presentMatrix returns the present vectors of a Vector column.
func presentMatrix(c *table.Column) (embed.Matrix, error) {
	if c.Null == nil {
		return embed.NewMatrix(c.Len(), c.Dim, c.Vec)
	}
	var data []float64
	for i := range c.Len() {
		if !c.Null[i] {
			data = append(data, c.Row(i)...)
		}
	}
	return embed.NewMatrix(len(data)/max(c.Dim, 1), c.Dim, data)
}

// splitVectorColumns compares the vector columns of ref that cur holds
// too and returns the other columns of each side for the feature-wise
// comparison.
func splitVectorColumns(ref, cur []table.Column, o driftOptions) (rs, cs []table.Column, vs []report.VectorDrift, err error) {
	for _, c := range cur {
		if c.Kind != table.Vector {
			cs = append(cs, c)
		}
	}
	for i := range ref {
		r := &ref[i]
		if r.Kind != table.Vector {
			rs = append(rs, *r)
			continue
		}
		if !selectedName(r.Name, o) {
			continue
		}
		c := findColumn(cur, r.Name)
		if c == nil || c.Kind != table.Vector {
			return nil, nil, nil, fmt.Errorf("drift: %s holds vectors in column %q, but %s has no vectors there; compare files with the same vector columns", o.reference, r.Name, o.current)
		}
		if c.Dim != r.Dim {
			return nil, nil, nil, fmt.Errorf("drift: vector column %q has %d dimensions in %s and %d in %s: the vectors come from different models or were truncated, and cannot be compared", r.Name, r.Dim, o.reference, c.Dim, o.current)
		}
		rm, err := presentMatrix(r)
		if err != nil {
			return nil, nil, nil, err
		}
		cm, err := presentMatrix(c)
		if err != nil {
			return nil, nil, nil, err
		}
		res, err := embed.Drift(rm, cm, embed.DriftOptions{})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("drift: vector column %q could not be compared: %w", r.Name, err)
		}
		vs = append(vs, report.VectorDrift{Column: r.Name, Reference: o.reference, Result: res})
	}
	return rs, cs, vs, nil
}

func findColumn(cols []table.Column, name string) *table.Column {
	for i := range cols {
		if cols[i].Name == name {
			return &cols[i]
		}
	}
	return nil
}

// selectedName applies --columns and --exclude to a vector column.
func selectedName(name string, o driftOptions) bool {
	for _, x := range o.exclude {
		if x == name {
			return false
		}
	}
	if len(o.columns) == 0 {
		return true
	}
	for _, x := range o.columns {
		if x == name {
			return true
		}
	}
	return false
}

// vectorsDrift reports whether some vector column drifts.
func vectorsDrift(vs []report.VectorDrift) bool {
	for _, v := range vs {
		if v.Result.Drift {
			return true
		}
	}
	return false
}
