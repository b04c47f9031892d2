package beamtransform

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/parquetio"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	// Prism logs every job's progress at level INFO.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// testSpec scales, imputes, encodes and passes through a free-text column
// (quotes, commas, newlines) and an id.
const testSpec = `version: 1
remainder: passthrough
columns:
  - name: a
    steps: [{simple_imputer: {strategy: mean}}, standard_scaler]
  - name: b
    type: numeric
    steps: [{quantile_transformer: {n_quantiles: 50}}]
  - name: city
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}, {one_hot_encoder: {handle_unknown: ignore}}]
`

var testHeader = []string{"a", "b", "city", "note", "id"}

// genRows generates rows as cells ("" is missing). Notes hold quotes,
// commas, newlines and CR LF, so that CSV records span lines.
func genRows(n int, seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 11))
	cities := []string{"paris", "lyon", "oslo", "rome", "kyiv"}
	notes := []string{"plain", "with, comma", "say \"hi\"", "two\nlines", "\"quoted\nstart\"", "tail\"quote", "x\r\ny", "",
		// Written verbatim (see writeCSV): a quote inside an unquoted cell
		// is literal; text after a closing quote joins the cell.
		"RAW:ab\"c", "RAW:\"x\"\"y\"z", "RAW:\"multi\nline\"tail\"", "RAW:\"a,\nb\"\"\n\""}
	rows := make([][]string, n)
	for i := range rows {
		a := ""
		if rng.Float64() > 0.1 {
			a = string(table.AppendFloat(nil, rng.NormFloat64()*3+10))
		}
		city := cities[rng.IntN(len(cities))]
		if rng.Float64() < 0.05 {
			city = ""
		}
		rows[i] = []string{a, string(table.AppendFloat(nil, rng.ExpFloat64())), city,
			notes[rng.IntN(len(notes))], fmt.Sprintf("id-%d", i)}
	}
	return rows
}

// csvText returns the text the CSV reader reads for a cell written by
// writeCSV (a RAW: cell is read by the reader's quoting rules).
func csvText(c string) string {
	raw, ok := strings.CutPrefix(c, "RAW:")
	if !ok {
		return c
	}
	switch raw {
	case "ab\"c":
		return raw
	case "\"x\"\"y\"z":
		return "x\"yz"
	case "\"multi\nline\"tail\"":
		return "multi\nlinetail\""
	case "\"a,\nb\"\"\n\"":
		return "a,\nb\"\n"
	}
	panic("csvText: unknown raw cell " + raw)
}

