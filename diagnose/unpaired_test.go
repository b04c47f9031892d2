package diagnose

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// TestUnpairedScenario runs the unpaired_distribution scenario with the
// batch size given and with it left to be found, and compares each
// column's verdict with the generator's expected.json.
func TestUnpairedScenario(t *testing.T) {
	dir := filepath.Join(scenarios, "unpaired_distribution")
	var want struct {
		BatchSize int               `json:"batch_size"`
		Verdicts  map[string]string `json:"verdicts"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	a := fitScenario(t, dir, "train.csv")
	obs := readColumns(t, filepath.Join(dir, "observed.csv"), artifact.TableFields(a.Outputs))
	for _, opt := range []UnpairedOptions{{BatchSize: want.BatchSize}, {}} {
		t.Run(fmt.Sprintf("batch%d", opt.BatchSize), func(t *testing.T) {
			rep, err := Unpaired(a, obs, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Features) != len(want.Verdicts) {
				t.Fatalf("got %d features, want %d", len(rep.Features), len(want.Verdicts))
			}
			for _, f := range rep.Features {
				if f.Verdict != want.Verdicts[f.Name] {
					t.Errorf("%s: got %s (%v), want %s", f.Name, f.Verdict, f.Evidence, want.Verdicts[f.Name])
				}
				if f.Verdict == PerBatchStatistics && f.Evidence["batch_size"] != want.BatchSize {
					t.Errorf("%s batch_size: got %v, want %d", f.Name, f.Evidence["batch_size"], want.BatchSize)
				}
			}
		})
	}
}

// unpairedSample draws n rows of three continuous columns: normal(10, 2),
// 50 + 20 exponential(1) and uniform(0, 100).
func unpairedSample(seed uint64, n int) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	cols := make([][]float64, 3)
	for i := 0; i < n; i++ {
		cols[0] = append(cols[0], 10+2*r.NormFloat64())
		cols[1] = append(cols[1], 50+20*r.ExpFloat64())
		cols[2] = append(cols[2], 100*r.Float64())
	}
	return cols
}

// TestUnpairedSynthetic plants each bug in each column in turn on a fresh
// sample from the training distribution: the verdict must follow the bug,
// not the column, whether the batch size is given, keyed or searched.
func TestUnpairedSynthetic(t *testing.T) {
	train := unpairedSample(1, 5000)
	a := fitSynth(t, train)
	names := []string{"u", "v", "w"}
	const n, batch = 2048, 128
	raw := unpairedSample(2, n)
	means, stds := make([]float64, 3), make([]float64, 3)
	for j := range train {
		means[j], stds[j] = moments(train[j])
	}
	scaled := func(j int, xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = (x - means[j]) / stds[j]
		}
		return out
	}
	bugs := []struct {
		name    string
		verdict string
		make    func(j int) []float64
		check   func(t *testing.T, j int, ev map[string]any)
	}{
		{"ok", OK, func(j int) []float64 { return scaled(j, raw[j]) }, nil},
		{"raw", NotNormalized, func(j int) []float64 { return append([]float64(nil), raw[j]...) }, nil},
		{"twice", DoubleNormalized, func(j int) []float64 { return scaled(j, scaled(j, raw[j])) }, nil},
		{"batches", PerBatchStatistics, func(j int) []float64 {
			out := make([]float64, n)
			for lo := 0; lo < n; lo += batch {
				m, s := moments(raw[j][lo : lo+batch])
				for i := lo; i < lo+batch; i++ {
					out[i] = (raw[j][i] - m) / s
				}
			}
			return out
		}, func(t *testing.T, j int, ev map[string]any) {
			t.Helper()
			if b := ev["batch_size"]; b != batch {
				t.Errorf("batch_size: got %v, want %d", b, batch)
			}
		}},
		{"affine", WrongParameters, func(j int) []float64 {
			out := make([]float64, n)
			for i, x := range raw[j] {
				out[i] = (x - 0.9*means[j]) / (1.3 * stds[j])
			}
			return out
		}, func(t *testing.T, j int, ev map[string]any) {
			t.Helper()
			// The fit is affine-equivariant: obs = (ok + 0.1 mean/std) / 1.3,
			// ok the correct output, so fitting y = alpha0 + beta0 ok on the
			// ok column gives the exact fitted map of obs, and with the
			// scaler y = (x - mean) / std the input-space center and scale.
			ok := scaled(j, raw[j])
			a0, b0, fitted := quantileFit(&a.Profile.Outputs[j], ok)
			if !fitted {
				t.Fatal("quantileFit failed on the correct output")
			}
			wc := stds[j]*(a0-b0*0.1*means[j]/stds[j]) + means[j]
			ws := 1.3 * b0 * stds[j]
			c, s := ev["center"].(float64), ev["scale"].(float64)
			if math.Abs(c-wc) > 1e-9*stds[j] || math.Abs(s-ws) > 1e-9*stds[j] {
				t.Errorf("center, scale: got %v, %v, want %v, %v", c, s, wc, ws)
			}
			// And near the planted map, up to sampling error (15% of std).
			if math.Abs(c-0.9*means[j]) > 0.15*stds[j] || math.Abs(s-1.3*stds[j]) > 0.15*stds[j] {
				t.Errorf("center, scale: got %v, %v, want about %v, %v", c, s, 0.9*means[j], 1.3*stds[j])
			}
		}},
		{"drift", Drift, func(j int) []float64 {
			// Push each half away from the median by two std: a gap no
			// affine map closes.
			xs := make([]float64, n)
			for i, x := range raw[j] {
				xs[i] = x + math.Copysign(2*stds[j], x-means[j])
			}
			return scaled(j, xs)
		}, nil},
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(i / batch)
	}
	opts := map[string]UnpairedOptions{"size": {BatchSize: batch}, "keyed": {BatchColumn: keys}, "searched": {}}
	for shift := range bugs {
		for on, opt := range opts {
			t.Run(fmt.Sprintf("shift%d/%s", shift, on), func(t *testing.T) {
				obs := make([][]float64, 3)
				want := make([]int, 3)
				for j := range names {
					want[j] = (j + shift) % len(bugs)
					obs[j] = bugs[want[j]].make(j)
				}
				rep, err := Unpaired(a, numCols(names, obs), opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Features) != 3 {
					t.Fatalf("got %d features, want 3", len(rep.Features))
				}
				for j, f := range rep.Features {
					bug := bugs[want[j]]
					if f.Verdict != bug.verdict {
						t.Errorf("%s with bug %s: got %s (%v), want %s", f.Name, bug.name, f.Verdict, f.Evidence, bug.verdict)
					}
					if bug.check != nil && f.Verdict == bug.verdict {
						bug.check(t, j, f.Evidence)
					}
				}
			})
		}
	}
}

// TestUnpairedErrors: unusable input is an error, never a panic.
func TestUnpairedErrors(t *testing.T) {
	a := fitSynth(t, unpairedSample(1, 100))
	names := []string{"u", "v", "w"}
	three := [][]float64{{1, 2}, {3, 4}, {5, 6}}
	noProfile := *a
	noProfile.Profile = nil
	cases := []struct {
		name string
		a    *artifact.Artifact
		obs  [][]float64
		nm   []string
		opt  UnpairedOptions
	}{
		{"observed lacks a column", a, three[1:], names[1:], UnpairedOptions{}},
		{"batch column too short", a, three, names, UnpairedOptions{BatchColumn: []string{"a"}}},
		{"negative batch size", a, three, names, UnpairedOptions{BatchSize: -1}},
		{"no profile", &noProfile, three, names, UnpairedOptions{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Unpaired(c.a, numCols(c.nm, c.obs), c.opt); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
}
