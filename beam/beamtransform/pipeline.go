package beamtransform

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

func init() {
	for _, t := range []reflect.Type{
		reflect.TypeFor[scanFn](), reflect.TypeFor[spansFn](), reflect.TypeFor[transformFn](),
		reflect.TypeFor[RangeScan](), reflect.TypeFor[Span](),
	} {
		beam.RegisterType(t)
	}
}

// RangeScan is the scan of one range of a text file: the offset its first
// whole line starts at and what scanLines found in its lines. A range that
// is a whole file has a RangeScan too, marked Whole, so that the Combine
// of scans always has an input.
type RangeScan struct {
	Shard int
	Whole bool
	Start int64
	Scan  lineScan
}

// Build adds the transform of p to the pipeline scope s and returns the
// PCollection of the rows each shard holds.
func Build(s beam.Scope, p Plan) beam.PCollection {
	s = s.Scope("normguard.transform")
	ranges, owned := AddSpans(s, p.Inputs)
	return beam.ParDo(s.Scope("transform"), &transformFn{P: p}, ranges, beam.SideInput{Input: owned})
}

// AddSpans adds the scan of the inputs' ranges to the scope: it returns
// the ranges (their indexes in in.Ranges) and the singleton []Span of the
// records each owns, the side input OpenRange needs.
func AddSpans(s beam.Scope, in Inputs) (ranges, owned beam.PCollection) {
	idx := make([]int, len(in.Ranges))
	for i := range idx {
		idx[i] = i
	}
	ranges = beam.CreateList(s, idx)
	scans := beam.ParDo(s.Scope("scan"), &scanFn{P: in}, ranges)
	owned = beam.Combine(s.Scope("spans"), &spansFn{P: in}, scans)
	return ranges, owned
}

// Run transforms on the named Beam runner ("" runs on Prism, in process)
// and returns the plan it ran.
func Run(ctx context.Context, runner string, o Options) (Plan, error) {
	p, err := NewPlan(ctx, o)
	if err != nil {
		return p, err
	}
	pipe, s := beam.NewPipelineWithRoot()
	Build(s, p)
	if runner == "" {
		runner = "prism"
	}
	if _, err := beam.Run(ctx, runner, pipe); err != nil {
		return p, fmt.Errorf("transform %s on %s: %w", o.In, runner, err)
	}
	return p, nil
}

// scanFn scans the lines of a range of a text file (a whole file emits a
// RangeScan marked Whole).
type scanFn struct {
	P Inputs
}

