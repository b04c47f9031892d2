package fit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// The profile of a 0/1 column from its count of ones is profile.Column's
// of the dense column, bit for bit: row counts around numpy's summation
// block (8192) and the grid's sample (65,536), no ones, all ones, row 0
// a one or a zero.
func TestIndicatorProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rows := range []int{1, 2, 3, 7, 8191, 8192, 8193, 20000, 65537, 140000} {
		cases := [][]float64{make([]float64, rows), ones(rows)}
		for _, share := range []float64{0.5, 0.01, 0.999, 1 / float64(rows)} {
			for range 2 {
				x := make([]float64, rows)
				for i := range x {
					if rng.Float64() < share {
						x[i] = 1
					}
				}
				cases = append(cases, x)
			}
		}
		for ci, x := range cases {
			var k int64
			for _, v := range x {
				k += int64(v)
			}
			want := profile.Column(&table.Column{Name: "c_1", Kind: table.Numeric, Num: x})
			got := indicatorProfile("c_1", int64(rows), k, x[0] == 1)
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			if !bytes.Equal(wj, gj) || *got.Mean != *want.Mean || *got.Std != *want.Std {
				t.Errorf("rows %d case %d (%d ones, first %v):\n got %s\nwant %s", rows, ci, k, x[0], gj, wj)
			}
		}
	}
}

func ones(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	return x
}

// fitBoth fits specText on csv with Fit and with FitTransform.
func fitBoth(t *testing.T, specText, csv string) (lazy, dense *artifact.Artifact) {
	t.Helper()
	run := func(batch bool) *artifact.Artifact {
		sp, err := spec.Parse(strings.NewReader(specText), "s.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var a *artifact.Artifact
		if batch {
			a, _, err = FitTransform(context.Background(), sp, r, Options{Workers: 2})
		} else {
			a, err = Fit(context.Background(), sp, r, Options{Workers: 2})
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return run(false), run(true)
}

// Fit profiles an indicator step that ends its group from its counts of
// ones; FitTransform from the dense outputs. The artifacts are the same
// bytes: one-hot encoders (missing values, infrequent categories,
// dropped outputs, unknown-free), kbins onehot on two columns, a one-hot
// step followed by another step, and passthrough.
func TestFitIndicatorsSameAsDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("a,b,x,y,p\n")
	for i := range 9000 {
		a := fmt.Sprintf("a%d", rng.IntN(40))
		if i%97 == 5 {
			a = ""
		}
		fmt.Fprintf(&b, "%s,b%d,%g,%d,%d\n", a, rng.IntN(3), rng.NormFloat64()*10, rng.IntN(50), i)
	}
	csv := b.String()
	specs := []string{
		"version: 1\ncolumns:\n  - names: [a, b]\n    type: categorical\n    steps:\n      - one_hot_encoder: {}\n",
		"version: 1\nremainder: passthrough\ncolumns:\n  - names: [a, b]\n    type: categorical\n    steps:\n      - one_hot_encoder: {max_categories: 7, drop: first}\n",
		"version: 1\ncolumns:\n  - name: a\n    type: categorical\n    steps:\n      - simple_imputer: {strategy: most_frequent}\n      - one_hot_encoder: {min_frequency: 230, drop: if_binary}\n  - name: b\n    type: categorical\n    steps:\n      - one_hot_encoder: {drop: if_binary}\n",
		"version: 1\ncolumns:\n  - names: [x, y]\n    type: numeric\n    steps:\n      - kbins_discretizer: {n_bins: 30, strategy: uniform}\n",
		"version: 1\ncolumns:\n  - names: [x, y]\n    type: numeric\n    steps:\n      - kbins_discretizer: {n_bins: 9, encode: onehot-dense, dtype: float32}\n  - name: a\n    type: categorical\n    steps:\n      - one_hot_encoder: {}\n      - max_abs_scaler: {}\n",
	}
	for i, s := range specs {
		lazy, dense := fitBoth(t, s, csv)
		lj, err := artifact.Encode(lazy)
		if err != nil {
			t.Fatal(err)
		}
		dj, err := artifact.Encode(dense)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(lj, dj) {
			t.Errorf("spec %d: Fit's artifact differs from FitTransform's", i)
		}
		if len(lazy.Profile.Outputs) < 8 {
			t.Errorf("spec %d: %d outputs", i, len(lazy.Profile.Outputs))
		}
	}
}

// Fit does not hold a one-hot step's outputs as columns: 4,000
// categories on 20,000 rows are 640 MB dense; Fit allocates a small part
// of that (it allocated all of it before).
func TestFitIndicatorsBoundedMemory(t *testing.T) {
	const rows, cats = 20000, 4000
	var b strings.Builder
	b.WriteString("c,z\n")
	for i := range rows {
		fmt.Fprintf(&b, "c%d,%d\n", i%cats, i%9)
	}
	csv := b.String()
	for _, st := range []string{
		"one_hot_encoder: {}",
		"kbins_discretizer: {n_bins: 4000, strategy: uniform}",
	} {
		col := "c"
		typ := "categorical"
		if strings.HasPrefix(st, "kbins") {
			col, typ = "z", "numeric"
		}
		sp, err := spec.Parse(strings.NewReader(fmt.Sprintf("version: 1\ncolumns:\n  - name: %s\n    type: %s\n    steps:\n      - %s\n", col, typ, st)), "s.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		a, err := Fit(context.Background(), sp, r, Options{})
		runtime.ReadMemStats(&m1)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Outputs) < 4 {
			t.Fatalf("%s: %d outputs", st, len(a.Outputs))
		}
		dense := uint64(len(a.Outputs)) * rows * 8
		if got := m1.TotalAlloc - m0.TotalAlloc; got > dense/8 {
			t.Errorf("%s: Fit allocated %d MB for %d outputs of %d rows (dense: %d MB)", st, got>>20, len(a.Outputs), rows, dense>>20)
		}
	}
}

// A step whose outputs fit must hold as columns is refused, naming the
// step, the column, the output count and the rows, before they are
// allocated, when they would take more than half of Options.Memory.
func TestFitRefusesDenseOutputsPastMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString("c\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "c%d\n", i%1000)
	}
	csv := b.String()
	for _, tc := range []struct {
		steps string
		batch bool
		want  string
	}{
		{"      - one_hot_encoder: {}\n", true, "--transform-out"},
		{"      - one_hot_encoder: {}\n      - max_abs_scaler: {}\n", false, "move the step to the end of its group"},
	} {
		sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps:\n"+tc.steps), "s.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Source: "d.csv", Memory: 40 << 20} // 1000 × 3000 × 8 = 24 MB > 20 MB
		if tc.batch {
			_, _, err = FitTransform(context.Background(), sp, r, opt)
		} else {
			_, err = Fit(context.Background(), sp, r, opt)
		}
		if err == nil {
			t.Fatalf("%q: no error", tc.steps)
		}
		for _, w := range []string{"d.csv", "columns[0].steps[0].one_hot_encoder", "1000 output columns", `"c"`, "3000 training rows", "24 MB", "max_categories", tc.want} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", tc.steps, err, w)
			}
		}
		// With enough memory the same fit runs.
		r, _ = table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
		opt.Memory = 1 << 30
		if _, _, err := FitTransform(context.Background(), sp, r, opt); err != nil {
			t.Errorf("%q with 1 GB: %v", tc.steps, err)
		}
	}
}
