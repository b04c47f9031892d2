package driftcheck

import (
	"fmt"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/validate"
)

// Vectors compares each vector column of a that keep selects (Features'
// keep) and vectors holds with its contract (embed.DriftFromContract):
// the seeded sample validate.Read keeps of the column's vectors
// (validate.VectorSampleSize of them) against the contract's sample. A
// column the data lacks, of another dimension or without a vector is
// left out: validate reports it. A vector column drifts when the MMD
// test does.
func Vectors(a *artifact.Artifact, vectors map[string]*validate.VectorData, keep map[string]bool) ([]report.VectorDrift, error) {
	var out []report.VectorDrift
	for _, e := range a.Embeddings {
		vd := vectors[e.Column]
		if !keep[e.Column] || vd == nil || vd.Dim != e.Contract.Dimension || len(vd.Sample) == 0 {
			continue
		}
		m := embed.Matrix{Rows: len(vd.Sample), Dim: vd.Dim}
		for _, row := range vd.Sample {
			m.Data = append(m.Data, row...)
		}
		res, err := embed.DriftFromContract(e.Contract, m, embed.DriftOptions{})
		if err != nil {
			return nil, fmt.Errorf("drift: vector column %q could not be compared with its contract: %w", e.Column, err)
		}
		out = append(out, report.VectorDrift{Column: e.Column, Reference: "the contract's sample of the training vectors", Result: res})
	}
	return out, nil
}

// VectorsDrift reports whether some vector column drifts.
func VectorsDrift(vs []report.VectorDrift) bool {
	return slices.ContainsFunc(vs, func(v report.VectorDrift) bool { return v.Result.Drift })
}
