package validate

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// Validation of data summarized elsewhere, in parts that merge (the
// shards of a normguard-beam job): the scalar inputs as merged SummaryAcc
// values, the vector columns as merged VectorData. CheckMerged gives the
// report CheckData gives on the same rows read at once.

// Add accumulates the first n rows of a batch's vector column c (a Vector
// column: Dim 0 when every row is missing) into v, checked against
// contract, as Read does while a file streams by. Rows are numbered in
// the order batches are added.
func (v *VectorData) Add(c *table.Column, n int, contract *embed.Contract) error {
	return v.add(c, n, contract)
}

// Merge adds the rows of o (the same column, rows after v's) to v. Two
// parts whose vectors have different dimensions are an error, as one file
// holding both would be.
func (v *VectorData) Merge(o *VectorData) error {
	switch {
	case o.Checker == nil:
	case v.Checker == nil:
		v.Checker, v.Dim = o.Checker, o.Dim
	case v.Dim != o.Dim:
		return fmt.Errorf("vector column %q: vectors of %d values after vectors of %d", v.Column, o.Dim, v.Dim)
	default:
		if err := v.Checker.Merge(o.Checker); err != nil {
			return fmt.Errorf("vector column %q: %w", v.Column, err)
		}
	}
	v.Rows += o.Rows
	v.Missing += o.Missing
	return nil
}

// CheckMerged validates rows of data with the given header against the
// artifact, from summaries made elsewhere: sum returns the Summary of an
// input column the header holds (p is its profile, known its complete
// training categories or nil; sum is called only for the selected scalar
// inputs), vectors the artifact's vector columns the data holds (nil
// entries or absent names: the data lacks them). The report equals
// CheckData's on the same rows: both run check.
func CheckMerged(a *artifact.Artifact, rows int64, header []string, sum func(p *profile.Feature, known []string) (Summary, error), vectors map[string]*VectorData, opt Options) (*Report, error) {
	d := &Data{Header: header, Rows: rows, Vectors: map[string]*VectorData{}}
	for n, v := range vectors {
		if v != nil {
			d.Vectors[n] = v
		}
	}
	return check(a, d, sum, opt)
}

// check validates d against the artifact: the scalar inputs the header
// holds through sum, the absent ones as missing, the other columns by
// name, then the vector columns (d.Vectors, or d.Cols' vectors and
// dimension columns).
func check(a *artifact.Artifact, d *Data, sum func(p *profile.Feature, known []string) (Summary, error), opt Options) (*Report, error) {
	sc, err := SchemaOf(a)
	if err != nil {
		return nil, err
	}
	if err := opt.Validate(append(sc.Names(), vectorNames(a)...)); err != nil {
		return nil, err
	}
	if d.Rows <= 0 {
		where := "the data"
		if d.Path != "" {
			where = d.Path
		}
		return nil, fmt.Errorf("validate: %s has no data rows (empty or header only): nothing to validate: %w", where, ErrInvalid)
	}
	inHeader := map[string]bool{}
	for _, h := range d.Header {
		inHeader[h] = true
	}
	inputs := map[string]bool{}
	for _, e := range a.Embeddings {
		inputs[e.Column] = true
	}
	dims := vectorDims(a)
	sopt, vectorsOnly := scalarOptions(opt, a)
	var sums []Summary
	for i := range sc.Features {
		p := &sc.Features[i]
		inputs[p.Name] = true
		if !sopt.selected(p.Name) || dims[p.Name] || vectorsOnly {
			continue
		}
		if !inHeader[p.Name] {
			sums = append(sums, Summary{Name: p.Name, Absent: true, Min: math.NaN(), Max: math.NaN()})
			continue
		}
		s, err := sum(p, sc.Known[p.Name])
		if err != nil {
			return nil, err
		}
		sums = append(sums, s)
	}
	var extra []string
	for _, h := range d.Header {
		if !inputs[h] && !vectorsOnly {
			extra = append(extra, h)
		}
	}
	rep, err := CheckSummaries(sc, d.Rows, sums, extra, sopt)
	if err != nil || len(a.Embeddings) == 0 {
		return rep, err
	}
	return checkVectors(rep, a, d, opt)
}
