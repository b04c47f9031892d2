package fit

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	_ "github.com/normguard/normguard/parquetio" // NORMGUARD_BENCH_FILE=data.parquet
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// BenchmarkFitBenchTable fits bench/gendata's pipeline on its table
// (NORMGUARD_BENCH_DATA names the folder gendata wrote, holding data.csv
// and spec.yaml; skipped without it), the whole of `normguard fit` but
// process start and the artifact's encoding. Profile it with -cpuprofile
// to see where fit spends its time.
func BenchmarkFitBenchTable(b *testing.B) {
	dir := os.Getenv("NORMGUARD_BENCH_DATA")
	if dir == "" {
		b.Skip("set NORMGUARD_BENCH_DATA to a folder written by go run ./bench/gendata")
	}
	sp, err := spec.ParseFile(filepath.Join(dir, "spec.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	data := filepath.Join(dir, "data.csv")
	if f := os.Getenv("NORMGUARD_BENCH_FILE"); f != "" {
		data = filepath.Join(dir, f)
	}
	for b.Loop() {
		r, err := table.Open(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := FitTransform(context.Background(), sp, r, Options{Workers: runtime.GOMAXPROCS(0), Source: data}); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
