package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// TestTransformNonFiniteAsCLI transforms rows with a missing value (NaN
// output) and finite values of every magnitude, with POST /transform and
// as `normguard transform --out x.jsonl` does (Load, transform.New,
// table.Open, table.Create, Stream), and requires every output cell to be
// the same text: null and the same number digits. Rows whose outputs
// would not be finite (log1p of -1 and -2, a standard scaler (scale 0.11)
// of ±1.7e308) are refused with 400 naming the row, step, column and
// value, as the CLI refuses them (attack run 15 finding 10).
func TestTransformNonFiniteAsCLI(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(train, []byte("a,b\n0,0\n1,0.1\n2,0.2\n3,0.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader(`version: 1
columns:
  - name: a
    type: numeric
    steps: [log1p]
  - name: b
    type: numeric
    steps: [standard_scaler]
`), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, a := fitAndPut(t, dir, sp, train, "m", "v1")
	enc, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	artPath := filepath.Join(dir, "m.json")
	if err := os.WriteFile(artPath, enc, 0o644); err != nil {
		t.Fatal(err)
	}

	// The rows, as JSON objects: the first ones give non-finite outputs.
	rows := []string{
		`{"a":null,"b":1.5}`, // NaN, finite
		`{"a":0.5,"b":-0}`,
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ { // finite outputs of every magnitude and both notations
		x := math.Pow(10, rng.Float64()*600-300) * float64(1-2*rng.IntN(2))
		y := float64(rng.Int64N(1<<60)) * math.Pow(2, float64(rng.IntN(40)-20))
		rows = append(rows, fmt.Sprintf(`{"a":%s,"b":%s}`, strconv.FormatFloat(math.Abs(x), 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64)))
	}

	// The service.
	s, err := New(Config{Registry: store, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, bad := range []struct{ row, want string }{
		{`{"a":-1,"b":0}`, `request:2: log1p: column \"a\": bad value: log1p is defined only for values above -1, got \"-1\"`},
		{`{"a":-2,"b":0}`, `request:2: log1p: column \"a\": bad value: log1p is defined only for values above -1, got \"-2\"`},
		{`{"a":0,"b":1.7e308}`, `request:2: standard_scaler: column \"b\": bad value: output not finite: the step gives +Inf`},
		{`{"a":0,"b":-1.7e308}`, `request:2: standard_scaler: column \"b\": bad value: output not finite: the step gives -Inf`},
	} {
		status, body := send(t, "POST", ts.URL+"/v1/models/m/transform", "", []byte(`{"rows":[{"a":0,"b":0},`+bad.row+`]}`))
		if status != http.StatusBadRequest || !strings.Contains(string(body), bad.want) {
			t.Fatalf("transform of %s: %d %s, want 400 with %s", bad.row, status, body, bad.want)
		}
	}
	status, body := send(t, "POST", ts.URL+"/v1/models/m/transform", "", []byte(`{"rows":[`+strings.Join(rows, ",")+`]}`))
	if status != http.StatusOK {
		t.Fatalf("transform: %d %s", status, body)
	}
	var got struct {
		Columns []string            `json:"columns"`
		Rows    [][]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("the answer is not JSON: %v\n%.500s", err, body)
	}

	// The CLI's path to a .jsonl file.
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	la, err := artifact.Load(artPath)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(la)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := table.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := table.Create(out, tr.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stream(context.Background(), rd, w, in); err != nil {
		t.Fatal(err)
	}
	rd.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var cli []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		cli = append(cli, m)
	}

	if len(got.Rows) != len(rows) || len(cli) != len(rows) {
		t.Fatalf("%d rows in, %d from the service, %d from the CLI", len(rows), len(got.Rows), len(cli))
	}
	for i := range rows {
		for j, name := range got.Columns {
			if g, c := string(got.Rows[i][j]), string(cli[i][name]); g != c {
				t.Errorf("row %d (%s) %s: the service wrote %s, the CLI %s", i, rows[i], name, g, c)
			}
		}
	}
	if strings.Join(got.Columns, ",") != "a,b" {
		t.Fatalf("columns %v, want a, b", got.Columns)
	}
	want := [][2]string{{`null`, ``}}
	for i, cells := range want {
		for j, cell := range cells {
			if cell != "" && string(got.Rows[i][j]) != cell {
				t.Errorf("row %d (%s) %s: got %s, want %s", i, rows[i], got.Columns[j], got.Rows[i][j], cell)
			}
		}
	}
}

// TestAppendNumberIsTheCLIsText checks that the transform answer's
// numbers are table.AppendFloat's text, as the CLI writes them to .jsonl
// and .csv, including the integers table.AppendJSONFloat writes on a
// faster path.
func TestAppendNumberIsTheCLIsText(t *testing.T) {
	xs := []float64{0, 1, -1, 2, 9, 10, 99, 100, 1e15, 1e15 + 1, 1<<53 - 1, -(1<<53 - 1), 1 << 53, 1e16, 1e17, 0.5, -0.5, 1e-5, 123456789.125}
	for k := 0; k < 64; k++ {
		p := math.Ldexp(1, k)
		xs = append(xs, p, p-1, p+1, -p, math.Pow(10, float64(k%23)), math.Pow(10, float64(k%23))-1)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		xs = append(xs, float64(rng.Int64N(1<<53)>>rng.IntN(53)), -float64(rng.Int64N(1<<53)>>rng.IntN(53)),
			math.Round(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(20)))), math.Float64frombits(rng.Uint64()))
	}
	for _, x := range xs {
		got := string(appendNumber(nil, x))
		var want string
		switch {
		case math.IsNaN(x):
			want = "null"
		case math.IsInf(x, 1):
			want = `"Infinity"`
		case math.IsInf(x, -1):
			want = `"-Infinity"`
		default:
			want = string(table.AppendFloat(nil, x))
		}
		if got != want {
			t.Fatalf("appendNumber(%v) = %s, the CLI writes %s", x, got, want)
		}
	}
	if got := string(appendNumber(nil, math.Copysign(0, -1))); got != "-0" {
		t.Fatalf("appendNumber(-0) = %s, want -0", got)
	}
}
