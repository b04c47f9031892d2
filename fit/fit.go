// Package fit fits a spec on training data and produces an artifact.
//
// Fit reads the whole training set (every row counts, as in scikit-learn),
// holds the spec's columns in memory as columns, and fits each group's
// steps in order, each on the previous step's output (Pipeline
// semantics). Statistics are computed with exact, order-independent
// accumulators, so the artifact's bytes do not depend on batch size, chunk
// size or the number of workers.
package fit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/timings"
	"github.com/normguard/normguard/transform"
)

// Options tune a fit. The zero value works.
type Options struct {
	// Model and ModelVersion link the artifact to a model (optional).
	Model, ModelVersion string
	// Workers bounds parallelism (0: 1). It never changes the result.
	Workers int
	// Source names the training data in errors.
	Source string
	// MaxSortRows bounds the values an order statistic (median, percentile,
	// quantile) sorts in memory; larger columns are sorted externally in
	// runs on disk (0: no bound). It never changes the result.
	MaxSortRows int
	// Spill, when set, holds the numeric columns outside the Go heap, in
	// memory-mapped temporary files (NewSpill) or anonymous memory
	// (NewArena); an arena also lends the order statistics their sort
	// copies. The batch FitTransform returns lives in it: close the Spill
	// after using the batch. It never changes the result.
	Spill *Spill
	// TempDir holds external sort runs ("" is os.TempDir()).
	TempDir string
	// Timings, when set, receives the time of each stage: parse (reading
	// and type inference), fit statistics, transform (passing the data
	// through each fitted step), fingerprint and profile.
	Timings *timings.Recorder
	// Vectors adds to the contracts of vector columns (vector.go).
	Vectors VectorOptions
	// Memory is the machine's memory in bytes (0: unknown). A step's
	// outputs that fit must hold as columns of the training rows (the
	// batch FitTransform returns, or a step that feeds another) may take
	// at most half of it, unless columns spill to files (checkDense).
	Memory int64
	// AfterRead, when set, is called once the training data is read into
	// columns, before any statistic: from then on no column grows, and the
	// heap holds only short-lived scratch, so a command may let the
	// collector run less often (cmd/normguard does).
	AfterRead func()
}

// ErrNoRows is returned when the training data has no rows.
var ErrNoRows = errors.New("training data has no rows")

// ErrMissingColumn is wrapped when the spec names a column the data lacks.
var ErrMissingColumn = errors.New("column not in the data")

// Fit fits sp on every row of r and returns the artifact (not yet encoded).
//
// Fit does not hold what it does not return: the outputs of an indicator
// step (one_hot_encoder, kbins_discretizer with onehot encoding) that
// ends its group are profiled from their counts of ones, never made into
// columns of the training rows (indicatorOutputs).
func Fit(ctx context.Context, sp *spec.Spec, r table.Reader, opt Options) (*artifact.Artifact, error) {
	a, _, err := fitTransform(ctx, sp, r, opt, false)
	return a, sp.Locate(err)
}

// FitTransform is Fit that also returns the training data transformed by
// the fitted artifact (scikit-learn's fit_transform), as one batch in the
// artifact's output schema. It reads the data once: the outputs are the
// ones each chain computed while fitting, the same bits transform.Batch
// gives for the same rows.
func FitTransform(ctx context.Context, sp *spec.Spec, r table.Reader, opt Options) (*artifact.Artifact, *table.Batch, error) {
	a, b, err := fitTransform(ctx, sp, r, opt, true)
	return a, b, sp.Locate(err)
}

