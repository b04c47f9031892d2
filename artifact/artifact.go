// Package artifact defines normguard's artifact: one self-describing,
// content-addressed JSON file holding the spec, every fitted parameter, the
// output schema and facts about the training data.
//
// The file is canonical JSON (encoding/json of the Artifact struct,
// two-space indented, newline-terminated): the same fit always gives the
// same bytes. Its digest is the sha256 of the canonical encoding with the
// digest field empty. Loading re-encodes what it read and refuses the file
// unless both the bytes and the digest match, so any changed byte is caught.
package artifact

import (
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// FormatName identifies normguard artifacts.
const FormatName = "normguard.artifact"

// FormatVersion is the artifact format version this package writes and
// the newest it reads.
const FormatVersion = 1

// Artifact is a fitted normalization, ready to apply.
type Artifact struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// Digest is "sha256:<hex>" over the canonical encoding with Digest "".
	Digest string `json:"digest"`
	// Model links the artifact to the model it was fitted for (optional).
	Model *Model `json:"model,omitempty"`
	// Spec is the spec that was fitted, with every default filled in.
	Spec *spec.Spec `json:"spec"`
	// Inputs are the input columns the transform reads, with their kinds.
	Inputs []Field `json:"inputs"`
	// Groups hold the fitted step chains, in spec order.
	Groups []Group `json:"groups"`
	// Passthrough lists the remainder columns copied to the output.
	Passthrough []string `json:"passthrough"`
	// Outputs is the output schema, in order.
	Outputs []Field `json:"outputs"`
	// Training describes the data the artifact was fitted on.
	Training Training `json:"training"`
	// Profile summarizes the training data, raw inputs and transformed
	// outputs, for drift checks without the training set.
	Profile *profile.Set `json:"profile"`
	// Embeddings hold the contract of each vector column (embedding.go).
	Embeddings []Embedding `json:"embeddings,omitempty"`
}

// Model names the model an artifact belongs to.
type Model struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Field is a named, typed column.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"` // "numeric" or "categorical"
}

// Group is one spec group's fitted chain.
type Group struct {
	Columns []string          `json:"columns"`
	Type    string            `json:"type"`
	Steps   []step.FittedStep `json:"steps"`
}

// Training describes the training data.
type Training struct {
	// Rows is the number of data rows fitted on.
	Rows int64 `json:"rows"`
	// Fingerprint identifies the training data's content, independently of
	// row order and of how it was split into files or chunks.
	Fingerprint string `json:"fingerprint"`
}

// TableField converts a Field to a table.Field.
func (f Field) TableField() table.Field {
	k := table.Numeric
	if f.Type == spec.TypeCategorical {
		k = table.String
	}
	return table.Field{Name: f.Name, Kind: k}
}

// FieldOf converts a table.Field to a Field.
func FieldOf(f table.Field) Field {
	return Field{Name: f.Name, Type: spec.TypeOf(f.Kind)}
}

// TableFields converts Fields to table.Fields.
func TableFields(fs []Field) []table.Field {
	out := make([]table.Field, len(fs))
	for i, f := range fs {
		out[i] = f.TableField()
	}
	return out
}
