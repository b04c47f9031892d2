// Command drift times normguard's drift statistics on the samples that
// scipy_drift.py writes, for bench/drift/run.sh: drift.KS and
// drift.Wasserstein on 1M vs 1M values, and drift.Compare (method auto)
// on 20 features of 1M rows against 20 features of 1M rows. Each timing
// is time.Now around the library call, as the Python side wraps scipy in
// perf_counter; one JSON object is printed per timing.
//
// usage: go run ./bench/drift DIR REPS
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
)

// n and features match scipy_drift.py.
const (
	n        = 1_000_000
	features = 20
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: drift DIR REPS")
		os.Exit(2)
	}
	reps, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail(err)
	}
	if err := run(os.Args[1], reps); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/drift:", err)
	os.Exit(1)
}

func run(dir string, reps int) error {
	read := func(name string) ([]float64, error) { return readFloats(dir + "/" + name) }
	ref, err := read("ref.f64")
	if err != nil {
		return err
	}
	drifted, err := read("cur_drift.f64")
	if err != nil {
		return err
	}
	same, err := read("cur_same.f64")
	if err != nil {
		return err
	}
	ref20, err := read("ref20.f64")
	if err != nil {
		return err
	}
	cur20, err := read("cur20.f64")
	if err != nil {
		return err
	}
	refCols, curCols := columns(ref20), columns(cur20)
	emit(map[string]any{"op": "version", "version": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})
	for range reps {
		for _, c := range []struct {
			op  string
			f   func(ref, cur []float64) (drift.Result, error)
			cur []float64
		}{{"ks_drift", drift.KS, drifted}, {"ks_same", drift.KS, same}, {"wasserstein", drift.Wasserstein, drifted}} {
			t0 := time.Now()
			r, err := c.f(ref, c.cur)
			s := time.Since(t0)
			if err != nil {
				return err
			}
			rec := map[string]any{"op": c.op, "ms": ms(s), "statistic": r.Statistic}
			if !math.IsNaN(r.PValue) {
				rec["p_value"] = r.PValue
			}
			emit(rec)
		}
		t0 := time.Now()
		rep, err := drift.Compare(refCols, curCols, drift.Options{})
		s := time.Since(t0)
		if err != nil {
			return err
		}
		drifting := 0
		for _, f := range rep.Features {
			if f.Error != "" {
				return fmt.Errorf("feature %s: %s", f.Name, f.Error)
			}
			if f.Drift {
				drifting++
			}
		}
		emit(map[string]any{"op": "auto20", "ms": ms(s), "drifting": drifting})
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func emit(rec map[string]any) {
	rec["tool"] = "normguard"
	b, err := json.Marshal(rec)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(b))
}

// columns splits a column-major block of features·n values into numeric
// columns f00, f01, ...
func columns(xs []float64) []table.Column {
	cols := make([]table.Column, features)
	for k := range cols {
		cols[k] = table.Column{Name: fmt.Sprintf("f%02d", k), Kind: table.Numeric, Num: xs[k*n : (k+1)*n]}
	}
	return cols
}

// readFloats reads a file of little-endian float64 values.
func readFloats(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float64 values", path, len(b))
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}
