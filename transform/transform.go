// Package transform applies an artifact to data: the one implementation of
// normguard's transform, used by the CLI, the Go library and the HTTP
// service alike, so every entry point gives the same bits.
package transform

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/arena"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/internal/finite"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/timings"
)

// Transformer applies one artifact. It is safe for concurrent use.
type Transformer struct {
	// Workers bounds the goroutines one Batch call uses (0: GOMAXPROCS).
	// It never changes the output.
	Workers int
	// Timings, when set, receives Stream's stage times.
	Timings *timings.Recorder

	art     *artifact.Artifact
	inputs  []table.Field
	outputs []table.Field
	groups  []groupPlan
	pass    []int // input index of each passthrough column
	pool    sync.Pool
}

type groupPlan struct {
	in      []int // input index of each group column
	steps   []step.Fitted
	names   []string // each step's name, for errors
	checked []bool   // each step's outputs are finite or refused by the step (step.OutputChecker)
	out     int      // index of the group's first output column
}

// scratch holds per-call buffers: the input and output columns of every
// step but the last, whose output goes straight into the result batch.
type scratch struct {
	in  [][]table.Column   // per group: the group's input columns (views)
	mid [][][]table.Column // per group, per step: output buffers
}

// New prepares a transformer for an artifact.
func New(a *artifact.Artifact) (*Transformer, error) {
	t := &Transformer{art: a, inputs: artifact.TableFields(a.Inputs), outputs: artifact.TableFields(a.Outputs)}
	idx := make(map[string]int, len(t.inputs))
	for i, f := range t.inputs {
		idx[f.Name] = i
	}
	out := 0
	for gi, g := range a.Groups {
		gp := groupPlan{out: out}
		for _, c := range g.Columns {
			i, ok := idx[c]
			if !ok {
				return nil, fmt.Errorf("transform: group %d reads unknown input %q", gi, c)
			}
			gp.in = append(gp.in, i)
		}
		width := len(gp.in)
		for _, s := range g.Steps {
			gp.steps = append(gp.steps, s.Fitted)
			gp.names = append(gp.names, s.Name)
			oc, ok := s.Fitted.(step.OutputChecker)
			gp.checked = append(gp.checked, ok && oc.ChecksOutput())
			width = len(s.Fitted.Outputs())
		}
		out += width
		t.groups = append(t.groups, gp)
	}
	for _, c := range a.Passthrough {
		t.pass = append(t.pass, idx[c])
	}
	t.pool.New = func() any { return t.newScratch() }
	return t, nil
}

func (t *Transformer) newScratch() *scratch {
	s := &scratch{in: make([][]table.Column, len(t.groups)), mid: make([][][]table.Column, len(t.groups))}
	for gi, g := range t.groups {
		s.in[gi] = make([]table.Column, len(g.in))
		s.mid[gi] = make([][]table.Column, len(g.steps))
		for si, st := range g.steps {
			if si == len(g.steps)-1 {
				break
			}
			s.mid[gi][si] = table.NewColumns(st.Outputs())
		}
	}
	return s
}

// Artifact returns the artifact being applied.
func (t *Transformer) Artifact() *artifact.Artifact { return t.art }

// Inputs returns the columns a batch passed to Batch must hold, in order.
func (t *Transformer) Inputs() []table.Field { return t.inputs }

// Outputs returns the output schema.
func (t *Transformer) Outputs() []table.Field { return t.outputs }

// NewOutput returns an empty batch shaped for Batch's output.
func (t *Transformer) NewOutput() *table.Batch {
	return &table.Batch{Cols: table.NewColumns(t.outputs)}
}

// RowError locates a value the transform cannot handle.
type RowError struct {
	Source string // file name, or "" for in-memory data
	Line   int64  // source line (or 1-based row when the source has no lines)
	Err    error  // typically a *step.ValueError
}

func (e *RowError) Error() string {
	loc := fmt.Sprintf("row %d", e.Line)
	if e.Source != "" {
		loc = fmt.Sprintf("%s:%d", e.Source, e.Line)
	}
	return loc + ": " + e.Err.Error()
}

func (e *RowError) Unwrap() error { return e.Err }

// ErrInfinite is wrapped by errors about infinite input values, which
// scikit-learn refuses as normguard does.
var ErrInfinite = errors.New("infinite value")

// ErrNotUTF8 is the error of passed-through text that is not UTF-8.
var ErrNotUTF8 = fmt.Errorf("%w: text that is not UTF-8", step.ErrBadValue)

