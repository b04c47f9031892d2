package beamcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/driftcheck"
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
	counts := beam.Combine(s.Scope("vector counts"), &countsFn{P: p}, fixed)
	samples := beam.ParDo(s.Scope("vector sample"), &sampleFn{P: p}, ranges, beam.SideInput{Input: owned}, beam.SideInput{Input: counts})
	sample := beam.Combine(s.Scope("vector sample merge"), sampleMergeFn{}, samples)
	beam.ParDo0(s.Scope("report"), &reportFn{P: p}, beam.Impulse(s), beam.SideInput{Input: merged}, beam.SideInput{Input: sample})
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

func (f *reportFn) ProcessElement(ctx context.Context, _ []byte, merged Part, sample samplePart) error {
	var res Result
	vectors, err := f.vectorData(merged, sample)
	if err == nil && f.P.Opt.Command == Drift {
		res, err = f.drift(merged, vectors)
	} else if err == nil {
		res, err = f.validate(merged, vectors)
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

// check runs validate's rules on the merged summaries (validate.CheckData
// on the same rows).
func (f *reportFn) check(merged Part, vectors map[string]*validate.VectorData, opt validate.Options) (*validate.Report, error) {
	if merged.Rows <= 0 {
		return nil, fmt.Errorf("validate: %s has no data rows (empty or header only): nothing to validate: %w", f.P.Opt.Data, validate.ErrInvalid)
	}
	at := map[string]int{}
	if !f.l.counter {
		for j, fd := range f.l.fields {
			at[fd.Name] = j
		}
	}
	sum := func(p *profile.Feature, _ []string) (validate.Summary, error) {
		j, ok := at[p.Name]
		if !ok {
			return validate.Summary{}, fmt.Errorf("validate: column %q is in the header but was not read", p.Name)
		}
		return merged.Val[j].Finish(f.l.prof[j], f.l.known[j])
	}
	return validate.CheckMerged(f.l.a, merged.Rows, f.P.Header, sum, vectors, opt)
}

// vectorData returns the merged vector columns, with the samples drawn
// for drift.
func (f *reportFn) vectorData(merged Part, sample samplePart) (map[string]*validate.VectorData, error) {
	vectors, err := mergedVectors(f.l.vecs, merged.Vec)
	if err != nil {
		return nil, err
	}
	for i, v := range f.l.vecs {
		vd := vectors[v.emb.Column]
		if vd == nil || !f.l.sampled(f.P.Opt.Command, i) || i >= len(sample.Slots) {
			continue
		}
		if vd.Sample, err = validate.MergeSamples(sample.Slots[i]); err != nil {
			return nil, fmt.Errorf("drift: vector column %q: %w", v.emb.Column, err)
		}
	}
	return vectors, nil
}

func (f *reportFn) validate(merged Part, vectors map[string]*validate.VectorData) (Result, error) {
	o := f.P.Opt
	rep, err := f.check(merged, vectors, validate.Options{Columns: o.Columns, Exclude: o.Exclude})
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

// drift validates the merged summaries and compares them with the
// training profile, as `normguard drift --artifact A --current CUR` does
// (both through driftcheck), then renders the report.
func (f *reportFn) drift(merged Part, vectors map[string]*validate.VectorData) (Result, error) {
	o := f.P.Opt
	a := f.l.a
	selected, keep, err := driftcheck.Features(a, o.Columns, o.Exclude)
	if err != nil {
		return Result{}, err
	}
	if merged.Rows == 0 {
		return Result{}, fmt.Errorf("drift: %s %w", o.Data, driftcheck.ErrNoRows)
	}
	vrep, err := f.check(merged, vectors, validate.Options{Columns: o.Columns, Exclude: o.Exclude})
	if err != nil {
		return Result{}, fmt.Errorf("drift: %w", err)
	}
	vecs, err := driftcheck.Vectors(a, vectors, keep)
	if err != nil {
		return Result{}, err
	}
	want := map[string]*profile.Feature{}
	for i := range selected {
		want[selected[i].Name] = &selected[i]
	}
	var cur []driftcheck.Current
	if !f.l.counter {
		for j, fd := range f.l.fields {
			p := want[fd.Name]
			switch {
			case p == nil:
			case p.Type == spec.TypeNumeric && slices.Contains(merged.Text, fd.Name):
				cur = append(cur, driftcheck.Current{Name: fd.Name, NotNumbers: true})
			default:
				s, err := f.l.plans[j].UnmarshalSummary(merged.Drift[j])
				if err != nil {
					return Result{}, err
				}
				cur = append(cur, driftcheck.Current{Name: fd.Name, Summary: s})
			}
		}
	}
	rep, err := driftcheck.Compare(selected, cur, o.driftOptions(), len(vrep.Anomalies) > 0 || len(vecs) > 0)
	if errors.Is(err, driftcheck.ErrNoInputs) {
		return Result{}, fmt.Errorf("drift: %s %w", o.Data, err)
	}
	if err != nil {
		return Result{}, err
	}
	found := driftcheck.Found{Report: rep, Anomalies: vrep.Anomalies, Validated: true, Vectors: vecs}
	out, err := found.Render(o.Format, "training profile in "+o.Artifact, o.Data, o.Color)
	if err != nil {
		return Result{}, err
	}
	res := Result{Output: out}
	switch err := driftcheck.Status(rep, len(vrep.Anomalies) > 0 || driftcheck.VectorsDrift(vecs), len(vecs) > 0); {
	case errors.Is(err, driftcheck.ErrFound):
		res.Status = StatusFound
	case err != nil:
		res.Status, res.Message = StatusError, err.Error()
	}
	return res, nil
}
