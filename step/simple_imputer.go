package step

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func init() {
	register(&Def{
		Name:      "simple_imputer",
		Role:      RoleImputer,
		Accepts:   []table.Kind{table.Numeric, table.String},
		NewParams: func() Params { return &SimpleImputerParams{Strategy: "mean", Copy: true} },
		NewFitted: func() Fitted { return &SimpleImputer{} },
	})
}

// emptyStringFill is the value scikit-learn 1.2 gives a categorical column
// with no value in training when keep_empty_features is set: the integer
// 0, which normguard writes as the text "0".
const emptyStringFill = "0"

// SimpleImputerParams configures scikit-learn's SimpleImputer.
//
// missing_values is NaN, written as null, "NaN" or "nan" (a numeric
// column's NaN, a categorical column's empty cell), or a placeholder that
// stands for a missing value in that step: a finite number for numeric
// columns (0, -1, -999) or a text for categorical ones ("?", "-1"). As in
// scikit-learn, with a placeholder an empty cell (NaN) is an error, in fit
// and in transform. fill_value is a number
// for numeric columns (default 0) and a string for categorical ones
// (default "missing_value"). Copy is accepted for compatibility and has
// no effect.
type SimpleImputerParams struct {
	MissingValues     any    `json:"missing_values"`
	Strategy          string `json:"strategy"`
	FillValue         any    `json:"fill_value"`
	Copy              bool   `json:"copy"`
	AddIndicator      bool   `json:"add_indicator"`
	KeepEmptyFeatures bool   `json:"keep_empty_features"`
}

// Validate implements Params.
func (p *SimpleImputerParams) Validate() error {
	switch mv := p.MissingValues.(type) {
	case nil, string:
	case float64:
		if !isFinite(mv) {
			return p.paramError("missing_values", mv, `must be NaN (null or "NaN"), a finite number or a string`)
		}
	default:
		return p.paramError("missing_values", mv, `must be NaN (null or "NaN"), a finite number or a string`)
	}
	switch p.Strategy {
	case "mean", "median", "most_frequent", "constant":
	default:
		return p.paramError("strategy", p.Strategy, "must be one of mean, median, most_frequent, constant")
	}
	switch fv := p.FillValue.(type) {
	case nil, string:
	case float64:
		if !isFinite(fv) {
			return p.paramError("fill_value", fv, "must be a finite number or a string")
		}
	default:
		return p.paramError("fill_value", fv, "must be a number or a string")
	}
	return nil
}

// placeholder returns the missing_values placeholder: a number, a text,
// or neither for NaN.
func (p *SimpleImputerParams) placeholder() (num *float64, text *string) {
	switch mv := p.MissingValues.(type) {
	case float64:
		return &mv, nil
	case string:
		if mv != "NaN" && mv != "nan" {
			return nil, &mv
		}
	}
	return nil, nil
}

// missingPlaceholder holds a non-NaN missing_values of a fitted imputer.
type missingPlaceholder struct {
	Number *float64 `json:"missing_values_number_,omitempty"`
	Text   *string  `json:"missing_values_text_,omitempty"`
}

// active reports whether a placeholder is set.
func (m *missingPlaceholder) active() bool { return m.Number != nil || m.Text != nil }

