package step

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/normguard/normguard/table"
)

// Benchmarks of every step's Transform kernel and of the costlier fits, at
// 1e3 .. 1e6 rows (1e7 too when NORMGUARD_BENCH_1E7=1). Throughput (MB/s)
// counts 8 bytes per input cell, so numbers compare with a memory copy:
//
//	go test -run '^$' -bench 'Transform/standard_scaler' ./step
//	go test -run '^$' -bench '1Mx20' ./step
//	NORMGUARD_BENCH_1E7=1 go test -run '^$' -bench 'Transform' -benchtime 3x ./step

// benchCase is one step configuration to benchmark.
type benchCase struct {
	step   string     // registered step name
	params string     // JSON object applied over the step's defaults
	kind   table.Kind // kind of the input columns
	cols   int        // number of input columns (row-wise steps need several)
	nan    bool       // about 1% of numeric input values missing
	cats   int        // distinct categories of a String input
}

// benchTransformCases holds the Transform benchmark of each step. A
// registered step without an entry is reported as skipped.
var benchTransformCases = []benchCase{
	{step: "binarizer", params: `{"threshold": 50}`, kind: table.Numeric, cols: 1},
	{step: "kbins_discretizer", params: `{"encode": "ordinal"}`, kind: table.Numeric, cols: 1},
	{step: "log1p", kind: table.Numeric, cols: 1, nan: true},
	{step: "max_abs_scaler", kind: table.Numeric, cols: 1, nan: true},
	{step: "min_max_scaler", kind: table.Numeric, cols: 1, nan: true},
	{step: "normalizer", kind: table.Numeric, cols: 4},
	{step: "one_hot_encoder", kind: table.String, cols: 1, cats: 16},
	{step: "ordinal_encoder", kind: table.String, cols: 1, cats: 5000},
	{step: "power_transformer", kind: table.Numeric, cols: 1, nan: true},
	{step: "quantile_transformer", params: `{"n_quantiles": 1000}`, kind: table.Numeric, cols: 1, nan: true},
	{step: "robust_scaler", kind: table.Numeric, cols: 1, nan: true},
	{step: "simple_imputer", params: `{"strategy": "median"}`, kind: table.Numeric, cols: 1, nan: true},
	{step: "standard_scaler", kind: table.Numeric, cols: 1, nan: true},
}

// benchFitCases holds the Fit benchmarks.
var benchFitCases = []benchCase{
	{step: "standard_scaler", kind: table.Numeric, cols: 1, nan: true},
	{step: "robust_scaler", kind: table.Numeric, cols: 1, nan: true},
	{step: "quantile_transformer", params: `{"n_quantiles": 1000}`, kind: table.Numeric, cols: 1, nan: true},
	{step: "power_transformer", kind: table.Numeric, cols: 1, nan: true},
	{step: "simple_imputer", params: `{"strategy": "median"}`, kind: table.Numeric, cols: 1, nan: true},
	{step: "one_hot_encoder", kind: table.String, cols: 1, cats: 5000},
}

// benchRows returns the row counts to benchmark.
func benchRows() []int {
	rows := []int{1e3, 1e4, 1e5, 1e6}
	if os.Getenv("NORMGUARD_BENCH_1E7") == "1" {
		rows = append(rows, 1e7)
	}
	return rows
}

func BenchmarkTransform(b *testing.B) {
	byStep := map[string]benchCase{}
	for _, c := range benchTransformCases {
		byStep[c.step] = c
	}
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			c, ok := byStep[name]
			if !ok {
				b.Skipf("no Transform benchmark for step %s: add it to benchTransformCases", name)
			}
			for _, rows := range benchRows() {
				b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchTransform(b, c, rows) })
			}
		})
	}
}

func BenchmarkFit(b *testing.B) {
	for _, c := range benchFitCases {
		b.Run(c.step, func(b *testing.B) {
			for _, rows := range benchRows() {
				b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchFit(b, c, rows) })
			}
		})
	}
}

// benchTransform fits c on rows rows, then times Transform into
// preallocated output columns.
func benchTransform(b *testing.B, c benchCase, rows int) {
	in := benchInput(c, rows)
	f, err := benchParams(b, c).Fit(&FitContext{}, in)
	if err != nil {
		b.Fatal(err)
	}
	out := benchOutputs(f, rows)
	b.ReportAllocs()
	b.SetBytes(int64(rows * 8 * c.cols))
	for b.Loop() {
		if err := f.Transform(in, out, rows); err != nil {
			b.Fatal(err)
		}
	}
}

// benchOutputs returns f's output columns sized to rows rows, their memory
// already written once so that page faults stay out of the timings.
func benchOutputs(f Fitted, rows int) []table.Column {
	out := table.NewColumns(f.Outputs())
	for i := range out {
		out[i].Resize(rows)
		benchTouch(out[i].Num)
	}
	return out
}

// benchTouch writes every element of x.
func benchTouch(x []float64) {
	for i := range x {
		x[i] = 1
	}
}

