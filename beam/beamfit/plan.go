// Package beamfit fits a normguard spec on sharded training data with an
// Apache Beam pipeline and writes the artifact `normguard fit` writes for
// the same rows, byte for byte.
//
// The training set is the shards' rows, shards in path order (sorted
// lexicographically), rows in file order: the concatenation `normguard
// fit` would read. Every statistic is computed by the core packages
// (step, profile, fit) inside Beam Combines; the pipeline only moves rows
// to them, keyed by their global position, so the result does not depend
// on how the runner splits, bundles or orders the work.
//
// Stages, in order:
//
//	read      one element per shard: its rows as chunks (the core's
//	          CSV, Parquet and JSONL readers)
//	count     Combine: rows per shard -> each shard's global offset
//	infer     Combine: numeric-or-categorical scan of untyped columns
//	convert   text -> numbers for the columns inferred numeric
//	fingerprint  Combine of the core's mergeable FingerprintAcc
//	step k    standard_scaler: two Combines of mergeable numpy-order sums
//	          (stats.NanShiftedAcc), then StandardScalerParams.FitSums;
//	          power_transformer (GatherSteps): per group, a Combine
//	          gathers step k's input and calls the core step's Fit;
//	          every other step: a Combine of mergeable column summaries
//	          (summary.go), three Combines of radix-selection histograms
//	          for the quantile-based steps, then the step's constructor
//	          from those statistics. Then every chunk is passed
//	          through the fitted step (transform.ApplyStep, fitted
//	          parameters as a side input)
//	profile   per column, two Combines of the core's mergeable profile
//	          accumulators (profile.NumericAcc: counts, range, first
//	          value, the grid's strided sample; then profile.NumericCounts
//	          from its plan: numpy-order sums, exact counts at the grid
//	          points, histogram; stats.StringCounts for categorical
//	          columns), then profile.NumericFeature/CategoricalFeature,
//	          the functions profile.Column goes through (profile.go here)
//	write     the artifact, assembled as fit.FitTransform assembles it
//
// Memory: the gathering Combine of power_transformer holds a whole column
// group on one worker before calling the core, as the local fit holds it
// in memory: a worker needs about 8 bytes per numeric value of the
// largest such group. Every other Combine, the profile's included, is
// mergeable and small (value counts grow with the distinct values; a
// profile's grid sample is at most 65,536 values per column).
package beamfit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// Plan is what every stage of the pipeline knows before reading data. It
// travels inside the pipeline's functions, so it is plain data.
type Plan struct {
	// Spec is the spec to fit, as JSON.
	Spec string
	// Source names the training data in errors (the --data pattern).
	Source string
	// Shards are the data files in row order.
	Shards []string
	// Header is the first shard's header; with remainder passthrough every
	// shard must have the same columns.
	Header []string
	// Fields are the columns read (fit.Projection), untyped ones as text.
	Fields []table.Field
	// Pass lists the passthrough columns.
	Pass []string
	// Model and ModelVersion link the artifact to a model (optional).
	Model, ModelVersion string
	// Out is where the artifact is written (a local path or a Beam
	// file-system URL).
	Out string
}

// loaded is a Plan with its spec parsed and the fields indexed.
type loaded struct {
	Plan
	spec *spec.Spec
	// groupAt[g] is the index in Fields of group g's first column.
	groupAt []int
	// untyped[j] tells whether field j's kind is inferred from the data.
	untyped []bool
}

func (p Plan) load() (*loaded, error) {
	sp, err := spec.Parse(strings.NewReader(p.Spec), "spec.json")
	if err != nil {
		return nil, err
	}
	l := &loaded{Plan: p, spec: sp, untyped: make([]bool, len(p.Fields))}
	j := 0
	for _, g := range sp.Columns {
		l.groupAt = append(l.groupAt, j)
		for range g.Names {
			l.untyped[j] = g.Kind() == table.KindUnknown
			j++
		}
	}
	for ; j < len(p.Fields); j++ {
		l.untyped[j] = true // passthrough columns are inferred too
	}
	return l, nil
}

// specJSON encodes a spec for a Plan.
func specJSON(sp *spec.Spec) (string, error) {
	b, err := json.Marshal(sp)
	if err != nil {
		return "", fmt.Errorf("encode spec: %w", err)
	}
	return string(b), nil
}

// sameColumns reports whether two headers hold the same column names.
func sameColumns(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
