package beamfit

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

func init() {
	beam.RegisterCoder(reflect.TypeFor[Chunk](), encodeChunk, decodeChunk)
	beam.RegisterCoder(reflect.TypeFor[Staged](), encodeStaged, decodeStaged)
	beam.RegisterCoder(reflect.TypeFor[Gather](), encodeGather, decodeGather)
	beam.RegisterCoder(reflect.TypeFor[ScalerSums](), encodeScalerSums, decodeScalerSums)
	beam.RegisterCoder(reflect.TypeFor[Summary](), encodeSummary, decodeSummary)
	beam.RegisterCoder(reflect.TypeFor[GroupSelect](), encodeGroupSelect, decodeGroupSelect)
	beam.RegisterCoder(reflect.TypeFor[GroupHist](), encodeGroupHist, decodeGroupHist)
	beam.RegisterCoder(reflect.TypeFor[ProfAcc](), encodeProfAcc, decodeProfAcc)
	beam.RegisterCoder(reflect.TypeFor[ProfPlan](), encodeProfPlan, decodeProfPlan)
	beam.RegisterCoder(reflect.TypeFor[ProfCounts](), encodeProfCounts, decodeProfCounts)
	for _, t := range []reflect.Type{
		reflect.TypeFor[readFn](), reflect.TypeFor[countFn](), reflect.TypeFor[inferFn](),
		reflect.TypeFor[fingerprintFn](), reflect.TypeFor[stageFn](), reflect.TypeFor[partFn](),
		reflect.TypeFor[fitStepFn](), reflect.TypeFor[applyFn](), reflect.TypeFor[writeFn](),
		reflect.TypeFor[profOutFn](), reflect.TypeFor[mergeProfAccFn](), reflect.TypeFor[countInFn](),
		reflect.TypeFor[countOutFn](), reflect.TypeFor[mergeProfCountsFn](), reflect.TypeFor[finishProfFn](),
		reflect.TypeFor[FittedMsg](), reflect.TypeFor[ProfileMsg](), reflect.TypeFor[fingerprint](),
		reflect.TypeFor[scans](), reflect.TypeFor[scalerSumsFn](), reflect.TypeFor[mergeScalerSumsFn](),
		reflect.TypeFor[finishScalerFn](), reflect.TypeFor[summaryFn](), reflect.TypeFor[mergeSummaryFn](),
		reflect.TypeFor[startSelectFn](), reflect.TypeFor[histFn](), reflect.TypeFor[mergeHistFn](),
		reflect.TypeFor[narrowFn](), reflect.TypeFor[finishFn](),
	} {
		beam.RegisterType(t)
	}
	beam.RegisterFunction(globalize)
	beam.RegisterFunction(convert)
	beam.RegisterFunction(profInFn)
	beam.RegisterFunction(planFn)
}

// Options say what to fit and where the artifact goes.
type Options struct {
	// Spec is the spec to fit.
	Spec *spec.Spec
	// Data are the training files: comma-separated local or Beam
	// file-system globs (gs://, s3://); shards are read in path order.
	Data string
	// Out is the artifact to write (local path or gs:// / s3:// URL).
	Out string
	// Model and ModelVersion link the artifact to a model (optional).
	Model, ModelVersion string
}

// NewPlan lists the shards, reads the first one's header and projects the
// spec on it.
func NewPlan(ctx context.Context, o Options) (Plan, error) {
	if err := o.Spec.Validate(); err != nil {
		return Plan{}, err
	}
	if err := refuseVectors(o.Spec); err != nil {
		return Plan{}, err
	}
	if o.Out == "" {
		return Plan{}, fmt.Errorf("no artifact path given: pass --out FILE")
	}
	shards, err := ListShards(ctx, o.Data)
	if err != nil {
		return Plan{}, err
	}
	for _, s := range shards {
		if _, err := table.FormatOf(s); err != nil {
			return Plan{}, err
		}
	}
	r, err := openShard(ctx, shards[0])
	if err != nil {
		return Plan{}, err
	}
	header := r.Header()
	r.Close()
	fields, pass, err := fit.Projection(o.Spec, header, o.Data)
	if err != nil {
		return Plan{}, err
	}
	js, err := specJSON(o.Spec)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Spec: js, Source: o.Data, Shards: shards, Header: header, Fields: fields, Pass: pass,
		Model: o.Model, ModelVersion: o.ModelVersion, Out: o.Out}, nil
}