// mask returns copies of cols in which the placeholder is a missing value
// (NaN, or a Null cell) and refuses a column whose type does not match it
// or that holds a missing value itself, as scikit-learn does.
func (m *missingPlaceholder) mask(cols []table.Column, n int) ([]table.Column, error) {
	out := make([]table.Column, len(cols))
	for j := range cols {
		c := &cols[j]
		out[j] = table.Column{Name: c.Name, Kind: c.Kind}
		switch {
		case c.Kind == table.Numeric && m.Number == nil:
			return nil, &ParamError{Step: "simple_imputer", Param: "missing_values", Value: *m.Text,
				Msg: fmt.Sprintf("is a text but column %q is numeric: give a number, e.g. missing_values: -1", c.Name)}
		case c.Kind == table.String && m.Text == nil:
			return nil, &ParamError{Step: "simple_imputer", Param: "missing_values", Value: *m.Number,
				Msg: fmt.Sprintf("is a number but column %q is categorical: quote it, e.g. missing_values: \"%s\"", c.Name, strconv.FormatFloat(*m.Number, 'g', -1, 64))}
		}
		hint := "missing_values is a placeholder, so empty cells are not allowed (scikit-learn: Input contains NaN): fill them first or use missing_values: NaN"
		if c.Kind == table.Numeric {
			num := make([]float64, n)
			for i, v := range c.Num[:n] {
				switch {
				case math.IsNaN(v):
					return nil, &ValueError{Step: "simple_imputer", Column: c.Name, Row: i, Err: ErrBadValue, Hint: hint}
				case v == *m.Number:
					num[i] = math.NaN()
				default:
					num[i] = v
				}
			}
			out[j].Num = num
			continue
		}
		null := make([]bool, n)
		for i, v := range c.Str[:n] {
			if c.Null != nil && c.Null[i] {
				return nil, &ValueError{Step: "simple_imputer", Column: c.Name, Row: i, Err: ErrBadValue, Hint: hint}
			}
			null[i] = v == *m.Text
		}
		out[j].Str, out[j].Null = c.Str[:n], null
	}
	return out, nil
}

func (p *SimpleImputerParams) paramError(param string, v any, msg string) error {
	return &ParamError{Step: "simple_imputer", Param: param, Value: v, Msg: msg}
}

// Fit implements Params: it computes one statistic per column and, with
// add_indicator, which columns had missing values.
func (p *SimpleImputerParams) Fit(ctx *FitContext, cols []table.Column) (Fitted, error) {
	if err := requireRows("simple_imputer", cols); err != nil {
		return nil, err
	}
	var ph missingPlaceholder
	ph.Number, ph.Text = p.placeholder()
	if ph.active() {
		masked, err := ph.mask(cols, cols[0].Len())
		if err != nil {
			return nil, err
		}
		cols = masked
	}
	in := make([]ImputerColumn, len(cols))
	for j := range cols {
		c := &cols[j]
		in[j] = ImputerColumn{Name: c.Name, Kind: c.Kind, Missing: hasMissing(c), Stat: math.NaN()}
		if c.Kind == table.String && p.Strategy == "most_frequent" {
			in[j].Counts = map[string]int64{}
			for i, s := range c.Str {
				if c.Null == nil || !c.Null[i] {
					in[j].Counts[s]++
				}
			}
		}
	}
	if cols[0].Kind == table.Numeric && p.Strategy != "constant" && sameKind(in) {
		// statistic refuses infinite values first.
		if err := forEachColumn(ctx, len(cols), func(j int) (err error) {
			in[j].Stat, err = p.statistic(ctx, &cols[j])
			return err
		}); err != nil {
			return nil, err
		}
	} else {
		for j := range cols {
			if cols[j].Kind == table.Numeric && sameKind(in) {
				if err := rejectInfAllowNaN("simple_imputer", &cols[j]); err != nil {
					return nil, err
				}
			}
		}
	}
	f, err := p.fitColumns(in)
	if err != nil {
		return nil, err
	}
	f.missingPlaceholder = ph
	return f, nil
}

// sameKind reports whether every column has the first one's kind.
func sameKind(in []ImputerColumn) bool {
	for _, c := range in {
		if c.Kind != in[0].Kind {
			return false
		}
	}
	return true
}

// statistic returns the strategy's statistic (mean, median or most
// frequent) of the present values of a numeric column, NaN when none.
func (p *SimpleImputerParams) statistic(ctx *FitContext, c *table.Column) (float64, error) {
	if err := rejectInfAllowNaN("simple_imputer", c); err != nil {
		return 0, err
	}
	if p.Strategy == "mean" {
		// np.ma.mean: the NaN-as-0 sum in numpy's order over the count,
		// as scikit-learn computes it.
		sum, n := stats.NanSum(c.Num)
		return SimpleImputerMean(sum, int64(n)), nil
	}
	sorted, err := ctx.sorted(c.Num)
	if err != nil {
		return 0, err
	}
	defer sorted.Close()
	if p.Strategy == "median" {
		return sorted.Median()
	}
	return sorted.Mode()
}

