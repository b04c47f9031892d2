package beamcheck

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/driftcheck"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

func init() {
	beam.RegisterCoder(reflect.TypeFor[Part](), encodePart, decodePart)
	for _, t := range []reflect.Type{
		reflect.TypeFor[summarizeFn](), reflect.TypeFor[textFn](), reflect.TypeFor[fixFn](),
		reflect.TypeFor[mergeFn](), reflect.TypeFor[reportFn](),
	} {
		beam.RegisterType(t)
	}
}

// Part is the summary of some ranges of the data: its rows and, per input
// column the data has (Fields), the validate and drift accumulators. Text
// lists the numeric inputs read as text (sorted).
type Part struct {
	Rows   int64
	Ranges int
	Text   []string
	Val    []validate.SummaryAcc
	// Drift holds each column's drift.Summary (MarshalBinary; nil when the
	// command is validate or the column has no drift plan).
	Drift [][]byte
	// Shard is the range a one-range Part summarizes.
	Shard int
	// Vec holds each vector source's segments (vectors.go; nil when the
	// data has no vectors there in this range).
	Vec [][]byte
	// MinBits and MaxBits carry the Val's Min and Max through encoding:
	// gob leaves out a field equal to 0, which would turn -0 into +0.
	MinBits, MaxBits []uint64
}

func encodePart(p Part) ([]byte, error) {
	p.MinBits, p.MaxBits = make([]uint64, len(p.Val)), make([]uint64, len(p.Val))
	for j := range p.Val {
		p.MinBits[j], p.MaxBits[j] = math.Float64bits(p.Val[j].Sum.Min), math.Float64bits(p.Val[j].Sum.Max)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(p); err != nil {
		return nil, fmt.Errorf("beamcheck: encode summary: %w", err)
	}
	return b.Bytes(), nil
}

func decodePart(b []byte) (Part, error) {
	var p Part
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&p); err != nil {
		return p, fmt.Errorf("beamcheck: decode summary: %w", err)
	}
	if len(p.MinBits) != len(p.Val) || len(p.MaxBits) != len(p.Val) {
		return p, fmt.Errorf("beamcheck: decode summary: %d ranges for %d columns", len(p.MinBits), len(p.Val))
	}
	for j := range p.Val {
		p.Val[j].Sum.Min, p.Val[j].Sum.Max = math.Float64frombits(p.MinBits[j]), math.Float64frombits(p.MaxBits[j])
	}
	p.MinBits, p.MaxBits = nil, nil
	return p, nil
}

// loaded is what the functions derive from a Plan on each worker.
type loaded struct {
	a *artifact.Artifact
	// fields are the artifact's inputs the data has, in input order;
	// prof[j] is field j's profile (Type set to the input's type) and
	// known[j] its complete training categories (nil if not known).
	fields []table.Field
	prof   []*profile.Feature
	known  [][]string
	// plans[j] is field j's drift plan (nil for validate).
	plans []*drift.SummaryPlan
	// counter: the data has none of the inputs; one column is read only
	// to count the rows, as validate.Read does.
	counter bool
	// vecs are the artifact's vector columns the data holds (validate).
	vecs []vecSource
}