// refuseVectors rejects a spec with a vector group: the Beam fit has no
// embedding contract stage, so such a spec is fitted by normguard fit.
func refuseVectors(sp *spec.Spec) error {
	for g, grp := range sp.Columns {
		if grp.Type == spec.TypeVector {
			return fmt.Errorf("columns[%d] (%s) is a vector column (type: vector): normguard-beam fit does not fit vector columns; "+
				"fit this spec with `normguard fit` (normguard-beam validate and drift do check vector columns of that artifact)",
				g, strings.Join(grp.Names, ", "))
		}
	}
	return nil
}

// Build adds the fit of p to the pipeline scope s and returns the
// PCollection that holds the written artifact's digest.
func Build(s beam.Scope, p Plan) (beam.PCollection, error) {
	l, err := p.load()
	if err != nil {
		return beam.PCollection{}, err
	}
	s = s.Scope("normguard.fit")
	idx := make([]int, len(p.Shards))
	for i := range idx {
		idx[i] = i
	}
	raw := beam.ParDo(s.Scope("read"), &readFn{P: p}, beam.CreateList(s, idx))
	offsets := beam.Combine(s.Scope("count"), &countFn{Shards: len(p.Shards), Source: p.Source}, raw)
	global := beam.ParDo(s.Scope("offset"), globalize, raw, beam.SideInput{Input: offsets})
	kinds := beam.Combine(s.Scope("infer"), &inferFn{P: p}, global)
	typed := beam.ParDo(s.Scope("convert"), convert, global, beam.SideInput{Input: kinds})
	fp := beam.Combine(s.Scope("fingerprint"), fingerprintFn{}, typed)

	cur := beam.ParDo(s.Scope("stage"), &stageFn{P: p}, typed)
	maxSteps := 0
	for _, g := range l.spec.Columns {
		maxSteps = max(maxSteps, len(g.Steps))
	}
	var fitted []beam.PCollection
	for k := 0; k < maxSteps; k++ {
		sk := s.Scope(fmt.Sprintf("step%d", k))
		gathered := beam.DropKey(sk, beam.CombinePerKey(sk, &fitStepFn{P: p, K: k},
			beam.ParDo(sk, &partFn{P: p, K: k, Mode: modeGather}, cur)))
		scalers := fitScalers(sk, p, k, beam.ParDo(sk, &partFn{P: p, K: k, Mode: modeScaler}, cur))
		summed := fitSummaries(sk, p, k, beam.ParDo(sk, &partFn{P: p, K: k, Mode: modeSummary}, cur))
		done := beam.Flatten(sk, gathered, scalers, summed)
		fitted = append(fitted, done)
		cur = beam.ParDo(sk, &applyFn{P: p, K: k}, cur, beam.SideInput{Input: done})
	}
	sp := s.Scope("profile")
	si, so := sp.Scope("inputs"), sp.Scope("outputs")
	inProf := profiles(si, beam.ParDo(si, profInFn, typed), func(plans beam.PCollection) beam.PCollection {
		return beam.ParDo(si, &countInFn{}, typed, beam.SideInput{Input: plans})
	})
	outProf := profiles(so, beam.ParDo(so, &profOutFn{P: p}, cur), func(plans beam.PCollection) beam.PCollection {
		return beam.ParDo(so, &countOutFn{}, cur, beam.SideInput{Input: plans})
	})

	sw := s.Scope("write")
	allFitted := beam.Flatten(sw, fitted...)
	if len(fitted) == 0 {
		allFitted = beam.CreateList(sw, []FittedMsg{})
	}
	digest := beam.ParDo(sw, &writeFn{P: p}, beam.Impulse(sw),
		beam.SideInput{Input: offsets}, beam.SideInput{Input: kinds}, beam.SideInput{Input: fp},
		beam.SideInput{Input: allFitted}, beam.SideInput{Input: inProf}, beam.SideInput{Input: outProf})
	return digest, nil
}

// Run fits on the named Beam runner ("" runs on Prism, in process).
func Run(ctx context.Context, runner string, o Options) error {
	p, err := NewPlan(ctx, o)
	if err != nil {
		return err
	}
	pipe, s := beam.NewPipelineWithRoot()
	if _, err := Build(s, p); err != nil {
		return err
	}
	if runner == "" {
		runner = "prism"
	}
	if _, err := beam.Run(ctx, runner, pipe); err != nil {
		return fmt.Errorf("fit %s on %s: %w", o.Data, runner, err)
	}
	return nil
}
