package validate

import (
	"fmt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/table"
)

// Vector columns. An artifact's vector column (artifact.Embedding) is an
// input as its dimension columns emb_0 .. emb_{d-1}, but the data holds it
// as one column of vectors (a JSONL array, a .npy matrix, a Parquet list).
// Validate reads it as a vector and judges it against the column's
// embedding contract with embed.Checker: each finding is an anomaly whose
// code is embed's verdict code (dimension_mismatch, not_normalized,
// mixed_normalization, normalized_unexpectedly, metric_mismatch,
// truncated_not_renormalized, precision_loss, nan_vectors, zero_vectors,
// model_swapped), with its message, fix and evidence. The dimension
// columns are not checked one by one. Data that holds the dimension
// columns instead of the vector column is judged as the vectors they form.

// VectorType is the Type of a vector column in a report.
const VectorType = "vector"

// vectorSeverity gives each embed verdict its severity: a warning when the
// vectors still work as fitted (precision, zero vectors, normalized where
// raw was fitted), an error otherwise.
var vectorSeverity = map[string]string{
	embed.CodePrecisionLoss:          SeverityWarning,
	embed.CodeZeroVectors:            SeverityWarning,
	embed.CodeNormalizedUnexpectedly: SeverityWarning,
}

// VectorSampleSize bounds the vectors of a column that Read keeps (a
// seeded uniform sample), for drift; the checks see every vector.
const VectorSampleSize = embed.DefaultDriftSampleSize

// VectorData is a vector column of a data file as Read keeps it: counts,
// the checks against the column's contract accumulated batch by batch,
// and a sample, so that memory does not grow with the file.
type VectorData struct {
	Column string
	// Dim is the vectors' dimension (0 when every row is missing).
	Dim int
	// Rows and Missing count the rows and the missing vectors.
	Rows, Missing int64
	// Checker holds the contract's checks of every present vector (nil
	// when there is none).
	Checker *embed.Checker
	// Sample is a seeded uniform sample of at most VectorSampleSize
	// present vectors, in no particular order.
	Sample [][]float64
	seen   int64
	rng    uint64
}

// add accumulates the rows of a batch's vector column.
func (v *VectorData) add(c *table.Column, n int, contract *embed.Contract) error {
	v.Rows += int64(n)
	if c.Dim == 0 {
		v.Missing += int64(n)
		return nil
	}
	if v.Checker == nil {
		k, err := embed.NewChecker(contract, c.Dim, embed.CheckOptions{})
		if err != nil {
			return err
		}
		v.Checker, v.Dim, v.rng = k, c.Dim, 0x5eed
	}
	if c.Dim != v.Dim {
		return fmt.Errorf("vector column %q: vectors of %d values after vectors of %d", v.Column, c.Dim, v.Dim)
	}
	start := 0
	flush := func(end int) error {
		if end <= start {
			return nil
		}
		m, err := embed.NewMatrix(end-start, c.Dim, c.Vec[start*c.Dim:end*c.Dim])
		if err != nil {
			return err
		}
		return v.Checker.Add(m)
	}
	for i := range n {
		if c.Null != nil && c.Null[i] {
			if err := flush(i); err != nil {
				return err
			}
			v.Missing++
			start = i + 1
			continue
		}
		v.keep(c.Row(i))
	}
	return flush(n)
}

// keep offers a present vector to the sample (reservoir sampling with a
// fixed seed: the same file gives the same sample).
func (v *VectorData) keep(row []float64) {
	v.seen++
	if len(v.Sample) < VectorSampleSize {
		v.Sample = append(v.Sample, append([]float64(nil), row...))
		return
	}
	v.rng ^= v.rng << 13
	v.rng ^= v.rng >> 7
	v.rng ^= v.rng << 17
	if j := v.rng % uint64(v.seen); j < VectorSampleSize {
		copy(v.Sample[j], row)
	}
}

// vectorTap reads the artifact's vector columns of a file alongside the
// columns its caller projects, accumulating them into Data.Vectors, and
// gives the caller batches of its own columns only.
type vectorTap struct {
	table.Reader
	contracts map[string]*embed.Contract
	vectors   []string // the tapped columns, in projection order after the caller's
	d         *Data
	n         int // the caller's columns
	batch     table.Batch
	err       error
}

