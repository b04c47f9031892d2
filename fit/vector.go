package fit

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// VectorOptions add to the contracts of vector columns what the data does
// not say. The zero value works.
type VectorOptions struct {
	// EmbeddingModel names the producing model as name@revision; it
	// overrides the spec's embedding_model.
	EmbeddingModel string
	// Canaries are the vectors of fixed inputs (see embed.Canary), stored
	// in the contract of every vector column of their dimension.
	Canaries []embed.Canary
}

// splitVectors turns every vector column of sp into the Numeric columns of
// its dimensions (table.VectorNames) and every vector group into numeric
// groups over them, one per vector column, with the same steps, and fits
// each column's contract on its present vectors. normalizer on such a group
// scales each vector, standard_scaler standardizes each dimension: the
// numbers scikit-learn gives on the matrix whose rows are the vectors.
// It returns the columns, the spec the artifact records and the contracts;
// a spec without vector groups is returned as it is.
func splitVectors(sp *spec.Spec, cols []table.Column, rows int, opt Options) ([]table.Column, *spec.Spec, []artifact.Embedding, error) {
	hasVector := false
	for _, g := range sp.Columns {
		hasVector = hasVector || g.Type == spec.TypeVector
	}
	if !hasVector {
		if opt.Vectors.EmbeddingModel != "" || len(opt.Vectors.Canaries) > 0 {
			return nil, nil, nil, fmt.Errorf("fit %s: an embedding model or canaries were given, but the spec has no vector column; declare the embeddings' column with `type: vector`", opt.Source)
		}
		return cols, sp, nil, nil
	}
	byName := make(map[string]int, len(cols))
	for i := range cols {
		byName[cols[i].Name] = i
	}
	out := *sp
	out.Columns = nil
	var embeddings []artifact.Embedding
	split := map[string][]table.Column{}
	for gi, g := range sp.Columns {
		if g.Type != spec.TypeVector {
			out.Columns = append(out.Columns, g)
			continue
		}
		for _, name := range g.Names {
			c := &cols[byName[name]]
			dims, e, err := splitVector(c, rows, g.Vector, fmt.Sprintf("columns[%d]", gi), opt)
			if err != nil {
				return nil, nil, nil, err
			}
			for _, d := range dims {
				if _, clash := byName[d.Name]; clash {
					return nil, nil, nil, fmt.Errorf("fit %s: vector column %q is split into columns %s .. %s, but the data already has a column %q; rename one of them",
						opt.Source, name, dims[0].Name, dims[len(dims)-1].Name, d.Name)
				}
			}
			split[name] = dims
			embeddings = append(embeddings, e)
			out.Columns = append(out.Columns, spec.Group{Names: e.Columns, Type: spec.TypeNumeric, Steps: g.Steps})
		}
	}
	var res []table.Column
	for i := range cols {
		if dims, ok := split[cols[i].Name]; ok {
			res = append(res, dims...)
			continue
		}
		res = append(res, cols[i])
	}
	return res, &out, embeddings, nil
}

// splitVector splits one vector column into its dimensions and fits its
// contract.
func splitVector(c *table.Column, rows int, vo *spec.VectorOptions, path string, opt Options) ([]table.Column, artifact.Embedding, error) {
	if vo == nil {
		vo = &spec.VectorOptions{Metric: spec.MetricCosine, UnitLength: spec.UnitAuto}
	}
	if c.Dim == 0 {
		return nil, artifact.Embedding{}, fmt.Errorf("fit %s: vector column %q has no vector (every row is missing); fit needs vectors to learn the column's contract", opt.Source, c.Name)
	}
	if vo.Dimension > 0 && vo.Dimension != c.Dim {
		return nil, artifact.Embedding{}, fmt.Errorf("fit %s: vector column %q has %d values per vector, but the spec's %s.dimension says %d; fix the spec or the data",
			opt.Source, c.Name, c.Dim, path, vo.Dimension)
	}
	d := c.Dim
	names := table.VectorNames(c.Name, d)
	dims := make([]table.Column, d)
	for k := range dims {
		dims[k] = table.Column{Name: names[k], Kind: table.Numeric, Num: make([]float64, rows)}
	}
	for i := range rows {
		for k, x := range c.Vec[i*d : (i+1)*d] {
			dims[k].Num[i] = x
		}
	}
	fo := embed.FitOptions{Dtype: c.DType, Metric: vo.Metric}
	model := vo.EmbeddingModel
	if opt.Vectors.EmbeddingModel != "" {
		model = opt.Vectors.EmbeddingModel
	}
	fo.Model, fo.Revision = spec.ModelRevision(model)
	switch vo.UnitLength {
	case spec.UnitTrue:
		fo.Unit = new(bool)
		*fo.Unit = true
	case spec.UnitFalse:
		fo.Unit = new(bool)
	}
	for _, cn := range opt.Vectors.Canaries {
		if len(cn.Vector) == d {
			fo.Canaries = append(fo.Canaries, cn)
		}
	}
	if len(opt.Vectors.Canaries) > 0 && len(fo.Canaries) == 0 {
		return nil, artifact.Embedding{}, fmt.Errorf("fit %s: vector column %q has dimension %d, but no canary has that dimension; give canaries of the column's model", opt.Source, c.Name, d)
	}
	contract, err := fitContract(c, rows, fo)
	if err != nil {
		return nil, artifact.Embedding{}, fmt.Errorf("fit %s: vector column %q: %w", opt.Source, c.Name, err)
	}
	return dims, artifact.Embedding{Column: c.Name, Columns: names, Contract: contract}, nil
}

