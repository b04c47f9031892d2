package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
	"github.com/normguard/normguard/validate"
)

// Vector columns in diagnose. When the observed file holds a vector column
// of the artifact (the vectors written to the store), the column is judged
// as a whole, not dimension by dimension:
//
//   - paired (--raw): each observed vector is compared with the artifact's
//     output for the same raw vector: ok (equal up to float32 rounding),
//     precision_loss (float16 rounding), not_normalized (the raw vectors
//     were fed as they are), double_normalized (the steps were applied
//     twice), dimension_mismatch, normalized_unexpectedly (unit vectors
//     where the artifact gives others) or unknown_mismatch;
//   - unpaired: the observed vectors are judged against the column's
//     embedding contract (embed.Check) when the column has no steps, and
//     their norms against unit length when its last step is an l2
//     normalizer; other chains need --raw (an error otherwise).
//
// The artifact's other columns are diagnosed as before; an observed file
// holding a vector column's dimensions one per column is an error.

// vectorTol bounds the relative difference of a vector value from the
// artifact's output that still counts as equal (float32 rounding).
const vectorTol = 1.5e-7

// float16Tol bounds the relative difference of float16 rounding.
const float16Tol = 1.0 / 1024

// diagnoseAll diagnoses the vector columns the observed file holds, then
// the artifact's other columns, and returns one report.
func diagnoseAll(o diagnoseOptions, a *artifact.Artifact, d *validate.Data) (*diagnose.Report, error) {
	if len(a.Embeddings) == 0 {
		return diagnoseFeatures(o, a, d)
	}
	header, err := fileHeader(o.observed)
	if err != nil {
		return nil, err
	}
	var verdicts []diagnose.Verdict
	drop := map[string]bool{}
	for _, e := range a.Embeddings {
		// A vector column is never judged dimension by dimension: its
		// dimension columns carry no profile of their own.
		drop[e.Column] = true
		if !header[e.Column] {
			if len(e.Columns) > 0 && header[e.Columns[0]] {
				return nil, fmt.Errorf("diagnose: %s holds %s .. %s, the dimensions of vector column %q one per column; a vector is diagnosed as a whole: write the column %q as vectors (JSON Lines arrays, .npy or a Parquet list), or leave its columns out",
					o.observed, e.Columns[0], e.Columns[len(e.Columns)-1], e.Column, e.Column)
			}
			continue
		}
		v, err := diagnoseVector(o, a, e, d)
		if err != nil {
			return nil, err
		}
		verdicts = append(verdicts, v)
	}
	rest := withoutVectorGroups(a, drop)
	rep := &diagnose.Report{Features: []diagnose.Verdict{}}
	if len(rest.Outputs) > 0 {
		if rep, err = diagnoseFeatures(o, rest, d); err != nil {
			return nil, err
		}
	}
	rep.Features = append(verdicts, rep.Features...)
	return rep, nil
}

// withoutVectorGroups returns a shallow copy of a without the groups,
// inputs and outputs of the vector columns in drop.
func withoutVectorGroups(a *artifact.Artifact, drop map[string]bool) *artifact.Artifact {
	if len(drop) == 0 {
		return a
	}
	dims := map[string]bool{}
	for _, e := range a.Embeddings {
		if drop[e.Column] {
			for _, c := range e.Columns {
				dims[c] = true
			}
		}
	}
	out := *a
	sp := *a.Spec
	out.Spec, sp.Columns = &sp, nil
	out.Groups, out.Inputs, out.Outputs = nil, nil, nil
	for gi, g := range a.Groups {
		if len(g.Columns) > 0 && dims[g.Columns[0]] {
			continue
		}
		out.Groups = append(out.Groups, g)
		sp.Columns = append(sp.Columns, a.Spec.Columns[gi])
	}
	for _, f := range a.Inputs {
		if !dims[f.Name] {
			out.Inputs = append(out.Inputs, f)
		}
	}
	produced := map[string]bool{}
	for _, g := range a.Groups {
		if len(g.Columns) > 0 && dims[g.Columns[0]] {
			names := g.Columns
			if n := len(g.Steps); n > 0 {
				names = nil
				for _, f := range g.Steps[n-1].Fitted.Outputs() {
					names = append(names, f.Name)
				}
			}
			for _, n := range names {
				produced[n] = true
			}
		}
	}
	for _, f := range a.Outputs {
		if !produced[f.Name] {
			out.Outputs = append(out.Outputs, f)
		}
	}
	return &out
}

// vectorGroup returns the fitted group of vector column e.
func vectorGroup(a *artifact.Artifact, e artifact.Embedding) *artifact.Group {
	for i := range a.Groups {
		if slices.Equal(a.Groups[i].Columns, e.Columns) {
			return &a.Groups[i]
		}
	}
	return nil
}

