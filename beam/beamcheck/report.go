package beamcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/validate"
)

// Exit statuses, as the normguard CLI uses them.
const (
	StatusOK    = 0
	StatusFound = 1
	StatusError = 2
)

// Result is what the job hands back to the launcher: the rendered report
// (nil when an error came before it), the exit status, and the error's
// message for status 2.
type Result struct {
	Output  []byte `json:"output"`
	Status  int    `json:"status"`
	Message string `json:"message,omitempty"`
}

// Build adds the check of p to the pipeline scope s.
func Build(s beam.Scope, p Plan) {
	s = s.Scope("normguard." + p.Opt.Command)
	ranges, owned := beamtransform.AddSpans(s, p.In)
	parts := beam.ParDo(s.Scope("summarize"), &summarizeFn{P: p}, ranges, beam.SideInput{Input: owned})
	text := beam.Combine(s.Scope("text"), textFn{}, parts)
	fixed := beam.ParDo(s.Scope("fix"), &fixFn{P: p}, parts, beam.SideInput{Input: text}, beam.SideInput{Input: owned})
	merged := beam.Combine(s.Scope("merge"), &mergeFn{P: p}, fixed)
	beam.ParDo0(s.Scope("report"), &reportFn{P: p}, beam.Impulse(s), beam.SideInput{Input: merged})
}

// Run runs the check on the named Beam runner ("" runs on Prism, in
// process) and returns the job's result.
func Run(ctx context.Context, runner string, o Options) (*Result, error) {
	p, err := NewPlan(ctx, o)
	if err != nil {
		return nil, err
	}
	pipe, s := beam.NewPipelineWithRoot()
	Build(s, p)
	if runner == "" {
		runner = "prism"
	}
	if _, err := beam.Run(ctx, runner, pipe); err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w", o.Command, o.Data, runner, err)
	}
	return ReadResult(ctx, o.Result)
}

// ReadResult reads the result a job wrote.
func ReadResult(ctx context.Context, path string) (*Result, error) {
	b, err := beamtransform.ReadFile(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read the job's result: %w; on a cluster give --out a gs:// or s3:// path", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read the job's result %s: %w", path, err)
	}
	return &r, nil
}

// reportFn judges the merged summaries, renders the report and writes the
// Result.
type reportFn struct {
	P Plan
	l *loaded
}

