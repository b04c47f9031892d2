package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/normguard/normguard/table"
)

type vectorParquetRow struct {
	ID  string    `parquet:"id"`
	Emb []float32 `parquet:"emb,list"`
}

// TestVectorParquet fits a vector column read from a Parquet list column
// and transforms Parquet to Parquet.
func TestVectorParquet(t *testing.T) {
	dir := t.TempDir()
	var rows []vectorParquetRow
	for i, v := range gloveVectors(t) {
		r := vectorParquetRow{ID: strconv.Itoa(i)}
		for _, x := range v {
			r.Emb = append(r.Emb, float32(x)) // exact: the vectors are float32
		}
		rows = append(rows, r)
	}
	in := filepath.Join(dir, "train.parquet")
	if err := parquet.WriteFile(in, rows); err != nil {
		t.Fatal(err)
	}
	specP := filepath.Join(dir, "s.yaml")
	os.WriteFile(specP, []byte("version: 1\nremainder: passthrough\ncolumns:\n  - name: emb\n    type: vector\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "--spec", specP, "--data", in, "--out", art, "-q")
	if b := string(readFile(t, art)); !strings.Contains(b, `"dtype": "float32"`) {
		t.Errorf("the contract does not record the Parquet column's float32")
	}
	out := filepath.Join(dir, "out.parquet")
	mustRun(t, "transform", "--artifact", art, "--in", in, "--out", out, "-q")
	r, err := table.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.Header(); len(h) != 101 || h[0] != "emb_0" || h[99] != "emb_99" || h[100] != "id" {
		t.Errorf("got output header %q, want emb_0 .. emb_99, id", h)
	}
	mustRun(t, "validate", "--artifact", art, "--data", in)
}

// writeVectorsJSONL writes {"id": i, "<key>": [...]} per vector (nil is
// null) and returns the path.
func writeVectorsJSONL(t *testing.T, dir, name, key string, vs [][]float64) string {
	t.Helper()
	var b strings.Builder
	for i, v := range vs {
		fmt.Fprintf(&b, `{"id": "%d", %q: `, i, key)
		if v == nil {
			b.WriteString("null}\n")
			continue
		}
		b.WriteString("[")
		for k, x := range v {
			if k > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		b.WriteString("]}\n")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gloveVectors(t *testing.T) [][]float64 {
	t.Helper()
	r, err := table.OpenNPY("../../testdata/vectors/glove200.npy", table.NPYOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fields := []table.Field{{Name: r.Header()[0], Kind: table.Vector}}
	cols, n, err := table.ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), cols[0].Row(i)...)
	}
	return out
}

func unitVector(v []float64) []float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	out := make([]float64, len(v))
	for k, x := range v {
		out[k] = x / math.Sqrt(s)
	}
	return out
}

// TestVectorCommands runs fit, transform, validate and drift on vector
// columns of GloVe vectors as a user would, checking exit codes and the
// verdicts named.
func TestVectorCommands(t *testing.T) {
	dir := t.TempDir()
	all := gloveVectors(t)
	var train, clean, unit, short [][]float64
	for i, v := range all {
		if i%2 == 0 {
			train = append(train, v)
			continue
		}
		clean = append(clean, v)
		unit = append(unit, unitVector(v))
		short = append(short, v[:64])
	}
	trainP := writeVectorsJSONL(t, dir, "train.jsonl", "emb", train)
	cleanP := writeVectorsJSONL(t, dir, "clean.jsonl", "emb", clean)
	unitP := writeVectorsJSONL(t, dir, "unit.jsonl", "emb", unit)
	shortP := writeVectorsJSONL(t, dir, "short.jsonl", "emb", short)
	noneP := writeVectorsJSONL(t, dir, "none.jsonl", "emb", [][]float64{nil, nil})
	canP := writeVectorsJSONL(t, dir, "canaries.jsonl", "vector", train[:3])
	var swapped [][]float64
	for _, v := range train[:3] {
		r := make([]float64, len(v))
		for k := range v {
			r[k] = v[len(v)-1-k]
		}
		swapped = append(swapped, r)
	}
	swappedP := writeVectorsJSONL(t, dir, "swapped.jsonl", "vector", swapped)
	specP := filepath.Join(dir, "s.yaml")
	os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: dot\n    steps: [{normalizer: {norm: l2}}]\n"), 0o644)
	art := filepath.Join(dir, "a.json")

	mustRun(t, "fit", "--spec", specP, "--data", trainP, "--out", art, "--embedding-model", "glove@6B-100d", "--canaries", canP, "-q")
	if b := string(readFile(t, art)); !strings.Contains(b, `"model": "glove"`) || !strings.Contains(b, `"revision": "6B-100d"`) || !strings.Contains(b, `"canaries"`) {
		t.Errorf("artifact lacks the model, revision or canaries")
	}

	if got := mustRun(t, "inspect", art); !strings.Contains(got, "vector column emb (columns emb_0 .. emb_99): 100-d float64, model glove@6B-100d, metric dot, unit length no") ||
		!strings.Contains(got, "100 vectors (0 zero)") || !strings.Contains(got, "3 canaries") {
		t.Errorf("inspect does not describe the contract:\n%.600s", got)
	}
	out := filepath.Join(dir, "out.csv")
	mustRun(t, "transform", "--artifact", art, "--in", cleanP, "--out", out, "-q")
	header := strings.SplitN(string(readFile(t, out)), "\n", 2)[0]
	if cols := strings.Split(header, ","); len(cols) != 100 || cols[0] != "emb_0" || cols[99] != "emb_99" {
		t.Errorf("transform header %.60q..., want emb_0 .. emb_99", header)
	}
	code, _, errOut := runCLI(t, "transform", "--artifact", art, "--in", shortP, "--out", filepath.Join(dir, "o2.csv"))
	if code != ExitError || !strings.Contains(errOut, "vector has 64 values") || !strings.Contains(errOut, "has 100") {
		t.Errorf("transform of 64-d vectors: exit %d, stderr %q; want 2 naming 64 and 100", code, errOut)
	}

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "--artifact", art, "--data", cleanP}, ExitOK, "no anomaly"},
		{[]string{"validate", "--artifact", art, "--data", unitP}, ExitFound, "normalized_unexpectedly"},
		{[]string{"validate", "--artifact", art, "--data", shortP}, ExitFound, "dimension_mismatch"},
		{[]string{"validate", "--artifact", art, "--data", noneP}, ExitError, "cannot be judged"},
		{[]string{"validate", "--artifact", art, "--data", cleanP, "--canaries", canP, "--columns", "emb"}, ExitOK, "no anomaly"},
		{[]string{"validate", "--artifact", art, "--data", cleanP, "--canaries", swappedP}, ExitFound, "model_swapped"},
		{[]string{"drift", "--artifact", art, "--current", cleanP}, ExitOK, "VECTOR"},
		{[]string{"drift", "--artifact", art, "--current", unitP, "--format", "json"}, ExitFound, `"mmd_p_value"`},
		{[]string{"drift", "--reference", trainP, "--current", unitP}, ExitFound, "DRIFT"},
		{[]string{"drift", "--reference", trainP, "--current", cleanP}, ExitOK, "emb"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("normguard %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, tc.want, stdout, stderr)
		}
	}
}

