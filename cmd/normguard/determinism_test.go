package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// writeMixedCSV writes a deterministic table with skewed, heavy-tailed and
// missing numeric values and two categorical columns.
func writeMixedCSV(t *testing.T, path string, rows int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("n1,n2,pos,cnt,city,tier\n")
	cities := []string{"paris", "berlin", "rome", "oslo", "lima", "quito", "perth"}
	for i := 0; i < rows; i++ {
		cell := func(v float64) string {
			if rng.Float64() < 0.02 {
				return ""
			}
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		n1 := rng.NormFloat64()*3 + 1e6 // large offset: exact sums matter
		n2 := math.Exp(rng.NormFloat64())
		pos := rng.ExpFloat64() + 0.01
		cnt := float64(rng.IntN(20))
		city := cities[int(math.Min(float64(len(cities)-1), rng.ExpFloat64()*2))]
		if rng.Float64() < 0.03 {
			city = ""
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,t%d\n", cell(n1), cell(n2), strconv.FormatFloat(pos, 'g', -1, 64), cell(cnt), city, rng.IntN(3))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const mixedSpec = `version: 1
remainder: passthrough
columns:
  - names: [n1, n2]
    steps:
      - simple_imputer: {strategy: median, add_indicator: true}
      - standard_scaler: {}
  - name: pos
    steps:
      - power_transformer: {method: box-cox}
  - name: cnt
    type: numeric
    steps:
      - simple_imputer: {strategy: mean}
      - quantile_transformer: {n_quantiles: 100, output_distribution: normal}
  - name: city
    type: categorical
    steps:
      - simple_imputer: {strategy: most_frequent}
      - one_hot_encoder: {handle_unknown: infrequent_if_exist, min_frequency: 0.05}
`

// TestFitDeterministic proves that the artifact bytes do not depend on the
// number of threads or the accumulation chunk size.
func TestFitDeterministic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.csv")
	writeMixedCSV(t, data, 20000, 1)
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(mixedSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var ref []byte
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, chunk := range []int{1, 7, 65536} {
			out := filepath.Join(dir, fmt.Sprintf("a_%d_%d.json", procs, chunk))
			mustRun(t, "fit", "-q", "--spec", specPath, "--data", data, "--out", out,
				"--workers", strconv.Itoa(procs), "--chunk-size", strconv.Itoa(chunk))
			got := readFile(t, out)
			if ref == nil {
				ref = got
				continue
			}
			if !bytes.Equal(got, ref) {
				t.Fatalf("GOMAXPROCS=%d chunk=%d: artifact differs from GOMAXPROCS=1 chunk=1", procs, chunk)
			}
		}
	}
}

// TestFingerprintIgnoresRowOrder checks that the training fingerprint is
// the same for shuffled rows and changes when one value changes. (Fitted
// parameters may differ in the last bits for shuffled rows, as
// scikit-learn's do: numpy sums in row order.)
func TestFingerprintIgnoresRowOrder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.csv")
	writeMixedCSV(t, data, 3000, 2)
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, data)), "\n"), "\n")
	rng := rand.New(rand.NewPCG(3, 3))
	body := lines[1:]
	rng.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
	shuffled := filepath.Join(dir, "shuffled.csv")
	os.WriteFile(shuffled, []byte(lines[0]+"\n"+strings.Join(body, "\n")+"\n"), 0o644)
	body[0] = strings.Replace(body[0], ",t", ",x", 1) // one passthrough value changes
	changed := filepath.Join(dir, "changed.csv")
	os.WriteFile(changed, []byte(lines[0]+"\n"+strings.Join(body, "\n")+"\n"), 0o644)
	specPath := filepath.Join(dir, "spec.yaml")
	os.WriteFile(specPath, []byte(mixedSpec), 0o644)

	fp := map[string]string{}
	for name, in := range map[string]string{"a": data, "b": shuffled, "c": changed} {
		out := filepath.Join(dir, name+".json")
		mustRun(t, "fit", "-q", "--spec", specPath, "--data", in, "--out", out)
		a, err := artifact.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		fp[name] = a.Training.Fingerprint
	}
	if fp["a"] != fp["b"] {
		t.Errorf("shuffled rows: fingerprint %s, want %s", fp["b"], fp["a"])
	}
	if fp["b"] == fp["c"] {
		t.Errorf("one changed value left the fingerprint unchanged: %s", fp["c"])
	}
	code, out, _ := runCLI(t, "diff", filepath.Join(dir, "b.json"), filepath.Join(dir, "c.json"))
	if code != ExitFound || !strings.Contains(out, "training.fingerprint") {
		t.Fatalf("diff after a changed value: exit %d, want %d, output must show the fingerprint:\n%s", code, ExitFound, out)
	}
}

// TestSpillAndExternalSortSameBytes checks that holding columns in
// memory-mapped files and sorting on disk in tiny runs give the artifact
// and the transformed data of the plain in-memory fit, byte for byte.
func TestSpillAndExternalSortSameBytes(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.csv")
	writeMixedCSV(t, data, 5000, 9)
	specPath := filepath.Join(dir, "spec.yaml")
	os.WriteFile(specPath, []byte(mixedSpec), 0o644)
	mustRun(t, "fit", "-q", "--spec", specPath, "--data", data, "--out", filepath.Join(dir, "a.json"),
		"--transform-out", filepath.Join(dir, "a.csv"), "--spill", "never", "--max-sort-rows", "0")
	mustRun(t, "fit", "-q", "--spec", specPath, "--data", data, "--out", filepath.Join(dir, "b.json"),
		"--transform-out", filepath.Join(dir, "b.csv"), "--spill", "always", "--spill-dir", dir, "--max-sort-rows", "300")
	for _, pair := range [][2]string{{"a.json", "b.json"}, {"a.csv", "b.csv"}} {
		if !bytes.Equal(readFile(t, filepath.Join(dir, pair[0])), readFile(t, filepath.Join(dir, pair[1]))) {
			t.Errorf("%s differs from %s", pair[1], pair[0])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "normguard-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