func load(p Plan) (*loaded, error) {
	a, err := artifact.Decode([]byte(p.ArtifactJSON), p.Opt.Artifact)
	if err != nil {
		return nil, err
	}
	sc, err := validate.SchemaOf(a)
	if err != nil {
		if p.Opt.Command == Drift {
			return nil, fmt.Errorf("drift: %w", err)
		}
		return nil, err
	}
	l := &loaded{a: a}
	byName := map[string]*profile.Feature{}
	for i := range sc.Features {
		byName[sc.Features[i].Name] = &sc.Features[i]
	}
	var plans map[string]*drift.SummaryPlan
	if p.Opt.Command == Drift {
		plans = map[string]*drift.SummaryPlan{}
		for _, pl := range drift.SummaryPlans(a.Profile.Inputs, p.Opt.driftOptions()) {
			plans[pl.Name] = pl
		}
	}
	inHeader := map[string]bool{}
	for _, h := range p.Header {
		inHeader[h] = true
	}
	for _, f := range a.Inputs {
		if !inHeader[f.Name] {
			continue
		}
		l.fields = append(l.fields, f.TableField())
		l.prof = append(l.prof, byName[f.Name])
		l.known = append(l.known, sc.Known[f.Name])
		l.plans = append(l.plans, plans[f.Name])
	}
	l.vecs = vectorSources(a, p.Header, l.fields)
	if p.Opt.Command == Drift {
		// drift judges (and samples) only the vector columns it compares.
		_, keep, err := driftcheck.Features(a, p.Opt.Columns, p.Opt.Exclude)
		if err != nil {
			return nil, err
		}
		l.vecs = slices.DeleteFunc(l.vecs, func(v vecSource) bool { return !keep[v.emb.Column] })
	}
	if len(l.fields) == 0 && len(p.Header) > 0 && len(l.vecs) == 0 {
		l.fields, l.counter = []table.Field{{Name: p.Header[0], Kind: table.String}}, true
	}
	return l, nil
}

// summarizeFn summarizes one range. A numeric input holding text there is
// read again as text (as validate.Read reads a file), so the Part's Text
// lists them.
type summarizeFn struct {
	P Plan
	l *loaded
}

func (f *summarizeFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *summarizeFn) ProcessElement(ctx context.Context, k int, owned []beamtransform.Span, emit func(Part)) error {
	part, err := summarizeRange(ctx, f.P, f.l, k, owned, nil)
	if err != nil {
		return err
	}
	emit(part)
	return nil
}

// summarizeRange reads range k with the numeric inputs in text (and any
// that turn out to hold text) as text, and summarizes every column.
func summarizeRange(ctx context.Context, p Plan, l *loaded, k int, owned []beamtransform.Span, text []string) (Part, error) {
	asText := map[string]bool{}
	for _, n := range text {
		asText[n] = true
	}
	for attempt := 0; ; attempt++ {
		part, err := readRange(ctx, p, l, k, owned, asText)
		if col := validate.NotNumberColumn(err); col != "" && !asText[col] && attempt <= len(l.fields) {
			asText[col] = true
			continue
		}
		return part, err
	}
}

// rangeRows bounds the rows of one range: positions are shard<<40 + row.
const rangeRows = 1 << 40

func readRange(ctx context.Context, p Plan, l *loaded, k int, owned []beamtransform.Span, asText map[string]bool) (Part, error) {
	r, err := p.In.OpenRange(ctx, k, owned)
	if err != nil {
		return Part{}, err
	}
	defer r.Close()
	path := p.In.Files[p.In.Ranges[k].File]
	if h := r.Header(); h != nil && !sameColumns(h, p.Header) {
		return Part{}, fmt.Errorf("%s: read %s: its columns %s differ from %s's %s; every file must have the same columns",
			p.Opt.Command, path, table.HeaderList(h), p.In.Files[0], table.HeaderList(p.Header))
	}
	fields := slices.Clone(l.fields)
	for j := range fields {
		if asText[fields[j].Name] {
			fields[j].Kind = table.String
		}
	}
	if err := r.Project(append(slices.Clone(fields), vectorFields(l.vecs)...)); err != nil {
		return Part{}, err
	}
	part := Part{Shard: k, Ranges: 1, Val: make([]validate.SummaryAcc, len(fields)), Drift: make([][]byte, len(fields))}
	vecs := newVectorAccs(l.vecs, fields)
	var sums []*drift.Summary
	if !l.counter {
		sums = make([]*drift.Summary, len(fields))
		for j, pl := range l.plans {
			if pl != nil {
				sums[j] = pl.NewSummary()
			}
		}
	}
	var row int64
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return Part{}, err
		}
		b := r.Batch()
		if !l.counter {
			for j := range fields {
				c := b.Cols[j].Slice(0, b.Rows)
				if err := part.Val[j].Add(l.prof[j], &c, l.known[j], int64(k)*rangeRows+row); err != nil {
					return Part{}, err
				}
				if sums[j] != nil {
					sums[j].Add(&c)
				}
			}
		}
		if err := addVectors(vecs, l.vecs, b, len(fields), fields); err != nil {
			return Part{}, fmt.Errorf("validate: %s: %w", path, err)
		}
		row += int64(b.Rows)
	}
	if err := r.Err(); err != nil {
		return Part{}, fmt.Errorf("validate: %w", err) // as validate.Read reports it
	}
	part.Rows = row
	if part.Vec, err = encodeVectors(vecs, k); err != nil {
		return Part{}, err
	}
	for j, s := range sums {
		if s != nil {
			b, err := s.MarshalBinary()
			if err != nil {
				return Part{}, err
			}
			part.Drift[j] = b
		}
	}
	for n := range asText {
		part.Text = append(part.Text, n)
	}
	sort.Strings(part.Text)
	if l.counter {
		part.Val, part.Drift = nil, nil
	}
	return part, nil
}