// benchFit times Fit on rows rows.
func benchFit(b *testing.B, c benchCase, rows int) {
	in := benchInput(c, rows)
	p := benchParams(b, c)
	b.ReportAllocs()
	b.SetBytes(int64(rows * 8 * c.cols))
	for b.Loop() {
		if _, err := p.Fit(&FitContext{}, in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchParams returns the step's default parameters with c.params applied.
func benchParams(b *testing.B, c benchCase) Params {
	b.Helper()
	def, ok := Lookup(c.step)
	if !ok {
		b.Fatalf("step %s is not registered", c.step)
	}
	p := def.NewParams()
	if c.params != "" {
		if err := json.Unmarshal([]byte(c.params), p); err != nil {
			b.Fatalf("%s params %s: %v", c.step, c.params, err)
		}
	}
	if err := p.Validate(); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchKey identifies one generated input column.
type benchKey struct {
	kind      table.Kind
	rows, col int
	nan       bool
	cats      int
}

var benchData sync.Map // benchKey -> table.Column

// benchInput returns c.cols input columns of rows rows, generated once per
// configuration (deterministic). Numeric columns are normal with a mean and
// a scale that depend on the column (mostly positive values, so log1p and
// friends see realistic data); String columns draw from c.cats categories
// with a skew towards the first ones.
func benchInput(c benchCase, rows int) []table.Column {
	cols := make([]table.Column, c.cols)
	for j := range cols {
		k := benchKey{kind: c.kind, rows: rows, col: j, nan: c.nan, cats: c.cats}
		if v, ok := benchData.Load(k); ok {
			cols[j] = v.(table.Column)
			continue
		}
		col := benchColumn(k)
		benchData.Store(k, col)
		cols[j] = col
	}
	return cols
}

func benchColumn(k benchKey) table.Column {
	rng := rand.New(rand.NewPCG(uint64(k.rows), uint64(k.col)))
	name := fmt.Sprintf("x%d", k.col)
	if k.kind == table.String {
		labels := make([]string, k.cats)
		for i := range labels {
			labels[i] = fmt.Sprintf("cat_%05d", i)
		}
		s := make([]string, k.rows)
		for i := range s {
			// The product of two uniforms skews towards small indices.
			s[i] = labels[int(float64(k.cats)*rng.Float64()*rng.Float64())]
		}
		return table.Column{Name: name, Kind: table.String, Str: s}
	}
	mean, scale := 50+10*float64(k.col), 10+float64(k.col)
	x := make([]float64, k.rows)
	for i := range x {
		if k.nan && rng.IntN(100) == 0 {
			x[i] = math.NaN()
			continue
		}
		x[i] = mean + scale*rng.NormFloat64()
	}
	return table.Column{Name: name, Kind: table.Numeric, Num: x}
}

// bench1Mx20 returns 20 columns of 1,000,000 values (no missing values).
func bench1Mx20() []table.Column {
	c := benchCase{kind: table.Numeric, cols: 20}
	return benchInput(c, 1_000_000)
}

// BenchmarkStandardScalerTransform1Mx20 times the in-memory transform of
// 1M rows x 20 columns (160 MB in, 160 MB out); compare with
// BenchmarkCopy1Mx20, which moves the same bytes.
func BenchmarkStandardScalerTransform1Mx20(b *testing.B) {
	in := bench1Mx20()
	f, err := benchParams(b, benchCase{step: "standard_scaler"}).Fit(&FitContext{}, in)
	if err != nil {
		b.Fatal(err)
	}
	out := benchOutputs(f, 1_000_000)
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 20 * 8)
	for b.Loop() {
		if err := f.Transform(in, out, 1_000_000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy1Mx20 copies 1M rows x 20 columns into preallocated
// columns: the memory-bandwidth floor of a one-pass column transform.
func BenchmarkCopy1Mx20(b *testing.B) {
	in := bench1Mx20()
	out := make([][]float64, len(in))
	for i := range out {
		out[i] = make([]float64, len(in[i].Num))
		benchTouch(out[i])
	}
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 20 * 8)
	for b.Loop() {
		for i := range in {
			copy(out[i], in[i].Num)
		}
	}
}

// BenchmarkFit1Mx20 times the fits the speed targets name on 1M rows x 20
// columns (~1% missing) with two workers, as `normguard fit` runs them on
// this 2-core machine; compare with scikit-learn's fit on the same shape
// (bench/README.md).
func BenchmarkFit1Mx20(b *testing.B) {
	in := benchInput(benchCase{kind: table.Numeric, cols: 20, nan: true}, 1_000_000)
	for _, c := range []benchCase{
		{step: "standard_scaler"},
		{step: "robust_scaler"},
		{step: "quantile_transformer", params: `{"n_quantiles": 1000}`},
		{step: "power_transformer"},
		{step: "simple_imputer", params: `{"strategy": "median"}`},
	} {
		b.Run(c.step, func(b *testing.B) {
			p := benchParams(b, c)
			b.ReportAllocs()
			b.SetBytes(1_000_000 * 20 * 8)
			for b.Loop() {
				if _, err := p.Fit(&FitContext{Workers: 2}, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