// SimpleImputerMean is the mean statistic from NanSum's sum and count of a
// column (NaN when the count is 0).
func SimpleImputerMean(sum float64, n int64) float64 { return sum / float64(n) }

// ImputerColumn is what SimpleImputer's fit reads of one training column;
// SimpleImputerParams.Fit computes it from the column, a distributed fit
// from mergeable accumulators (stats.NanSumAcc, stats.Selection,
// stats.ValueCounts, stats.StringCounts).
type ImputerColumn struct {
	Name string
	Kind table.Kind
	// Missing tells whether the column has a missing value.
	Missing bool
	// Stat is, for a numeric column, the strategy's statistic of the
	// present values: SimpleImputerMean of NanSum, numpy's median, or the
	// most frequent value (the smallest on ties); NaN when the column has
	// no value. Unused for strategy constant.
	Stat float64
	// Counts holds, for a categorical column and strategy most_frequent,
	// the occurrences of each present value.
	Counts map[string]int64
}

// FitColumns builds the fitted SimpleImputer from its columns' statistics:
// the fit of the columns they were computed from. It refuses a
// missing_values placeholder, which the statistics must have been computed
// without.
func (p *SimpleImputerParams) FitColumns(cols []ImputerColumn) (Fitted, error) {
	if num, text := p.placeholder(); num != nil || text != nil {
		return nil, p.paramError("missing_values", p.MissingValues,
			"other than NaN is supported by the local fit only: fit with `normguard fit`, or replace the placeholder by empty cells and use missing_values: NaN")
	}
	return p.fitColumns(cols)
}

func (p *SimpleImputerParams) fitColumns(cols []ImputerColumn) (*SimpleImputer, error) {
	if len(cols) == 0 {
		return nil, &ValueError{Step: "simple_imputer", Row: -1, Err: ErrBadValue, Hint: "fit needs at least one column"}
	}
	kind := cols[0].Kind
	for i := range cols {
		if cols[i].Kind != kind {
			return nil, &ValueError{Step: "simple_imputer", Column: cols[i].Name, Row: -1, Err: ErrBadValue,
				Hint: "all columns of a simple_imputer group must be of one type (numeric or categorical)"}
		}
	}
	s := &SimpleImputer{Names: make([]string, len(cols))}
	for j := range cols {
		s.Names[j] = cols[j].Name
	}
	var err error
	if kind == table.String {
		s.StatisticsStr, err = p.fitStrings(cols)
	} else {
		s.Statistics, err = p.fitNumbers(cols)
	}
	if err != nil {
		return nil, err
	}
	if p.AddIndicator {
		s.IndicatorFeatures = []int{}
		for j := range cols {
			if cols[j].Missing {
				s.IndicatorFeatures = append(s.IndicatorFeatures, j)
			}
		}
	}
	return s, nil
}

func (p *SimpleImputerParams) fitNumbers(cols []ImputerColumn) (Floats, error) {
	stat := make(Floats, len(cols))
	fill := 0.0
	switch fv := p.FillValue.(type) {
	case string:
		if p.Strategy == "constant" {
			return nil, p.paramError("fill_value", fv, fmt.Sprintf(
				"a numeric value is needed to impute numeric column %q", cols[0].Name))
		}
	case float64:
		fill = fv
	}
	empty := math.NaN()
	if p.KeepEmptyFeatures {
		empty = 0
	}
	for j := range cols {
		v := cols[j].Stat
		if p.Strategy == "constant" {
			v = fill
		}
		if math.IsNaN(v) {
			v = empty
		}
		stat[j] = v
	}
	return stat, nil
}