// tapVectors returns r reading the artifact's vector columns that the
// header holds into d.Vectors as it goes (nil when there are none).
func tapVectors(r table.Reader, a *artifact.Artifact, inHeader map[string]bool, d *Data) *vectorTap {
	t := &vectorTap{Reader: r, contracts: map[string]*embed.Contract{}, d: d}
	for _, e := range a.Embeddings {
		if inHeader[e.Column] {
			t.vectors = append(t.vectors, e.Column)
			t.contracts[e.Column] = e.Contract
		}
	}
	if len(t.vectors) == 0 {
		return nil
	}
	d.Vectors = map[string]*VectorData{}
	for _, n := range t.vectors {
		d.Vectors[n] = &VectorData{Column: n}
	}
	return t
}

func (t *vectorTap) Project(fields []table.Field) error {
	t.n = len(fields)
	all := append([]table.Field(nil), fields...)
	for _, n := range t.vectors {
		all = append(all, table.Field{Name: n, Kind: table.Vector})
	}
	t.batch.Cols = make([]table.Column, len(fields))
	return t.Reader.Project(all)
}

func (t *vectorTap) Next() bool {
	if t.err != nil || !t.Reader.Next() {
		return false
	}
	b := t.Reader.Batch()
	for k, n := range t.vectors {
		if err := t.d.Vectors[n].add(&b.Cols[t.n+k], b.Rows, t.contracts[n]); err != nil {
			t.err = fmt.Errorf("%s: %w", t.d.Path, err)
			return false
		}
	}
	copy(t.batch.Cols, b.Cols[:t.n])
	t.batch.Rows, t.batch.Lines, t.batch.Start = b.Rows, b.Lines, b.Start
	return true
}

func (t *vectorTap) Batch() *table.Batch { return &t.batch }

func (t *vectorTap) Err() error {
	if err := t.Reader.Err(); err != nil {
		return err
	}
	return t.err
}

// vectorNames lists the artifact's vector columns.
func vectorNames(a *artifact.Artifact) []string {
	var out []string
	for _, e := range a.Embeddings {
		out = append(out, e.Column)
	}
	return out
}

// scalarOptions returns opt without the vector columns in Columns and
// Exclude, for the column-by-column rules; vectorsOnly is set when Columns
// named vector columns only (no other column is then checked).
func scalarOptions(opt Options, a *artifact.Artifact) (out Options, vectorsOnly bool) {
	vec := map[string]bool{}
	for _, n := range vectorNames(a) {
		vec[n] = true
	}
	keep := func(names []string) []string {
		var r []string
		for _, n := range names {
			if !vec[n] {
				r = append(r, n)
			}
		}
		return r
	}
	out = opt
	out.Columns, out.Exclude = keep(opt.Columns), keep(opt.Exclude)
	return out, len(opt.Columns) > 0 && len(out.Columns) == 0
}

// vectorDims reports the artifact's dimension columns of vector columns.
func vectorDims(a *artifact.Artifact) map[string]bool {
	out := map[string]bool{}
	for _, e := range a.Embeddings {
		for _, c := range e.Columns {
			out[c] = true
		}
	}
	return out
}

// VectorOptions tune the checks of vector columns. The zero value works.
type VectorOptions struct {
	// Canaries are the current model's vectors for the contracts' canary
	// inputs (embed.CheckOptions.Canaries), for every vector column.
	Canaries []embed.Canary
}