// readVectorColumn reads one vector column of a data file.
func readVectorColumn(path, name string) (*table.Column, error) {
	r, err := table.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fields := []table.Field{{Name: name, Kind: table.Vector}}
	if err := r.Project(fields); err != nil {
		return nil, err
	}
	cols, rows, err := table.ReadAll(r, fields)
	if err != nil {
		return nil, err
	}
	if rows == 0 || cols[0].Dim == 0 {
		return nil, fmt.Errorf("diagnose: %s: vector column %q has no vector: it cannot be judged", path, name)
	}
	return &cols[0], nil
}

// diagnoseVector judges the observed vectors of e.
func diagnoseVector(o diagnoseOptions, a *artifact.Artifact, e artifact.Embedding, d *validate.Data) (diagnose.Verdict, error) {
	obs, err := readVectorColumn(o.observed, e.Column)
	if err != nil {
		return diagnose.Verdict{}, err
	}
	g := vectorGroup(a, e)
	if g == nil {
		return diagnose.Verdict{}, fmt.Errorf("diagnose: the artifact has no group for vector column %q", e.Column)
	}
	v := diagnose.Verdict{Name: e.Column, Evidence: map[string]any{"dimension": obs.Dim, "expected_dimension": len(g.Columns)}}
	if present := obs.Len() - missingCount(obs); present == 0 {
		return v, fmt.Errorf("diagnose: vector column %q: the observed data holds no vector (%d rows, all missing): it cannot be judged", e.Column, obs.Len())
	}
	if obs.Dim != e.Contract.Dimension {
		v.Verdict = embed.CodeDimensionMismatch
		setExplanation(&v, fmt.Sprintf("the observed vectors have %d values, the artifact's %d", obs.Dim, e.Contract.Dimension),
			"feed vectors of the contract's model and dimension, or refit the artifact on the new vectors")
		return v, nil
	}
	if d == nil {
		return unpairedVector(e, g, obs, v)
	}
	if d.Vectors[e.Column] == nil {
		return v, fmt.Errorf("diagnose: %s has no column %q, the artifact's vector column; pass the rows production received", o.raw, e.Column)
	}
	raw, err := readVectorColumn(o.raw, e.Column) // row by row: every raw vector is needed
	if err != nil {
		return v, err
	}
	if raw.Len() != obs.Len() {
		return v, fmt.Errorf("diagnose: vector column %q: %s has %d rows, %s %d; pass the same rows in the same order", e.Column, o.raw, raw.Len(), o.observed, obs.Len())
	}
	if raw.Dim != e.Contract.Dimension {
		return v, fmt.Errorf("diagnose: vector column %q: the raw vectors have %d values, the artifact's %d (see the dimension_mismatch anomaly)", e.Column, raw.Dim, e.Contract.Dimension)
	}
	// Rows where both vectors are present.
	var rows []int
	for i := range raw.Len() {
		if !raw.IsMissing(i) && !obs.IsMissing(i) && finite(raw.Row(i)) {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return v, fmt.Errorf("diagnose: vector column %q: no row has a raw and an observed vector: it cannot be judged", e.Column)
	}
	rawM, obsM := gather(raw, rows), gather(obs, rows)
	exp, err := applySteps(g.Steps, rawM, raw.Dim, len(rows))
	if err != nil {
		return v, fmt.Errorf("diagnose: vector column %q: %w", e.Column, err)
	}
	twice, _ := applySteps(g.Steps, exp, raw.Dim, len(rows))
	v.Evidence["rows"] = len(rows)
	expDiff := maxRelDiff(obsM, exp)
	v.Evidence["max_relative_difference"] = expDiff
	switch {
	case expDiff <= vectorTol:
		v.Verdict = diagnose.OK
		setExplanation(&v, "the observed vectors are the artifact's outputs", "")
	case expDiff <= float16Tol:
		v.Verdict = diagnose.PrecisionLoss
		setExplanation(&v, fmt.Sprintf("the observed vectors differ from the artifact's outputs by up to %.3g (relative), as float16 rounding does", expDiff),
			"store the vectors as float32 (or float64)")
	case len(g.Steps) > 0 && maxRelDiff(obsM, rawM) <= vectorTol:
		v.Verdict = diagnose.NotNormalized
		setExplanation(&v, "the observed vectors are the raw vectors: the steps were not applied", "apply the artifact (normguard transform) before writing the vectors")
	case len(g.Steps) > 0 && twice != nil && maxRelDiff(obsM, twice) <= vectorTol:
		v.Verdict = diagnose.DoubleNormalized
		setExplanation(&v, "the observed vectors are the artifact's outputs passed through its steps a second time", "apply the artifact once")
	case unitShare(obsM, raw.Dim) >= 0.99 && unitShare(exp, raw.Dim) < 0.5:
		v.Verdict = embed.CodeNormalizedUnexpectedly
		setExplanation(&v, "the observed vectors are unit length, the artifact's outputs are not", "remove the extra L2 normalization, or refit with a normalizer step")
	default:
		v.Verdict = diagnose.UnknownMismatch
		setExplanation(&v, fmt.Sprintf("the observed vectors differ from the artifact's outputs by up to %.3g (relative), by no known cause", expDiff),
			"check which model and which steps produced the observed vectors")
	}
	return v, nil
}

// unpairedVector judges observed vectors without their raw vectors.
func unpairedVector(e artifact.Embedding, g *artifact.Group, obs *table.Column, v diagnose.Verdict) (diagnose.Verdict, error) {
	var rows []int
	for i := range obs.Len() {
		if !obs.IsMissing(i) {
			rows = append(rows, i)
		}
	}
	m, err := embed.NewMatrix(len(rows), obs.Dim, gather(obs, rows))
	if err != nil {
		return v, err
	}
	switch {
	case len(g.Steps) == 0:
		findings, err := embed.Check(e.Contract, m, embed.CheckOptions{})
		if err != nil {
			return v, fmt.Errorf("diagnose: vector column %q: %w", e.Column, err)
		}
		if len(findings) == 0 {
			v.Verdict = diagnose.OK
			setExplanation(&v, "the observed vectors keep the column's embedding contract", "")
			return v, nil
		}
		f := findings[0]
		v.Verdict = f.Code
		v.Explanation, v.Fix = f.Message+": "+f.Fix, f.Fix
		for k, x := range f.Evidence {
			v.Evidence[k] = x
		}
		return v, nil
	case isL2Normalizer(g.Steps[len(g.Steps)-1]):
		share := unitShare(m.Data, obs.Dim)
		v.Evidence["unit_share"] = share
		if share >= 0.99 {
			v.Verdict = diagnose.OK
			setExplanation(&v, "the observed vectors are unit length, as the artifact's l2 normalizer makes them", "")
			return v, nil
		}
		v.Verdict = diagnose.NotNormalized
		setExplanation(&v, fmt.Sprintf("only %.1f%% of the observed vectors are unit length; the artifact ends with an l2 normalizer", 100*share),
			"apply the artifact (normguard transform) before writing the vectors")
		return v, nil
	}
	return v, fmt.Errorf("diagnose: vector column %q: vectors passed through %s cannot be judged without the raw vectors; pass --raw", e.Column, g.Steps[len(g.Steps)-1].Name)
}

func isL2Normalizer(s step.FittedStep) bool {
	nz, ok := s.Fitted.(*step.Normalizer)
	return ok && nz.Norm == "l2"
}

func setExplanation(v *diagnose.Verdict, what, fix string) {
	v.Explanation, v.Fix = what, fix
	if fix != "" {
		v.Explanation = what + ": " + fix
	}
}

// gather returns the given rows of a vector column, row-major.
func gather(c *table.Column, rows []int) []float64 {
	out := make([]float64, 0, len(rows)*c.Dim)
	for _, i := range rows {
		out = append(out, c.Row(i)...)
	}
	return out
}

// applySteps passes n vectors (row-major) through a group's steps.
func applySteps(steps []step.FittedStep, vecs []float64, dim, n int) ([]float64, error) {
	cols := make([]table.Column, dim)
	for k := range cols {
		cols[k] = table.Column{Kind: table.Numeric, Num: make([]float64, n), Name: fmt.Sprint(k)}
		for i := range n {
			cols[k].Num[i] = vecs[i*dim+k]
		}
	}
	for _, s := range steps {
		out, err := transform.ApplyStep(s.Fitted, cols, n, 1)
		if err != nil {
			return nil, err
		}
		cols = out
	}
	res := make([]float64, n*dim)
	for k := range cols {
		for i, x := range cols[k].Num[:n] {
			res[i*dim+k] = x
		}
	}
	return res, nil
}

// maxRelDiff returns max |a_i - b_i| / max(1, |b_i|) over the values
// (+Inf when they differ in NaN-ness).
func maxRelDiff(a, b []float64) float64 {
	worst := 0.0
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
			return math.Inf(1)
		}
		if d := math.Abs(a[i]-b[i]) / math.Max(1, math.Abs(b[i])); d > worst && !math.IsNaN(d) {
			worst = d
		}
	}
	return worst
}

// unitShare returns the share of vectors whose L2 norm is within
// embed.DefaultUnitTolerance of 1.
func unitShare(vecs []float64, dim int) float64 {
	n := len(vecs) / dim
	if n == 0 {
		return 0
	}
	unit := 0
	for i := range n {
		s := 0.0
		for _, x := range vecs[i*dim : (i+1)*dim] {
			s += x * x
		}
		if math.Abs(math.Sqrt(s)-1) <= embed.DefaultUnitTolerance {
			unit++
		}
	}
	return float64(unit) / float64(n)
}

func finite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// missingCount is the number of rows of c holding no value.
func missingCount(c *table.Column) int {
	n := 0
	for i := range c.Len() {
		if c.IsMissing(i) {
			n++
		}
	}
	return n
}
