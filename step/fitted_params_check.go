package step

import (
	"encoding/json"
	"fmt"
	"math"
)

// This file holds the rules that hold a fitted step to its parameters.
// Several fitted structs repeat a parameter (a standard scaler's
// with_mean, a quantile transformer's output_distribution, an encoder's
// handle_unknown, ...) or hold what a parameter implies (a simple
// imputer's statistics_ under strategy constant, a one-hot encoder's
// drop_idx_ under drop). The transform kernel reads the fitted field;
// inspect, diff and a reader of the spec read the parameter. A fit
// always writes them in agreement (the parameters with their defaults
// applied, as fit applies them), so an artifact in which they disagree was
// edited, and is refused: the error names the fitted field
// ("with_mean: false disagrees with params.with_mean true"), which the
// artifact loader places under the step's path.
//
// CheckStep and StreamedCheck.Check run the rules after the fitted
// step's own (Fitted.Check's), so both readings of an artifact (Decode
// and the streamed Verify) apply them alike. Fitted.Check alone, which
// has no parameters, does not.

// paramsAgreement is implemented by every fitted step a field of which
// repeats or follows from its parameters.
type paramsAgreement interface {
	// agreeWith checks the fitted step against its parameters p. c, when
	// not nil, is the StreamedCheck its streamed fields were fed to (in
	// memory by CheckStep, or from a file); the rules read those fields'
	// summaries from it, never the fields themselves, which a streamed
	// reading does not keep.
	agreeWith(p Params, c *StreamedCheck) error
}

// checkParams applies the rules of this file to fitted step f and its
// parameters p (nil: Fitted.Check, which has none to compare with).
func checkParams(p Params, f Fitted, c *StreamedCheck) error {
	if p == nil {
		return nil
	}
	a, ok := f.(paramsAgreement)
	if !ok {
		return nil
	}
	return a.agreeWith(p, c)
}

// paramsOf returns p as the parameters *T of the step named name, or an
// error when they are another step's (which no artifact reader lets
// happen: both are decoded by the step's own Def).
func paramsOf[T any](name string, p Params) (*T, error) {
	q, ok := any(p).(*T)
	if !ok {
		return nil, fmt.Errorf("the parameters are %T, not %s's", p, name)
	}
	return q, nil
}

// jsonText is v as the artifact writes it.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// disagrees is the error for fitted field field holding got where the
// parameter param, whose value is want, says otherwise.
func disagrees(field string, got any, param string, want any) error {
	return &PathError{Path: field, Msg: fmt.Sprintf("%s disagrees with params.%s %s", jsonText(got), param, jsonText(want))}
}

// sameNumberOrNaN reports whether a and b are the same number (NaN equals NaN).
func sameNumberOrNaN(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// agreeWith implements paramsAgreement: with_mean and with_std repeat the
// parameters; mean_ is null when neither is set, var_ and scale_ without
// with_std.
func (s *StandardScaler) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[StandardScalerParams]("standard_scaler", p)
	if err != nil {
		return err
	}
	if s.WithMean != q.WithMean {
		return disagrees("with_mean", s.WithMean, "with_mean", q.WithMean)
	}
	if s.WithStd != q.WithStd {
		return disagrees("with_std", s.WithStd, "with_std", q.WithStd)
	}
	if !q.WithMean && !q.WithStd && s.Mean != nil {
		return &PathError{Path: "mean_", Msg: "is set, but params.with_mean and params.with_std are false: a fit writes null"}
	}
	if !q.WithStd {
		if s.Var != nil {
			return &PathError{Path: "var_", Msg: "is set, but params.with_std is false: a fit writes null"}
		}
		if s.Scale != nil {
			return &PathError{Path: "scale_", Msg: "is set, but params.with_std is false: a fit writes null"}
		}
	}
	return nil
}

