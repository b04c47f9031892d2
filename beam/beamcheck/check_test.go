package beamcheck

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/parquetio"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// normguard is the local CLI, built once by TestMain from the main module:
// the reference every report is compared with.
var normguard string

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	dir, err := os.MkdirTemp("", "beamcheck-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	normguard = filepath.Join(dir, "normguard")
	build := exec.Command("go", "build", "-o", normguard, "./cmd/normguard")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the normguard CLI: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testSpec = `version: 1
columns:
  - name: a
    steps: [{simple_imputer: {strategy: mean}}, standard_scaler]
  - name: b
    type: numeric
    steps: [{quantile_transformer: {n_quantiles: 50}}]
  - name: city
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}, {one_hot_encoder: {handle_unknown: ignore}}]
  - name: n
    type: numeric
    steps: [min_max_scaler]
`

var header = []string{"a", "b", "city", "n", "extra"}

// genRows generates rows as cells ("" is missing). shift moves a; cities
// may hold a category the training never saw.
func genRows(n int, seed uint64, shift float64, cities []string) [][]string {
	rng := rand.New(rand.NewPCG(seed, 5))
	rows := make([][]string, n)
	for i := range rows {
		a := ""
		if rng.Float64() > 0.1 {
			a = string(table.AppendFloat(nil, rng.NormFloat64()*3+10+shift))
		}
		b := string(table.AppendFloat(nil, rng.ExpFloat64()))
		if rng.Float64() < 0.03 {
			b = ""
		}
		city := cities[rng.IntN(len(cities))]
		if rng.Float64() < 0.05 {
			city = ""
		}
		nv := []string{"-0", "0", "1", "2", "3"}[rng.IntN(5)]
		rows[i] = []string{a, b, city, nv, fmt.Sprintf("x%d", rng.IntN(4))}
	}
	return rows
}

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

// writeJSONL writes rows as JSON objects: numbers as numbers, missing as
// null, text that is not a number as a string.
func writeJSONL(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString("{")
		for j, c := range r {
			if j > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(header[j])
			b.Write(k)
			b.WriteString(":")
			switch {
			case c == "":
				b.WriteString("null")
			case j == 2 || j == 4:
				v, _ := json.Marshal(c)
				b.Write(v)
			default:
				b.WriteString(c)
			}
		}
		b.WriteString("}\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeParquet(t *testing.T, path string, rows [][]string) {
	t.Helper()
	fields := make([]table.Field, len(header))
	cols := make([]table.Column, len(header))
	for j, h := range header {
		fields[j] = table.Field{Name: h, Kind: table.Numeric}
		if j == 2 || j == 4 {
			fields[j].Kind = table.String
		}
		cols[j] = table.Column{Name: h, Kind: fields[j].Kind}
		for i, r := range rows {
			if fields[j].Kind == table.String {
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

func fitArtifact(t *testing.T, dir string) string {
	t.Helper()
	train := filepath.Join(dir, "train.csv")
	writeCSV(t, train, genRows(2000, 1, 0, []string{"paris", "lyon", "oslo", "rome"}))
	sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(train)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: train})
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

// local runs the normguard CLI and returns its standard output and exit
// status.
func local(t *testing.T, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(normguard, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &ee):
		return out, ee.ExitCode()
	}
	t.Fatalf("normguard %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	return nil, 0
}

// TestChecksOnPrism compares normguard-beam validate and drift on 1, 3
// and 17 shards with the local commands on the concatenated rows: the
// same JSON (byte for byte) and the same exit status. The current data
// drifts in a, has an unseen category and, in one shard only, text in
// the numeric column b (read as text everywhere, as locally).
func TestChecksOnPrism(t *testing.T) {
	dir := t.TempDir()
	art := fitArtifact(t, dir)
	clean := genRows(1500, 2, 0, []string{"paris", "lyon", "oslo", "rome"})
	drifted := genRows(1500, 3, 1.5, []string{"paris", "lyon", "oslo", "rome", "kyiv"})
	withText := genRows(1500, 4, 1.5, []string{"paris", "lyon", "oslo", "rome", "kyiv"})
	withText[1234][1], withText[1400][1] = "oops", "  "

	type layout struct {
		name   string
		shards func(dir string, rows [][]string) (string, int64) // pattern, split bytes
	}
	layouts := []layout{
		{"1 shard", func(dir string, rows [][]string) (string, int64) {
			p := filepath.Join(dir, "one.csv")
			writeCSV(t, p, rows)
			return p, -1
		}},
		{"3 shards: csv, parquet, jsonl", func(dir string, rows [][]string) (string, int64) {
			writeParquet(t, filepath.Join(dir, "part-0.parquet"), rows[:400])
			writeJSONL(t, filepath.Join(dir, "part-1.jsonl"), rows[400:900])
			writeCSV(t, filepath.Join(dir, "part-2.csv"), rows[900:])
			return filepath.Join(dir, "part-*"), -1
		}},
		{"17 shards: one csv cut in ranges", func(dir string, rows [][]string) (string, int64) {
			p := filepath.Join(dir, "cut.csv")
			writeCSV(t, p, rows)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			return p, st.Size() / 17
		}},
	}
	datasets := []struct {
		name string
		rows [][]string
	}{{"clean", clean}, {"drifted", drifted}, {"text in a numeric column", withText}}
	for di, ds := range datasets {
		all := filepath.Join(dir, fmt.Sprintf("all%d.csv", di))
		writeCSV(t, all, ds.rows)
		for li, l := range layouts {
			if ds.name == "text in a numeric column" && li == 1 {
				continue // the text lands in the CSV shard; covered by the others
			}
			sub := filepath.Join(dir, fmt.Sprintf("d%dl%d", di, li))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			pattern, split := l.shards(sub, ds.rows)
			for _, cmd := range []string{Validate, Drift} {
				t.Run(fmt.Sprintf("%s/%s/%s", cmd, ds.name, l.name), func(t *testing.T) {
					args := []string{cmd, "--artifact", art, "--format", "json"}
					if cmd == Drift {
						args = append(args, "--current", all)
					} else {
						args = append(args, "--data", all)
					}
					want, wantStatus := local(t, args...)
					res, err := Run(context.Background(), "prism", Options{Command: cmd, Artifact: art, Data: pattern,
						SplitBytes: split, Format: "json", Method: "auto", Bins: drift.DefaultBins, DriftShare: drift.DefaultDriftShare, Result: filepath.Join(t.TempDir(), "result.json")})
					if err != nil {
						t.Fatal(err)
					}
					if res.Status != wantStatus {
						t.Errorf("exit status %d (%s), want %d", res.Status, res.Message, wantStatus)
					}
					if !bytes.Equal(res.Output, want) {
						t.Fatalf("report differs from the local command's:\ngot  %s\nwant %s", res.Output, want)
					}
				})
			}
		}
	}
}

// TestCheckOptionsOnPrism compares runs with the local commands' options
// (--columns, --exclude, --method, --threshold, --bins) and the table
// format on data cut into 5 ranges.
func TestCheckOptionsOnPrism(t *testing.T) {
	dir := t.TempDir()
	art := fitArtifact(t, dir)
	data := filepath.Join(dir, "cur.csv")
	writeCSV(t, data, genRows(1200, 7, 0.4, []string{"paris", "lyon", "oslo", "rome", "kyiv"}))
	st, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		opt  Options
	}{
		{"validate --columns a,city --format table", []string{"validate", "--data", data, "--columns", "a,city", "--format", "table"},
			Options{Command: Validate, Columns: []string{"a", "city"}, Format: "table"}},
		{"drift --method psi --bins 5 --exclude city", []string{"drift", "--current", data, "--method", "psi", "--bins", "5", "--exclude", "city", "--format", "json"},
			Options{Command: Drift, Method: "psi", Bins: 5, Exclude: []string{"city"}, Format: "json"}},
		{"drift --method wasserstein --threshold 0.01 --format table", []string{"drift", "--current", data, "--method", "wasserstein", "--threshold", "0.01", "--format", "table"},
			Options{Command: Drift, Method: "wasserstein", Threshold: 0.01, HasThreshold: true, Format: "table"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantStatus := local(t, append(tc.args, "--artifact", art)...)
			o := tc.opt
			o.Artifact, o.Data, o.SplitBytes, o.Result = art, data, st.Size()/5, filepath.Join(t.TempDir(), "result.json")
			if o.Command == Drift {
				o.Method = cmp.Or(o.Method, "auto")
				o.Bins = cmp.Or(o.Bins, drift.DefaultBins)
				o.DriftShare = drift.DefaultDriftShare
			}
			res, err := Run(context.Background(), "prism", o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != wantStatus {
				t.Errorf("exit status %d (%s), want %d", res.Status, res.Message, wantStatus)
			}
			if !bytes.Equal(res.Output, want) {
				t.Fatalf("report differs from the local command's:\ngot  %s\nwant %s", res.Output, want)
			}
		})
	}
}
