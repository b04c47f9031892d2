package beamfit

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// GatherSteps lists the step kinds fitted by gathering a column group on
// one worker and calling the step's own Fit. power_transformer's Brent
// optimization of lambda evaluates the log-likelihood over all values
// many times: one pass per evaluation would make a pipeline of hundreds
// of stages. Every other step is fitted from mergeable accumulators.
var GatherSteps = []string{"power_transformer"}

// How a step is fitted.
const (
	modeSummary = iota // mergeable Summary (+ selection passes), then the step's constructor
	modeScaler         // standard_scaler's two mergeable sum passes
	modeGather         // gathered, then the step's Fit
)

// fitMode returns how the named step is fitted.
func fitMode(name string) int {
	switch {
	case name == "standard_scaler":
		return modeScaler
	case contains(GatherSteps, name):
		return modeGather
	}
	return modeSummary
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Summary is the mergeable state of one column group's step fit: per
// column, the core accumulators the step's constructor reads.
type Summary struct {
	Group int
	Rows  int64 // the training set's rows
	Names []string
	Kinds []table.Kind
	Cols  []ColSummary
}

// ColSummary holds one column's accumulators; the optional ones are set
// when the step reads them.
type ColSummary struct {
	Acc    stats.ColumnAcc     // numeric: rows, NaN, ±Inf, min, max, max |x|
	Sum    *stats.NanSumAcc    // simple_imputer mean
	Values *stats.ValueCounts  // numeric simple_imputer most_frequent
	Strs   *stats.StringCounts // categorical columns
	Hist   *stats.SelectHist   // quantile-based steps: first selection pass
}

// needs tells which optional accumulators a step reads.
type needs struct{ sum, values, hist bool }

func needsOf(p step.Params) needs {
	switch p := p.(type) {
	case *step.SimpleImputerParams:
		return needs{sum: p.Strategy == "mean", values: p.Strategy == "most_frequent", hist: p.Strategy == "median"}
	case *step.RobustScalerParams, *step.QuantileTransformerParams:
		return needs{hist: true}
	case *step.KBinsDiscretizerParams:
		return needs{hist: p.Strategy == "quantile"}
	}
	return needs{}
}

// quantilesOf returns the percentiles of each column a step reads on rows
// rows, and whether it reads the median.
func quantilesOf(p step.Params, rows int) (ps []float64, median bool) {
	switch p := p.(type) {
	case *step.SimpleImputerParams:
		return nil, p.Strategy == "median"
	case *step.RobustScalerParams:
		if p.WithScaling {
			ps = p.Percentiles()
		}
		return ps, p.WithCentering
	case *step.QuantileTransformerParams:
		return p.Percentiles(rows), false
	case *step.KBinsDiscretizerParams:
		return p.Percentiles(), false
	}
	return nil, false
}

// summaryFn accumulates one chunk of a group's columns for step K.
type summaryFn struct {
	P Plan
	K int
	l *loaded
}

func (f *summaryFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *summaryFn) ProcessElement(g int, c Chunk, emit func(int, Summary)) error {
	nd := needsOf(f.l.spec.Columns[g].Steps[f.K].Params)
	s := Summary{Group: g, Rows: c.Total, Names: make([]string, len(c.Cols)), Kinds: make([]table.Kind, len(c.Cols)), Cols: make([]ColSummary, len(c.Cols))}
	for j := range c.Cols {
		col := &c.Cols[j]
		s.Names[j], s.Kinds[j] = col.Name, col.Kind
		cs := &s.Cols[j]
		if col.Kind != table.Numeric {
			cs.Strs = &stats.StringCounts{}
			var null []bool
			if col.Null != nil {
				null = col.Null[:c.Rows]
			}
			cs.Strs.Add(col.Str[:c.Rows], null)
			continue
		}
		xs := col.Num[:c.Rows]
		cs.Acc.Add(c.Start, xs)
		if nd.sum {
			a := stats.NewNanSumAcc(c.Total)
			if err := a.Add(c.Start, xs); err != nil {
				return fmt.Errorf("beamfit: sums of rows %d to %d: %w", c.Start, c.Start+int64(c.Rows), err)
			}
			cs.Sum = &a
		}
		if nd.values {
			cs.Values = &stats.ValueCounts{}
			cs.Values.Add(xs)
		}
		if nd.hist {
			h := stats.FirstSelectPass()
			h.Add(xs)
			cs.Hist = &h
		}
	}
	emit(g, s)
	return nil
}

// mergeSummaryFn merges Summaries in any order.
type mergeSummaryFn struct{}

func (mergeSummaryFn) MergeAccumulators(a, b Summary) (Summary, error) {
	if len(a.Cols) == 0 {
		return b, nil
	}
	for j := range b.Cols {
		x, y := &a.Cols[j], &b.Cols[j]
		x.Acc.Merge(&y.Acc)
		if err := mergeOpt(&x.Sum, y.Sum, (*stats.NanSumAcc).Merge); err != nil {
			return Summary{}, err
		}
		mergeOpt(&x.Values, y.Values, func(a, b *stats.ValueCounts) error { a.Merge(b); return nil })
		mergeOpt(&x.Strs, y.Strs, func(a, b *stats.StringCounts) error { a.Merge(b); return nil })
		if err := mergeOpt(&x.Hist, y.Hist, (*stats.SelectHist).Merge); err != nil {
			return Summary{}, err
		}
	}
	return a, nil
}

// mergeOpt merges an optional accumulator b into *a.
func mergeOpt[T any](a **T, b *T, merge func(*T, *T) error) error {
	switch {
	case b == nil:
		return nil
	case *a == nil:
		*a = b
		return nil
	}
	return merge(*a, b)
}

// GroupSelect is the state of the selections of a group's columns (nil
// for a column without wanted ranks).
type GroupSelect struct {
	Group int
	Cols  []*stats.Selection
}

// GroupHist is one selection pass's histograms of a group's columns.
type GroupHist struct {
	Group int
	Cols  []*stats.SelectHist
}

// startSelectFn starts the selections of the groups whose step K reads
// order statistics, from the first pass held in their Summary.
type startSelectFn struct {
	P Plan
	K int
	l *loaded
}

func (f *startSelectFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *startSelectFn) ProcessElement(s Summary, emit func(GroupSelect)) error {
	st := f.l.spec.Columns[s.Group].Steps[f.K]
	if !needsOf(st.Params).hist {
		return nil
	}
	rows := int(s.Rows)
	ps, median := quantilesOf(st.Params, rows)
	out := GroupSelect{Group: s.Group, Cols: make([]*stats.Selection, len(s.Cols))}
	for j := range s.Cols {
		h := s.Cols[j].Hist
		if h == nil {
			continue
		}
		sel, err := stats.NewSelection(h, stats.PercentileRanks(h.Total(), ps, median))
		if err != nil {
			return fmt.Errorf("beamfit: columns[%d].steps[%d]: order statistics of %s: %w", s.Group, f.K, s.Names[j], err)
		}
		out.Cols[j] = sel
	}
	emit(out)
	return nil
}

// selectsOf reads a side input of GroupSelects by group.
func selectsOf(next func(*GroupSelect) bool) map[int]GroupSelect {
	m := map[int]GroupSelect{}
	var s GroupSelect
	for next(&s) {
		m[s.Group] = s
		s = GroupSelect{}
	}
	return m
}

// histFn counts one chunk of a group's columns for the next pass of its
// selections (side input).
type histFn struct {
	sel map[int]GroupSelect
}

func (f *histFn) ProcessElement(g int, c Chunk, sels func(*GroupSelect) bool, emit func(int, GroupHist)) {
	if f.sel == nil {
		f.sel = selectsOf(sels)
	}
	s, ok := f.sel[g]
	if !ok {
		return
	}
	out := GroupHist{Group: g, Cols: make([]*stats.SelectHist, len(s.Cols))}
	for j, sel := range s.Cols {
		if sel == nil || sel.Done() {
			continue
		}
		h := sel.Pass()
		h.Add(c.Cols[j].Num[:c.Rows])
		out.Cols[j] = &h
	}
	emit(g, out)
}

// mergeHistFn merges a pass's GroupHists in any order.
type mergeHistFn struct{}

func (mergeHistFn) MergeAccumulators(a, b GroupHist) (GroupHist, error) {
	if len(a.Cols) == 0 {
		return b, nil
	}
	for j := range b.Cols {
		if err := mergeOpt(&a.Cols[j], b.Cols[j], (*stats.SelectHist).Merge); err != nil {
			return GroupHist{}, err
		}
	}
	return a, nil
}

// narrowFn narrows a group's selections by a merged pass.
type narrowFn struct{}

func (narrowFn) ProcessElement(h GroupHist, sels func(*GroupSelect) bool) (GroupSelect, error) {
	s, ok := selectsOf(sels)[h.Group]
	if !ok {
		return GroupSelect{}, fmt.Errorf("beamfit: selection pass of group %d without a selection", h.Group)
	}
	for j, sel := range s.Cols {
		if sel == nil || sel.Done() {
			continue
		}
		if h.Cols[j] == nil {
			return GroupSelect{}, fmt.Errorf("beamfit: selection pass of group %d misses column %d", h.Group, j)
		}
		if err := sel.Narrow(h.Cols[j]); err != nil {
			return GroupSelect{}, err
		}
	}
	return s, nil
}

// finishFn builds the fitted step K of a group from its Summary and its
// finished selections with the step's constructor.
type finishFn struct {
	P   Plan
	K   int
	l   *loaded
	sel map[int]GroupSelect
}

func (f *finishFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *finishFn) ProcessElement(s Summary, sels func(*GroupSelect) bool) (FittedMsg, error) {
	if f.sel == nil {
		f.sel = selectsOf(sels)
	}
	st := f.l.spec.Columns[s.Group].Steps[f.K]
	fitted, err := f.fit(st.Params, &s, int(s.Rows))
	if err != nil {
		return FittedMsg{}, fmt.Errorf("fit %s: columns[%d].steps[%d].%s: %w", f.P.Source, s.Group, f.K, st.Name, err)
	}
	b, err := json.Marshal(step.FittedStep{Name: st.Name, Params: st.Params, Inputs: s.Names, Fitted: fitted})
	if err != nil {
		return FittedMsg{}, err
	}
	return FittedMsg{Group: s.Group, Step: f.K, JSON: b}, nil
}

func (f *finishFn) fit(params step.Params, s *Summary, rows int) (step.Fitted, error) {
	m := len(s.Cols)
	sel := f.sel[s.Group]
	// percentiles returns column j's percentiles ps and median.
	percentiles := func(j int, ps []float64) ([]float64, float64) {
		out := make([]float64, len(ps))
		var n int64
		at := func(int64) float64 { return 0 }
		if sel.Cols != nil && sel.Cols[j] != nil {
			n, at = sel.Cols[j].N, sel.Cols[j].At()
		}
		for i, p := range ps {
			out[i] = stats.PercentileAt(n, p, at)
		}
		return out, stats.MedianAt(n, at)
	}
	for j := range s.Cols {
		if s.Kinds[j] == table.Numeric && s.Cols[j].Acc.Inf > 0 && refusesInf(params) {
			return nil, fmt.Errorf("column %q holds ±Inf: this step needs finite values; replace or clip infinite values before it", s.Names[j])
		}
	}
	switch p := params.(type) {
	case *step.SimpleImputerParams:
		cols := make([]step.ImputerColumn, m)
		for j := range cols {
			c := &s.Cols[j]
			cols[j] = step.ImputerColumn{Name: s.Names[j], Kind: s.Kinds[j], Stat: math.NaN()}
			if s.Kinds[j] != table.Numeric {
				cols[j].Missing = c.Strs.Missing > 0
				cols[j].Counts = c.Strs.Counts
				continue
			}
			cols[j].Missing = c.Acc.NaN > 0
			switch {
			case c.Sum != nil:
				sum, n, ok := c.Sum.NanSum()
				if !ok {
					return nil, fmt.Errorf("not every row reached the sums")
				}
				cols[j].Stat = step.SimpleImputerMean(sum, n)
			case c.Values != nil:
				cols[j].Stat = c.Values.Mode()
			case p.Strategy == "median":
				_, cols[j].Stat = percentiles(j, nil)
			}
		}
		return p.FitColumns(cols)
	case *step.MinMaxScalerParams:
		lo, hi := make([]float64, m), make([]float64, m)
		for j := range s.Cols {
			lo[j], hi[j] = s.Cols[j].Acc.MinMax()
		}
		return p.FitRange(s.Names, rows, lo, hi), nil
	case *step.MaxAbsScalerParams:
		ma := make([]float64, m)
		for j := range s.Cols {
			ma[j] = s.Cols[j].Acc.AbsMax()
		}
		return p.FitMaxAbs(s.Names, rows, ma), nil
	case *step.BinarizerParams:
		return p.FitNames(s.Names), nil
	case *step.Log1pParams:
		return p.FitNames(s.Names), nil
	case *step.NormalizerParams:
		return p.FitNames(s.Names), nil
	case *step.OneHotEncoderParams:
		cc, err := categoryCounts(s, rows)
		if err != nil {
			return nil, err
		}
		return p.FitCounts(cc)
	case *step.OrdinalEncoderParams:
		cc, err := categoryCounts(s, rows)
		if err != nil {
			return nil, err
		}
		return p.FitCounts(cc)
	case *step.RobustScalerParams:
		med, lo, hi := make([]float64, m), make([]float64, m), make([]float64, m)
		for j := range s.Cols {
			q, md := percentiles(j, p.Percentiles())
			med[j], lo[j], hi[j] = md, q[0], q[1]
		}
		return p.FitQuantiles(s.Names, med, lo, hi), nil
	case *step.QuantileTransformerParams:
		qs := make([][]float64, m)
		for j := range s.Cols {
			qs[j], _ = percentiles(j, p.Percentiles(rows))
		}
		return p.FitQuantiles(s.Names, rows, qs), nil
	case *step.KBinsDiscretizerParams:
		if p.Strategy == "kmeans" {
			return nil, fmt.Errorf("kbins_discretizer strategy kmeans needs every value of a column in one place: fit it with normguard fit")
		}
		lo, hi := make([]float64, m), make([]float64, m)
		pct := make([][]float64, m)
		for j := range s.Cols {
			if s.Cols[j].Acc.NaN > 0 {
				return nil, fmt.Errorf("column %q holds NaN: this step does not accept missing values; put a simple_imputer before it", s.Names[j])
			}
			lo[j], hi[j] = s.Cols[j].Acc.MinMax()
			if p.Strategy == "quantile" {
				pct[j], _ = percentiles(j, p.Percentiles())
			}
		}
		return p.FitEdges(s.Names, lo, hi, pct), nil
	}
	return nil, fmt.Errorf("beamfit: no mergeable fit for %T", params)
}

// refusesInf reports whether a step's fit refuses ±Inf in a numeric
// column (as scikit-learn's input validation does for these steps).
func refusesInf(p step.Params) bool {
	switch p.(type) {
	case *step.SimpleImputerParams, *step.MinMaxScalerParams, *step.MaxAbsScalerParams,
		*step.NormalizerParams, *step.KBinsDiscretizerParams:
		return true
	}
	return false
}

// categoryCounts converts a group's string counts for an encoder.
func categoryCounts(s *Summary, rows int) (*step.CategoryCounts, error) {
	cc := &step.CategoryCounts{Names: s.Names, Rows: rows, Counts: make([]map[string]int, len(s.Cols)), Missing: make([]int, len(s.Cols))}
	for j := range s.Cols {
		c := s.Cols[j].Strs
		if c == nil {
			if strings.HasPrefix(s.Names[j], "missingindicator_") {
				// As fit's indicatorIntoEncoder says it (attack run 32 F3).
				return nil, fmt.Errorf("would receive %q, the missing-indicator column a simple_imputer before it adds (add_indicator: true), a numeric 0/1 column; encoders and a second imputer take categorical columns only: remove add_indicator, or, to keep which rows were missing, remove the imputer: the encoder takes missing cells itself (one_hot_encoder gives them a column of their own, ordinal_encoder its encoded_missing_value)", s.Names[j])
			}
			return nil, fmt.Errorf("column %q is numeric: encoders take categorical columns; declare the group with type: categorical", s.Names[j])
		}
		cc.Counts[j] = make(map[string]int, len(c.Counts))
		for v, n := range c.Counts {
			cc.Counts[j][v] = int(n)
		}
		cc.Missing[j] = int(c.Missing)
	}
	return cc, nil
}

// fitSummaries fits step k of the groups fitted from mergeable summaries
// (parts keyed by group): one Combine of Summaries, the selection passes
// of the quantile-based steps, then the steps' constructors.
func fitSummaries(s beam.Scope, p Plan, k int, parts beam.PCollection) beam.PCollection {
	s = s.Scope("summary")
	sums := beam.DropKey(s, beam.CombinePerKey(s, mergeSummaryFn{}, beam.ParDo(s, &summaryFn{P: p, K: k}, parts)))
	sels := beam.ParDo(s, &startSelectFn{P: p, K: k}, sums)
	for pass := 1; pass < 64/stats.SelectBits; pass++ {
		sp := s.Scope(fmt.Sprintf("select%d", pass))
		hists := beam.DropKey(sp, beam.CombinePerKey(sp, mergeHistFn{},
			beam.ParDo(sp, &histFn{}, parts, beam.SideInput{Input: sels})))
		sels = beam.ParDo(sp, narrowFn{}, hists, beam.SideInput{Input: sels})
	}
	return beam.ParDo(s, &finishFn{P: p, K: k}, sums, beam.SideInput{Input: sels})
}

// The coders of the summary stages use encoding/gob (the stats
// accumulators' exported fields, PairwiseAcc's MarshalBinary): one element
// per bundle and group, so its speed does not matter. Beam's function
// registry needs a named function per type.

func encodeSummary(v Summary) ([]byte, error)         { return encodeGob(v) }
func decodeSummary(b []byte) (Summary, error)         { return decodeGob[Summary](b) }
func encodeGroupSelect(v GroupSelect) ([]byte, error) { return encodeGob(v) }
func decodeGroupSelect(b []byte) (GroupSelect, error) { return decodeGob[GroupSelect](b) }
func encodeGroupHist(v GroupHist) ([]byte, error)     { return encodeGob(v) }
func decodeGroupHist(b []byte) (GroupHist, error)     { return decodeGob[GroupHist](b) }

func encodeGob[T any](v T) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeGob[T any](b []byte) (T, error) {
	var v T
	err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v)
	return v, err
}