// checkVectors judges each vector column of the artifact in d against its
// contract and adds its column and anomalies to rep.
func checkVectors(rep *Report, a *artifact.Artifact, d *Data, opt Options) (*Report, error) {
	byName := map[string]*table.Column{}
	for i := range d.Cols {
		byName[d.Cols[i].Name] = &d.Cols[i]
	}
	for _, e := range a.Embeddings {
		if !opt.selected(e.Column) {
			continue
		}
		col := Column{Name: e.Column, Type: VectorType, Training: Counts{Rows: int64(e.Contract.Profile.Count)}}
		col.Training.MissingRate = ptr(0.0)
		if vd := d.Vectors[e.Column]; vd != nil {
			found, err := judgeData(e, vd, opt.Vectors)
			if err != nil {
				return nil, err
			}
			col.Current = Counts{Rows: vd.Rows, Missing: vd.Missing}
			if vd.Rows > 0 {
				col.Current.MissingRate = ptr(float64(vd.Missing) / float64(vd.Rows))
			}
			col.Anomalies = len(found)
			rep.Columns = append(rep.Columns, col)
			rep.Anomalies = append(rep.Anomalies, found...)
			continue
		}
		c := byName[e.Column]
		if c == nil {
			c = joinDims(e, byName, int(d.Rows))
		}
		if c == nil {
			an := Anomaly{Column: e.Column, Code: MissingColumn, Severity: SeverityError,
				Description: fmt.Sprintf("vector column %q is not in the data", e.Column),
				Fix:         fmt.Sprintf("add the vector column %q (an array of %d numbers per row), or fix the header", e.Column, e.Contract.Dimension)}
			col.Anomalies = 1
			rep.Columns = append(rep.Columns, col)
			rep.Anomalies = append(rep.Anomalies, an)
			continue
		}
		found, missing, err := judgeVectors(e, c, opt.Vectors)
		if err != nil {
			return nil, err
		}
		col.Current = Counts{Rows: int64(c.Len()), Missing: missing}
		if c.Len() > 0 {
			col.Current.MissingRate = ptr(float64(missing) / float64(c.Len()))
		}
		col.Anomalies = len(found)
		rep.Columns = append(rep.Columns, col)
		rep.Anomalies = append(rep.Anomalies, found...)
	}
	return rep, nil
}

// judgeVectors checks the present vectors of c against e's contract.
func judgeVectors(e artifact.Embedding, c *table.Column, vo VectorOptions) ([]Anomaly, int64, error) {
	n := c.Len()
	if c.Dim == 0 {
		return nil, int64(n), fmt.Errorf("validate: vector column %q has no vector (every row is missing): it cannot be judged against its contract: %w", e.Column, ErrInvalid)
	}
	vd := &VectorData{Column: e.Column}
	if err := vd.add(c, n, e.Contract); err != nil {
		return nil, 0, fmt.Errorf("validate: %w", err)
	}
	found, err := judgeData(e, vd, vo)
	return found, vd.Missing, err
}

// judgeData turns the checks accumulated of a vector column into
// anomalies.
func judgeData(e artifact.Embedding, vd *VectorData, vo VectorOptions) ([]Anomaly, error) {
	k := vd.Checker
	if k == nil || k.Rows() == 0 {
		return nil, fmt.Errorf("validate: vector column %q has no vector (every row is missing): it cannot be judged against its contract: %w", e.Column, ErrInvalid)
	}
	if len(vo.Canaries) > 0 {
		// The canaries are compared by a checker that has them, holding
		// the same vectors.
		withCanaries, err := embed.NewChecker(e.Contract, vd.Dim, embed.CheckOptions{Canaries: vo.Canaries})
		if err != nil {
			return nil, fmt.Errorf("validate: vector column %q: %w", e.Column, err)
		}
		if err := withCanaries.Merge(k); err != nil {
			return nil, fmt.Errorf("validate: vector column %q: %w", e.Column, err)
		}
		k = withCanaries
	}
	findings, err := k.Findings()
	if err != nil {
		return nil, fmt.Errorf("validate: vector column %q: %w", e.Column, err)
	}
	out := make([]Anomaly, 0, len(findings))
	for _, f := range findings {
		sev := vectorSeverity[f.Code]
		if sev == "" {
			sev = SeverityError
		}
		out = append(out, Anomaly{Column: e.Column, Code: f.Code, Severity: sev, Description: f.Message, Fix: f.Fix,
			Test: "embedding_contract", Evidence: f.Evidence})
	}
	return out, nil
}

// joinDims builds the vector column of e from its dimension columns when
// the data holds all of them (a row with any missing value is a missing
// vector), or returns nil.
func joinDims(e artifact.Embedding, byName map[string]*table.Column, rows int) *table.Column {
	dims := make([]*table.Column, len(e.Columns))
	for k, name := range e.Columns {
		if dims[k] = byName[name]; dims[k] == nil || dims[k].Kind != table.Numeric {
			return nil
		}
	}
	d := len(dims)
	c := &table.Column{Name: e.Column, Kind: table.Vector, Dim: d, Vec: make([]float64, rows*d), Null: make([]bool, rows)}
	for i := range rows {
		for k, dc := range dims {
			x := dc.Num[i]
			c.Vec[i*d+k] = x
			if x != x {
				c.Null[i] = true
			}
		}
	}
	return c
}
