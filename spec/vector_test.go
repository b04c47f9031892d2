package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestParseVectorGroup(t *testing.T) {
	sp, err := Parse(strings.NewReader(`version: 1
columns:
  - name: emb
    type: vector
    dimension: 100
    metric: dot
    embedding_model: glove-6b@100d
    steps:
      - normalizer: {norm: l2}
      - standard_scaler: {}
  - name: q
    type: vector
`), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := sp.Columns[0]
	want := VectorOptions{Dimension: 100, Metric: "dot", EmbeddingModel: "glove-6b@100d", UnitLength: "auto"}
	if g.Vector == nil || *g.Vector != want {
		t.Fatalf("got %+v, want %+v", g.Vector, want)
	}
	if name, rev := ModelRevision(g.Vector.EmbeddingModel); name != "glove-6b" || rev != "100d" {
		t.Errorf("got model %q revision %q, want glove-6b, 100d", name, rev)
	}
	def := VectorOptions{Metric: "cosine", UnitLength: "auto"}
	if q := sp.Columns[1].Vector; q == nil || *q != def {
		t.Errorf("got defaults %+v, want %+v", q, def)
	}
}

func TestParseVectorErrors(t *testing.T) {
	cases := []struct{ name, group, want string }{
		{"other step", "type: vector\n    steps: [{min_max_scaler: {}}]",
			"columns[0].steps[0].min_max_scaler: invalid spec: min_max_scaler does not apply to vectors"},
		{"metric", "type: vector\n    metric: hamming", `columns[0].metric: invalid spec: must be "cosine", "dot" or "l2"`},
		{"unit", "type: vector\n    unit_length: maybe", `columns[0].unit_length: invalid spec: must be "auto"`},
		{"dimension", "type: vector\n    dimension: -3", `must be a positive whole number`},
		{"model", "type: vector\n    embedding_model: a@", `must be name@revision`},
		{"not vector", "type: numeric\n    metric: dot", "belong to vector columns; add `type: vector`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader("version: 1\ncolumns:\n  - name: emb\n    "+tc.group+"\n"), "v.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want an ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
