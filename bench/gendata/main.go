// Command gendata writes the deterministic synthetic data set that the
// normguard benchmarks run on: DIR/data.csv, the pipeline spec DIR/spec.yaml
// and an identity spec DIR/spec_identity.yaml (every column kept, no steps;
// run.sh uses it to convert the CSV to Parquet with normguard itself).
//
// data.csv has a header row and, per row, 20 numeric columns and 2
// categorical ones:
//
//	norm_0..4     normal(mu, sd), mu ~ U(-100, 100), sd ~ U(0.5, 50), 6 decimals
//	lognorm_0..4  exp(normal(mu, sigma)), mu ~ U(0, 3), sigma ~ U(0.3, 1.5), 4 decimals
//	unif_0..4     uniform(lo, lo+w), lo ~ U(-10, 0), w ~ U(1, 1000), 6 decimals
//	count_0..4    Poisson(lambda), lambda ~ U(0.5, 200), written as integers
//	cat_small     50 labels grp_NNN, Zipf-like (p_k ∝ 1/k), label order shuffled
//	cat_large     5,000 labels sku_NNNNN, Zipf-like (p_k ∝ 1/k^0.7), shuffled
//
// Each numeric cell is independently empty with probability 0.01; the
// categorical columns have no missing values. The same -seed and -rows give
// byte-identical files.
//
// Usage:
//
//	go run ./bench/gendata -out /tmp/normguard-bench [-rows 1000000] [-seed 20240601]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// missingRate is the probability that a numeric cell is left empty.
const missingRate = 0.01

func main() {
	rows := flag.Int("rows", 1_000_000, "number of data rows")
	out := flag.String("out", "/tmp/normguard-bench", "output directory")
	seed := flag.Uint64("seed", 20240601, "random seed")
	flag.Parse()
	if err := run(*rows, *out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(rows int, dir string, seed uint64) error {
	if rows < 1 {
		return fmt.Errorf("-rows must be at least 1, got %d", rows)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cols := newColumns(rng)
	small := newZipf(rng, 50, 1.0, "grp_", 3)
	large := newZipf(rng, 5000, 0.7, "sku_", 5)

	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.name
	}
	if err := writeSpecs(dir, names); err != nil {
		return err
	}

	path := filepath.Join(dir, "data.csv")
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(strings.Join(append(names, "cat_small", "cat_large"), ","))
	w.WriteByte('\n')
	line := make([]byte, 0, 512)
	missing := 0
	for i := 0; i < rows; i++ {
		line = line[:0]
		for j := range cols {
			v := cols[j].draw(rng)
			if rng.Float64() < missingRate {
				missing++
			} else {
				line = strconv.AppendFloat(line, v, 'f', -1, 64)
			}
			line = append(line, ',')
		}
		line = append(line, small.draw(rng)...)
		line = append(line, ',')
		line = append(line, large.draw(rng)...)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			f.Close()
			os.Remove(tmp)
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d rows, %.1f MB, missing numeric cells %.4f, in %.1fs\n",
		path, rows, float64(st.Size())/1e6, float64(missing)/float64(rows*len(cols)), time.Since(start).Seconds())
	return nil
}

// column draws the values of one numeric column.
type column struct {
	name string
	draw func(rng *rand.Rand) float64
}

// newColumns draws each column's distribution parameters and returns the
// 20 numeric columns in file order.
func newColumns(rng *rand.Rand) []column {
	var cols []column
	for i := 0; i < 5; i++ {
		mu, sd := uniform(rng, -100, 100), uniform(rng, 0.5, 50)
		cols = append(cols, column{fmt.Sprintf("norm_%d", i), func(r *rand.Rand) float64 {
			return round(mu+sd*r.NormFloat64(), 6)
		}})
	}
	for i := 0; i < 5; i++ {
		mu, sigma := uniform(rng, 0, 3), uniform(rng, 0.3, 1.5)
		cols = append(cols, column{fmt.Sprintf("lognorm_%d", i), func(r *rand.Rand) float64 {
			return round(math.Exp(mu+sigma*r.NormFloat64()), 4)
		}})
	}
	for i := 0; i < 5; i++ {
		lo := uniform(rng, -10, 0)
		hi := lo + uniform(rng, 1, 1000)
		cols = append(cols, column{fmt.Sprintf("unif_%d", i), func(r *rand.Rand) float64 {
			return round(uniform(r, lo, hi), 6)
		}})
	}
	for i := 0; i < 5; i++ {
		lambda := uniform(rng, 0.5, 200)
		cols = append(cols, column{fmt.Sprintf("count_%d", i), func(r *rand.Rand) float64 {
			return poisson(r, lambda)
		}})
	}
	return cols
}

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// round rounds x to d decimals; written with the shortest round-trip
// format, the value then has at most d decimals.
func round(x float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(x*p) / p
}

// poisson draws a Poisson(lambda) count: multiplication of uniforms
// (Knuth) below lambda = 10, else the transformed rejection method PTRS of
// W. Hörmann, "The transformed rejection method for generating Poisson
// random variables", Insurance: Mathematics and Economics 12 (1993).
func poisson(rng *rand.Rand, lambda float64) float64 {
	if lambda < 10 {
		limit, prod, k := math.Exp(-lambda), rng.Float64(), 0.0
		for prod > limit {
			prod *= rng.Float64()
			k++
		}
		return k
	}
	sl, ll := math.Sqrt(lambda), math.Log(lambda)
	b := 0.931 + 2.53*sl
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -lambda+k*ll-lg {
			return k
		}
	}
}

// zipf draws labels with probability proportional to 1/rank^s; ranks are
// assigned to labels in a shuffled order so that label order is not
// frequency order.
type zipf struct {
	cdf    []float64
	labels []string
}

func newZipf(rng *rand.Rand, k int, s float64, prefix string, width int) *zipf {
	z := &zipf{cdf: make([]float64, k), labels: make([]string, k)}
	total := 0.0
	for i := range k {
		total += 1 / math.Pow(float64(i+1), s)
		z.cdf[i] = total
	}
	for i := range z.cdf {
		z.cdf[i] /= total
	}
	z.cdf[k-1] = 1
	for i, p := range rng.Perm(k) {
		z.labels[i] = fmt.Sprintf("%s%0*d", prefix, width, p)
	}
	return z
}

func (z *zipf) draw(rng *rand.Rand) string {
	return z.labels[sort.SearchFloat64s(z.cdf, rng.Float64())]
}

// writeSpecs writes spec.yaml (the benchmark pipeline: median imputation
// then standardization of the numeric columns, categorical columns passed
// through) and spec_identity.yaml (every column kept as it is).
func writeSpecs(dir string, numeric []string) error {
	list := "[" + strings.Join(numeric, ", ") + "]"
	pipeline := `# normguard benchmark pipeline; scikit-learn equivalent: bench/sklearn_pipeline.py
version: 1
remainder: passthrough
columns:
  - names: ` + list + `
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - standard_scaler: {}
`
	identity := `# every column kept unchanged (used to convert data.csv to another format)
version: 1
remainder: drop
columns:
  - names: ` + list + `
    type: numeric
    steps: []
  - names: [cat_small, cat_large]
    type: categorical
    steps: []
`
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(pipeline), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "spec_identity.yaml"), []byte(identity), 0o644)
}