func (p *SimpleImputerParams) fitStrings(cols []ImputerColumn) ([]*string, error) {
	stat := make([]*string, len(cols))
	switch p.Strategy {
	case "mean", "median":
		return nil, p.paramError("strategy", p.Strategy, fmt.Sprintf(
			"cannot be used with categorical column %q: use most_frequent or constant", cols[0].Name))
	case "constant":
		fill := "missing_value"
		switch fv := p.FillValue.(type) {
		case float64:
			return nil, p.paramError("fill_value", fv, fmt.Sprintf(
				"a string is needed to impute categorical column %q: quote it", cols[0].Name))
		case string:
			fill = fv
		}
		for j := range stat {
			stat[j] = &fill
		}
		return stat, nil
	}
	for j := range cols {
		v, ok := mostFrequentString(cols[j].Counts)
		switch {
		case ok:
			stat[j] = &v
		case p.KeepEmptyFeatures:
			e := emptyStringFill
			stat[j] = &e
		}
	}
	return stat, nil
}

// mostFrequentString returns the most frequent value of counts, the
// smallest (in byte order, which is Python's code point order) on ties;
// ok is false when counts is empty.
func mostFrequentString(counts map[string]int64) (v string, ok bool) {
	var bestN int64
	for s, n := range counts {
		if n > bestN || n == bestN && s < v {
			v, bestN = s, n
		}
	}
	return v, bestN > 0
}

func hasMissing(c *table.Column) bool {
	if c.Kind == table.String {
		return slices.Contains(c.Null, true)
	}
	return slices.ContainsFunc(c.Num, math.IsNaN)
}

// SimpleImputer replaces each missing value by its column's statistic:
//
//	mean:          exact sum of the present values, rounded once, / count
//	median:        numpy's median of the present values
//	most_frequent: the most frequent present value, the smallest on ties
//	constant:      fill_value (0 for numbers, "missing_value" for strings)
//
// Matches scikit-learn 1.2 SimpleImputer(missing_values=NaN). The mean is
// computed exactly (the same bits for every chunking); scikit-learn's
// numpy.ma.mean may differ from it in the last bit. Numeric columns
// refuse ±Inf (scikit-learn's input validation rejects it); categorical
// columns take only most_frequent and constant.
//
// A column with no value at all in training gets no statistic (NaN, or a
// null string) and is dropped from the output, as scikit-learn does,
// except with strategy constant or keep_empty_features (then 0 for
// numbers, "0" for strings, where scikit-learn puts the integer 0).
//
// With add_indicator, one 0/1 column missingindicator_<col> per input
// column that had missing values in training (MissingIndicator with
// features="missing-only") follows all imputed columns.
//
// Statistics holds statistics_ of a numeric group and StatisticsStr that
// of a categorical group; the other one is null.
type SimpleImputer struct {
	Statistics        Floats    `json:"statistics_"`
	StatisticsStr     []*string `json:"statistics_str_"`
	IndicatorFeatures []int     `json:"indicator_features_"`
	Names             []string  `json:"feature_names_in_"`
	// missingPlaceholder is missing_values when it is not NaN (absent
	// from the JSON otherwise).
	missingPlaceholder
}

// HasPlaceholder reports whether missing_values was a placeholder (a
// number or a text) rather than NaN.
func (s *SimpleImputer) HasPlaceholder() bool { return s.active() }

func (s *SimpleImputer) categorical() bool { return s.StatisticsStr != nil }

// kept reports whether input column j is imputed into the output.
func (s *SimpleImputer) kept(j int) bool {
	if s.categorical() {
		return s.StatisticsStr[j] != nil
	}
	return !math.IsNaN(s.Statistics[j])
}

// Outputs implements Fitted.
func (s *SimpleImputer) Outputs() []table.Field {
	kind := table.Numeric
	if s.categorical() {
		kind = table.String
	}
	var out []table.Field
	for j, name := range s.Names {
		if s.kept(j) {
			out = append(out, table.Field{Name: name, Kind: kind})
		}
	}
	for _, j := range s.IndicatorFeatures {
		out = append(out, table.Field{Name: "missingindicator_" + s.Names[j], Kind: table.Numeric})
	}
	return out
}