// agreeWith implements paramsAgreement: feature_range and clip repeat the
// parameters, and scale_ and min_ follow from feature_range and
// data_min_, data_max_ as the fit computes them (FitRange), bit for bit.
func (s *MinMaxScaler) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[MinMaxScalerParams]("min_max_scaler", p)
	if err != nil {
		return err
	}
	if len(s.FeatureRange) != len(q.FeatureRange) || !sameNumberOrNaN(s.FeatureRange[0], q.FeatureRange[0]) || !sameNumberOrNaN(s.FeatureRange[1], q.FeatureRange[1]) {
		return disagrees("feature_range", s.FeatureRange, "feature_range", q.FeatureRange)
	}
	if s.Clip != q.Clip {
		return disagrees("clip", s.Clip, "clip", q.Clip)
	}
	lo, hi := q.FeatureRange[0], q.FeatureRange[1]
	for j := range s.DataMin {
		mn, mx := s.DataMin[j], s.DataMax[j]
		rng := mx - mn
		if !sameNumberOrNaN(s.DataRange[j], rng) {
			return badAt("data_range_", j, "is %v, data_max_ - data_min_ is %v", s.DataRange[j], rng)
		}
		scale := (hi - lo) / zeroScaleToOne(rng)
		if !sameNumberOrNaN(s.Scale[j], scale) {
			return badAt("scale_", j, "is %v, params.feature_range %s and data_range_ give %v", s.Scale[j], jsonText(q.FeatureRange), scale)
		}
		if m := lo - float64(mn*scale); !sameNumberOrNaN(s.Min[j], m) {
			return badAt("min_", j, "is %v, params.feature_range %s, data_min_ and scale_ give %v", s.Min[j], jsonText(q.FeatureRange), m)
		}
	}
	return nil
}

// agreeWith implements paramsAgreement: output_distribution repeats the
// parameter, and n_quantiles_ = min(n_quantiles, training rows) is at
// most n_quantiles (the artifact's check, which knows the training rows,
// holds it to the formula).
func (qt *QuantileTransformer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[QuantileTransformerParams]("quantile_transformer", p)
	if err != nil {
		return err
	}
	if qt.OutputDistribution != q.OutputDistribution {
		return disagrees("output_distribution", qt.OutputDistribution, "output_distribution", q.OutputDistribution)
	}
	if qt.NQuantiles > q.NQuantiles {
		return &PathError{Path: "n_quantiles_", Msg: fmt.Sprintf("%d is above params.n_quantiles %d: a fit takes min(n_quantiles, rows)", qt.NQuantiles, q.NQuantiles)}
	}
	return nil
}

// agreeWith implements paramsAgreement: norm repeats the parameter.
func (nz *Normalizer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[NormalizerParams]("normalizer", p)
	if err != nil {
		return err
	}
	if nz.Norm != q.Norm {
		return disagrees("norm", nz.Norm, "norm", q.Norm)
	}
	return nil
}

// agreeWith implements paramsAgreement: method and standardize repeat the
// parameters (Check holds mean_ and scale_ to standardize).
func (pt *PowerTransformer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[PowerTransformerParams]("power_transformer", p)
	if err != nil {
		return err
	}
	if pt.Method != q.Method {
		return disagrees("method", pt.Method, "method", q.Method)
	}
	if pt.Standardize != q.Standardize {
		return disagrees("standardize", pt.Standardize, "standardize", q.Standardize)
	}
	return nil
}

// agreeWith implements paramsAgreement: encode repeats the parameter,
// float32 says dtype is "float32", and no column has more than n_bins
// bins (quantile bins of width <= 1e-8 are removed, a constant column has
// one).
func (k *KBinsDiscretizer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[KBinsDiscretizerParams]("kbins_discretizer", p)
	if err != nil {
		return err
	}
	if k.Encode != q.Encode {
		return disagrees("encode", k.Encode, "encode", q.Encode)
	}
	if f32 := q.Dtype != nil && *q.Dtype == "float32"; k.Float32 != f32 {
		return disagrees("float32", k.Float32, "dtype", q.Dtype)
	}
	for j, n := range k.NBins {
		if n > q.NBins {
			return badAt("n_bins_", j, "%d is above params.n_bins %d", n, q.NBins)
		}
	}
	return nil
}

// agreeWith implements paramsAgreement: threshold repeats the parameter.
func (b *Binarizer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[BinarizerParams]("binarizer", p)
	if err != nil {
		return err
	}
	if !sameNumberOrNaN(float64(b.Threshold), float64(q.Threshold)) {
		return disagrees("threshold", b.Threshold, "threshold", q.Threshold)
	}
	return nil
}

// agreeWith implements paramsAgreement: center_ is set exactly with
// with_centering, scale_ with with_scaling.
func (s *RobustScaler) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[RobustScalerParams]("robust_scaler", p)
	if err != nil {
		return err
	}
	if (s.Center != nil) != q.WithCentering {
		return presence("center_", s.Center != nil, "with_centering", q.WithCentering)
	}
	if (s.Scale != nil) != q.WithScaling {
		return presence("scale_", s.Scale != nil, "with_scaling", q.WithScaling)
	}
	return nil
}

