//go:build unix

// Command embed times the embed package on synthetic sentence-embedding
// shaped vectors (see README.md): checking 100,000 x 768 vectors against
// a contract, MMD² with its permutation test on 2 x 2,000 vectors, every
// drift method on the default samples, and a fit. It prints one JSON
// line per timing and writes the MMD samples for mmd_numpy.py.
//
// usage: go run ./bench/embed DIR REPS
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/normguard/normguard/embed"
)

// synthetic returns n unit vectors of dimension d: a common mean, 32
// latent factors of decaying scale and noise, L2-normalized (the shape of
// sentence-embedding models' output). The factors are the same for every
// seed (one "model"); seed draws the inputs.
func synthetic(n, d int, seed uint64) embed.Matrix {
	const r = 32
	rng := rand.New(rand.NewPCG(seed, 77))
	basis := rand.New(rand.NewPCG(1, 78))
	mu := make([]float64, d)
	for a := range mu {
		mu[a] = basis.NormFloat64() * 0.5
	}
	f := make([]float64, r*d)
	for i := range f {
		f[i] = basis.NormFloat64() / (1 + float64(i/d))
	}
	m := embed.Matrix{Rows: n, Dim: d, Data: make([]float64, n*d)}
	z := make([]float64, r)
	for i := 0; i < n; i++ {
		row := m.Row(i)
		copy(row, mu)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		for j := 0; j < r; j++ {
			for a := range row {
				row[a] += z[j] * f[j*d+a]
			}
		}
		var ss float64
		for a := range row {
			row[a] += 0.3 * rng.NormFloat64()
			ss += row[a] * row[a]
		}
		for a := range row {
			row[a] /= math.Sqrt(ss)
		}
	}
	return m
}

// timed runs f and prints its record with the wall and CPU time it took.
func timed(op string, f func() (map[string]any, error)) error {
	start, cpu := time.Now(), cpuMS()
	rec, err := f()
	if err != nil {
		return err
	}
	rec["ms"], rec["cpu_ms"], rec["op"] = ms(start), cpuMS()-cpu, op
	emit(rec)
	return nil
}

func emit(rec map[string]any) {
	rec["tool"] = "normguard"
	b, _ := json.Marshal(rec)
	fmt.Println(string(b))
}

func writeF64(path string, m embed.Matrix) error {
	b := make([]byte, 8*len(m.Data))
	for i, v := range m.Data {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}

func maxRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return float64(ru.Maxrss) / 1024
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: embed DIR REPS")
		os.Exit(2)
	}
	dir := os.Args[1]
	reps, err := strconv.Atoi(os.Args[2])
	if err != nil || reps < 1 {
		fmt.Fprintln(os.Stderr, "embed bench: REPS must be a positive number")
		os.Exit(2)
	}
	if err := run(dir, reps); err != nil {
		fmt.Fprintln(os.Stderr, "embed bench:", err)
		os.Exit(2)
	}
}

func run(dir string, reps int) error {
	emit(map[string]any{"op": "version", "version": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})

	// Check: 100,000 x 768 streamed in batches of 10,000 through one Checker.
	const d, batch, total = 768, 10000, 100000
	con, err := embed.Fit(synthetic(5000, d, 1), embed.FitOptions{Dtype: embed.DtypeFloat32})
	if err != nil {
		return err
	}
	// Two batches of 10,000 alternate: the memory of a streaming reader,
	// not of the whole 100,000 x 768 (614 MB as float64).
	two := []embed.Matrix{synthetic(batch, d, 100), synthetic(batch, d, 101)}
	for r := 0; r < reps; r++ {
		err := timed("check_100k_768", func() (map[string]any, error) {
			k, err := embed.NewChecker(con, d, embed.CheckOptions{})
			if err != nil {
				return nil, err
			}
			for i := 0; i < total/batch; i++ {
				if err := k.Add(two[i%2]); err != nil {
					return nil, err
				}
			}
			fs, err := k.Findings()
			return map[string]any{"findings": len(fs)}, err
		})
		if err != nil {
			return err
		}
	}
	emit(map[string]any{"op": "max_rss_after_check", "mb": maxRSSMB()})
	two = nil

	// MMD² and its 200-permutation p-value on 2 x 2,000.
	for _, dim := range []int{100, 768} {
		x, y := synthetic(2000, dim, 3), synthetic(2000, dim, 4)
		for i := range y.Data { // a small shift, so that the test has something to find
			y.Data[i] += 0.002 * float64(i%dim%7)
		}
		if dim == 768 {
			if err := writeF64(filepath.Join(dir, "mmd_x.f64"), x); err != nil {
				return err
			}
			if err := writeF64(filepath.Join(dir, "mmd_y.f64"), y); err != nil {
				return err
			}
		}
		for r := 0; r < reps; r++ {
			err := timed(fmt.Sprintf("drift_2000_%d", dim), func() (map[string]any, error) {
				res, err := embed.Drift(x, y, embed.DriftOptions{SampleSize: 2000, Permutations: embed.DefaultPermutations, Seed: 1})
				return map[string]any{"mmd2": res.MMD2, "p_value": res.MMDPValue, "auc": res.DomainAUC}, err
			})
			if err != nil {
				return err
			}
			err = timed(fmt.Sprintf("mmd2_only_2000_%d", dim), func() (map[string]any, error) {
				mmd, h := embed.MMD2(x, y, 0)
				return map[string]any{"mmd2": mmd, "h": h}, nil
			})
			if err != nil {
				return err
			}
		}
	}

	// Fit on 20,000 x 768.
	m := synthetic(20000, d, 9)
	for r := 0; r < reps; r++ {
		err := timed("fit_20k_768", func() (map[string]any, error) {
			_, err := embed.Fit(m, embed.FitOptions{})
			return map[string]any{}, err
		})
		if err != nil {
			return err
		}
	}
	emit(map[string]any{"op": "max_rss_end", "mb": maxRSSMB()})
	return nil
}

func ms(start time.Time) float64 { return float64(time.Since(start).Microseconds()) / 1000 }

// cpuMS is the process's user and system CPU time so far, in ms: on a
// loaded machine it shows the work done, where wall time shows the wait.
func cpuMS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}