// Check implements Fitted.
func (s *SimpleImputer) Check(nIn int) error {
	if (s.Statistics == nil) == (s.StatisticsStr == nil) && nIn > 0 {
		return fmt.Errorf("exactly one of statistics_ and statistics_str_ must be set")
	}
	n := len(s.Statistics)
	attr := "statistics_"
	if s.categorical() {
		n, attr = len(s.StatisticsStr), "statistics_str_"
	}
	if err := checkLen(attr, n, nIn); err != nil {
		return err
	}
	if err := checkLen("feature_names_in_", len(s.Names), nIn); err != nil {
		return err
	}
	if s.Number != nil && !isFinite(*s.Number) {
		return fmt.Errorf("missing_values_number_ must be finite")
	}
	if s.active() && (s.Number != nil) == s.categorical() {
		return fmt.Errorf("missing_values_number_ is for numeric and missing_values_text_ for categorical imputers")
	}
	// A fit never writes an infinite statistic (the data's values are
	// finite, a mean past float64's range is refused): it would fill every
	// missing value with one the transform then refuses (attack run 27 F3).
	if err := checkNotInf("statistics_", s.Statistics); err != nil {
		return err
	}
	for i, j := range s.IndicatorFeatures {
		if j < 0 || j >= nIn || (i > 0 && j <= s.IndicatorFeatures[i-1]) {
			return badAt("indicator_features_", i, "must be increasing column indexes below %d, got %d", nIn, j)
		}
	}
	return checkNames("feature_names_in_", s.Names)
}

// Transform implements Fitted. The indicators are computed before any
// output is written, and columns are imputed in input order, so out may
// share storage with in.
func (s *SimpleImputer) Transform(in, out []table.Column, n int) error {
	if s.active() {
		masked, err := s.mask(in, n)
		if err != nil {
			return err
		}
		in = masked
	}
	if !s.categorical() {
		for j := range in {
			if err := rejectInfAllowNaN("simple_imputer", &in[j]); err != nil {
				return err
			}
		}
	}
	masks := make([][]float64, len(s.IndicatorFeatures))
	for t, j := range s.IndicatorFeatures {
		m := make([]float64, n)
		c := &in[j]
		for i := range m {
			if c.IsMissing(i) {
				m[i] = 1
			}
		}
		masks[t] = m
	}
	o := 0
	for j := range in {
		if !s.kept(j) {
			continue
		}
		if s.categorical() {
			imputeStrings(&in[j], &out[o], *s.StatisticsStr[j], n)
		} else {
			src := in[j].Num[:n]
			out[o].Resize(n)
			dst := out[o].Num[:n]
			v := s.Statistics[j]
			for i, x := range src {
				if math.IsNaN(x) {
					dst[i] = v
				} else {
					dst[i] = x
				}
			}
		}
		o++
	}
	for t, m := range masks {
		c := &out[o+t]
		c.Resize(n)
		copy(c.Num[:n], m)
	}
	return nil
}

// imputeStrings writes src with its missing values replaced by v to dst.
// It does not use Resize, which would clear a Null mask dst may share
// with src before it is read.
func imputeStrings(src, dst *table.Column, v string, n int) {
	str, null := src.Str[:n], src.Null
	if cap(dst.Str) >= n {
		dst.Str = dst.Str[:n]
	} else {
		dst.Str = make([]string, n)
	}
	for i, x := range str {
		if null != nil && null[i] {
			dst.Str[i] = v
		} else {
			dst.Str[i] = x
		}
	}
	dst.Null = nil
}

// ChecksOutput implements OutputChecker: no finite input gives a
// non-finite output (its outputs are its inputs, finite statistics, a finite fill_value and 0 and 1).
func (s *SimpleImputer) ChecksOutput() bool { return true }
