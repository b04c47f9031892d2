package spec

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys of a vector group's options, as the spec spells them.
const (
	vectorDimension = "dimension"
	vectorMetric    = "metric"
	vectorModel     = "embedding_model"
	vectorUnit      = "unit_length"
)

// Metrics a vector store computes, as `metric:` spells them.
const (
	MetricCosine = "cosine"
	MetricDot    = "dot"
	MetricL2     = "l2"
)

// Unit-length policies, as `unit_length:` spells them.
const (
	UnitAuto  = "auto"
	UnitTrue  = "true"
	UnitFalse = "false"
)

// VectorSteps are the steps a vector group may use: normalizer scales each
// vector (norm l1, l2 or max, as scikit-learn's Normalizer on the matrix
// whose rows are the vectors) and standard_scaler standardizes each
// dimension (as scikit-learn's StandardScaler on that matrix).
var VectorSteps = []string{"normalizer", "standard_scaler"}

// VectorOptions are the options of a group of type vector. Every vector
// column of the group shares them.
//
//   - name: emb
//     type: vector
//     dimension: 768              # optional; checked against the data
//     metric: cosine              # cosine | dot | l2 (default cosine)
//     embedding_model: bge-base@v1.5
//     unit_length: auto           # auto | true | false (default auto)
//     steps: [{normalizer: {norm: l2}}]
type VectorOptions struct {
	// Dimension is the number of values per vector; 0 takes it from the data.
	Dimension int `json:"dimension,omitempty"`
	// Metric is the similarity the vector store computes.
	Metric string `json:"metric"`
	// EmbeddingModel names the producing model as name@revision (optional).
	EmbeddingModel string `json:"embedding_model,omitempty"`
	// UnitLength says whether the contract requires unit vectors: auto
	// infers it from the training vectors.
	UnitLength string `json:"unit_length"`
}

// fillDefaults sets the defaults of absent options.
func (o *VectorOptions) fillDefaults() {
	if o.Metric == "" {
		o.Metric = MetricCosine
	}
	if o.UnitLength == "" {
		o.UnitLength = UnitAuto
	}
}

// ModelRevision splits "name@revision" into the model's name and revision
// (revision "" when there is no '@').
func ModelRevision(s string) (name, revision string) {
	name, revision, _ = strings.Cut(s, "@")
	return name, revision
}

// vectorField parses one vector option of a group.
func (p *parser) vectorField(g *Group, key string, v *yaml.Node, field string) error {
	if g.Vector == nil {
		g.Vector = &VectorOptions{}
	}
	if v.Kind != yaml.ScalarNode {
		return p.errf(v, field, "must be a single value")
	}
	switch key {
	case vectorDimension:
		d, err := strconv.Atoi(v.Value)
		if err != nil || d < 1 {
			return p.errf(v, field, "must be a positive whole number of values per vector, got %q", v.Value)
		}
		g.Vector.Dimension = d
	case vectorMetric:
		g.Vector.Metric = v.Value
	case vectorModel:
		g.Vector.EmbeddingModel = v.Value
	case vectorUnit:
		g.Vector.UnitLength = v.Value
	}
	return nil
}

// checkVectorGroup checks a vector group: its options and that every step
// is one that applies to vectors.
func checkVectorGroup(g *Group, path string) error {
	bad := func(field, format string, args ...any) error {
		return &Error{Field: path + field, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
	}
	if g.Type != TypeVector {
		return bad("", "dimension, metric, embedding_model and unit_length belong to vector columns; add `type: vector`")
	}
	o := g.Vector
	if o == nil {
		o = &VectorOptions{}
		o.fillDefaults()
	}
	switch o.Metric {
	case MetricCosine, MetricDot, MetricL2:
	default:
		return bad(".metric", "must be %q, %q or %q (the similarity the vector store computes), got %q", MetricCosine, MetricDot, MetricL2, o.Metric)
	}
	switch o.UnitLength {
	case UnitAuto, UnitTrue, UnitFalse:
	default:
		return bad(".unit_length", "must be %q (inferred from the training vectors), %q or %q, got %q", UnitAuto, UnitTrue, UnitFalse, o.UnitLength)
	}
	if o.Dimension < 0 {
		return bad(".dimension", "must be positive, got %d", o.Dimension)
	}
	if m := o.EmbeddingModel; m != "" {
		name, rev := ModelRevision(m)
		if name == "" || strings.Contains(m, "@") && rev == "" || strings.Count(m, "@") > 1 {
			return bad(".embedding_model", "must be name@revision (or just name), got %q", m)
		}
	}
	for si, st := range g.Steps {
		ok := false
		for _, n := range VectorSteps {
			ok = ok || st.Name == n
		}
		if !ok {
			return bad(fmt.Sprintf(".steps[%d].%s", si, st.Name), "%s does not apply to vectors; a vector column takes normalizer (norm l1, l2 or max: each vector scaled to unit norm) and standard_scaler (each dimension standardized)", st.Name)
		}
	}
	return nil
}
