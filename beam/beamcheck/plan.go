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
//	           the same summary `normguard drift --artifact` judges
//	text       Combine: the numeric inputs that hold text anywhere; the
//	           local commands read such a column as text throughout, so
//	           the few ranges that read it as numbers are summarized
//	           again (fix)
//	merge      Combine of the accumulators (exact, in any order)
//	report     validate.CheckSummaries, drift.CompareSummaries, the
//	           report package's renderers; the rendered report and the
//	           exit status go to a small result file the launcher reads
package beamcheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/drift"
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
	if o.Command == Drift && o.Bins < 2 {
		return Plan{}, fmt.Errorf("drift: --bins must be at least 2, got %d", o.Bins)
	}
	data, err := beamtransform.ReadFile(ctx, o.Artifact)
	if err != nil {
		return Plan{}, err
	}
	a, err := artifact.Decode(data, o.Artifact)
	if err != nil {
		return Plan{}, err
	}
	if len(a.Embeddings) > 0 {
		var cols []string
		for _, e := range a.Embeddings {
			cols = append(cols, e.Column)
		}
		return Plan{}, fmt.Errorf("%s: the artifact has vector columns (%s), which normguard-beam does not check yet; run normguard %s on one machine", o.Command, strings.Join(cols, ", "), o.Command)
	}
	if o.Command == Drift {
		if a.Profile == nil {
			return Plan{}, fmt.Errorf("drift: the artifact has no training profile; refit it with this normguard, or compare with the training data itself: --reference TRAIN --current CUR")
		}
		if _, err := selectFeatures(profileNames(a), o.Columns, o.Exclude); err != nil {
			return Plan{}, err
		}
	} else {
		names := make([]string, len(a.Inputs))
		for i, f := range a.Inputs {
			names[i] = f.Name
		}
		if err := (validate.Options{Columns: o.Columns, Exclude: o.Exclude}).Validate(names); err != nil {
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

func profileNames(a *artifact.Artifact) []string {
	names := make([]string, len(a.Profile.Inputs))
	for i, p := range a.Profile.Inputs {
		names[i] = p.Name
	}
	return names
}

// selectFeatures returns which of names (the profile's inputs, in order)
// --columns and --exclude keep, with the local drift command's errors.
func selectFeatures(names, columns, exclude []string) (map[string]bool, error) {
	const what = "the artifact's inputs"
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, l := range []struct {
		flag  string
		names []string
	}{{"--columns", columns}, {"--exclude", exclude}} {
		for _, n := range l.names {
			if !known[n] {
				return nil, fmt.Errorf("drift: %s names %q, which is not a feature of %s; its features are: %s",
					l.flag, n, what, strings.Join(names, ", "))
			}
		}
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = len(columns) == 0 || slices.Contains(columns, n)
	}
	for _, n := range exclude {
		keep[n] = false
	}
	for _, n := range names {
		if keep[n] {
			return keep, nil
		}
	}
	return nil, fmt.Errorf("drift: --columns and --exclude leave no feature of %s to compare", what)
}

// driftOptions are the drift package's options of o.
func (o Options) driftOptions() drift.Options {
	return drift.Options{Method: o.Method, Threshold: o.Threshold, HasThreshold: o.HasThreshold, Bins: o.Bins, DriftShare: o.DriftShare}
}