// roundHalf rounds x to the nearest float16 value (normal range, ties to
// even): an 11-bit significand.
func roundHalf(x float64) float64 {
	if x == 0 {
		return 0
	}
	_, e := math.Frexp(x)
	s := math.Ldexp(1, 11-e)
	return math.RoundToEven(x*s) / s
}

// TestVectorDiagnose diagnoses observed vectors against an artifact whose
// vector column ends with an l2 normalizer, paired and unpaired.
func TestVectorDiagnose(t *testing.T) {
	dir := t.TempDir()
	all := gloveVectors(t)
	var train, raw, unit, half, short [][]float64
	for i, v := range all {
		if i%2 == 0 {
			train = append(train, v)
			continue
		}
		raw = append(raw, v)
		u := unitVector(v)
		unit = append(unit, u)
		h := make([]float64, len(u))
		for k, x := range u {
			h[k] = roundHalf(x)
		}
		half = append(half, h)
		short = append(short, u[:64])
	}
	specP := filepath.Join(dir, "s.yaml")
	os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [{normalizer: {norm: l2}}]\n"), 0o644)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "--spec", specP, "--data", writeVectorsJSONL(t, dir, "train.jsonl", "emb", train), "--out", art, "-q")
	rawP := writeVectorsJSONL(t, dir, "raw.jsonl", "emb", raw)
	cases := []struct {
		name     string
		observed [][]float64
		paired   bool
		code     int
		want     string
	}{
		{"paired ok", unit, true, ExitOK, "ok"},
		{"paired raw fed", raw, true, ExitFound, "not_normalized"},
		{"paired float16", half, true, ExitFound, "precision_loss"},
		{"paired truncated", short, true, ExitFound, "dimension_mismatch"},
		{"unpaired ok", unit, false, ExitOK, "ok"},
		{"unpaired raw fed", raw, false, ExitFound, "not_normalized"},
	}
	for _, tc := range cases {
		obs := writeVectorsJSONL(t, dir, "obs.jsonl", "emb", tc.observed)
		args := []string{"diagnose", "--artifact", art, "--observed", obs, "--format", "json"}
		if tc.paired {
			args = append(args, "--raw", rawP)
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != tc.code || !strings.Contains(stdout, `"verdict": "`+tc.want+`"`) {
			t.Errorf("%s: exit %d, want %d with verdict %s\nstdout: %s\nstderr: %s", tc.name, code, tc.code, tc.want, stdout, stderr)
		}
	}
	// Observed data without a single vector cannot be judged: an error, not ok.
	// A .npy of shape (0, 100), as numpy.save writes it: the column is named after the file's stem.
	empty := filepath.Join(t.TempDir(), "emb.npy")
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 100), }"
	header += strings.Repeat(" ", 128-10-len(header)-1) + "\n"
	os.WriteFile(empty, append([]byte("\x93NUMPY\x01\x00\x76\x00"), header...), 0o644)
	for _, paired := range []bool{false, true} {
		args := []string{"diagnose", "--artifact", art, "--observed", empty, "--format", "json"}
		if paired {
			args = append(args, "--raw", rawP)
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitError || !strings.Contains(stderr, "no vector") {
			t.Errorf("all-missing observed vectors (paired %v): exit %d, want %d naming the empty column\nstdout: %s\nstderr: %s", paired, code, ExitError, stdout, stderr)
		}
	}
}
