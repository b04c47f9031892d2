// Package beamcheck runs `normguard validate` and `normguard drift
// --artifact` as Apache Beam pipelines over sharded data and gives the
// reports the local commands give on the same rows (the files in path
// order, as normguard-beam fit and transform read them).
//
// The data is read through normguard-beam transform's ranges (whole
// files, or byte ranges of large CSV and JSON Lines files cut at record
// boundaries), and every range is summarized with the core's mergeable
// accumulators:
//
//	summarize  per range, per input column: validate.SummaryAcc (what
//	           validate's rules read: counts, range, first examples,
//	           unseen values) and, for drift, drift.Summary (counts at
//	           the profile's points, exact moments, category counts),
//	           the same summary `normguard drift --artifact` judges;
//	           per vector column, an embed.Checker (vectors.go)
//	text       Combine: the numeric inputs that hold text anywhere; the
//	           local commands read such a column as text throughout, so
//	           the few ranges that read it as numbers are summarized
//	           again (fix)
//	merge      Combine of the accumulators (exact, in any order; the
//	           Checkers in range order)
//	sample     drift's vector columns: the local command's seeded
//	           sample, drawn range by range (sample.go)
//	report     validate.CheckMerged, driftcheck (the drift command's
//	           own assembly and outcome), the report package's
//	           renderers; the rendered report and the exit status go to
//	           a small result file the launcher reads
package beamcheck

import (
	"context"
	"fmt"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/driftcheck"
	"github.com/normguard/normguard/validate"
)

// Commands a Plan runs.
const (
	Validate = "validate"
	Drift    = "drift"
)

// Options say what to check and how to report it.
type Options struct {
	// Command is Validate or Drift.
	Command string
	// Artifact is the artifact (local path or gs:// / s3:// URL); Data
	// the data's comma-separated globs.
	Artifact, Data string
	// SplitBytes cuts large text files into ranges (see
	// beamtransform.NewInputs).
	SplitBytes int64
	// Columns and Exclude select input columns, as the local commands'
	// --columns and --exclude.
	Columns, Exclude []string
	// Method, Threshold, HasThreshold, Bins and DriftShare are drift's
	// options (see drift.Options).
	Method       string
	Threshold    float64
	HasThreshold bool
	Bins         int
	DriftShare   float64
	// Format is table, json or html; Color colors a table.
	Format string
	Color  bool
	// Result is where the job writes its result (a local path when the
	// workers share the launcher's file system, else a Beam file-system
	// URL the launcher can read).
	Result string
}

// Plan is what every stage knows before reading data: plain data.
type Plan struct {
	Opt Options
	// In are the data's ranges.
	In beamtransform.Inputs
	// ArtifactJSON is the artifact's canonical bytes.
	ArtifactJSON string
	// Header is the first file's header; every file must have its columns.
	Header []string
}

// NewPlan checks the options, loads the artifact, lists the data and
// reads the first file's header.
func NewPlan(ctx context.Context, o Options) (Plan, error) {
	if o.Command != Validate && o.Command != Drift {
		return Plan{}, fmt.Errorf("beamcheck: unknown command %q", o.Command)
	}
	if o.Format != "table" && o.Format != "json" && o.Format != "html" {
		return Plan{}, fmt.Errorf("%s: --format must be table, json or html, got %q", o.Command, o.Format)
	}
	if o.Command == Drift {
		if o.Bins < 2 {
			return Plan{}, fmt.Errorf("drift: --bins must be at least 2, got %d", o.Bins)
		}
		// threshold, bins and drift share within range before any data is read
		if err := o.driftOptions().Check(); err != nil {
			return Plan{}, err
		}
	}
	data, err := beamtransform.ReadFile(ctx, o.Artifact)
	if err != nil {
		return Plan{}, err
	}
	a, err := artifact.Decode(data, o.Artifact)
	if err != nil {
		return Plan{}, err
	}
	if o.Command == Drift {
		if _, _, err := driftcheck.Features(a, o.Columns, o.Exclude); err != nil {
			return Plan{}, err
		}
	} else {
		if err := (validate.Options{Columns: o.Columns, Exclude: o.Exclude}).Validate(validateNames(a)); err != nil {
			return Plan{}, err
		}
	}
	in, err := beamtransform.NewInputs(ctx, o.Data, o.SplitBytes)
	if err != nil {
		return Plan{}, err
	}
	r, err := beamfit.OpenShard(ctx, in.Files[0])
	if err != nil {
		return Plan{}, err
	}
	header := r.Header()
	r.Close()
	return Plan{Opt: o, In: in, ArtifactJSON: string(data), Header: header}, nil
}

// validateNames are the names validate's --columns and --exclude take:
// the inputs and the vector columns.
func validateNames(a *artifact.Artifact) []string {
	names := make([]string, 0, len(a.Inputs)+len(a.Embeddings))
	for _, f := range a.Inputs {
		names = append(names, f.Name)
	}
	for _, e := range a.Embeddings {
		names = append(names, e.Column)
	}
	return names
}

// driftOptions are the drift package's options of o.
func (o Options) driftOptions() drift.Options {
	return drift.Options{Method: o.Method, Threshold: o.Threshold, HasThreshold: o.HasThreshold, Bins: o.Bins, DriftShare: o.DriftShare}
}