// cacheBlockRows is the number of rows a goroutine checks and transforms
// at a time, so that the block of every input column stays in cache.
const cacheBlockRows = 4096

// parallelMinRows is the batch size from which Batch splits rows across
// goroutines.
const parallelMinRows = 16384

// Batch transforms in, whose columns are Inputs() in order, into out, whose
// columns must be shaped as NewOutput returns (buffers are reused). source
// labels errors. Passthrough output columns share storage with in. Large
// batches are split into row ranges transformed in parallel; every step
// works row by row, so the result is the same bits either way.
func (t *Transformer) Batch(in, out *table.Batch, source string) error {
	n := in.Rows
	if len(in.Cols) != len(t.inputs) {
		return fmt.Errorf("transform: batch has %d columns, the artifact reads %d", len(in.Cols), len(t.inputs))
	}
	nOut := len(t.outputs) - len(t.pass)
	workers := min(t.workers(), max(1, n/(parallelMinRows/2)))
	if workers <= 1 {
		if err := CheckFinite(in, t.inputs, source); err != nil {
			return err
		}
		if err := t.rows(in.Cols, out.Cols[:nOut], n); err != nil {
			return locate(err, in, 0, source)
		}
	} else {
		prepareViews(out.Cols[:nOut], n)
		err := splitRows(n, workers, func(lo, hi int) error {
			// Cache-sized blocks: the finiteness check and the kernels
			// read each block from memory once.
			part := &table.Batch{Cols: make([]table.Column, len(in.Cols))}
			outs := make([]table.Column, nOut)
			for blo := lo; blo < hi; blo += cacheBlockRows {
				bhi := min(blo+cacheBlockRows, hi)
				sliceColsInto(part.Cols, in.Cols, blo, bhi)
				sliceColsInto(outs, out.Cols[:nOut], blo, bhi)
				part.Rows, part.Start, part.Lines = bhi-blo, in.Start+int64(blo), nil
				if in.Lines != nil {
					part.Lines = in.Lines[blo:bhi]
				}
				if err := CheckFinite(part, t.inputs, source); err != nil {
					return err
				}
				if err := t.rows(part.Cols, outs, bhi-blo); err != nil {
					return locate(err, in, blo, source)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i, ix := range t.pass {
		c := in.Cols[ix]
		if err := checkText(in, &c, source); err != nil {
			return err
		}
		c.Name = out.Cols[nOut+i].Name
		out.Cols[nOut+i] = c
	}
	out.Rows, out.Lines, out.Start = n, in.Lines, in.Start
	return nil
}

// checkText refuses a passed-through text column of b holding text that
// is not UTF-8 (a Latin-1 file): written out, JSON Lines would replace its
// bytes with U+FFFD and Parquet would hold them in a UTF-8 column, both
// silently (attack run 30 F6); fit refuses such data too.
func checkText(b *table.Batch, c *table.Column, source string) error {
	if c.Kind != table.String {
		return nil
	}
	for i, v := range c.Str[:b.Rows] {
		if utf8.ValidString(v) || c.Null != nil && c.Null[i] {
			continue
		}
		return &RowError{Source: source, Line: b.Line(i), Err: &step.ValueError{
			Step: "passthrough", Column: c.Name, Row: i, Value: v, Err: ErrNotUTF8,
			Hint: "the file is not UTF-8 (a Latin-1 or Windows-1252 file, as Excel writes CSV, or raw bytes); convert it (e.g. iconv -f WINDOWS-1252 -t UTF-8 IN > OUT) and transform again"}}
	}
	return nil
}

// rows runs every group's chain over n rows of in (the transformer's
// inputs), writing the groups' outputs to out.
func (t *Transformer) rows(in, out []table.Column, n int) error {
	s := t.pool.Get().(*scratch)
	defer t.pool.Put(s)
	for gi := range t.groups {
		g := &t.groups[gi]
		cur := s.in[gi]
		for i, ix := range g.in {
			cur[i] = in[ix]
		}
		for si, st := range g.steps {
			var dst []table.Column
			if si == len(g.steps)-1 {
				dst = out[g.out : g.out+len(st.Outputs())]
			} else {
				dst = s.mid[gi][si]
			}
			err := st.Transform(cur, dst, n)
			if err == nil && !g.checked[si] {
				err = CheckStepOutput(g.names[si], cur, dst, n)
			}
			if err != nil {
				if si > 0 {
					err = rawValue(err, s.in[gi], dst)
				}
				return err
			}
			cur = dst
		}
		if len(g.steps) == 0 {
			for i := range cur {
				copyColumn(&out[g.out+i], &cur[i], n)
			}
		}
	}
	return nil
}

// ErrNotFinite is wrapped by the error for a step output that is not a
// finite number for a finite input: normguard never writes one.
var ErrNotFinite = step.ErrNotFinite

// CheckStepOutput returns a *step.ValueError for the first ±Inf among the
// n rows of the numeric columns of out, the output of the step named name
// for the inputs in (an overflow past float64's range: a scaler's scale far
// below a value's distance from its mean, a power of a huge value), or
// nil. Its Row is the row in the batch; a step mapping its inputs one to
// one onto as many outputs names the input column and its value on that
// row, any other the output column. Inputs are finite (CheckFinite refuses
// infinite input, and every step's output is checked), so the step made
// the infinity.
func CheckStepOutput(name string, in, out []table.Column, n int) error {
	for k := range out {
		c := &out[k]
		if c.Kind != table.Numeric || !finite.AnyInf(c.Num[:n]) {
			continue
		}
		i := finite.FirstInf(c.Num[:n])
		if len(out) == len(in) && in[k].Kind == table.Numeric {
			return step.OverflowError(name, in[k].Name, i, in[k].Num[i], c.Num[i], false)
		}
		return step.OverflowErrorAt(name, c.Name, i, c.Num[i], "for output "+errtext.Quote(c.Name)+" on this row")
	}
	return nil
}

// rawValue relates the value err names, the error of a step after the
// first of a group, to the group's input value on that row (of the column
// of that name among raw, the group's inputs; out is the step's output),
// the value found in the data: an ErrNotFinite error names it instead, any
// other value error (log1p given -1.5 by a scaler before it) says in its
// hint which input value the steps before made it of.
func rawValue(err error, raw, out []table.Column) error {
	ve, ok := err.(*step.ValueError)
	if !ok || ve.Value == "" || ve.Row < 0 {
		return err
	}
	for r := range raw {
		if raw[r].Name != ve.Column || raw[r].Kind != table.Numeric || ve.Row >= len(raw[r].Num) {
			continue
		}
		x := raw[r].Num[ve.Row]
		if !errors.Is(err, ErrNotFinite) {
			ve.Hint = fmt.Sprintf("the steps before it made %s of the input value %s; %s", errtext.Quote(ve.Value), errtext.Quote(strconv.FormatFloat(x, 'g', -1, 64)), ve.Hint)
			return ve
		}
		for k := range out {
			if out[k].Name == ve.Column && out[k].Kind == table.Numeric && ve.Row < len(out[k].Num) {
				return step.OverflowError(ve.Step, ve.Column, ve.Row, x, out[k].Num[ve.Row], true)
			}
		}
	}
	return err
}

// workers returns the number of goroutines Batch may use.
func (t *Transformer) workers() int {
	if t.Workers > 0 {
		return t.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func copyColumn(dst, src *table.Column, n int) {
	dst.Resize(n)
	if src.Kind == table.String {
		copy(dst.Str, src.Str[:n])
		if src.Null != nil {
			dst.Null = append(dst.Null[:0], src.Null[:n]...)
		} else {
			dst.Null = nil
		}
		return
	}
	copy(dst.Num, src.Num[:n])
}

// locate wraps a step's value error with the row's source line; rows of
// the error count from offset within the batch.
func locate(err error, in *table.Batch, offset int, source string) error {
	var ve *step.ValueError
	if errors.As(err, &ve) && ve.Row >= 0 {
		ve.Row += offset
		return &RowError{Source: source, Line: in.Line(ve.Row), Err: err}
	}
	return fmt.Errorf("transform: %w", err)
}

// CheckFinite returns a *RowError for the first ±Inf in a numeric column of
// b (fields give the kinds), the first column in order that has one.
// scikit-learn refuses infinite input; so does normguard, at fit and at
// transform.
func CheckFinite(b *table.Batch, fields []table.Field, source string) error {
	for j := range b.Cols {
		if err := CheckFiniteColumn(b, j, fields, source); err != nil {
			return err
		}
	}
	return nil
}

// CheckFiniteColumn is CheckFinite for column j of b alone.
func CheckFiniteColumn(b *table.Batch, j int, fields []table.Field, source string) error {
	if fields[j].Kind != table.Numeric {
		return nil
	}
	xs := b.Cols[j].Num[:b.Rows]
	i := finite.FirstInf(xs)
	if i < 0 {
		return nil
	}
	return &RowError{Source: source, Line: b.Line(i), Err: &step.ValueError{
		Step: "input", Column: fields[j].Name, Row: i, Value: strconv.FormatFloat(xs[i], 'g', -1, 64), Err: ErrInfinite,
		Hint: "replace or drop infinite values (inf, or a number past float64's range such as 1e400, which reads as infinite) before normalizing (scikit-learn refuses them too)"}}
}

// Stream reads every batch of r, transforms it and writes it to w. It does
// not close w. It returns the number of rows written.
//
// Reading and transforming run in the calling goroutine while the writer
// works on earlier batches (the CSV writer formats on every core), so a
// stream keeps both kinds of work going at once; batches reach w in input
// order, one at a time, so w need not be safe for concurrent use. A
// table.OwningWriter is handed each batch with WriteOwned and gives it
// back when done with it, so that several batches are in flight: the next
// is filled while the writer still formats the last. Time spent reading
// ("parse") and transforming ("transform") goes to t.Timings, and the
// writer's own stages too when it records them (timings.Setter).
func (t *Transformer) Stream(ctx context.Context, r table.Reader, w table.Writer, source string) (int64, error) {
	r = SplitVectors(r, t.art)
	if err := r.Project(t.inputs); err != nil {
		return 0, err
	}
	if ts, ok := w.(timings.Setter); ok && t.Timings != nil {
		ts.SetTimings(t.Timings)
	}
	if ow, ok := w.(table.OwningWriter); ok {
		return t.streamOwned(ctx, r, ow, source)
	}
	// Two output batches: one being written while the next is filled.
	var mem arena.Arena
	defer mem.Close() // after the writing goroutine has returned every batch
	free := t.streamBatches(2, &mem)
	full := make(chan *streamBatch, 1)
	failed := make(chan struct{}) // closed when a write fails
	var werr error
	var written int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range full {
			if werr == nil {
				if werr = w.Write(b.out); werr != nil {
					close(failed)
				} else {
					written += int64(b.out.Rows)
				}
			}
			free <- b
		}
	}()
	err := t.fill(ctx, r, source, free, failed, func(sb *streamBatch) bool {
		select {
		case full <- sb:
			return true
		case <-failed:
			return false
		}
	})
	close(full)
	<-done
	if werr != nil {
		return written, werr
	}
	return written, err
}

// ownedBatches is the number of output batches Stream keeps for an
// OwningWriter: one being filled, one being formatted, and one more so
// that the writer's cores never wait for the filling of the next.
const ownedBatches = 3

// streamOwned is Stream for an OwningWriter: fill hands each batch to
// WriteOwned, whose release returns it to the free batches.
func (t *Transformer) streamOwned(ctx context.Context, r table.Reader, w table.OwningWriter, source string) (int64, error) {
	var mem arena.Arena
	// The writer formats the batches it was handed after WriteOwned
	// returns: their storage is unmapped once it has released them all.
	var owned sync.WaitGroup
	defer mem.Close()
	defer owned.Wait()
	free := t.streamBatches(ownedBatches, &mem)
	var werr error
	var written int64
	err := t.fill(ctx, r, source, free, nil, func(sb *streamBatch) bool {
		owned.Add(1)
		if werr = w.WriteOwned(sb.out, func() { free <- sb; owned.Done() }); werr != nil {
			return false
		}
		written += int64(sb.out.Rows)
		return true
	})
	if werr != nil {
		return written, werr
	}
	return written, err
}

// streamBatches returns a channel holding n new output batches, with room
// for all of them, whose numeric columns take their storage from mem.
func (t *Transformer) streamBatches(n int, mem *arena.Arena) chan *streamBatch {
	free := make(chan *streamBatch, n)
	for range n {
		free <- &streamBatch{out: t.NewOutput(), pass: table.NewColumns(t.outputs[len(t.outputs)-len(t.pass):]), mem: mem}
	}
	return free
}

// streamBatch is an output batch of Stream with its own storage for the
// passthrough columns.
//
// Its numeric columns are cut from one block of mem (internal/arena),
// which a stream's three batches of 22 columns x 65,536 rows (35 MB) get
// in 2 MiB pages: in 4 KiB heap pages their first writes were about 9,000
// page faults of ~12 us each, most of a Parquet transform's "transform"
// stage.
type streamBatch struct {
	out  *table.Batch
	pass []table.Column
	mem  *arena.Arena
	num  []float64 // the block, from mem
	rows int       // rows each numeric column's share of num holds
}

// reserve gives the batch's numeric output columns room for n rows.
func (sb *streamBatch) reserve(n, outputs int) error {
	if n <= sb.rows {
		return nil
	}
	cols := sb.out.Cols[:outputs]
	k := 0
	for _, c := range cols {
		if c.Kind == table.Numeric {
			k++
		}
	}
	if k == 0 {
		return nil
	}
	num, err := sb.mem.Floats(k * n)
	if err != nil {
		return err
	}
	if sb.num != nil {
		sb.mem.Free(sb.num) // the batch is not in use: it came back from the writer
	}
	sb.num, sb.rows = num, n
	k = 0
	for j := range cols {
		if cols[j].Kind == table.Numeric {
			cols[j].Num = num[k*n : k*n : (k+1)*n]
			k++
		}
	}
	return nil
}

// fill reads and transforms batches of r into batches taken from free and
// passes them to send, until the input ends, an error, send returns false
// or failed closes (a nil failed never does).
func (t *Transformer) fill(ctx context.Context, r table.Reader, source string, free chan *streamBatch, failed chan struct{}, send func(*streamBatch) bool) error {
	tim := t.Timings
	t0 := time.Now()
	for r.Next() {
		t0 = tim.Since("parse", t0)
		if err := ctx.Err(); err != nil {
			return err
		}
		var sb *streamBatch
		select {
		case sb = <-free:
		case <-failed:
			return nil
		}
		t0 = time.Now() // waiting for the writer is not transforming
		in, out := r.Batch(), sb.out
		if err := sb.reserve(in.Rows, len(t.outputs)-len(t.pass)); err != nil {
			return err
		}
		if err := t.Batch(in, out, source); err != nil {
			return err
		}
		// The reader reuses its buffers on Next while the writer still
		// holds out: passthrough columns get out's own copy.
		nOut := len(t.outputs) - len(t.pass)
		for i := range t.pass {
			copyColumn(&sb.pass[i], &out.Cols[nOut+i], in.Rows)
			out.Cols[nOut+i] = sb.pass[i]
		}
		out.Lines = nil
		t0 = tim.Since("transform", t0)
		if !send(sb) {
			return nil
		}
		t0 = time.Now()
	}
	return r.Err()
}

// ApplyStep applies one fitted step to n rows of in on up to workers
// goroutines and returns new output columns. fit uses it to pass the
// training data from step to step.
func ApplyStep(f step.Fitted, in []table.Column, n, workers int) ([]table.Column, error) {
	out := table.NewColumns(f.Outputs())
	return out, ApplyStepInto(f, in, out, n, workers)
}

// ApplyStepInto is ApplyStep writing into out, columns shaped as
// f.Outputs() whose buffers are used when large enough.
func ApplyStepInto(f step.Fitted, in, out []table.Column, n, workers int) error {
	if workers <= 1 || n < parallelMinRows {
		return f.Transform(in, out, n)
	}
	prepareViews(out, n)
	return splitRows(n, workers, func(lo, hi int) error {
		err := f.Transform(sliceCols(in, lo, hi), sliceCols(out, lo, hi), hi-lo)
		var ve *step.ValueError
		if errors.As(err, &ve) && ve.Row >= 0 {
			ve.Row += lo
		}
		return err
	})
}

// prepareViews sizes columns to n rows so that row-range views of them
// share their storage (a String column gets its null mask up front).
func prepareViews(cols []table.Column, n int) {
	for i := range cols {
		c := &cols[i]
		c.Resize(n)
		if c.Kind == table.String && c.Null == nil {
			c.Null = make([]bool, n)
		}
	}
}

// sliceCols returns views of rows [lo, hi) of cols, capped at hi so that a
// step resizing a view can never write past its range.
func sliceCols(cols []table.Column, lo, hi int) []table.Column {
	out := make([]table.Column, len(cols))
	sliceColsInto(out, cols, lo, hi)
	return out
}

// sliceColsInto is sliceCols writing the views into out.
func sliceColsInto(out, cols []table.Column, lo, hi int) {
	for i := range cols {
		c := &cols[i]
		v := table.Column{Name: c.Name, Kind: c.Kind}
		if c.Kind == table.String {
			v.Str = c.Str[lo:hi:hi]
			if c.Null != nil {
				v.Null = c.Null[lo:hi:hi]
			}
		} else {
			v.Num = c.Num[lo:hi:hi]
		}
		out[i] = v
	}
}

// splitRows calls fn on workers contiguous row ranges covering [0, n) in
// parallel and returns the error of the lowest range that failed.
func splitRows(n, workers int, fn func(lo, hi int) error) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = fn(lo, hi)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