func (f *reportFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *reportFn) ProcessElement(ctx context.Context, _ []byte, merged Part) error {
	var res Result
	var err error
	if f.P.Opt.Command == Drift {
		res, err = f.drift(merged)
	} else {
		res, err = f.validate(merged)
	}
	if err != nil {
		res = Result{Status: StatusError, Message: err.Error()}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return beamfit.WriteFile(ctx, f.P.Opt.Result, b, artifact.WriteFileAtomic)
}

// summaries returns the validate summaries of the selected inputs (in
// input order; absent ones marked) and the data's columns that are not
// inputs, as validate.CheckData makes them.
func (f *reportFn) summaries(merged Part, opt validate.Options) ([]validate.Summary, []string, error) {
	at := map[string]int{}
	if !f.l.counter {
		for j, fd := range f.l.fields {
			at[fd.Name] = j
		}
	}
	inputs := map[string]bool{}
	var sums []validate.Summary
	sc, err := validate.SchemaOf(f.l.a)
	if err != nil {
		return nil, nil, err
	}
	for i := range sc.Features {
		p := &sc.Features[i]
		inputs[p.Name] = true
		if !selected(opt, p.Name) {
			continue
		}
		j, ok := at[p.Name]
		if !ok {
			sums = append(sums, validate.Summary{Name: p.Name, Absent: true, Min: math.NaN(), Max: math.NaN()})
			continue
		}
		s, err := merged.Val[j].Finish(f.l.prof[j], f.l.known[j])
		if err != nil {
			return nil, nil, err
		}
		sums = append(sums, s)
	}
	var extra []string
	for _, h := range f.P.Header {
		if !inputs[h] {
			extra = append(extra, h)
		}
	}
	return sums, extra, nil
}

// selected tells whether the options check the column (validate.Options'
// rule).
func selected(o validate.Options, name string) bool {
	if len(o.Columns) > 0 && !slices.Contains(o.Columns, name) {
		return false
	}
	return !slices.Contains(o.Exclude, name)
}

// check runs validate's rules on the merged summaries (validate.CheckData
// on the same rows).
func (f *reportFn) check(merged Part, opt validate.Options) (*validate.Report, error) {
	sc, err := validate.SchemaOf(f.l.a)
	if err != nil {
		return nil, err
	}
	if err := opt.Validate(sc.Names()); err != nil {
		return nil, err
	}
	if merged.Rows <= 0 {
		return nil, fmt.Errorf("validate: %s has no data rows (empty or header only): nothing to validate: %w", f.P.Opt.Data, validate.ErrInvalid)
	}
	sums, extra, err := f.summaries(merged, opt)
	if err != nil {
		return nil, err
	}
	return validate.CheckSummaries(sc, merged.Rows, sums, extra, opt)
}

func (f *reportFn) validate(merged Part) (Result, error) {
	o := f.P.Opt
	rep, err := f.check(merged, validate.Options{Columns: o.Columns, Exclude: o.Exclude})
	if err != nil {
		return Result{}, err
	}
	var buf bytes.Buffer
	switch o.Format {
	case "json":
		err = report.ValidateJSON(&buf, rep)
	case "html":
		err = report.ValidateHTML(&buf, rep, report.ValidateMeta{Artifact: o.Artifact + " (" + rep.ArtifactDigest + ")", Data: o.Data})
	default:
		err = report.ValidateTable(&buf, rep, o.Color)
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Output: buf.Bytes()}
	if rep.Found() {
		res.Status = StatusFound
	}
	return res, nil
}

// errNoRows is the local drift command's error for data without rows.
var errNoRows = errors.New("has no rows (a header at most); there is nothing to compare: pass a file with data")

// drift validates the merged summaries and compares them with the
// training profile, as `normguard drift --artifact A --current CUR` does
// (driftInputsVsArtifact in cmd/normguard), then renders the report.
func (f *reportFn) drift(merged Part) (Result, error) {
	o := f.P.Opt
	a := f.l.a
	keep, err := selectFeatures(profileNames(a), o.Columns, o.Exclude)
	if err != nil {
		return Result{}, err
	}
	var selectedProf []profile.Feature
	for _, p := range a.Profile.Inputs {
		if keep[p.Name] {
			selectedProf = append(selectedProf, p)
		}
	}
	if merged.Rows == 0 {
		return Result{}, fmt.Errorf("drift: %s %w", o.Data, errNoRows)
	}
	vrep, err := f.check(merged, validate.Options{Columns: o.Columns, Exclude: o.Exclude})
	if err != nil {
		return Result{}, fmt.Errorf("drift: %w", err)
	}
	want := map[string]*profile.Feature{}
	for i := range selectedProf {
		want[selectedProf[i].Name] = &selectedProf[i]
	}
	opt := o.driftOptions()
	plans := map[string]*drift.SummaryPlan{}
	for _, pl := range drift.SummaryPlans(a.Profile.Inputs, opt) {
		plans[pl.Name] = pl
	}
	var curPlans []*drift.SummaryPlan
	var curSums []*drift.Summary
	var notNumbers []drift.Feature
	if !f.l.counter {
		for j, fd := range f.l.fields {
			p := want[fd.Name]
			switch {
			case p == nil:
			case p.Type == spec.TypeNumeric && slices.Contains(merged.Text, fd.Name):
				nan := drift.JSONFloat(math.NaN())
				notNumbers = append(notNumbers, drift.Feature{Name: fd.Name, Type: p.Type, Method: "-",
					Statistic: nan, PValue: nan, Threshold: nan,
					Skipped: "the column holds values that are not numbers (see the type_change anomaly); fix the data, then compare again"})
			default:
				pl := plans[fd.Name]
				s, err := pl.UnmarshalSummary(merged.Drift[j])
				if err != nil {
					return Result{}, err
				}
				curPlans, curSums = append(curPlans, pl), append(curSums, s)
			}
		}
	}
	var rep *drift.Report
	if len(curPlans) == 0 {
		// Nothing to compare: the anomalies (missing columns, text in
		// numeric columns) are the whole answer.
		rep = &drift.Report{Features: notNumbers, MissingFeatures: []string{}}
		for _, p := range selectedProf {
			if !slices.ContainsFunc(notNumbers, func(f drift.Feature) bool { return f.Name == p.Name }) {
				rep.MissingFeatures = append(rep.MissingFeatures, p.Name)
			}
		}
		if len(vrep.Anomalies) == 0 {
			return Result{}, fmt.Errorf("drift: %s has none of the artifact's inputs (%d columns); pass raw data, or --transformed for transformed features", o.Data, len(a.Inputs))
		}
	} else {
		// The features in the data's column order, then the missing ones
		// in the profile's, as drift.CompareProfile orders them.
		have := map[string]bool{}
		for _, pl := range curPlans {
			have[pl.Name] = true
		}
		for _, p := range selectedProf {
			if !have[p.Name] && !slices.ContainsFunc(notNumbers, func(f drift.Feature) bool { return f.Name == p.Name }) {
				curPlans, curSums = append(curPlans, plans[p.Name]), append(curSums, nil)
			}
		}
		if rep, err = drift.CompareSummaries(curPlans, curSums, opt); err != nil {
			return Result{}, err
		}
		rep.Features = append(rep.Features, notNumbers...)
	}
	var buf bytes.Buffer
	switch o.Format {
	case "json":
		err = report.CheckedDriftJSON(&buf, rep, vrep.Anomalies)
	case "html":
		err = report.DriftHTML(&buf, rep, report.HTMLMeta{Reference: "training profile in " + o.Artifact, Current: o.Data, Anomalies: vrep.Anomalies})
	default:
		if len(vrep.Anomalies) > 0 {
			err = report.AnomaliesTable(&buf, vrep.Anomalies, o.Color)
		}
		if err == nil {
			err = report.DriftTable(&buf, rep, o.Color)
		}
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Output: buf.Bytes()}
	res.Status, res.Message = driftStatus(rep, len(vrep.Anomalies) > 0)
	return res, nil
}

// driftStatus is the local drift command's outcome once the report is
// written (driftStatus and nothingJudged in cmd/normguard): 2 with the
// features whose statistic could not be computed, 1 when a feature drifts
// or is missing or an anomaly was found, 2 when every feature was
// skipped, else 0.
func driftStatus(rep *drift.Report, anomalies bool) (int, string) {
	var failed []string
	found := len(rep.MissingFeatures) > 0 || len(rep.NewSegments) > 0
	for _, f := range rep.Features {
		if f.Error != "" {
			failed = append(failed, fmt.Sprintf("%s: %s", f.Name, f.Error))
		}
		found = found || f.Drift
	}
	switch {
	case len(failed) > 0:
		return StatusError, fmt.Sprintf("drift: the statistic of %d feature(s) could not be computed, so the report is incomplete:\n  %s\nfix the data or leave those features out with --exclude",
			len(failed), strings.Join(failed, "\n  "))
	case found || anomalies:
		return StatusFound, ""
	}
	var reasons []string
	for _, f := range rep.Features {
		if f.Skipped == "" {
			return StatusOK, ""
		}
		reasons = append(reasons, fmt.Sprintf("%s: %s", f.Name, f.Skipped))
	}
	return StatusError, fmt.Sprintf("drift: no feature could be judged, every one was skipped:\n  %s\nchoose other features with --columns, or another --method",
		strings.Join(reasons, "\n  "))
}
