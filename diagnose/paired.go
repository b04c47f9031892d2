package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
	// prof profiles the raw input in the training data and outProf the
	// output (nil if unknown).
	prof, outProf *profile.Feature
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

// Candidate is another artifact production may have used (a previous
// version, say) and the file it was read from.
type Candidate struct {
	Artifact *artifact.Artifact
	// File is where the artifact was read from ("" when unknown); verdicts
	// name the candidate by it, its model link and its digest.
	File string
}

// Paired diagnoses production features when the raw rows are known. raw
// holds the artifact's input columns (by name, any order, extra columns
// ignored) as production received them; observed holds the features
// production fed its model for the same rows in the same order, one
// column per artifact output (by name). candidates are other artifacts
// production may have used (previous versions); a column they reproduce
// is reported as stale_parameters naming the candidate's file, model
// version and digest (a candidate without a digest gets it computed and
// set, as artifact.Encode does).
//
// A candidate is judged with its own output schema: when outputs of the
// artifact are absent from observed but every numeric output of a
// candidate is there (a refitted one-hot encoder that kept other
// categories, say), the absent outputs are reported as stale_parameters
// (production's features come from that candidate), and the observed
// columns only the candidate produces are judged against its transform
// and listed after the artifact's outputs. Absent outputs no candidate
// explains are an error.
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
func Paired(a *artifact.Artifact, raw, observed []table.Column, candidates []Candidate) (*Report, error) {
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
	cols, absent, err := columns(a, t, in, exp, observed, n)
	if err != nil {
		return nil, err
	}
	stale, err := candidateOutputs(candidates, raw)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(absent))
	for i, j := range absent {
		names[i] = t.Outputs()[j].Name
	}
	schema, err := schemaCandidate(stale, observed, names, outputNames(a))
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for j := range cols {
		if cols[j] == nil {
			if slices.Contains(absent, j) {
				rep.Features = append(rep.Features, absentVerdict(t.Outputs()[j].Name, schema))
			}
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
	if schema != nil {
		rep.Features = append(rep.Features, candidateOnly(t, schema, observed, n)...)
	}
	return rep, nil
}

// schemaCandidate returns the first candidate whose numeric outputs are
// all observed, which produces none of the absent outputs (of the
// artifact, whose outputs ours names) and which explains something: an
// absent output, or observed columns only it produces. nil when there is
// nothing to explain; an error when absent outputs are left unexplained.
func schemaCandidate(stale []staleOutput, observed []table.Column, absent []string, ours map[string]bool) (*staleOutput, error) {
next:
	for i := range stale {
		s := &stale[i]
		extra := false
		for _, name := range s.names {
			if c := find(observed, name); c == nil || c.Kind != table.Numeric {
				continue next
			}
			extra = extra || !ours[name]
		}
		for _, name := range absent {
			if slices.Contains(s.names, name) {
				continue next
			}
		}
		if len(absent) > 0 || extra {
			return s, nil
		}
	}
	if len(absent) == 0 {
		return nil, nil
	}
	if len(stale) == 0 {
		return nil, fmt.Errorf("diagnose: observed features lack output column %q the artifact produces; if production used another artifact (one-hot columns of other categories, say), pass it with --candidate", absent[0])
	}
	why := ""
	for _, name := range stale[0].names {
		if find(observed, name) == nil {
			why = fmt.Sprintf(" (%s produces %q, which the observed features lack)", stale[0].label, name)
			break
		}
	}
	if why == "" {
		why = fmt.Sprintf(" (%s produces it too)", stale[0].label)
	}
	return nil, fmt.Errorf("diagnose: observed features lack output column %q the artifact produces, and no candidate's output columns are the observed ones%s: pass the artifact production uses with --candidate", absent[0], why)
}

// outputNames returns the set of a's output names.
func outputNames(a *artifact.Artifact) map[string]bool {
	ours := map[string]bool{}
	for _, f := range a.Outputs {
		ours[f.Name] = true
	}
	return ours
}

// absentVerdict is the verdict on an output absent from the observed
// features that the candidate s does not produce either.
func absentVerdict(name string, s *staleOutput) Verdict {
	v := Verdict{Name: name, Verdict: StaleParameters, Evidence: map[string]any{"absent": true}}
	s.cite(v.Evidence)
	v.explain(fmt.Sprintf("the observed features lack this column, as does the output of %s, whose columns they hold: they come from that artifact", s.label),
		"production uses stale parameters; deploy the current artifact")
	return v
}

// candidateOnly judges the observed columns that the candidate s produces
// and the artifact does not, against the candidate's transform.
func candidateOnly(t *transform.Transformer, s *staleOutput, observed []table.Column, n int) []Verdict {
	ours := map[string]bool{}
	for _, f := range t.Outputs() {
		ours[f.Name] = true
	}
	var out []Verdict
	for _, name := range s.names {
		if ours[name] {
			continue
		}
		o := find(observed, name)
		v := Verdict{Name: name, Evidence: map[string]any{"in_artifact": false}}
		s.cite(v.Evidence)
		if o.Len() == n && same(o.Num, s.out[name], exactTol) {
			v.Verdict = StaleParameters
			v.explain(fmt.Sprintf("this column is not an output of the artifact; its values are the transform of %s", s.label),
				"production uses stale parameters; deploy the current artifact")
		} else {
			v.Verdict = UnknownMismatch
			v.explain(fmt.Sprintf("this column is not an output of the artifact, and its values differ from the transform of %s, which produces it", s.label),
				"compare the production pipeline with the artifact step by step")
		}
		out = append(out, v)
	}
	return out
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
//
// The outputs absent from observed (not fed as text either) are returned
// as indexes, their columns nil.
func columns(a *artifact.Artifact, t *transform.Transformer, in, exp *table.Batch, observed []table.Column, n int) ([]*column, []int, error) {
	outs := t.Outputs()
	cols := make([]*column, len(outs))
	inIdx := map[string]int{}
	for i, f := range t.Inputs() {
		inIdx[f.Name] = i
	}
	blockOf := encoderOutputs(a, in, inIdx, n)
	var absent []int
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
			if find(observed, f.Name) == nil {
				absent = append(absent, j)
				continue
			}
			return nil, nil, err
		}
		if o.Len() != n {
			return nil, nil, fmt.Errorf("diagnose: observed column %q has %d rows, raw has %d: pass the same rows in the same order", f.Name, o.Len(), n)
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
	return cols, absent, nil
}

// trace fills in, pre, twice and the last step's affine form for the
// outputs of a numeric group whose first outputs follow its inputs one
// to one (see forEachGroupOutput); indicator outputs after them get pre,
// twice and the affine form only. outProf holds the profiles of the
// artifact's outputs (nil if unknown). Failures leave them unknown.
func trace(a *artifact.Artifact, g artifact.Group, in, exp *table.Batch, inIdx map[string]int, cols []*column, off, n int) {
	cur := make([]table.Column, len(g.Columns))
	for k, name := range g.Columns {
		cur[k] = in.Cols[inIdx[name]]
		if k < len(cols) && cols[k] != nil {
			cols[k].in = cur[k].Num[:n]
			cols[k].prof = inputProfile(a, name)
		}
	}
	for k, c := range cols {
		if c != nil && a.Profile != nil && off+k < len(a.Profile.Outputs) {
			c.outProf = &a.Profile.Outputs[off+k]
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
	if len(pre) != len(cols) {
		return
	}
	last := g.Steps[len(g.Steps)-1].Fitted
	twice, err := transform.ApplyStep(last, exp.Cols[off:off+len(cols)], n, 1)
	if err != nil {
		twice = nil
	}
	probe := make([]table.Column, len(cols))
	for k := range probe {
		probe[k] = table.Column{Name: pre[k].Name, Kind: table.Numeric, Num: []float64{0, 1, 2}}
	}
	pout, perr := transform.ApplyStep(last, probe, 3, 1)
	for k, c := range cols {
		if c == nil || pre[k].Kind != table.Numeric {
			continue
		}
		c.pre = pre[k].Num[:n]
		c.last, c.inName = &g.Steps[len(g.Steps)-1], pre[k].Name
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

// staleOutput is one candidate artifact and (paired) its transform of the
// raw rows.
type staleOutput struct {
	art          *artifact.Artifact
	digest, file string
	model        *artifact.Model
	// label names the candidate in explanations: file, model version and
	// a shortened digest.
	label string
	// names lists the candidate's numeric outputs in order, and out maps
	// each to its values (paired mode only).
	names []string
	out   map[string][]float64
}

// cite puts what names the candidate into evidence.
func (s *staleOutput) cite(ev map[string]any) {
	ev["digest"] = s.digest
	if s.file != "" {
		ev["candidate"] = s.file
	}
	if s.model != nil {
		ev["model"] = s.model.Name
		if s.model.Version != "" {
			ev["model_version"] = s.model.Version
		}
	}
}

// candidateLabel names a candidate in explanations:
//
//	candidate artifact old.json (model churn version 3, sha256:0123456789ab…)
func candidateLabel(file string, m *artifact.Model, digest string) string {
	var parts []string
	if m != nil && m.Name != "" {
		p := "model " + m.Name
		if m.Version != "" {
			p += " version " + m.Version
		}
		parts = append(parts, p)
	}
	if d := digest; d != "" {
		if len(d) > len("sha256:")+12 {
			d = d[:len("sha256:")+12] + "…"
		}
		parts = append(parts, d)
	}
	label := "candidate artifact"
	if file != "" {
		label += " " + file
	}
	if len(parts) > 0 {
		label += " (" + strings.Join(parts, ", ") + ")"
	}
	return label
}

// describeCandidate names the i-th candidate (0-based) and lists its
// numeric outputs; the values are left to the caller.
func describeCandidate(i int, cand Candidate) (staleOutput, string, error) {
	c := cand.Artifact
	what := fmt.Sprintf("candidate %d", i+1)
	if cand.File != "" {
		what = "candidate " + cand.File
	}
	if c == nil {
		return staleOutput{}, what, fmt.Errorf("diagnose: %s: no artifact", what)
	}
	so := staleOutput{art: c, digest: c.Digest, file: cand.File, model: c.Model}
	if so.digest == "" {
		if _, err := artifact.Encode(c); err == nil {
			so.digest = c.Digest
		}
	}
	so.label = candidateLabel(cand.File, c.Model, so.digest)
	for _, f := range artifact.TableFields(c.Outputs) {
		if f.Kind == table.Numeric {
			so.names = append(so.names, f.Name)
		}
	}
	return so, what, nil
}

func candidateOutputs(candidates []Candidate, raw []table.Column) ([]staleOutput, error) {
	var res []staleOutput
	for i, cand := range candidates {
		so, what, err := describeCandidate(i, cand)
		if err != nil {
			return nil, err
		}
		t, err := transform.New(so.art)
		if err != nil {
			return nil, fmt.Errorf("diagnose: %s: %w", what, err)
		}
		in, _, err := inputBatch(t.Inputs(), raw, "raw")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out := t.NewOutput()
		if err := t.Batch(in, out, "raw"); err != nil {
			return nil, fmt.Errorf("diagnose: %s: transform raw rows: %w", what, err)
		}
		so.out = map[string][]float64{}
		for j := range out.Cols {
			if out.Cols[j].Kind == table.Numeric {
				so.out[out.Cols[j].Name] = out.Cols[j].Num[:out.Rows]
			}
		}
		res = append(res, so)
	}
	return res, nil
}
