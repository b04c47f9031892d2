package diagnose

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// Tolerances, relative to the largest magnitude in the column compared.
const (
	// exactTol is the mismatch allowed for values to count as the same
	// computation (summation order, fused multiply-add).
	exactTol = 1e-12
	// float32Tol bounds the error of one rounding to float32 (2^-23 covers
	// half an ulp with room for a float32 computation).
	float32Tol = 0x1p-23
	// fitTol is the largest residual an affine fit may leave, and the
	// largest gap between fitted and candidate center or scale.
	fitTol = 1e-9
	// moment tolerances for a block standardized by its own statistics.
	blockTol = 1e-9
)

// column gathers what is known about one numeric output column.
type column struct {
	name string
	obs  []float64 // what production fed the model
	exp  []float64 // the artifact's transform of raw
	// in is the raw input column feeding this output through a 1-to-1
	// chain, pre the input of the chain's last step (the imputed raw
	// values for an imputer + scaler chain) and twice the last step
	// applied to exp; nil when the chain is not 1-to-1.
	in, pre, twice []float64
	// last is the chain's last step and inName the input column it
	// reads (for refitting it on blocks of rows).
	last   *step.FittedStep
	inName string
	// The last step is y = intercept + slope*x when affine is true.
	affine           bool
	intercept, slope float64
	// prof profiles the raw input in the training data (nil if unknown).
	prof *profile.Feature
	// cat is the encoder input this output encodes (nil when the output
	// is not a one-hot or ordinal encoder's).
	cat *catBlock
	// text names the observed column that holds the encoder's raw input
	// as text where this output belongs (obs and exp are then nil).
	text string
}

// encoderOutputs maps each output of a one-hot or ordinal encoder to its
// input's catBlock.
func encoderOutputs(a *artifact.Artifact, in *table.Batch, inIdx map[string]int, n int) map[int]*catBlock {
	blockOf := map[int]*catBlock{}
	off := 0
	for _, g := range a.Groups {
		width := len(g.Columns)
		for _, s := range g.Steps {
			width = len(s.Fitted.Outputs())
		}
		raw := make([]table.Column, len(g.Columns))
		for k, name := range g.Columns {
			raw[k] = in.Cols[inIdx[name]]
		}
		for _, b := range encoderBlocks(g, raw, n, off) {
			for _, o := range b.outs {
				blockOf[o] = b
			}
		}
		off += width
	}
	return blockOf
}

// Paired diagnoses production features when the raw rows are known. raw
// holds the artifact's input columns (by name, any order, extra columns
// ignored) as production received them; observed holds the features
// production fed its model for the same rows in the same order, one
// column per artifact output (by name). candidates are other artifacts
// production may have used (previous versions); a column they reproduce
// is reported as stale_parameters with the candidate's digest (a
// candidate without one gets it computed and set, as artifact.Encode does).
//
// Each numeric output column gets the first verdict its values satisfy, in
// this order: ok, precision_loss, not_normalized, double_normalized,
// stale_parameters, the category checks (one-hot and ordinal outputs,
// see categoricalVerdict), impute_order, columns_swapped,
// per_batch_statistics (each block of rows standardized, or the last step
// refitted per block, see perBatchFitted), wrong_transform /
// wrong_parameters (an exact affine function of the imputed input, or a
// monotone one for a non-affine last step), unknown_mismatch. Missing
// values (NaN) match only missing values. Non-numeric outputs are not
// judged. A plot of expected against observed values comes with every
// numeric (non-encoder) column.
func Paired(a *artifact.Artifact, raw, observed []table.Column, candidates []*artifact.Artifact) (*Report, error) {
	t, err := transform.New(a)
	if err != nil {
		return nil, fmt.Errorf("diagnose: %w", err)
	}
	in, n, err := inputBatch(t.Inputs(), raw, "raw")
	if err != nil {
		return nil, err
	}
	exp := t.NewOutput()
	if err := t.Batch(in, exp, "raw"); err != nil {
		return nil, fmt.Errorf("diagnose: transform raw rows: %w", err)
	}
	cols, err := columns(a, t, in, exp, observed, n)
	if err != nil {
		return nil, err
	}
	stale, err := candidateOutputs(candidates, raw)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for j := range cols {
		if cols[j] == nil {
			continue
		}
		if cols[j].text != "" {
			rep.Features = append(rep.Features, notEncoded(cols[j]))
			continue
		}
		v := judge(cols, j, stale)
		if cols[j].cat == nil { // 0/1 or code scatters say little: the evidence names the categories
			v.Plot = pairPlot(cols[j].exp, cols[j].obs)
		}
		rep.Features = append(rep.Features, v)
	}
	return rep, nil
}

// inputBatch picks fields from cols by name, checking they are numeric
// where the field is and equally long.
func inputBatch(fields []table.Field, cols []table.Column, what string) (*table.Batch, int, error) {
	b := &table.Batch{Cols: make([]table.Column, len(fields))}
	n := -1
	for i, f := range fields {
		c := find(cols, f.Name)
		if c == nil {
			return nil, 0, fmt.Errorf("diagnose: %s rows lack input column %q the artifact reads", what, f.Name)
		}
		if c.Kind != f.Kind {
			return nil, 0, fmt.Errorf("diagnose: %s column %q is %s, the artifact reads it as %s", what, f.Name, c.Kind, f.Kind)
		}
		if n >= 0 && c.Len() != n {
			return nil, 0, fmt.Errorf("diagnose: %s column %q has %d rows, others %d", what, f.Name, c.Len(), n)
		}
		n = c.Len()
		b.Cols[i] = *c
	}
	b.Rows = max(n, 0)
	return b, b.Rows, nil
}