// sameColumns reports whether two headers hold the same column names.
func sameColumns(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// textFn collects the numeric inputs read as text in any range.
type textFn struct{}

func (textFn) CreateAccumulator() []string { return []string{} }

func (textFn) AddInput(acc []string, p Part) []string { return textFn{}.MergeAccumulators(acc, p.Text) }

func (textFn) MergeAccumulators(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func (textFn) ExtractOutput(acc []string) []string { return acc }

// fixFn passes on the Parts read with every column of text as text, and
// summarizes the others' ranges again so.
type fixFn struct {
	P Plan
	l *loaded
}

func (f *fixFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *fixFn) ProcessElement(ctx context.Context, p Part, text []string, owned []beamtransform.Span, emit func(Part)) error {
	if slices.Equal(p.Text, text) {
		emit(p)
		return nil
	}
	part, err := summarizeRange(ctx, f.P, f.l, p.Shard, owned, text)
	if err != nil {
		return err
	}
	emit(part)
	return nil
}

// mergeFn merges Parts (in any order): rows add up, accumulators merge.
type mergeFn struct {
	P Plan
	l *loaded
}

func (f *mergeFn) Setup() (err error) {
	f.l, err = load(f.P)
	return err
}

func (f *mergeFn) CreateAccumulator() Part { return Part{} }

func (f *mergeFn) AddInput(acc, p Part) (Part, error) { return f.MergeAccumulators(acc, p) }

func (f *mergeFn) MergeAccumulators(a, b Part) (Part, error) {
	if b.Ranges == 0 {
		return a, nil
	}
	if a.Ranges == 0 {
		return b, nil
	}
	if !slices.Equal(a.Text, b.Text) || len(a.Val) != len(b.Val) {
		return Part{}, fmt.Errorf("beamcheck: summaries of ranges read differently (text columns %q and %q)", a.Text, b.Text)
	}
	a.Rows += b.Rows
	a.Ranges += b.Ranges
	for i, v := range f.l.vecs {
		var err error
		if a.Vec[i], err = mergeVectors(v, a.Vec[i], b.Vec[i]); err != nil {
			return Part{}, err
		}
	}
	for j := range a.Val {
		a.Val[j].Merge(&b.Val[j])
		if a.Drift[j] == nil {
			continue
		}
		pl := f.l.plans[j]
		x, err := pl.UnmarshalSummary(a.Drift[j])
		if err != nil {
			return Part{}, err
		}
		y, err := pl.UnmarshalSummary(b.Drift[j])
		if err != nil {
			return Part{}, err
		}
		if err := x.Merge(y); err != nil {
			return Part{}, err
		}
		if a.Drift[j], err = x.MarshalBinary(); err != nil {
			return Part{}, err
		}
	}
	return a, nil
}

func (f *mergeFn) ExtractOutput(acc Part) Part { return acc }
