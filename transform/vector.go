package transform

import (
	"fmt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// Vector columns. An artifact fitted on a vector column emb of dimension d
// reads it as the Numeric inputs emb_0 .. emb_{d-1} (table.VectorNames) and
// writes the outputs its steps give, under the same names, in every output
// format (CSV, Parquet and JSON Lines alike: one numeric column per
// dimension). A source may hold the vector column itself (a JSONL array,
// a Parquet list, a .npy matrix): SplitVectors splits it into the
// dimension columns as it reads. A source that already holds the
// dimension columns is read as it is.

// SplitVectors returns r reading the vector columns of a's embeddings as
// their dimension columns (see table.SplitVectors).
func SplitVectors(r table.Reader, a *artifact.Artifact) table.Reader {
	return table.SplitVectors(r, a.VectorColumns())
}

// vectorValue returns the value of input column name in a row given as a
// map whose vector column holds an array (the HTTP and library row form):
// element k of the column's array, nil for a missing vector.
// dims is the artifact's VectorInputs.
func vectorValue(dims map[string]artifact.VectorDim, row map[string]any, name string) (any, bool, error) {
	d, ok := dims[name]
	if !ok {
		return nil, false, nil
	}
	v, ok := row[d.Column]
	if !ok {
		return nil, false, nil
	}
	if v == nil {
		return nil, true, nil
	}
	xs, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("vector column %q: got %T, want an array of %d numbers (or null)", d.Column, v, d.Dim)
	}
	if len(xs) != d.Dim {
		return nil, false, fmt.Errorf("vector column %q: the vector has %d values, the artifact's contract %d", d.Column, len(xs), d.Dim)
	}
	return xs[d.Index], true, nil
}