// presence is the error for fitted field field being set (set) or null
// against the boolean parameter param.
func presence(field string, set bool, param string, want bool) error {
	if set {
		return &PathError{Path: field, Msg: fmt.Sprintf("is set, but params.%s is %v: a fit writes null", param, want)}
	}
	return &PathError{Path: field, Msg: fmt.Sprintf("is null, but params.%s is %v", param, want)}
}

// agreeWith implements paramsAgreement: the missing_values placeholder,
// indicator_features_ (set exactly with add_indicator), the type of the
// statistics the strategy allows (numbers for mean and median), every
// statistic equal to fill_value under strategy constant (0 or
// "missing_value" by default), and a statistic for every column with
// keep_empty_features or strategy constant (a column is dropped only
// when it had no value and neither is set).
func (s *SimpleImputer) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[SimpleImputerParams]("simple_imputer", p)
	if err != nil {
		return err
	}
	num, text := q.placeholder()
	if !sameNumber(s.Number, num) {
		return disagrees("missing_values_number_", s.Number, "missing_values", q.MissingValues)
	}
	if !sameText(s.Text, text) {
		return disagrees("missing_values_text_", s.Text, "missing_values", q.MissingValues)
	}
	if (s.IndicatorFeatures != nil) != q.AddIndicator {
		return presence("indicator_features_", s.IndicatorFeatures != nil, "add_indicator", q.AddIndicator)
	}
	keepAll := q.KeepEmptyFeatures || q.Strategy == "constant"
	if s.categorical() {
		if q.Strategy == "mean" || q.Strategy == "median" {
			return &PathError{Path: "statistics_str_", Msg: fmt.Sprintf("is set (a categorical imputer), but params.strategy %q takes numbers only", q.Strategy)}
		}
		fill := "missing_value"
		if q.Strategy == "constant" {
			switch fv := q.FillValue.(type) {
			case string:
				fill = fv
			case nil:
			default:
				return &PathError{Path: "statistics_str_", Msg: fmt.Sprintf("is set (a categorical imputer), but params.fill_value %s is not a string", jsonText(q.FillValue))}
			}
		}
		for j, v := range s.StatisticsStr {
			switch {
			case v == nil && keepAll:
				return &PathError{Path: fmt.Sprintf("statistics_str_[%d]", j), Msg: fmt.Sprintf("is null (the column is dropped), but params.%s keeps every column", keepParam(q))}
			case v != nil && q.Strategy == "constant" && *v != fill:
				return &PathError{Path: fmt.Sprintf("statistics_str_[%d]", j), Msg: fmt.Sprintf("%s disagrees with params.fill_value %s (strategy constant)", jsonText(*v), jsonText(fill))}
			}
		}
		return nil
	}
	fill := 0.0
	if q.Strategy == "constant" {
		switch fv := q.FillValue.(type) {
		case float64:
			fill = fv
		case nil:
		default:
			return &PathError{Path: "statistics_", Msg: fmt.Sprintf("is set (a numeric imputer), but params.fill_value %s is not a number", jsonText(q.FillValue))}
		}
	}
	for j, v := range s.Statistics {
		switch {
		case math.IsNaN(v) && keepAll:
			return &PathError{Path: fmt.Sprintf("statistics_[%d]", j), Msg: fmt.Sprintf("is NaN (the column is dropped), but params.%s keeps every column", keepParam(q))}
		case q.Strategy == "constant" && v != fill:
			return &PathError{Path: fmt.Sprintf("statistics_[%d]", j), Msg: fmt.Sprintf("%s disagrees with params.fill_value %s (strategy constant)", jsonText(Float(v)), jsonText(fill))}
		}
	}
	return nil
}

// keepParam names the parameter that keeps every column of an imputer.
func keepParam(q *SimpleImputerParams) string {
	if q.Strategy == "constant" {
		return `strategy "constant"`
	}
	return "keep_empty_features true"
}