// fitTransform is FitTransform; without batch it returns no batch, and
// holds no indicator step's outputs that it need not (Fit).
func fitTransform(ctx context.Context, sp *spec.Spec, r table.Reader, opt Options, batch bool) (*artifact.Artifact, *table.Batch, error) {
	if err := sp.Validate(); err != nil {
		return nil, nil, err
	}
	if err := sp.CheckFitParams(); err != nil {
		return nil, nil, err
	}
	// Up front, before the data is read; again below once the spec is
	// resolved against the data (types, vector columns' dimensions).
	if err := artifact.CheckSpecSize(sp); err != nil {
		return nil, nil, fmt.Errorf("fit %s: %w", opt.Source, err)
	}
	fields, pass, err := Projection(sp, r.Header(), opt.Source)
	if err != nil {
		return nil, nil, err
	}
	if err := r.Project(fields); err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	cols, rows, err := table.ReadAllWith(r, fields, table.ReadOptions{
		Context: ctx,
		Alloc:   opt.Spill.Floats,
		Free:    opt.Spill.Free,
		Strings: opt.Spill.stringKeeper(opt.Source),
		Check:   func(b *table.Batch, j int) error { return transform.CheckFiniteColumn(b, j, fields, opt.Source) },
		Workers: opt.Workers,
	})
	if err != nil {
		return nil, nil, err
	}
	if opt.AfterRead != nil {
		opt.AfterRead()
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("fit %s: %w; fit needs at least one data row", opt.Source, ErrNoRows)
	}
	cols, sp, embeddings, err := splitVectors(sp, cols, rows, opt)
	if err != nil {
		return nil, nil, err
	}

	// Types: declared, or inferred (numeric when every present value parses).
	byName := make(map[string]*table.Column, len(cols))
	for i := range cols {
		byName[cols[i].Name] = &cols[i]
	}
	for _, g := range sp.Columns {
		if g.Kind() == table.KindUnknown {
			if err := inferGroup(g.Names, byName, opt.Source); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, p := range pass {
		// A passthrough column of integers float64 cannot hold exactly
		// (64-bit ids: database keys, snowflake ids) stays text, written
		// as read: as a number it came out rounded, distinct ids merged,
		// without a word (attack run 22).
		if c := byName[p]; c.Kind == table.String && holdsWideInteger(c) {
			continue
		}
		if err := inferGroup([]string{p}, byName, opt.Source); err != nil {
			return nil, nil, err
		}
	}
	tim := opt.Timings
	t0 = tim.Since("parse", t0)

	a := &artifact.Artifact{Spec: resolvedSpec(sp, byName), Embeddings: embeddings}
	if err := artifact.CheckSpecSize(a.Spec); err != nil {
		return nil, nil, fmt.Errorf("fit %s: %w", opt.Source, err)
	}
	if opt.Model != "" || opt.ModelVersion != "" {
		a.Model = &artifact.Model{Name: opt.Model, Version: opt.ModelVersion}
	}
	for i := range cols {
		a.Inputs = append(a.Inputs, artifact.FieldOf(table.Field{Name: cols[i].Name, Kind: cols[i].Kind}))
	}
	// The fingerprint and the inputs' profile come first, so that an input
	// column only one group reads can give its storage to a later step's
	// output (see recycle) instead of the fit holding one more column.
	// Both only read the columns; the fingerprint (one goroutine) fills the
	// gaps the profile's per-column workers leave.
	fp := make(chan string, 1)
	go func() {
		t := time.Now()
		f := Fingerprint(cols, rows)
		tim.Since("fingerprint", t)
		fp <- f
	}()
	a.Profile = &profile.Set{Inputs: profileColumns(cols, embeddings, max(opt.Workers, 1))}
	t0 = tim.Since("profile", t0)
	a.Training = artifact.Training{Rows: int64(rows), Fingerprint: <-fp}
	t0 = time.Now()
	readers := map[string]int{}
	for _, g := range sp.Columns {
		for _, n := range g.Names {
			readers[n]++
		}
	}
	for _, p := range pass {
		readers[p]++
	}

	fc := &step.FitContext{Workers: opt.Workers,
		Sort: stats.SortOptions{MaxInMemory: opt.MaxSortRows, TempDir: opt.TempDir, Buffers: opt.Spill.sortBuffers()}}
	seenOut := map[string]string{}
	var outCols []table.Column
	var outPre []*profile.Feature // profiles of outCols known already (indicatorOutputs)
	grid := 0                     // grid entries of the steps fitted so far (step.GridEntries)
	for gi, g := range a.Spec.Columns {
		path := fmt.Sprintf("columns[%d]", gi)
		if err := spec.CheckKinds(&g, g.Kind(), path); err != nil {
			if sp.Columns[gi].Type == "" {
				err = inferredText(err, g.Names, byName)
			}
			return nil, nil, err
		}
		group := artifact.Group{Columns: g.Names, Type: g.Type}
		cur := make([]table.Column, len(g.Names))
		for i, n := range g.Names {
			cur[i] = *byName[n]
		}
		var spare [][]float64 // storage of dead columns, for later outputs
		var pre []*profile.Feature
		for si, st := range g.Steps {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			if err := indicatorIntoEncoder(opt.Source, path, &g, si, cur); err != nil {
				return nil, nil, err
			}
			need := step.GridEntries(st.Params, len(cur), rows)
			if err := checkGrid(opt.Source, path, si, st, names(cur), rows, need, grid); err != nil {
				return nil, nil, err
			}
			grid += need
			fitted, err := st.Params.Fit(fc, cur)
			t0 = tim.Since("fit statistics", t0)
			if err != nil {
				return nil, nil, fmt.Errorf("fit %s: %s.steps[%d].%s: %w", opt.Source, path, si, st.Name, err)
			}
			if err := checkOutputCount(opt.Source, path, si, st.Name, names(cur), len(fitted.Outputs()), len(a.Outputs)+len(pass)); err != nil {
				return nil, nil, err
			}
			// What every reader of the artifact holds the step to, before
			// the step is applied: a statistic that overflowed float64 is
			// refused here, naming the step and the column, instead of
			// being written into an artifact every reader refuses as
			// damaged.
			if err := step.CheckFit(st.Params, fitted, names(cur)); err != nil {
				return nil, nil, fmt.Errorf("fit %s: %s.steps[%d].%s: %w", opt.Source, path, si, st.Name, err)
			}
			group.Steps = append(group.Steps, step.FittedStep{Name: st.Name, Params: st.Params, Inputs: names(cur), Fitted: fitted})
			inPlace := elementwise(fitted, cur) && dies(cur, si == 0, readers)
			var next []table.Column
			if ind, ok := fitted.(step.Indicators); ok && ind.Indicators() && !batch && si == len(g.Steps)-1 {
				// Nothing reads these outputs but their profile.
				next, pre, err = indicatorOutputs(ind, cur, rows)
			} else {
				if err := checkDense(opt, path, si, st.Name, names(cur), fitted, rows, inPlace, len(spare), batch); err != nil {
					return nil, nil, err
				}
				if inPlace && si == 0 {
					for _, c := range cur {
						byName[c.Name].Num = nil // given to the output
					}
				}
				next, err = applyStep(fitted, cur, rows, opt, &spare, inPlace)
				err = checkStepOutput(err, st.Name, fitted, cur, next, rows, inPlace)
			}
			t0 = tim.Since("transform", t0)
			if err != nil {
				return nil, nil, fmt.Errorf("fit %s: %s.steps[%d].%s: applying to the training data: %w", opt.Source, path, si, st.Name, err)
			}
			spare = recycle(spare, cur, next, si == 0, readers, byName)
			cur = next
		}
		outCols = append(outCols, cur...)
		if pre == nil {
			pre = make([]*profile.Feature, len(cur))
		}
		outPre = append(outPre, pre...)
		for _, c := range cur {
			if prev, dup := seenOut[c.Name]; dup {
				return nil, nil, fmt.Errorf("fit %s: %s gives output column %q, which %s gives too; rename a column so output names are unique", opt.Source, path, c.Name, prev)
			}
			seenOut[c.Name] = path
			a.Outputs = append(a.Outputs, artifact.FieldOf(table.Field{Name: c.Name, Kind: c.Kind}))
		}
		a.Groups = append(a.Groups, group)
	}
	for _, p := range pass {
		if prev, dup := seenOut[p]; dup {
			return nil, nil, fmt.Errorf("fit %s: passthrough column %q clashes with an output of %s; rename it or name it in the spec", opt.Source, p, prev)
		}
		c := byName[p]
		a.Passthrough = append(a.Passthrough, p)
		outCols = append(outCols, *c)
		outPre = append(outPre, nil)
		a.Outputs = append(a.Outputs, artifact.FieldOf(table.Field{Name: p, Kind: c.Kind}))
	}
	if a.Passthrough == nil {
		a.Passthrough = []string{}
	}
	if n := len(a.Outputs); n > maxOutputs { // groups without steps
		return nil, nil, fmt.Errorf("fit %s: the spec gives %d output columns, more than the %d an artifact may hold; normalize fewer columns", opt.Source, n, maxOutputs)
	}
	t0 = time.Now()
	a.Profile.Outputs = outputProfiles(cols, outCols, outPre, a.Profile.Inputs, embeddings, max(opt.Workers, 1))
	tim.Since("profile", t0)
	if err := checkArtifact(a, opt.Source, cols); err != nil {
		return nil, nil, err
	}
	if !batch {
		return a, nil, nil
	}
	return a, &table.Batch{Cols: outCols, Rows: rows}, nil
}

// outputProfiles profiles the output columns, reusing the profile of an
// input for an output that is the same column (passthrough, or a group
// without steps) and taking the profiles pre has (indicatorOutputs').
func outputProfiles(in, out []table.Column, pre []*profile.Feature, inProf []profile.Feature, embeddings []artifact.Embedding, workers int) []profile.Feature {
	same := make([]int, len(out)) // index of the identical input, or -1
	var todo []table.Column
	var todoAt []int
	res := make([]profile.Feature, len(out))
	for i := range out {
		same[i] = -1
		if pre[i] != nil {
			res[i] = *pre[i]
			continue
		}
		for j := range in {
			if in[j].Name == out[i].Name && in[j].Kind == out[i].Kind && sameStorage(&in[j], &out[i]) {
				same[i] = j
			}
		}
		if same[i] < 0 {
			todo = append(todo, out[i])
			todoAt = append(todoAt, i)
		}
	}
	computed := profileColumns(todo, embeddings, workers)
	for k, i := range todoAt {
		res[i] = computed[k]
	}
	for i, j := range same {
		if j >= 0 {
			res[i] = inProf[j]
		}
	}
	return res
}

// sameStorage reports whether two columns share their values' storage.
func sameStorage(a, b *table.Column) bool {
	switch {
	case a.Kind == table.Numeric && len(a.Num) > 0 && len(b.Num) == len(a.Num):
		return &a.Num[0] == &b.Num[0]
	case a.Kind == table.String && len(a.Str) > 0 && len(b.Str) == len(a.Str):
		return &a.Str[0] == &b.Str[0]
	}
	return false
}

// applyStep passes the training data through a fitted step. Numeric
// outputs take the storage of dead columns from spare first (every row is
// overwritten), else new storage, in the spill when there is one.
//
// In place (inPlace), each output overwrites its input: fit asks for it
// only for a step that maps every numeric column to one numeric column
// row by row (elementwise) whose inputs die with it, so each value is
// read before its row is written.
func applyStep(f step.Fitted, in []table.Column, n int, opt Options, spare *[][]float64, inPlace bool) ([]table.Column, error) {
	out := table.NewColumns(f.Outputs())
	var fresh []int // outputs that need new storage
	for i := range out {
		if out[i].Kind != table.Numeric {
			continue
		}
		if inPlace {
			out[i].Num = in[i].Num[:n]
			continue
		}
		if k := len(*spare); k > 0 && cap((*spare)[k-1]) >= n {
			out[i].Num = (*spare)[k-1][:n]
			*spare = (*spare)[:k-1]
			continue
		}
		fresh = append(fresh, i)
	}
	if opt.Spill != nil && n > 0 {
		// Columns in blocks of up to spillBlock values, one mapping
		// (and, spilled to files, one file) each: a column a mapping
		// made a one-hot encoding of 60,000 bins fail at the system's
		// limit on mappings (vm.max_map_count, 65,530 by default).
		per := max(1, spillBlock/n)
		for len(fresh) > 0 {
			k := min(per, len(fresh))
			buf, err := opt.Spill.Floats(n * k)
			if err != nil {
				return nil, err
			}
			for j, i := range fresh[:k] {
				out[i].Num = buf[j*n : (j+1)*n : (j+1)*n]
			}
			fresh = fresh[k:]
		}
	}
	return out, transform.ApplyStepInto(f, in, out, n, opt.Workers)
}

// checkStepOutput refuses an infinite value in the output next of the step
// named name for the training data cur, as transform does (a finite value
// past float64's range through the step), naming the data row: err is
// applyStep's error, which a step that checks its outputs itself
// (step.OutputChecker) returns. In place, the inputs are gone: the error
// names the output column.
func checkStepOutput(err error, name string, f step.Fitted, cur, next []table.Column, rows int, inPlace bool) error {
	if oc, ok := f.(step.OutputChecker); err == nil && !(ok && oc.ChecksOutput()) {
		in := cur
		if inPlace {
			in = nil
		}
		err = transform.CheckStepOutput(name, in, next, rows)
	}
	var ve *step.ValueError
	if errors.As(err, &ve) && errors.Is(err, step.ErrNotFinite) && ve.Row >= 0 {
		ve.Hint = fmt.Sprintf("the training data reach past float64's range through this step on data row %d (counting from 1, header not counted); drop or clip the extreme values", ve.Row+1)
		ve.Row = -1
	}
	return err
}

// spillBlock is the most values applyStep asks a Spill for at once for
// several output columns (1 GiB).
const spillBlock = 1 << 27

// elementwise reports whether f maps its numeric inputs one to one onto
// numeric outputs of the same names (scalers, imputers without
// indicators, log1p, quantile and power transforms, binning): the steps
// whose kernels read row r of a column before writing row r of its
// output, so an output may overwrite its input. The row-wise normalizer
// is left out.
func elementwise(f step.Fitted, in []table.Column) bool {
	if _, rowWise := f.(*step.Normalizer); rowWise {
		return false
	}
	outs := f.Outputs()
	if len(outs) != len(in) {
		return false
	}
	for i, o := range outs {
		if o.Kind != table.Numeric || in[i].Kind != table.Numeric || o.Name != in[i].Name {
			return false
		}
	}
	return true
}

// dies reports whether every column of cur is dead once the step reading
// it has run: a previous step's output, or (raw) an input no other group
// or passthrough reads.
func dies(cur []table.Column, raw bool, readers map[string]int) bool {
	if !raw {
		return true
	}
	for _, c := range cur {
		if readers[c.Name] != 1 {
			return false
		}
	}
	return true
}

// recycle adds to spare the numeric storage of a step's inputs cur that
// died when the step produced next: a previous step's outputs always, and
// on the first step (raw) the input columns no other group or passthrough
// reads. Those inputs are profiled already; their columns in byName lose
// their values, so no output is mistaken for them. Storage next still
// uses is kept.
func recycle(spare [][]float64, cur, next []table.Column, raw bool, readers map[string]int, byName map[string]*table.Column) [][]float64 {
	for i := range cur {
		c := &cur[i]
		if c.Kind != table.Numeric || len(c.Num) == 0 || (raw && readers[c.Name] != 1) {
			continue
		}
		shared := false
		for j := range next {
			shared = shared || sameStorage(c, &next[j])
		}
		if shared {
			continue
		}
		if raw {
			byName[c.Name].Num = nil
		}
		spare = append(spare, c.Num)
	}
	return spare
}

// inferGroup decides the kind of a group whose type the spec leaves out:
// numeric when every present value of every column parses as a number,
// else categorical (the columns stay String).
func inferGroup(cols []string, byName map[string]*table.Column, source string) error {
	parsed := make([][]float64, len(cols))
	for j, name := range cols {
		nums, err := parseAll(byName[name], source)
		if err != nil || nums == nil {
			return err
		}
		parsed[j] = nums
	}
	for j, name := range cols {
		*byName[name] = table.Column{Name: name, Kind: table.Numeric, Num: parsed[j]}
	}
	return nil
}

// holdsWideInteger tells whether a present value of the String column c
// is an integer written with more digits than float64 keeps exactly: one
// that parses to a number printing otherwise.
func holdsWideInteger(c *table.Column) bool {
	for i, s := range c.Str {
		if c.Null != nil && c.Null[i] {
			continue
		}
		if wideInteger(strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}

// wideInteger tells whether s, an optional sign and decimal digits, is an
// integer past 2^53 that float64 does not hold exactly.
func wideInteger(s string) bool {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || len(digits) < 16 {
		return false // up to 15 digits, every integer is exact
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	digits = strings.TrimLeft(digits, "0")
	if len(digits) < 16 {
		return false
	}
	v, ok := parseCell(digits)
	return ok && strconv.FormatFloat(v, 'f', -1, 64) != digits
}

// parseAll parses a String column's present values as numbers. It returns
// nil when some value is not a number or no value is present. The first
// present value is tried before the column's storage is allocated: a text
// column (a label passed through) then costs no garbage of its size.
func parseAll(c *table.Column, source string) ([]float64, error) {
	for i, s := range c.Str {
		if c.Null != nil && c.Null[i] {
			continue
		}
		if _, ok := parseCell(s); !ok {
			return nil, nil
		}
		break
	}
	nums := make([]float64, len(c.Str))
	present := 0
	for i, s := range c.Str {
		if c.Null != nil && c.Null[i] {
			nums[i] = math.NaN()
			continue
		}
		v, ok := parseCell(s)
		if !ok {
			return nil, nil
		}
		if math.IsInf(v, 0) {
			return nil, infiniteError(source, c.Name, int64(i), s)
		}
		nums[i] = v
		present++
	}
	if present == 0 {
		return nil, nil
	}
	return nums, nil
}

// parseCell parses one present text value as type inference does: as the
// readers parse a numeric cell (table.ParseNumber), so that a column
// inferred numeric reads the same numbers as one declared numeric.
func parseCell(s string) (float64, bool) {
	return table.ParseNumber([]byte(s))
}

// infiniteError is the error for the infinite value s at row of column.
func infiniteError(source, column string, row int64, s string) error {
	return &transform.RowError{Source: source, Line: row + 1, Err: &step.ValueError{Step: "input", Column: column, Row: int(row),
		Value: s, Err: transform.ErrInfinite, Hint: "replace or drop infinite values (inf, or a number past float64's range such as 1e400, which reads as infinite) before normalizing (scikit-learn refuses them too)"}}
}

// inferredText adds to err, a group's first step refusing the categorical
// type inferred for it, which column made it categorical and with what
// value: the spec names no type, so the user sees no other trace of it.
func inferredText(err error, cols []string, byName map[string]*table.Column) error {
	var se *spec.Error
	if !errors.As(err, &se) {
		return err
	}
	for _, name := range cols {
		c := byName[name]
		if c.Kind != table.String {
			continue
		}
		for i, v := range c.Str {
			if c.Null != nil && c.Null[i] {
				continue
			}
			if _, ok := parseCell(v); !ok {
				se.Err = fmt.Errorf("%w (the group names no type, so it was inferred from the data: column %q is categorical, its value %s in data row %d is not a number)",
					se.Err, name, errtext.Quote(v), i+1)
				return err
			}
		}
	}
	return err
}

// invalidTextError is fit's refusal of data holding text that is not
// UTF-8 (artifact.InvalidText found value at path): named by its column
// and first data row where the columns read tell, with the conversion to
// make.
func invalidTextError(source string, cols []table.Column, path, value string) error {
	where := "at " + path + " of the artifact"
	for _, c := range cols {
		if !utf8.ValidString(c.Name) {
			where, value = "in the header (a column's name)", c.Name
			break
		}
		if c.Kind != table.String {
			continue
		}
		if i := slices.IndexFunc(c.Str, func(s string) bool { return !utf8.ValidString(s) }); i >= 0 {
			where, value = fmt.Sprintf("in column %q, data row %d", c.Name, i+1), c.Str[i]
			break
		}
	}
	return fmt.Errorf("fit %s: the data holds text that is not UTF-8, %s %s (a Latin-1 or Windows-1252 file, as Excel writes CSV, or raw bytes): "+
		"an artifact holds text, so it could not be read back. Convert the file to UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8 IN > OUT) and fit again; nothing was written",
		source, errtext.Quote(value), where)
}

// resolvedSpec returns a copy of sp with every group's type filled in from
// the columns' kinds.
func resolvedSpec(sp *spec.Spec, byName map[string]*table.Column) *spec.Spec {
	out := *sp
	out.Columns = slices.Clone(sp.Columns)
	for i := range out.Columns {
		g := &out.Columns[i]
		if g.Type == "" {
			g.Type = spec.TypeNumeric
			for _, n := range g.Names {
				if byName[n].Kind == table.String {
					g.Type = spec.TypeCategorical
				}
			}
		}
	}
	return &out
}

func names(cols []table.Column) []string {
	out := make([]string, len(cols))
	for i := range cols {
		out[i] = cols[i].Name
	}
	return out
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}
