package step

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// Attack run 8 F7: n_bins 1e9 made fit allocate an 8 GB edge list
// (fatal error: out of memory). A fit refuses n_bins past MaxBins before
// anything is allocated; Validate (the readers' rule) still accepts it.
func TestCheckFitParamsNBins(t *testing.T) {
	for _, n := range []int{2, 5, MaxBins} {
		p := &KBinsDiscretizerParams{NBins: n, Encode: "onehot", Strategy: "uniform", Subsample: "warn"}
		if err := CheckFitParams(p); err != nil {
			t.Errorf("n_bins %d: %v", n, err)
		}
	}
	for _, n := range []int{MaxBins + 1, 2_000_000, 1_000_000_000, math.MaxInt} {
		p := &KBinsDiscretizerParams{NBins: n, Encode: "ordinal", Strategy: "quantile", Subsample: "warn"}
		err := CheckFitParams(p)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "n_bins" || pe.Value != n || !strings.Contains(pe.Msg, "1048576") {
			t.Errorf("n_bins %d: got %v, want a ParamError on n_bins naming the bound 1048576", n, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("n_bins %d: Validate refuses it (%v); only a fit should", n, err)
		}
	}
}

// Attack run 8 F8: feature_range [-1e308, 1e308] has a width past
// MaxFloat64, so every scale_ was +Inf and fit wrote an artifact every
// reader refused as damaged.
func TestCheckFitParamsFeatureRange(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {-1, 1}, {0, 1e308}, {-8e307, 8e307}, {-math.MaxFloat64, 0}} {
		if err := CheckFitParams(&MinMaxScalerParams{FeatureRange: Floats{r[0], r[1]}}); err != nil {
			t.Errorf("feature_range %v: %v", r, err)
		}
	}
	for _, r := range [][2]float64{{-1e308, 1e308}, {-math.MaxFloat64, 1e300}, {-9e307, 9e307}} {
		err := CheckFitParams(&MinMaxScalerParams{FeatureRange: Floats{r[0], r[1]}})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "feature_range" || !strings.Contains(pe.Msg, "overflows float64") {
			t.Errorf("feature_range %v: got %v, want a ParamError on feature_range saying its width overflows", r, err)
		}
	}
}

func TestGridEntries(t *testing.T) {
	kb := &KBinsDiscretizerParams{NBins: 5}
	qt := &QuantileTransformerParams{NQuantiles: 1000}
	for _, c := range []struct {
		p          Params
		nIn, rows  int
		want       int
		whatParams string
	}{
		{kb, 3, 10, 18, "kbins: 3 columns x 6 edges, whatever the rows"},
		{&KBinsDiscretizerParams{NBins: math.MaxInt - 1}, 3, 10, math.MaxInt, "saturates"},
		{qt, 2, 50, 150, "quantiles: min(1000, 50) per column and references"},
		{qt, 2, 5000, 3000, "quantiles: 1000 per column and references"},
		{&QuantileTransformerParams{NQuantiles: 2_000_000_000}, 1, 32214, 2 * 32214, "clamped to rows"},
		{&StandardScalerParams{}, 1000, 1 << 30, 0, "per-column arrays only"},
	} {
		if got := GridEntries(c.p, c.nIn, c.rows); got != c.want {
			t.Errorf("%s: GridEntries = %d, want %d", c.whatParams, got, c.want)
		}
	}
}

// A column whose values are not all equal but lie within 1e-8 of each
// other loses every quantile or kmeans bin: scikit-learn 1.2 gives
// bin_edges_ [[0.]] and n_bins_ [0] for [0, 1e-300] (ordinal output 0,
// onehot IndexError). normguard's transform panicked on it (slice bounds
// out of range [1:0]); the fit now refuses it, naming the column.
func TestKBinsNoBinLeft(t *testing.T) {
	for _, strategy := range []string{"quantile", "kmeans"} {
		p := &KBinsDiscretizerParams{NBins: 2, Encode: "ordinal", Strategy: strategy, Subsample: "warn"}
		_, err := p.Fit(nil, []table.Column{skNum("x", 0, 1e-300)})
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Column != "x" || !strings.Contains(ve.Hint, "no bin is left") {
			t.Errorf("%s: got %v, want a ValueError on column x saying no bin is left", strategy, err)
		}
	}
}

// kmeans on values whose mean overflows: refused, not NaN edges.
func TestKBinsKMeansOverflow(t *testing.T) {
	p := &KBinsDiscretizerParams{NBins: 2, Encode: "ordinal", Strategy: "kmeans", Subsample: "warn"}
	for _, xs := range [][]float64{{-1e308, 1e308, 0}, {1.7e308, 1.7e308, 1}} {
		_, err := p.Fit(nil, []table.Column{skNum("x", xs...)})
		var ve *ValueError
		if !errors.As(err, &ve) || !strings.Contains(ve.Hint, "overflows float64") {
			t.Errorf("%v: got %v, want a ValueError saying the mean or variance overflows", xs, err)
		}
	}
}

// CheckFit turns a fitted parameter no reader accepts into a FitError
// naming the parameter and its column: min_max_scaler on [-1e308, 1e308]
// gives data_range_ +Inf and scale_ 0 (scikit-learn: data_range_ [inf],
// scale_ [0.]), standard_scaler var_ +Inf (scikit-learn: var_ [inf]).
func TestCheckFitOverflow(t *testing.T) {
	cols := []table.Column{skNum("ok", 1, 2, 3), skNum("wide", -1e308, 1e308, 0)}
	for _, p := range []Params{
		&MinMaxScalerParams{FeatureRange: Floats{0, 1}},
		&StandardScalerParams{WithMean: true, WithStd: true},
		&RobustScalerParams{WithCentering: true, WithScaling: true, QuantileRange: Floats{0, 100}},
	} {
		f, err := p.Fit(nil, cols)
		if err != nil {
			t.Fatalf("%T: %v", p, err)
		}
		err = CheckFit(p, f, []string{"ok", "wide"})
		var fe *FitError
		if !errors.As(err, &fe) || fe.Column != "wide" || !strings.HasSuffix(fe.Path, "[1]") {
			t.Errorf("%T: got %v, want a FitError on column wide", p, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `column "wide"`) || strings.Contains(msg, "damaged") {
			t.Errorf("%T: message %q", p, msg)
		}
	}
	f, _ := (&StandardScalerParams{WithMean: true, WithStd: true}).Fit(nil, cols[:1])
	if err := CheckFit(&StandardScalerParams{WithMean: true, WithStd: true}, f, []string{"ok"}); err != nil {
		t.Errorf("a valid fit: %v", err)
	}
}

func TestColumnOf(t *testing.T) {
	in := []string{"a", "b"}
	for path, want := range map[string]string{
		"scale_[1]":            "b",
		"bin_edges_[0][3]":     "a",
		"references_[1]":       "",
		"feature_range":        "",
		"scale_[7]":            "",
		"categories_[1][0]":    "b",
		"quantile_range[1]":    "",
		"feature_names_in_[0]": "a",
	} {
		if got := columnOf(path, in); got != want {
			t.Errorf("columnOf(%q) = %q, want %q", path, got, want)
		}
	}
}