func sameNumber(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sameText(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// agreeWith implements paramsAgreement: handle_unknown repeats the
// parameter, unknown_value is the parameter's with use_encoded_value and
// null otherwise, encoded_missing_value the parameter's.
func (e *OrdinalEncoder) agreeWith(p Params, _ *StreamedCheck) error {
	q, err := paramsOf[OrdinalEncoderParams]("ordinal_encoder", p)
	if err != nil {
		return err
	}
	if e.HandleUnknown != q.HandleUnknown {
		return disagrees("handle_unknown", e.HandleUnknown, "handle_unknown", q.HandleUnknown)
	}
	want := q.UnknownValue
	if q.HandleUnknown != unknownUseEncodedValue {
		want = EncodedValue{}
	}
	if (e.UnknownValue != nil) != want.Valid || (e.UnknownValue != nil && !sameNumberOrNaN(float64(*e.UnknownValue), want.Value)) {
		return disagrees("unknown_value", e.UnknownValue, "unknown_value", want)
	}
	if !q.EncodedMissingValue.Valid || !sameNumberOrNaN(float64(e.EncodedMissingValue), q.EncodedMissingValue.Value) {
		return disagrees("encoded_missing_value", e.EncodedMissingValue, "encoded_missing_value", q.EncodedMissingValue)
	}
	return nil
}

// agreeWith implements paramsAgreement: handle_unknown repeats the
// parameter; infrequent_categories_ is set exactly when min_frequency or
// max_categories is; a column gives at most max_categories outputs (when
// above 1, the infrequent group included, before dropping); drop_idx_
// follows drop (null for none, 0 in every column for "first", 0 in the
// columns with two outputs and null in the others for "if_binary", set in
// every column for a list); categories_dtype_ is null with given
// categories. The counts of the lists are read from c (their checks),
// whether the lists were in memory or read from a file.
func (e *OneHotEncoder) agreeWith(p Params, c *StreamedCheck) error {
	q, err := paramsOf[OneHotEncoderParams]("one_hot_encoder", p)
	if err != nil {
		return err
	}
	if e.HandleUnknown != q.HandleUnknown {
		return disagrees("handle_unknown", e.HandleUnknown, "handle_unknown", q.HandleUnknown)
	}
	if q.Categories.Lists != nil && e.CategoriesDtype != nil {
		return &PathError{Path: "categories_dtype_", Msg: "is set, but params.categories are given lists: a fit writes it for categories \"auto\" only"}
	}
	if c == nil || c.categories["categories_"] == nil {
		return fmt.Errorf("one_hot_encoder: the categories' check is missing; its parameters could not be checked")
	}
	cats := c.categories["categories_"]
	hasInf := e.InfrequentCategories != nil
	nInf := func(j int) int {
		if j < len(e.InfrequentCategories) {
			return len(e.InfrequentCategories[j])
		}
		return 0
	}
	if c.source != nil { // read from a file: the lists are not held
		infs := c.categories["infrequent_categories_"]
		hasInf = infs != nil && infs.seen && !infs.null
		nInf = func(j int) int {
			if j < infs.Len() {
				return infs.lists[j].n
			}
			return 0
		}
	}
	if enabled := q.infrequentEnabled(); hasInf != enabled {
		if hasInf {
			return &PathError{Path: "infrequent_categories_", Msg: "is set, but params.min_frequency and params.max_categories are null: a fit writes none"}
		}
		return &PathError{Path: "infrequent_categories_", Msg: fmt.Sprintf("is missing, but params.min_frequency %s and params.max_categories %s ask for infrequent categories", jsonText(q.MinFrequency), jsonText(q.MaxCategories))}
	}
	// outputs is column j's count of outputs before dropping.
	outputs := func(j int) int {
		n, inf := cats.lists[j].n, nInf(j)
		if inf > 0 {
			return n - inf + 1
		}
		return n
	}
	if m := q.MaxCategories; m != nil && *m > 1 {
		for j := range cats.Len() {
			if n := outputs(j); n > *m {
				return &PathError{Path: fmt.Sprintf("categories_[%d]", j), Msg: fmt.Sprintf("gives %d outputs (infrequent_categories_ grouped), more than params.max_categories %d", n, *m)}
			}
		}
	}
	switch {
	case q.Drop.PerColumn == nil && q.Drop.Rule == "":
		if e.DropIdx != nil {
			return &PathError{Path: "drop_idx_", Msg: "is set, but params.drop is null: a fit writes null"}
		}
		return nil
	case e.DropIdx == nil:
		return &PathError{Path: "drop_idx_", Msg: fmt.Sprintf("is null, but params.drop is %s", jsonText(q.Drop))}
	}
	for j, d := range e.DropIdx {
		var ok bool
		switch {
		case q.Drop.PerColumn != nil:
			ok = d != nil
		case q.Drop.Rule == "first":
			ok = d != nil && *d == 0
		case q.Drop.Rule == "if_binary":
			if j < cats.Len() && outputs(j) == 2 {
				ok = d != nil && *d == 0
			} else {
				ok = d == nil
			}
		}
		if !ok {
			return &PathError{Path: fmt.Sprintf("drop_idx_[%d]", j), Msg: fmt.Sprintf("%s disagrees with params.drop %s", jsonText(d), jsonText(q.Drop))}
		}
	}
	return nil
}
