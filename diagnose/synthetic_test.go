package diagnose

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

const synthSpec = `{"version": 1, "columns": [{"names": ["u", "v", "w"], "type": "numeric",
 "steps": [{"simple_imputer": {"strategy": "median"}}, {"standard_scaler": {}}]}]}`

// synthTrain returns deterministic training data: three columns with
// different location and spread, no missing values.
func synthTrain(n int) [][]float64 {
	cols := make([][]float64, 3)
	for i := 0; i < n; i++ {
		x := float64((i*37)%101) / 7
		cols[0] = append(cols[0], 10+x)
		cols[1] = append(cols[1], 100-3*x+float64(i%5))
		cols[2] = append(cols[2], 50+x*x/10)
	}
	return cols
}

func fitSynth(t *testing.T, cols [][]float64) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(synthSpec), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("u,v,w\n")
	for i := range cols[0] {
		fmt.Fprintf(&b, "%v,%v,%v\n", cols[0][i], cols[1][i], cols[2][i])
	}
	r, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// moments returns the mean and population standard deviation of xs,
// computed directly (the reference for StandardScaler's mean_ and scale_).
func moments(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

func numCols(names []string, data [][]float64) []table.Column {
	out := make([]table.Column, len(names))
	for i, n := range names {
		out[i] = table.Column{Name: n, Kind: table.Numeric, Num: data[i]}
	}
	return out
}

// TestPairedSynthetic plants each bug in each column in turn: the verdict
// must follow the bug, not the column.
func TestPairedSynthetic(t *testing.T) {
	// 600 production rows in blocks of 50, and a small sample: 50 rows in
	// blocks of 10.
	for _, size := range []struct{ n, block int }{{600, 50}, {50, 10}} {
		t.Run(fmt.Sprintf("rows%d", size.n), func(t *testing.T) { pairedSynthetic(t, size.n, size.block) })
	}
}

func pairedSynthetic(t *testing.T, n, block int) {
	train := synthTrain(1000)
	a := fitSynth(t, train)
	names := []string{"u", "v", "w"}
	raw := make([][]float64, 3)
	for j := range raw {
		for i := 0; i < n; i++ {
			raw[j] = append(raw[j], train[j][(i*13+j)%len(train[j])]+0.25)
		}
	}
	means, stds := make([]float64, 3), make([]float64, 3)
	for j := range train {
		means[j], stds[j] = moments(train[j])
	}
	// scaled is the correct transform, computed with the reference moments.
	scaled := func(j int, x float64) float64 { return (x - means[j]) / stds[j] }
	bugs := []struct {
		name    string
		verdict string
		make    func(j int) []float64
		check   func(t *testing.T, ev map[string]any)
	}{
		{"ok", OK, func(j int) []float64 {
			out := make([]float64, n)
			for i, x := range raw[j] {
				out[i] = scaled(j, x)
			}
			return out
		}, nil},
		{"raw", NotNormalized, func(j int) []float64 { return append([]float64(nil), raw[j]...) }, nil},
		{"affine", WrongParameters, func(j int) []float64 {
			out := make([]float64, n)
			for i, x := range raw[j] {
				out[i] = (x - 3) / 2
			}
			return out
		}, func(t *testing.T, ev map[string]any) {
			t.Helper()
			if c, s := ev["center"].(float64), ev["scale"].(float64); math.Abs(c-3) > 1e-9 || math.Abs(s-2) > 1e-9 {
				t.Errorf("center, scale: got %v, %v, want 3, 2", c, s)
			}
		}},
		{"batches", PerBatchStatistics, func(j int) []float64 {
			out := make([]float64, n)
			for lo := 0; lo < n; lo += block {
				m, s := moments(raw[j][lo : lo+block])
				for i := lo; i < lo+block; i++ {
					out[i] = (raw[j][i] - m) / s
				}
			}
			return out
		}, func(t *testing.T, ev map[string]any) {
			t.Helper()
			if b := ev["block_size"]; b != block {
				t.Errorf("block_size: got %v, want %d", b, block)
			}
		}},
	}
	for shift := range names {
		t.Run(fmt.Sprintf("shift%d", shift), func(t *testing.T) {
			obs := make([][]float64, 3)
			want := make([]int, 3)
			for j := range names {
				want[j] = (j + shift) % len(bugs)
				obs[j] = bugs[want[j]].make(j)
			}
			rep, err := Paired(a, numCols(names, raw), numCols(names, obs), nil)
			if err != nil {
				t.Fatal(err)
			}
			for j, f := range rep.Features {
				bug := bugs[want[j]]
				if f.Verdict != bug.verdict {
					t.Errorf("%s with bug %s: got %s (%v), want %s", f.Name, bug.name, f.Verdict, f.Evidence, bug.verdict)
				}
				if bug.check != nil && f.Verdict == bug.verdict {
					bug.check(t, f.Evidence)
				}
			}
		})
	}
}

// TestPairedImputeOrder fills missing values with 0 before scaling.
func TestPairedImputeOrder(t *testing.T) {
	train := synthTrain(1000)
	a := fitSynth(t, train)
	names := []string{"u", "v", "w"}
	raw := [][]float64{{11, math.NaN(), 12, 13, math.NaN()}, {90, 95, 99, 97, 92}, {51, 52, 53, 54, 55}}
	obs := make([][]float64, 3)
	for j := range raw {
		m, s := moments(train[j])
		for _, x := range raw[j] {
			if math.IsNaN(x) {
				x = 0
			}
			obs[j] = append(obs[j], (x-m)/s)
		}
	}
	rep, err := Paired(a, numCols(names, raw), numCols(names, obs), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Features[0].Verdict; got != ImputeOrder {
		t.Fatalf("u: got %s, want %s", got, ImputeOrder)
	}
	if x := rep.Features[0].Evidence["imputed_value"].(float64); math.Abs(x) > 1e-9 {
		t.Errorf("imputed_value: got %v, want 0", x)
	}
	for _, f := range rep.Features[1:] {
		if f.Verdict != OK {
			t.Errorf("%s: got %s, want ok", f.Name, f.Verdict)
		}
	}
}

// TestPairedErrors: unusable input is an error, never a panic.
func TestPairedErrors(t *testing.T) {
	a := fitSynth(t, synthTrain(100))
	names := []string{"u", "v", "w"}
	three := [][]float64{{1, 2}, {3, 4}, {5, 6}}
	cases := []struct {
		name     string
		raw, obs []table.Column
	}{
		{"raw lacks a column", numCols(names[:2], three[:2]), numCols(names, three)},
		{"observed lacks a column", numCols(names, three), numCols(names[1:], three[1:])},
		{"row counts differ", numCols(names, three), numCols(names, [][]float64{{1}, {3}, {5}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Paired(a, c.raw, c.obs, nil); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
}
