package transform_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/fit"
	_ "github.com/normguard/normguard/parquetio"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// bench1Mx20 returns a fitted standard-scaler transformer over 20 columns
// and an input batch of 1M rows.
func bench1Mx20(b *testing.B) (*transform.Transformer, *table.Batch) {
	b.Helper()
	names := make([]string, 20)
	for j := range names {
		names[j] = fmt.Sprintf("x%d", j)
	}
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - names: ["+strings.Join(names, ", ")+"]\n    type: numeric\n    steps: [standard_scaler]\n"), "s.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := &table.Batch{Rows: 1_000_000}
	for _, n := range names {
		c := table.Column{Name: n, Kind: table.Numeric, Num: make([]float64, in.Rows)}
		for i := range c.Num {
			c.Num[i] = rng.NormFloat64()
		}
		in.Cols = append(in.Cols, c)
	}
	var csv strings.Builder
	csv.WriteString(strings.Join(names, ",") + "\n")
	for i := 0; i < 100; i++ {
		for j := range names {
			if j > 0 {
				csv.WriteByte(',')
			}
			fmt.Fprintf(&csv, "%v", in.Cols[j].Num[i])
		}
		csv.WriteByte('\n')
	}
	r, _ := table.NewCSVReader(strings.NewReader(csv.String()), "train.csv", table.CSVOptions{})
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t, err := transform.New(a)
	if err != nil {
		b.Fatal(err)
	}
	return t, in
}

// BenchmarkTransform1Mx20 times the in-memory transform of 1M x 20 float64
// through the engine (both cores); compare with BenchmarkCopy1Mx20.
func BenchmarkTransform1Mx20(b *testing.B) {
	t, in := bench1Mx20(b)
	out := t.NewOutput()
	if err := t.Batch(in, out, ""); err != nil { // sizes and touches the output
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 20 * 8)
	for b.Loop() {
		if err := t.Batch(in, out, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform1Mx20OneWorker is BenchmarkTransform1Mx20 on one
// goroutine (Workers 1: the whole batch at once, not in cache-sized blocks).
func BenchmarkTransform1Mx20OneWorker(b *testing.B) {
	t, in := bench1Mx20(b)
	t.Workers = 1
	out := t.NewOutput()
	if err := t.Batch(in, out, ""); err != nil { // sizes and touches the output
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(1_000_000 * 20 * 8)
	for b.Loop() {
		if err := t.Batch(in, out, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy1Mx20 copies the same 160 MB into preallocated columns.
func BenchmarkCopy1Mx20(b *testing.B) {
	_, in := bench1Mx20(b)
	out := make([][]float64, len(in.Cols))
	for i := range out {
		out[i] = make([]float64, in.Rows)
		copy(out[i], in.Cols[i].Num)
	}
	b.SetBytes(1_000_000 * 20 * 8)
	for b.Loop() {
		for i := range in.Cols {
			copy(out[i], in.Cols[i].Num)
		}
	}
}

// BenchmarkStreamBenchTable transforms bench/gendata's table CSV -> CSV
// with the artifact of its pipeline (NORMGUARD_BENCH_DATA names the folder
// gendata wrote; skipped without it): `normguard transform` but process
// start. Profile it with -cpuprofile to see where transform spends its time.
func BenchmarkStreamBenchTable(b *testing.B) {
	dir := os.Getenv("NORMGUARD_BENCH_DATA")
	if dir == "" {
		b.Skip("set NORMGUARD_BENCH_DATA to a folder written by go run ./bench/gendata")
	}
	data, ext := filepath.Join(dir, "data.csv"), ".csv"
	if f := os.Getenv("NORMGUARD_BENCH_FILE"); f != "" {
		data, ext = filepath.Join(dir, f), filepath.Ext(f)
	}
	sp, err := spec.ParseFile(filepath.Join(dir, "spec.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := table.Open(data)
	if err != nil {
		b.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Workers: 2, Source: data})
	r.Close()
	if err != nil {
		b.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "out"+ext)
	b.ResetTimer()
	for b.Loop() {
		r, err := table.Open(data)
		if err != nil {
			b.Fatal(err)
		}
		w, err := table.Create(out, tr.Outputs())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Stream(context.Background(), r, w, data); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
