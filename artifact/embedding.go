package artifact

import (
	"fmt"
	"strings"

	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// Embedding is the contract of one vector column of the training data.
//
// A vector column is fitted, transformed and profiled as the Numeric
// columns that hold its dimensions (Columns, named by table.VectorNames:
// emb_0 .. emb_{d-1}), which are the artifact's inputs; readers split the
// column into them. Its outputs carry the names the steps give them (the
// same names for normalizer and standard_scaler). The contract describes
// the raw vectors as the producer wrote them, before any step.
type Embedding struct {
	// Column is the vector column's name in the data.
	Column string `json:"column"`
	// Columns are the input columns holding its dimensions, in order.
	Columns []string `json:"columns"`
	// Contract is what the column promises (dimension, dtype, model,
	// metric, unit length, profile, canaries).
	Contract *embed.Contract `json:"contract"`
}

// Embedding returns the contract of the vector column name, or nil.
func (a *Artifact) Embedding(name string) *Embedding {
	for i := range a.Embeddings {
		if a.Embeddings[i].Column == name {
			return &a.Embeddings[i]
		}
	}
	return nil
}

// VectorInputs maps each input column that holds a dimension of a vector
// column to that column and the dimension's index.
func (a *Artifact) VectorInputs() map[string]VectorDim {
	out := map[string]VectorDim{}
	for i := range a.Embeddings {
		a.Embeddings[i].addVectorDims(out)
	}
	return out
}

// addVectorDims adds e's dimension columns to dims, as VectorInputs maps
// them.
func (e *Embedding) addVectorDims(dims map[string]VectorDim) {
	for k, c := range e.Columns {
		dims[c] = VectorDim{Column: e.Column, Index: k, Dim: len(e.Columns)}
	}
}

// VectorDim locates one dimension of a vector column.
type VectorDim struct {
	Column string // the vector column
	Index  int    // the dimension, 0-based
	Dim    int    // the column's dimension
}

// checkEmbedding checks embeddings[i]: its vector column named once
// (seen holds the columns named before it), its dimension columns
// numeric inputs (inputs: name -> type) named as table.VectorNames names
// them, and its contract meaningful (embed.Contract.Check). Paths name
// the column: embeddings.emb.profile.mean[3].
func checkEmbedding(i int, e *Embedding, seen map[string]bool, inputs map[string]string) error {
	p := fmt.Sprintf("embeddings[%d]", i)
	if e.Column == "" {
		return bad(p+".column", "is empty")
	}
	if seen[e.Column] {
		return bad(p+".column", "%q is listed twice", e.Column)
	}
	seen[e.Column] = true
	p = "embeddings." + e.Column
	if e.Contract == nil {
		return bad(p+".contract", "is missing")
	}
	if err := e.Contract.Check(); err != nil {
		path, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			return bad(p, "%s", err.Error())
		}
		return bad(p+"."+path, "%s", msg)
	}
	want := table.VectorNames(e.Column, e.Contract.Dimension)
	if len(e.Columns) != len(want) {
		return bad(p+".columns", "lists %d columns, the contract's dimension is %d", len(e.Columns), e.Contract.Dimension)
	}
	for k, c := range e.Columns {
		if c != want[k] {
			return bad(fmt.Sprintf("%s.columns[%d]", p, k), "is %q, want %q", c, want[k])
		}
		if t, ok := inputs[c]; !ok || t != spec.TypeNumeric {
			return bad(fmt.Sprintf("%s.columns[%d]", p, k), "%q is not a numeric input", c)
		}
	}
	return nil
}

// VectorColumns maps each vector column to its dimension columns, as
// table.SplitVectors takes them.
func (a *Artifact) VectorColumns() map[string][]string {
	out := make(map[string][]string, len(a.Embeddings))
	for _, e := range a.Embeddings {
		out[e.Column] = e.Columns
	}
	return out
}

// VectorDimProfile is the profile of a vector column's dimension column:
// its name, counts and nothing else. A vector column is judged as a whole
// through its contract (which holds the per-dimension mean and std), so its
// dimension columns carry no quantiles or moments of their own.
func VectorDimProfile(name string, count, missing int64) profile.Feature {
	return profile.Feature{Name: name, Type: spec.TypeNumeric, Count: count, Missing: missing}
}

// IsVectorDimProfile reports whether f is a profile as VectorDimProfile
// writes it: numeric with counts only.
func IsVectorDimProfile(f *profile.Feature) bool {
	return f.Type == spec.TypeNumeric && f.Kind == "" && f.Mean == nil && f.Std == nil && f.Min == nil && f.Max == nil &&
		f.Quantiles == nil && f.CDF == nil && f.MaxCDFGap == 0 && f.Histogram == nil && f.Values == nil &&
		f.Categories == nil && f.Time == nil
}

// ScalarProfiles returns feats without the profiles of vector columns'
// dimension columns (inputs, and the outputs the vector steps write under
// the same names), which are not features of their own: for drift, model
// binding and monitoring, which judge each listed column one by one. feats
// is returned as it is when the artifact has no vector column.
func (a *Artifact) ScalarProfiles(feats []profile.Feature) []profile.Feature {
	if len(a.Embeddings) == 0 {
		return feats
	}
	dims := a.VectorInputs()
	out := make([]profile.Feature, 0, len(feats))
	for _, f := range feats {
		if _, ok := dims[f.Name]; !ok {
			out = append(out, f)
		}
	}
	return out
}