// fitContract fits the contract of the present vectors of c, fed to an
// embed.Fitter in runs straight from the column's storage (no copy). A
// vector with a NaN or infinite value is an error naming its data row.
func fitContract(c *table.Column, rows int, fo embed.FitOptions) (*embed.Contract, error) {
	d := c.Dim
	f, err := embed.NewFitter(d, fo)
	if err != nil {
		return nil, err
	}
	start := 0
	flush := func(end int) error {
		if end <= start {
			return nil
		}
		m, err := embed.NewMatrix(end-start, d, c.Vec[start*d:end*d])
		if err != nil {
			return err
		}
		if err := f.Add(m); err != nil {
			for i := start; i < end; i++ {
				for _, x := range c.Row(i) {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						return fmt.Errorf("data row %d holds %v; drop or re-embed vectors with NaN or infinite values before fitting", i+1, x)
					}
				}
			}
			return err
		}
		return nil
	}
	for i := range rows {
		if c.Null != nil && c.Null[i] {
			if err := flush(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := flush(rows); err != nil {
		return nil, err
	}
	return f.Contract()
}

// ReadCanaries reads canary vectors from the table at path (JSON Lines, or
// another format table.Open reads) with a column id (text) and a column
// vector (an array of numbers per row): {"id": "q-001", "vector": [...]}.
// Every row needs both; ids must be unique.
func ReadCanaries(path string) ([]embed.Canary, error) {
	r, err := table.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fields := []table.Field{{Name: "id", Kind: table.String}, {Name: "vector", Kind: table.Vector}}
	if err := r.Project(fields); err != nil {
		return nil, fmt.Errorf("canaries %s: %w; a canary file has an id and a vector per row, e.g. {\"id\": \"q1\", \"vector\": [0.1, 0.2]}", path, err)
	}
	cols, rows, err := table.ReadAll(r, fields)
	if err != nil {
		return nil, fmt.Errorf("canaries %s: %w", path, err)
	}
	seen := map[string]bool{}
	out := make([]embed.Canary, 0, rows)
	for i := range rows {
		id, vec := &cols[0], &cols[1]
		if id.IsMissing(i) || vec.IsMissing(i) {
			return nil, fmt.Errorf("canaries %s: row %d: the id or the vector is missing; every canary needs both", path, i+1)
		}
		if seen[id.Str[i]] {
			return nil, fmt.Errorf("canaries %s: row %d: id %q is given twice; ids must be unique", path, i+1, id.Str[i])
		}
		seen[id.Str[i]] = true
		out = append(out, embed.Canary{ID: id.Str[i], Vector: append([]float64(nil), vec.Row(i)...)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("canaries %s: no canary; give at least one row or leave out --canaries", path)
	}
	return out, nil
}

// profileColumns profiles the columns as profile.Columns does, except the
// dimension columns of vector columns, which get their counts only
// (artifact.VectorDimProfile): the contract profiles the vectors.
func profileColumns(cols []table.Column, embeddings []artifact.Embedding, workers int) []profile.Feature {
	if len(embeddings) == 0 {
		return profile.Columns(cols, workers)
	}
	dims := (&artifact.Artifact{Embeddings: embeddings}).VectorInputs()
	var todo []table.Column
	var at []int
	out := make([]profile.Feature, len(cols))
	for i := range cols {
		if _, ok := dims[cols[i].Name]; ok && cols[i].Kind == table.Numeric {
			out[i] = vectorDimProfile(&cols[i])
			continue
		}
		todo = append(todo, cols[i])
		at = append(at, i)
	}
	for k, f := range profile.Columns(todo, workers) {
		out[at[k]] = f
	}
	return out
}

// vectorDimProfile counts the present (not NaN) and missing values of a
// vector's dimension column.
func vectorDimProfile(c *table.Column) profile.Feature {
	var missing int64
	for _, x := range c.Num {
		if math.IsNaN(x) {
			missing++
		}
	}
	return artifact.VectorDimProfile(c.Name, int64(len(c.Num))-missing, missing)
}