func (f *scanFn) ProcessElement(ctx context.Context, k int, emit func(RangeScan)) error {
	r := f.P.Ranges[k]
	if !r.Split {
		emit(RangeScan{Shard: k, Whole: true})
		return nil
	}
	tf := f.P.Text[r.File]
	path := f.P.Files[r.File]
	from := max(r.Lo-1, 0)
	if k == r.First {
		from = tf.HeaderEnd // the header record ends a line
	}
	rc, err := openAt(ctx, path, from)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	start := from
	if k != r.First {
		// The range's lines start after the first newline at or after
		// Lo-1: a line that starts before Lo belongs to the range before.
		skipped, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			start += int64(len(skipped))
			skipped, err = br.ReadSlice('\n')
		}
		start += int64(len(skipped))
		if err == io.EOF { // a line longer than the range covers it
			emit(RangeScan{Shard: k, Start: start, Scan: scanLines(nil, tf.Delim, tf.JSONL)})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	var data []byte
	if r.Hi < tf.Size && r.Hi > start {
		data = make([]byte, r.Hi-1-start)
		if _, err := io.ReadFull(br, data); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		// ... up to the newline at or after Hi-1, which ends the range.
		tail, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", path, err)
		}
		data = append(data, tail...)
	} else if r.Hi >= tf.Size {
		if data, err = io.ReadAll(br); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	emit(RangeScan{Shard: k, Start: start, Scan: scanLines(data, tf.Delim, tf.JSONL)})
	return nil
}

// spansFn collects the scans and returns, per shard, the span of its
// file that it owns (zero for ranges that are whole files).
type spansFn struct {
	P Inputs
}

func (f *spansFn) CreateAccumulator() []RangeScan { return nil }

func (f *spansFn) AddInput(acc []RangeScan, s RangeScan) []RangeScan {
	if s.Whole {
		return acc
	}
	return append(acc, s)
}

func (f *spansFn) MergeAccumulators(a, b []RangeScan) []RangeScan { return append(a, b...) }

func (f *spansFn) ExtractOutput(acc []RangeScan) ([]Span, error) {
	slices.SortFunc(acc, func(a, b RangeScan) int { return a.Shard - b.Shard })
	out := make([]Span, len(f.P.Ranges))
	for at := 0; at < len(acc); {
		file := f.P.Ranges[acc[at].Shard].File
		end := at
		var starts []int64
		var scans []lineScan
		for ; end < len(acc) && f.P.Ranges[acc[end].Shard].File == file; end++ {
			starts = append(starts, acc[end].Start)
			scans = append(scans, acc[end].Scan)
		}
		tf := f.P.Text[file]
		sp := spans(starts, scans, tf.Size, tf.HeaderNL)
		if first := f.P.Ranges[acc[at].Shard].First; acc[at].Shard != first || len(sp) != acc[end-1].Shard-first+1 {
			return nil, fmt.Errorf("transform: %s: scans of %d ranges, want every range from shard %d", f.P.Files[file], len(sp), first)
		}
		sp[0].Lo, sp[0].NLBefore = 0, 0 // the first range reads the header itself
		copy(out[acc[at].Shard:], sp)
		at = end
	}
	return out, nil
}

// transformFn transforms one range and writes its shard; it emits the
// number of rows written.
type transformFn struct {
	P Plan
	t *transform.Transformer
}

func (f *transformFn) Setup() error {
	a, err := artifact.Decode([]byte(f.P.Artifact), f.P.ArtifactName)
	if err != nil {
		return err
	}
	f.t, err = transform.New(a)
	return err
}

func (f *transformFn) ProcessElement(ctx context.Context, k int, owned []Span, emit func(int64)) error {
	r := f.P.Ranges[k]
	src, err := f.P.OpenRange(ctx, k, owned)
	if err != nil {
		return err
	}
	defer src.Close()
	rows, err := writeShard(ctx, f.t, src, f.P.Files[r.File], ShardName(f.P.Out, k, len(f.P.Ranges)), k == 0)
	if err != nil {
		return err
	}
	emit(rows)
	return nil
}

// OpenRange returns a core table reader of the records range k owns
// (owned is AddSpans' side input). Its errors name the file and the line
// or row in the whole file.
func (in Inputs) OpenRange(ctx context.Context, k int, owned []Span) (table.Reader, error) {
	r := in.Ranges[k]
	path := in.Files[r.File]
	if !r.Split {
		tr, err := openWhole(ctx, path)
		if err != nil {
			return nil, err
		}
		return &rangeReader{Reader: tr}, nil
	}
	tf := in.Text[r.File]
	sp := owned[r.Shard]
	if r.Shard == r.First {
		rc, err := openAt(ctx, path, 0)
		if err != nil {
			return nil, err
		}
		return newRangeReader(path, tf, readCloser{io.LimitReader(rc, sp.Hi), rc}, 0, false)
	}
	if sp.Lo >= sp.Hi {
		return &rangeReader{}, nil // owns no record: an empty shard
	}
	head, err := openAt(ctx, path, 0)
	if err != nil {
		return nil, err
	}
	header := make([]byte, tf.HeaderEnd)
	_, err = io.ReadFull(head, header)
	head.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	rc, err := openAt(ctx, path, sp.Lo)
	if err != nil {
		return nil, err
	}
	src := io.MultiReader(bytes.NewReader(header), io.LimitReader(rc, sp.Hi-sp.Lo))
	// Line numbers: the range's first line is line NLBefore+1 of the
	// file, and line HeaderNL+1 of the stream read.
	return newRangeReader(path, tf, readCloser{src, rc}, sp.NLBefore-tf.HeaderNL, tf.JSONL)
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