// csvCell quotes a cell as RFC 4180 writers do when it needs it.
func csvCell(s string) string {
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// writeCSV writes rows under the header, with a blank line now and then
// (readers skip them, and count them in line numbers).
func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(strings.Join(testHeader, ",") + "\n")
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = csvCell(c)
			if raw, ok := strings.CutPrefix(c, "RAW:"); ok {
				cells[j] = raw
			}
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
		if i%97 == 13 {
			b.WriteString("\n")
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeJSONL writes rows as JSON objects (missing numbers as null).
func writeJSONL(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString("{")
		for j, c := range r {
			if j > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(testHeader[j])
			v, _ := json.Marshal(csvText(c))
			if c == "" {
				v = []byte("null")
			} else if j < 2 {
				v = []byte(c)
			}
			b.Write(k)
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeParquet writes rows with numeric columns as doubles.
func writeParquet(t *testing.T, path string, rows [][]string) {
	t.Helper()
	fields := make([]table.Field, len(testHeader))
	cols := make([]table.Column, len(testHeader))
	for j, h := range testHeader {
		fields[j] = table.Field{Name: h, Kind: table.String}
		if j < 2 {
			fields[j].Kind = table.Numeric
		}
		cols[j] = table.Column{Name: h, Kind: fields[j].Kind}
		for i, r := range rows {
			if j >= 2 {
				cols[j].Str = append(cols[j].Str, csvText(r[j]))
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

// fitArtifact fits the test spec on a CSV with the core fit and saves it.
func fitArtifact(t *testing.T, dir, data string) string {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: data})
	if err != nil {
		t.Fatal(err)
	}
	b, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "artifact.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// localTransform runs what `normguard transform --artifact A --in IN --out
// OUT` runs (cmd/normguard/transform.go) and returns the output's bytes,
// or the error.
func localTransform(t *testing.T, art, in, out string) ([]byte, error) {
	t.Helper()
	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := table.Create(out, tr.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stream(context.Background(), r, w, in); err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return os.ReadFile(out)
}

// concatShards reads the n shards of the pattern out in order.
func concatShards(t *testing.T, out string, n int) []byte {
	t.Helper()
	var all []byte
	for k := range n {
		b, err := os.ReadFile(ShardName(out, k, n))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if extra, _ := filepath.Glob(strings.TrimSuffix(out, filepath.Ext(out)) + "-*"); len(extra) != n {
		t.Fatalf("%d files for the pattern %s, want %d shards: %v", len(extra), out, n, extra)
	}
	return all
}

// assertSame fails with the first differing line.
func assertSame(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("shards differ from the local transform at line %d:\ngot  %q\nwant %q", i+1, g[i], w[i])
		}
	}
	t.Fatalf("shards differ from the local transform: got %d lines, want %d", len(g), len(w))
}

// runDirect runs the pipeline's functions in order in this process,
// without a runner: scan every range, combine the spans, transform every
// range. It returns the number of shards.
func runDirect(t *testing.T, o Options) (int, error) {
	t.Helper()
	ctx := context.Background()
	p, err := NewPlan(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	sf := &scanFn{P: p.Inputs}
	sp := &spansFn{P: p.Inputs}
	var scans []RangeScan
	for k := range p.Ranges {
		if err := sf.ProcessElement(ctx, k, func(s RangeScan) { scans = append(scans, s) }); err != nil {
			t.Fatal(err)
		}
	}
	// Merge in reverse, as a runner may.
	acc := sp.CreateAccumulator()
	for i := len(scans) - 1; i >= 0; i-- {
		acc = sp.MergeAccumulators(acc, sp.AddInput(sp.CreateAccumulator(), scans[i]))
	}
	owned, err := sp.ExtractOutput(acc)
	if err != nil {
		t.Fatal(err)
	}
	tf := &transformFn{P: p}
	if err := tf.Setup(); err != nil {
		t.Fatal(err)
	}
	for k := range p.Ranges {
		if err := tf.ProcessElement(ctx, k, owned, func(int64) {}); err != nil {
			return len(p.Ranges), err
		}
	}
	return len(p.Ranges), nil
}

// TestSplitsMatchLocal cuts a CSV whose records span lines (quoted
// newlines, doubled quotes, quotes inside unquoted cells, blank lines)
// and a JSON Lines file into ranges of many sizes, down to a few bytes,
// and checks that the shards concatenate to the local transform's bytes.
func TestSplitsMatchLocal(t *testing.T) {
	dir := t.TempDir()
	rows := genRows(250, 1)
	all := filepath.Join(dir, "all.csv")
	writeCSV(t, all, rows)
	art := fitArtifact(t, dir, all)
	jsonl := filepath.Join(dir, "all.jsonl")
	writeJSONL(t, jsonl, rows)
	for _, in := range []string{all, jsonl} {
		for _, ext := range []string{".csv", ".jsonl"} {
			want, err := localTransform(t, art, in, filepath.Join(dir, "local"+ext))
			if err != nil {
				t.Fatal(err)
			}
			for _, split := range []int64{-1, 41, 333, 4096} {
				name := fmt.Sprintf("%s to %s split %d", filepath.Ext(in), ext, split)
				t.Run(name, func(t *testing.T) {
					out := filepath.Join(t.TempDir(), "part"+ext)
					n, err := runDirect(t, Options{Artifact: art, In: in, Out: out, SplitBytes: split})
					if err != nil {
						t.Fatal(err)
					}
					if split == 333 && n < 20 {
						t.Fatalf("%d ranges, want the file cut into several", n)
					}
					assertSame(t, concatShards(t, out, n), want)
				})
			}
		}
	}
}

// TestSplitErrorLine checks that a bad value in a later range is reported
// at the whole file's line, as the local transform reports it.
func TestSplitErrorLine(t *testing.T) {
	dir := t.TempDir()
	rows := genRows(300, 2)
	all := filepath.Join(dir, "all.csv")
	writeCSV(t, all, rows)
	art := fitArtifact(t, dir, all)
	rows[250][0] = "inf"
	bad := filepath.Join(dir, "bad.csv")
	writeCSV(t, bad, rows)
	_, want := localTransform(t, art, bad, filepath.Join(dir, "local.csv"))
	if want == nil {
		t.Fatal("the local transform accepted an infinite value")
	}
	_, got := runDirect(t, Options{Artifact: art, In: bad, Out: filepath.Join(dir, "part.csv"), SplitBytes: 500})
	if got == nil || got.Error() != want.Error() {
		t.Fatalf("got error %v, want %v", got, want)
	}
}

// TestTransformOnPrism runs the pipeline on Prism over 1, 3 and 17 shards
// and compares the concatenated shards with the local transform's bytes.
func TestTransformOnPrism(t *testing.T) {
	dir := t.TempDir()
	rows := genRows(3000, 3)
	all := filepath.Join(dir, "all.csv")
	writeCSV(t, all, rows)
	art := fitArtifact(t, dir, all)
	want, err := localTransform(t, art, all, filepath.Join(dir, "local.csv"))
	if err != nil {
		t.Fatal(err)
	}
	three := filepath.Join(dir, "three")
	if err := os.Mkdir(three, 0o755); err != nil {
		t.Fatal(err)
	}
	writeCSV(t, filepath.Join(three, "part-0.csv"), rows[:1000])
	writeParquet(t, filepath.Join(three, "part-1.parquet"), rows[1000:1700])
	writeJSONL(t, filepath.Join(three, "part-2.jsonl"), rows[1700:])
	st, err := os.Stat(all)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		in     string
		split  int64
		shards int
	}{
		{"1 shard", all, -1, 1},
		{"3 shards: csv, parquet, jsonl", filepath.Join(three, "part-*"), -1, 3},
		{"17 shards: one csv cut in ranges", all, st.Size() / 17, 17},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "part.csv")
			p, err := Run(context.Background(), "prism", Options{Artifact: art, In: tc.in, Out: out, SplitBytes: tc.split})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Ranges) != tc.shards {
				t.Fatalf("%d shards, want %d", len(p.Ranges), tc.shards)
			}
			assertSame(t, concatShards(t, out, tc.shards), want)
		})
	}
}
