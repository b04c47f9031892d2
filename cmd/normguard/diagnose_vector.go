package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/profile"
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
// Both are judged on every vector, the files read a batch at a time (the
// raw and observed files in step): the verdicts are maxima, shares and
// embed.Checker's sums, so memory is one batch of each file and the
// dimension's sums, whatever the files' sizes (holding the column whole
// took 9 GB for a 1 GB .npy).
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
	var names []string
	for _, e := range a.Embeddings {
		names = append(names, e.Column)
		if len(e.Columns) > 0 {
			names = append(names, e.Columns[0])
		}
	}
	header, err := fileHeaderFor(o.observed, a, names)
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
			// Nothing of the column can be judged: a pass would be
			// silent (attack run 18 F6), as for an absent output.
			return nil, fmt.Errorf("diagnose: %w", validate.MissingVectorColumn(o.observed, a, e.Column))
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
	// The profile goes with the columns kept: an output profile holding
	// the vector's dimensions no longer matched the outputs, and diagnose
	// without --raw said "refit it", which gave the same artifact
	// (attack run 18 F7f).
	if a.Profile != nil {
		ps := profile.Set{}
		for _, p := range a.Profile.Inputs {
			if !dims[p.Name] {
				ps.Inputs = append(ps.Inputs, p)
			}
		}
		for _, p := range a.Profile.Outputs {
			if !produced[p.Name] {
				ps.Outputs = append(ps.Outputs, p)
			}
		}
		out.Profile = &ps
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

// vectorStream reads one vector column of a data file a batch at a time,
// handing out the rows in views of at most the rest of the current batch,
// so that diagnose holds one batch of each file, never the column.
type vectorStream struct {
	path, name string
	r          table.Reader
	b          *table.Batch
	off        int // rows of b handed out
	rows       int // rows handed out in all
	dim        int // the vectors' dimension (0 until the first vector)
	done       bool
}

func openVectorStream(path string, a *artifact.Artifact, name string) (*vectorStream, error) {
	r, err := validate.OpenFor(path, a) // a lone .npy is read as a's only vector column

	if err != nil {
		return nil, err
	}
	if err := r.Project([]table.Field{{Name: name, Kind: table.Vector}}); err != nil {
		r.Close()
		return nil, err
	}
	return &vectorStream{path: path, name: name, r: r}, nil
}

func (s *vectorStream) Close() error { return s.r.Close() }

// avail returns how many rows the current batch still holds, reading the
// next batch when it holds none; 0 at the end of the file.
func (s *vectorStream) avail() (int, error) {
	for !s.done && (s.b == nil || s.off >= s.b.Rows) {
		if !s.r.Next() {
			s.done = true
			if err := s.r.Err(); err != nil {
				return 0, err
			}
			break
		}
		s.b, s.off = s.r.Batch(), 0
		if c := &s.b.Cols[0]; c.Dim > 0 {
			if s.dim > 0 && c.Dim != s.dim {
				return 0, fmt.Errorf("diagnose: %s: vector column %q: vectors of %d values after vectors of %d; every vector of a column must have the same dimension", s.path, s.name, c.Dim, s.dim)
			}
			s.dim = c.Dim
		}
	}
	if s.done {
		return 0, nil
	}
	return s.b.Rows - s.off, nil
}

// take returns the next n rows (n ≤ avail) as a view of the current batch,
// valid until the next avail.
func (s *vectorStream) take(n int) table.Column {
	c := s.b.Cols[0].Slice(s.off, s.off+n)
	if c.Dim == 0 && c.Null == nil { // a batch before the first vector: every row missing
		c.Null = make([]bool, n)
		for i := range c.Null {
			c.Null[i] = true
		}
	}
	s.off += n
	s.rows += n
	return c
}

// diagnoseVector judges the observed vectors of e, reading the observed
// (and raw) file a batch at a time: every vector is judged, in memory
// bounded by a batch and the dimension, whatever the file's size.
func diagnoseVector(o diagnoseOptions, a *artifact.Artifact, e artifact.Embedding, d *validate.Data) (diagnose.Verdict, error) {
	g := vectorGroup(a, e)
	if g == nil {
		return diagnose.Verdict{}, fmt.Errorf("diagnose: the artifact has no group for vector column %q", e.Column)
	}
	v := diagnose.Verdict{Name: e.Column, Evidence: map[string]any{"expected_dimension": len(g.Columns)}}
	if d == nil {
		return unpairedVector(o.observed, a, e, g, v)
	}
	if d.Vectors[e.Column] == nil {
		return v, fmt.Errorf("diagnose: %s has no column %q, the artifact's vector column; pass the rows production received", o.raw, e.Column)
	}
	return pairedVector(o, a, e, g, v)
}

// observedDim checks the observed vectors' dimension once the stream knows
// it: done reports a verdict (dimension_mismatch) in v.
func observedDim(s *vectorStream, e artifact.Embedding, v *diagnose.Verdict) (done bool) {
	v.Evidence["dimension"] = s.dim
	if s.dim == e.Contract.Dimension {
		return false
	}
	v.Verdict = embed.CodeDimensionMismatch
	setExplanation(v, fmt.Sprintf("the observed vectors have %d values, the artifact's %d", s.dim, e.Contract.Dimension),
		"feed vectors of the contract's model and dimension, or refit the artifact on the new vectors")
	return true
}

// observedEmpty is the error for observed data without a vector (nil when
// it holds one).
func observedEmpty(s *vectorStream, present int, column string) error {
	if s.rows == 0 || s.dim == 0 {
		return fmt.Errorf("diagnose: %s: vector column %q has no vector: it cannot be judged", s.path, column)
	}
	if present == 0 {
		return fmt.Errorf("diagnose: vector column %q: the observed data holds no vector (%d rows, all missing): it cannot be judged", column, s.rows)
	}
	return nil
}

// presentRows lists the rows of c holding a vector.
func presentRows(c *table.Column) []int {
	var rows []int
	for i := range c.Len() {
		if !c.IsMissing(i) {
			rows = append(rows, i)
		}
	}
	return rows
}

// pairedChunk bounds the rows compared at a time: their raw, observed,
// expected and twice-applied copies stay a few megabytes.
const pairedChunk = 2048

// pairedVector compares each observed vector with the artifact's output
// for the raw vector of the same row, both files read in step.
func pairedVector(o diagnoseOptions, a *artifact.Artifact, e artifact.Embedding, g *artifact.Group, v diagnose.Verdict) (diagnose.Verdict, error) {
	obs, err := openVectorStream(o.observed, a, e.Column)
	if err != nil {
		return v, err
	}
	defer obs.Close()
	raw, err := openVectorStream(o.raw, a, e.Column) // row by row: every raw vector is needed
	if err != nil {
		return v, err
	}
	defer raw.Close()
	dim := e.Contract.Dimension
	var (
		rows, present, obsUnit, expUnit int
		expDiff, rawDiff, twiceDiff     float64
		twiceOK, dimChecked             = true, false
	)
	for {
		no, err := obs.avail()
		if err != nil {
			return v, err
		}
		nr, err := raw.avail()
		if err != nil {
			return v, err
		}
		if !dimChecked && obs.dim > 0 {
			dimChecked = true
			if observedDim(obs, e, &v) {
				return v, nil
			}
		}
		if no == 0 && nr == 0 {
			break
		}
		if no == 0 || nr == 0 { // one file ended: count the other's rows (a mismatch, reported below)
			if no > 0 {
				c := obs.take(no)
				present += no - missingCount(&c)
			} else {
				raw.take(nr)
			}
			continue
		}
		k := min(no, nr, pairedChunk)
		oc, rc := obs.take(k), raw.take(k)
		present += k - missingCount(&oc)
		if oc.Dim != dim || rc.Dim != dim {
			continue // no vector yet, or raw vectors of another dimension (an error below)
		}
		var both []int
		for i := range k {
			if !rc.IsMissing(i) && !oc.IsMissing(i) && finite(rc.Row(i)) {
				both = append(both, i)
			}
		}
		if len(both) == 0 {
			continue
		}
		rawM, obsM := gather(&rc, both), gather(&oc, both)
		exp, err := applySteps(g.Steps, rawM, dim, len(both))
		if err != nil {
			return v, fmt.Errorf("diagnose: vector column %q: %w", e.Column, err)
		}
		rows += len(both)
		expDiff = max(expDiff, maxRelDiff(obsM, exp))
		if len(g.Steps) > 0 {
			rawDiff = max(rawDiff, maxRelDiff(obsM, rawM))
			if twice, err := applySteps(g.Steps, exp, dim, len(both)); err != nil {
				twiceOK = false
			} else {
				twiceDiff = max(twiceDiff, maxRelDiff(obsM, twice))
			}
		}
		obsUnit += unitCount(obsM, dim)
		expUnit += unitCount(exp, dim)
	}
	if err := observedEmpty(obs, present, e.Column); err != nil {
		return v, err
	}
	if raw.rows == 0 || raw.dim == 0 {
		return v, fmt.Errorf("diagnose: %s: vector column %q has no vector: it cannot be judged", o.raw, e.Column)
	}
	if raw.rows != obs.rows {
		return v, fmt.Errorf("diagnose: vector column %q: %s has %d rows, %s %d; pass the same rows in the same order", e.Column, o.raw, raw.rows, o.observed, obs.rows)
	}
	if raw.dim != dim {
		return v, fmt.Errorf("diagnose: vector column %q: the raw vectors have %d values, the artifact's %d (see the dimension_mismatch anomaly)", e.Column, raw.dim, dim)
	}
	if rows == 0 {
		return v, fmt.Errorf("diagnose: vector column %q: no row has a raw and an observed vector: it cannot be judged", e.Column)
	}
	v.Evidence["rows"] = rows
	v.Evidence["max_relative_difference"] = expDiff
	n := float64(rows)
	switch {
	case expDiff <= vectorTol:
		v.Verdict = diagnose.OK
		setExplanation(&v, "the observed vectors are the artifact's outputs", "")
	case expDiff <= float16Tol:
		v.Verdict = diagnose.PrecisionLoss
		setExplanation(&v, fmt.Sprintf("the observed vectors differ from the artifact's outputs by up to %.3g (relative), as float16 rounding does", expDiff),
			"store the vectors as float32 (or float64)")
	case len(g.Steps) > 0 && rawDiff <= vectorTol:
		v.Verdict = diagnose.NotNormalized
		setExplanation(&v, "the observed vectors are the raw vectors: the steps were not applied", "apply the artifact (normguard transform) before writing the vectors")
	case len(g.Steps) > 0 && twiceOK && twiceDiff <= vectorTol:
		v.Verdict = diagnose.DoubleNormalized
		setExplanation(&v, "the observed vectors are the artifact's outputs passed through its steps a second time", "apply the artifact once")
	case float64(obsUnit)/n >= 0.99 && float64(expUnit)/n < 0.5:
		v.Verdict = embed.CodeNormalizedUnexpectedly
		setExplanation(&v, "the observed vectors are unit length, the artifact's outputs are not", "remove the extra L2 normalization, or refit with a normalizer step")
	default:
		v.Verdict = diagnose.UnknownMismatch
		setExplanation(&v, fmt.Sprintf("the observed vectors differ from the artifact's outputs by up to %.3g (relative), by no known cause", expDiff),
			"check which model and which steps produced the observed vectors")
	}
	return v, nil
}

// unpairedVector judges observed vectors without their raw vectors,
// accumulating the checks batch by batch (embed.Checker, as validate does)
// or counting the unit vectors.
func unpairedVector(path string, a *artifact.Artifact, e artifact.Embedding, g *artifact.Group, v diagnose.Verdict) (diagnose.Verdict, error) {
	s, err := openVectorStream(path, a, e.Column)
	if err != nil {
		return v, err
	}
	defer s.Close()
	var (
		k              *embed.Checker
		present, unit  int
		l2, dimChecked bool
	)
	for {
		n, err := s.avail()
		if err != nil {
			return v, err
		}
		if n == 0 {
			break
		}
		if !dimChecked && s.dim > 0 {
			dimChecked = true
			if observedDim(s, e, &v) {
				return v, nil
			}
			switch {
			case len(g.Steps) == 0:
				if k, err = embed.NewChecker(e.Contract, s.dim, embed.CheckOptions{}); err != nil {
					return v, fmt.Errorf("diagnose: vector column %q: %w", e.Column, err)
				}
			case isL2Normalizer(g.Steps[len(g.Steps)-1]):
				l2 = true
			default:
				return v, fmt.Errorf("diagnose: vector column %q: vectors passed through %s cannot be judged without the raw vectors; pass --raw", e.Column, g.Steps[len(g.Steps)-1].Name)
			}
		}
		c := s.take(n)
		rows := presentRows(&c)
		if len(rows) == 0 || c.Dim == 0 {
			continue
		}
		present += len(rows)
		m, err := embed.NewMatrix(len(rows), c.Dim, gather(&c, rows))
		if err != nil {
			return v, err
		}
		if l2 {
			unit += unitCount(m.Data, c.Dim)
		} else if err := k.Add(m); err != nil {
			return v, fmt.Errorf("diagnose: vector column %q: %w", e.Column, err)
		}
	}
	if err := observedEmpty(s, present, e.Column); err != nil {
		return v, err
	}
	v.Evidence["vectors"] = present
	if !l2 {
		findings, err := k.Findings()
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
	}
	share := float64(unit) / float64(present)
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

// unitCount returns the number of vectors whose L2 norm is within
// embed.DefaultUnitTolerance of 1.
func unitCount(vecs []float64, dim int) int {
	n := len(vecs) / dim
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
	return unit
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