func find(cols []table.Column, name string) *table.Column {
	for i := range cols {
		if cols[i].Name == name {
			return &cols[i]
		}
	}
	return nil
}

// columns pairs every numeric output with its observed column and traces
// it back through its group's chain.
func columns(a *artifact.Artifact, t *transform.Transformer, in, exp *table.Batch, observed []table.Column, n int) ([]*column, error) {
	outs := t.Outputs()
	cols := make([]*column, len(outs))
	inIdx := map[string]int{}
	for i, f := range t.Inputs() {
		inIdx[f.Name] = i
	}
	blockOf := encoderOutputs(a, in, inIdx, n)
	for j, f := range outs {
		if f.Kind != table.Numeric {
			continue
		}
		o, err := observedColumn(observed, f.Name)
		if err != nil {
			if b := blockOf[j]; b != nil {
				if text := b.fedAsText(observed, f.Name); text != "" {
					cols[j] = &column{name: f.Name, cat: b, text: text}
					continue
				}
			}
			return nil, err
		}
		if o.Len() != n {
			return nil, fmt.Errorf("diagnose: observed column %q has %d rows, raw has %d: pass the same rows in the same order", f.Name, o.Len(), n)
		}
		cols[j] = &column{name: f.Name, obs: o.Num, exp: exp.Cols[j].Num[:n]}
	}
	forEachGroupOutput(a, func(g artifact.Group, off, width int, chain bool) {
		if chain {
			trace(a, g, in, exp, inIdx, cols[off:off+width], off, n)
		}
		for k := off; k < off+width && k < len(cols); k++ {
			if cols[k] != nil && cols[k].text == "" {
				cols[k].cat = blockOf[k]
			}
		}
	})
	return cols, nil
}

// trace fills in, pre, twice and the last step's affine form for the
// outputs of a 1-to-1 numeric group. Failures leave them unknown.
func trace(a *artifact.Artifact, g artifact.Group, in, exp *table.Batch, inIdx map[string]int, cols []*column, off, n int) {
	cur := make([]table.Column, len(g.Columns))
	for k, name := range g.Columns {
		cur[k] = in.Cols[inIdx[name]]
		if cols[k] != nil {
			cols[k].in = cur[k].Num[:n]
			cols[k].prof = inputProfile(a, name)
		}
	}
	var pre []table.Column
	for si, s := range g.Steps {
		if si == len(g.Steps)-1 {
			pre = cur
			break
		}
		next, err := transform.ApplyStep(s.Fitted, cur, n, 1)
		if err != nil {
			return
		}
		cur = next
	}
	last := g.Steps[len(g.Steps)-1].Fitted
	twice, err := transform.ApplyStep(last, exp.Cols[off:off+len(cols)], n, 1)
	if err != nil {
		twice = nil
	}
	probe := make([]table.Column, len(cols))
	for k := range probe {
		probe[k] = table.Column{Name: g.Columns[k], Kind: table.Numeric, Num: []float64{0, 1, 2}}
	}
	pout, perr := transform.ApplyStep(last, probe, 3, 1)
	for k, c := range cols {
		if c == nil || pre[k].Kind != table.Numeric {
			continue
		}
		c.pre = pre[k].Num[:n]
		c.last, c.inName = &g.Steps[len(g.Steps)-1], g.Columns[k]
		if twice != nil {
			c.twice = twice[k].Num[:n]
		}
		if perr == nil {
			y := pout[k].Num
			c.intercept, c.slope = y[0], y[1]-y[0]
			c.affine = c.slope != 0 && !math.IsNaN(c.slope) &&
				math.Abs(y[2]-(y[0]+2*c.slope)) <= fitTol*math.Max(1, math.Abs(y[2]))
		}
	}
}

func inputProfile(a *artifact.Artifact, name string) *profile.Feature {
	if a.Profile == nil {
		return nil
	}
	for i := range a.Profile.Inputs {
		if a.Profile.Inputs[i].Name == name {
			return &a.Profile.Inputs[i]
		}
	}
	return nil
}

// staleOutput is one candidate artifact's transform of the raw rows.
type staleOutput struct {
	digest string
	out    map[string][]float64
}

func candidateOutputs(candidates []*artifact.Artifact, raw []table.Column) ([]staleOutput, error) {
	var res []staleOutput
	for i, c := range candidates {
		t, err := transform.New(c)
		if err != nil {
			return nil, fmt.Errorf("diagnose: candidate %d: %w", i+1, err)
		}
		in, _, err := inputBatch(t.Inputs(), raw, "raw")
		if err != nil {
			return nil, fmt.Errorf("candidate %d: %w", i+1, err)
		}
		out := t.NewOutput()
		if err := t.Batch(in, out, "raw"); err != nil {
			return nil, fmt.Errorf("diagnose: candidate %d: transform raw rows: %w", i+1, err)
		}
		so := staleOutput{digest: c.Digest, out: map[string][]float64{}}
		if so.digest == "" {
			if _, err := artifact.Encode(c); err == nil {
				so.digest = c.Digest
			}
		}
		for j := range out.Cols {
			if out.Cols[j].Kind == table.Numeric {
				so.out[out.Cols[j].Name] = out.Cols[j].Num[:out.Rows]
			}
		}
		res = append(res, so)
	}
	return res, nil
}
