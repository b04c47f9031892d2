package step

import (
	"math"
	"testing"

	"github.com/normguard/normguard/table"
)

func TestKBinsDiscretizerPeerFitted(t *testing.T) {
	skCheckPeerFitted(t, "kbins_discretizer__quantile", "KBinsDiscretizer", 0)
	skCheckPeerFitted(t, "kbins_discretizer__uniform", "KBinsDiscretizer", 0)
}

// Training data: a has tied quantiles (duplicate edges are removed), b is
// constant, c is evenly spread.
var kbinsTrain = []table.Column{
	skNum("a", 0, 0, 0, 0, 1, 2, 3, 3, 3, 3),
	skNum("b", 7, 7, 7, 7, 7, 7, 7, 7, 7, 7),
	skNum("c", 0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9),
}

// Test data with values on edges and outside the training range.
var kbinsTest = []table.Column{
	skNum("a", -5, 0, 0.5, 1, 2.5, 3, 99),
	skNum("b", 7, 8, -1, 7, 7, 7, 7),
	skNum("c", -1, 0.1, 0.3, 0.30000000000000004, 0.45, 0.9, 2),
}

func TestKBinsDiscretizer(t *testing.T) {
	inf := math.Inf(1)
	// Values from scikit-learn 1.2.1:
	//   KBinsDiscretizer(n_bins=4, encode='ordinal', strategy=s, subsample=None)
	//   .fit(pd.DataFrame(train)); .bin_edges_, .n_bins_, .transform(test)
	tests := []struct {
		name, params string
		edges        [][]float64
		nBins        []int
		want         [][]float64
	}{
		{
			name: "quantile", params: `{"n_bins": 4, "encode": "ordinal", "subsample": null}`,
			edges: [][]float64{{0, 1.5, 3}, {-inf, inf}, {0, 0.22500000000000003, 0.45, 0.675, 0.9}},
			nBins: []int{2, 1, 4},
			want:  [][]float64{{0, 0, 0, 0, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 1, 2, 3, 3}},
		},
		{
			name: "uniform", params: `{"n_bins": 4, "encode": "ordinal", "strategy": "uniform"}`,
			edges: [][]float64{{0, 0.75, 1.5, 2.25, 3}, {-inf, inf}, {0, 0.225, 0.45, 0.675, 0.9}},
			nBins: []int{4, 1, 4},
			want:  [][]float64{{0, 0, 0, 1, 3, 3, 3}, {0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 1, 2, 3, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out := skFitTransform(t, "kbins_discretizer", tt.params, kbinsTrain, kbinsTest)
			k := f.(*KBinsDiscretizer)
			for j := range tt.edges {
				skWantFloats(t, "bin_edges_", k.BinEdges[j], tt.edges[j])
				if k.NBins[j] != tt.nBins[j] {
					t.Errorf("n_bins_[%d]: got %d, want %d", j, k.NBins[j], tt.nBins[j])
				}
			}
			skWantNames(t, f, []string{"a", "b", "c"})
			for j := range tt.want {
				skWantFloats(t, out[j].Name, out[j].Num, tt.want[j])
			}
		})
	}
}

func TestKBinsDiscretizerOneHot(t *testing.T) {
	// scikit-learn 1.2.1: KBinsDiscretizer(n_bins=3, encode=e, subsample=None)
	// on a: edges [0, 3] (n_bins_ 1 after removing empty bins), on b:
	// [-inf, inf]; get_feature_names_out() == ['a_0.0', 'b_0.0'], every
	// value 1.0. With n_bins=4 (edges [0, 1.5, 3]) a gives a_0.0, a_1.0.
	for _, enc := range []string{"onehot", "onehot-dense"} {
		t.Run(enc, func(t *testing.T) {
			f, out := skFitTransform(t, "kbins_discretizer", `{"n_bins": 3, "encode": "`+enc+`"}`,
				kbinsTrain[:2], kbinsTest[:2])
			skWantNames(t, f, []string{"a_0.0", "b_0.0"})
			for j := range out {
				skWantFloats(t, out[j].Name, out[j].Num, []float64{1, 1, 1, 1, 1, 1, 1})
			}
		})
	}
	// scikit-learn 1.2.1: KBinsDiscretizer(n_bins=4, subsample=None)
	// .fit_transform(a).toarray() on the test rows of a.
	f, out := skFitTransform(t, "kbins_discretizer", `{"n_bins": 4}`, kbinsTrain[:1], kbinsTest[:1])
	skWantNames(t, f, []string{"a_0.0", "a_1.0"})
	skWantFloats(t, "a_0.0", out[0].Num, []float64{1, 1, 1, 1, 0, 0, 0})
	skWantFloats(t, "a_1.0", out[1].Num, []float64{0, 0, 0, 0, 1, 1, 1})
}

func TestLinspace(t *testing.T) {
	// numpy 1.24.2: np.linspace(start, stop, num).tolist()
	tests := []struct {
		start, stop float64
		num         int
		want        []float64
	}{
		{0, 100, 6, []float64{0, 20, 40, 60, 80, 100}},
		{0, 100, 4, []float64{0, 33.333333333333336, 66.66666666666667, 100}},
		{0, 17, 6, []float64{0, 3.4, 6.8, 10.2, 13.6, 17}},
		{-44.0141169985467, 79.23709580092006, 6, []float64{-44.0141169985467, -19.363874438653347, 5.286368121240002, 29.93661068113336, 54.5868532410267, 79.23709580092006}},
		{0, 5e-324, 3, []float64{0, 0, 5e-324}}, // step underflows to 0
	}
	for _, tt := range tests {
		skWantFloats(t, "linspace", linspace(tt.start, tt.stop, tt.num), tt.want)
	}
}

func TestKBinsDiscretizerErrors(t *testing.T) {
	tests := []struct {
		name, params string
		train, test  []table.Column
		param        string
	}{
		{"unknown strategy", `{"strategy": "kmedoids"}`, kbinsTrain, nil, "strategy"},
		// scikit-learn: "n_samples=3 should be >= n_clusters=5."
		{"kmeans with fewer values than bins", `{"strategy": "kmeans"}`, []table.Column{skNum("a", 1, 2, 3)}, nil, ""},
		{"one bin", `{"n_bins": 1}`, kbinsTrain, nil, "n_bins"},
		{"bad encode", `{"encode": "sparse"}`, kbinsTrain, nil, "encode"},
		{"bad dtype", `{"dtype": "int64"}`, kbinsTrain, nil, "dtype"},
		{"subsample with uniform", `{"strategy": "uniform", "subsample": 1000}`, kbinsTrain, nil, "subsample"},
		{"fractional subsample", `{"subsample": 10.5}`, kbinsTrain, nil, "subsample"},
		{"nan in fit", `{}`, []table.Column{skNum("a", 1, skNaN, 2)}, nil, ""},
		{"inf in fit", `{}`, []table.Column{skNum("a", 1, math.Inf(1), 2)}, nil, ""},
		{"nan in transform", `{}`, []table.Column{skNum("a", 1, 2, 3)}, []table.Column{skNum("a", skNaN)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := skFit(t, "kbins_discretizer", tt.params, tt.train)
			if err == nil && tt.test != nil {
				_, err = apply(f, tt.test)
			}
			skWantErr(t, err, tt.param)
		})
	}
	for _, p := range []string{`{"subsample": 200000, "random_state": 0}`, `{"subsample": null, "dtype": "float32"}`} {
		if _, err := skFit(t, "kbins_discretizer", p, kbinsTrain); err != nil {
			t.Errorf("params %s: got %v, want no error", p, err)
		}
	}
}

func TestKBinsDiscretizerCheck(t *testing.T) {
	tests := []struct {
		name string
		k    KBinsDiscretizer
	}{
		{"edges count", KBinsDiscretizer{Encode: "ordinal", BinEdges: []Floats{{0, 1, 2}}, NBins: []int{3}, Names: []string{"a"}}},
		{"unsorted", KBinsDiscretizer{Encode: "ordinal", BinEdges: []Floats{{0, 2, 1}}, NBins: []int{2}, Names: []string{"a"}}},
		{"nan edge", KBinsDiscretizer{Encode: "ordinal", BinEdges: []Floats{{0, skNaN}}, NBins: []int{1}, Names: []string{"a"}}},
		{"zero bins", KBinsDiscretizer{Encode: "onehot", BinEdges: []Floats{{0}}, NBins: []int{0}, Names: []string{"a"}}},
		{"encode", KBinsDiscretizer{Encode: "x", BinEdges: []Floats{{0, 1}}, NBins: []int{1}, Names: []string{"a"}}},
		{"columns", KBinsDiscretizer{Encode: "ordinal", BinEdges: []Floats{{0, 1}}, NBins: []int{1}, Names: []string{"a", "b"}}},
	}
	for _, tt := range tests {
		if err := tt.k.Check(1); err == nil {
			t.Errorf("%s: got nil, want an error", tt.name)
		}
	}
}

func TestKBinsDiscretizerFloat32(t *testing.T) {
	// scikit-learn 1.2.1: KBinsDiscretizer(n_bins=2, encode='ordinal',
	// strategy='uniform', dtype=d).fit([[0.], [0.1], [0.2], [1.]])
	// .transform([[0.5], [0.50000001], [0.49999999]]): edges [0, 0.5, 1];
	// float32 rounds 0.49999999 up to 0.5 before binning.
	train := []table.Column{skNum("a", 0, 0.1, 0.2, 1)}
	test := []table.Column{skNum("a", 0.5, 0.50000001, 0.49999999)}
	tests := []struct {
		dtype string
		want  []float64
	}{
		{`null`, []float64{1, 1, 0}},
		{`"float64"`, []float64{1, 1, 0}},
		{`"float32"`, []float64{1, 1, 1}},
	}
	for _, tt := range tests {
		params := `{"n_bins": 2, "encode": "ordinal", "strategy": "uniform", "dtype": ` + tt.dtype + `}`
		_, out := skFitTransform(t, "kbins_discretizer", params, train, test)
		skWantFloats(t, "dtype "+tt.dtype, out[0].Num, tt.want)
	}
}

// TestKBinsDiscretizerInPlace checks the kernel when out shares storage
// with in (ordinal encoding, and one-hot with one bin per column).
func TestKBinsDiscretizerInPlace(t *testing.T) {
	// Same values as TestKBinsDiscretizer / TestKBinsDiscretizerOneHot.
	tests := []struct {
		params string
		want   [][]float64
	}{
		{`{"n_bins": 4, "encode": "ordinal"}`, [][]float64{{0, 0, 0, 0, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0}}},
		{`{"n_bins": 3, "encode": "onehot"}`, [][]float64{{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}}},
	}
	for _, tt := range tests {
		f, err := skFit(t, "kbins_discretizer", tt.params, kbinsTrain[:2])
		if err != nil {
			t.Fatal(err)
		}
		in := skCloneAll(kbinsTest[:2])
		if err := f.Transform(in, in, 7); err != nil {
			t.Fatal(err)
		}
		for j := range tt.want {
			skWantFloats(t, tt.params, in[j].Num, tt.want[j])
		}
	}
}
