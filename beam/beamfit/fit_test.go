package beamfit

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/parquetio"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	// Prism logs every job's progress at level INFO.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// allSteps covers every step kind the core supports, chained steps,
// untyped groups (inferred numeric and categorical), a group without
// steps and passthrough columns.
const allSteps = `version: 1
remainder: passthrough
columns:
  - name: a
    steps: [{simple_imputer: {strategy: mean}}, standard_scaler]
  - name: b
    type: numeric
    steps: [standard_scaler]
  - name: c
    type: numeric
    steps: [{simple_imputer: {strategy: median, add_indicator: true}}, robust_scaler]
  - name: d
    type: numeric
    steps: [{simple_imputer: {strategy: most_frequent}}, min_max_scaler]
  - name: e
    type: numeric
    steps: [{simple_imputer: {strategy: constant, fill_value: 0}}, max_abs_scaler]
  - name: f
    type: numeric
    steps: [{quantile_transformer: {n_quantiles: 100}}]
  - name: g
    type: numeric
    steps: [{simple_imputer: {strategy: mean}}, power_transformer]
  - name: h
    type: numeric
    steps: [{simple_imputer: {strategy: median}}, {kbins_discretizer: {n_bins: 5, encode: ordinal, strategy: quantile}}]
  - name: h2
    type: numeric
    steps: [{kbins_discretizer: {n_bins: 4, encode: onehot-dense, strategy: uniform}}]
  - name: i
    type: numeric
    steps: [{binarizer: {threshold: 0.5}}]
  - names: [j, k]
    type: numeric
    steps: [normalizer]
  - name: m
    type: numeric
    steps: [log1p, standard_scaler]
  - name: city
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}, {one_hot_encoder: {handle_unknown: ignore}}]
  - name: color
    type: categorical
    steps: [{simple_imputer: {strategy: constant, fill_value: none}}, ordinal_encoder]
  - name: n
    steps: [{simple_imputer: {strategy: median}}, min_max_scaler]
  - name: word
  - name: r
`

// header is the generated data's columns; p, q, when (a time column), id
// (an identifier column) and big (integers, one in 50 past what float64
// holds exactly: kept as text) are passed through.
var header = []string{"a", "b", "c", "d", "e", "f", "g", "h", "h2", "i", "j", "k", "m", "city", "color", "n", "word", "r", "p", "q", "when", "id", "big"}

// row is one generated row as CSV cells ("" is missing).
func genRows(n int, seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 7))
	num := func(x float64, missing float64) string {
		if rng.Float64() < missing {
			return ""
		}
		return string(table.AppendFloat(nil, x))
	}
	cities := []string{"paris", "lyon", "oslo", "rome", "kyiv", "lima"}
	start := time.Date(2024, 2, 27, 6, 0, 0, 0, time.UTC)
	colors := []string{"red", "green", "blue"}
	rows := make([][]string, n)
	for i := range rows {
		city := cities[int(math.Floor(float64(len(cities))*rng.Float64()*rng.Float64()))]
		if rng.Float64() < 0.05 {
			city = ""
		}
		color := colors[rng.IntN(len(colors))]
		if rng.Float64() < 0.03 {
			color = ""
		}
		rows[i] = []string{
			num(rng.NormFloat64()*3+10, 0.1),
			num(rng.NormFloat64()*1e6+1e8, 0.05),
			num(rng.ExpFloat64(), 0.08),
			num(float64(rng.IntN(7)), 0.1),
			num(rng.NormFloat64()*50, 0.02),
			num(rng.ExpFloat64()*rng.NormFloat64(), 0.05),
			num(rng.ExpFloat64()*2+0.1, 0.04),
			num(rng.NormFloat64(), 0.03),
			num(rng.Float64()*100, 0),
			num(rng.Float64(), 0),
			num(rng.NormFloat64(), 0),
			num(rng.NormFloat64(), 0),
			num(rng.ExpFloat64()*5, 0),
			city,
			color,
			num(float64(rng.IntN(1000))/8, 0.02),
			[]string{"x", "y", "z"}[rng.IntN(3)],
			num(rng.Float64(), 0.01),
			num(rng.NormFloat64(), 0.1),
			[]string{"u", "v", ""}[rng.IntN(3)],
			stamp(start.Add(time.Duration(rng.IntN(60*24*90))*time.Minute), rng.Float64() < 0.02),
			fmt.Sprintf("id-%d-%d", seed, i),
			bigID(i),
		}
	}
	return rows
}

// bigID is row i's big: 2^53 + 1 + 2i (odd, so not a float64) every 50
// rows, else i.
func bigID(i int) string {
	if i%50 == 0 {
		return fmt.Sprint(int64(1)<<53 + 1 + 2*int64(i))
	}
	return fmt.Sprint(i)
}

// stamp writes t as a timestamp, or "" (missing).
func stamp(t time.Time, missing bool) string {
	if missing {
		return ""
	}
	return t.Format("2006-01-02 15:04:05")
}

// writeCSV writes rows under the header as CSV.
func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeParquet writes rows as Parquet with typed columns: the numeric
// ones as doubles (missing as null), the text ones as strings.
func writeParquet(t *testing.T, path string, rows [][]string) {
	t.Helper()
	text := map[string]bool{"city": true, "color": true, "word": true, "q": true, "when": true, "id": true, "big": true}
	fields := make([]table.Field, len(header))
	cols := make([]table.Column, len(header))
	for j, h := range header {
		fields[j] = table.Field{Name: h, Kind: table.Numeric}
		if text[h] {
			fields[j].Kind = table.String
		}
		cols[j] = table.Column{Name: h, Kind: fields[j].Kind}
		for i, r := range rows {
			if text[h] {
				cols[j].Str = append(cols[j].Str, r[j])
				if cols[j].Null == nil {
					cols[j].Null = make([]bool, len(rows))
				}
				cols[j].Null[i] = r[j] == ""
				continue
			}
			x := math.NaN()
			if r[j] != "" {
				fmt.Sscan(r[j], &x)
			}
			cols[j].Num = append(cols[j].Num, x)
		}
	}
	w, err := parquetio.Create(path, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&table.Batch{Cols: cols, Rows: len(rows)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// localFit fits sp on one CSV of all rows with the core fit package: the
// reference every distributed fit must equal byte for byte.
func localFit(t *testing.T, sp *spec.Spec, path string) []byte {
	t.Helper()
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: path, Model: "m", ModelVersion: "3", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// split cuts n rows into k non-empty shards of uneven sizes.
func split(n, k int, rng *rand.Rand) []int {
	cuts := map[int]bool{}
	for len(cuts) < k-1 {
		cuts[1+rng.IntN(n-1)] = true
	}
	sizes := make([]int, 0, k)
	last := 0
	for i := 1; i <= n; i++ {
		if cuts[i] || i == n {
			sizes = append(sizes, i-last)
			last = i
		}
	}
	return sizes
}

func TestFitMatchesLocalFit(t *testing.T) {
	const nRows = 3000
	rows := genRows(nRows, 1)
	sp, err := spec.Parse(strings.NewReader(allSteps), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all := filepath.Join(dir, "all.csv")
	writeCSV(t, all, rows)
	want := localFit(t, sp, all)
	// The local fit records what the text columns are (profile.TextKind),
	// which the distributed fits must reproduce from merged counts.
	a, err := artifact.Decode(want, "local fit")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, p := range a.Profile.Inputs {
		kinds[p.Name] = p.Kind
	}
	if kinds["when"] != profile.KindTime || kinds["id"] != profile.KindIdentifier || kinds["city"] != "" || kinds["q"] != "" {
		t.Fatalf("local fit: kinds %v; want when time, id identifier, city and q ordinary", kinds)
	}
	if f := a.Outputs[len(a.Outputs)-1]; f.Name != "big" || f.Type != "categorical" {
		t.Fatalf("local fit: last output %+v; want big, categorical (integers past 2^53 kept as text)", f)
	}

	cases := []struct {
		name     string
		shards   int
		format   string // csv, parquet or mixed (alternating)
		shuffled bool   // list the shard files in a shuffled order
	}{
		{"1 csv shard", 1, "csv", false},
		{"3 parquet shards", 3, "parquet", false},
		{"3 mixed shards listed shuffled", 3, "mixed", true},
		{"17 csv shards listed shuffled", 17, "csv", true},
		{"17 mixed shards", 17, "mixed", false},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 99))
			sub := filepath.Join(dir, fmt.Sprintf("case%d", ci))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			var paths []string
			at := 0
			for i, size := range split(nRows, tc.shards, rng) {
				ext := "csv"
				if tc.format == "parquet" || tc.format == "mixed" && i%2 == 1 {
					ext = "parquet"
				}
				path := filepath.Join(sub, fmt.Sprintf("part-%03d.%s", i, ext))
				if ext == "csv" {
					writeCSV(t, path, rows[at:at+size])
				} else {
					writeParquet(t, path, rows[at:at+size])
				}
				paths = append(paths, path)
				at += size
			}
			data := filepath.Join(sub, "part-*")
			if tc.shuffled {
				rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
				data = strings.Join(paths, ",")
			}
			out := filepath.Join(sub, "artifact.json")
			err := Run(context.Background(), "prism", Options{Spec: sp, Data: data, Out: out, Model: "m", ModelVersion: "3"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBytes(t, got, want)
		})
	}
}

// assertSameBytes fails with the first differing line other than the
// digest (which differs whenever anything does).
func assertSameBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] && !strings.Contains(w[i], `"digest"`) {
			t.Fatalf("artifact differs from the local fit at line %d:\ngot  %s\nwant %s", i+1, g[i], w[i])
		}
	}
	t.Fatalf("artifact differs from the local fit: got %d lines, want %d (or only the digest differs)", len(g), len(w))
}
