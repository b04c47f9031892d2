package onnx

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// peerDir holds the scikit-learn 1.2.1 parity cases (see its README).
const peerDir = "../testdata/peer-vectors/transform"

// inexactTol bounds the exported graph against normguard transform where
// ONNX has no exact operator (log1p and expm1 from Log/Exp with Kahan's
// correction, the Exp of Yeo-Johnson, the Log of the normal quantile
// function): a value passes when
//
//	|got - want| <= inexactTol * max(1, |want|)
//
// (relative, or absolute below 1: a standardization after the inexact
// step subtracts a mean, so values near 0 carry the error of values near
// the mean). Measured with ONNX Runtime 1.31 (CPU) on every parity case
// and the quickstart data: at most 3.1e-15.
const inexactTol = 1e-14

// fitArtifact fits the spec on the training file and returns the
// artifact as loading it from disk gives it.
func fitArtifact(t testing.TB, specPath, trainPath string) (*artifact.Artifact, error) {
	t.Helper()
	sp, err := spec.ParseFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(trainPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Source: trainPath})
	if err != nil {
		return nil, err
	}
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	a, err = artifact.Decode(data, "fitted")
	if err != nil {
		t.Fatal(err)
	}
	return a, nil
}

// readInputs reads the artifact's input columns from a data file.
func readInputs(t testing.TB, tr *transform.Transformer, path string) *table.Batch {
	t.Helper()
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Project(tr.Inputs()); err != nil {
		t.Fatal(err)
	}
	cols, n, err := table.ReadAll(r, tr.Inputs())
	if err != nil {
		t.Fatal(err)
	}
	return &table.Batch{Cols: cols, Rows: n}
}

// rowResult is normguard transform's output for one row, or its error.
type rowResult struct {
	out []float64 // by output name order of names
	err error
}

// transformRows runs normguard transform on the batch, row by row when
// the whole batch fails, and returns per row the outputs named in names.
func transformRows(t testing.TB, tr *transform.Transformer, in *table.Batch, names []string) []rowResult {
	t.Helper()
	res := make([]rowResult, in.Rows)
	pick := func(out *table.Batch, i int) []float64 {
		v := make([]float64, len(names))
		for k, name := range names {
			c := out.Col(name)
			if c == nil {
				t.Fatalf("transform has no output %q", name)
			}
			v[k] = c.Num[i]
		}
		return v
	}
	out := tr.NewOutput()
	if err := tr.Batch(in, out, "test"); err == nil {
		for i := range res {
			res[i].out = pick(out, i)
		}
		return res
	}
	for i := range res {
		one := &table.Batch{Rows: 1, Cols: make([]table.Column, len(in.Cols))}
		for j := range in.Cols {
			one.Cols[j] = in.Cols[j].Slice(i, i+1)
		}
		o := tr.NewOutput()
		if err := tr.Batch(one, o, "test"); err != nil {
			res[i].err = err
			continue
		}
		res[i].out = pick(o, 0)
	}
	return res
}

// exportRun exports a, runs it in ONNX Runtime on in and returns the
// features [rows][features] and the unknown-category flags.
func exportRun(t testing.TB, a *artifact.Artifact, in *table.Batch, tr *transform.Transformer, opt ExportOptions) (*Exported, [][]float64, [][]int64) {
	t.Helper()
	ex, err := Export(a, opt)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	feeds := map[string]ortTensor{}
	for _, vi := range ex.Model.GetGraph().GetInput() {
		found := false
		for j, f := range tr.Inputs() {
			if f.Name == vi.GetName() {
				feeds[f.Name] = columnTensor(&in.Cols[j], in.Rows)
				found = true
			}
		}
		if !found {
			t.Fatalf("graph input %q is not an input of the artifact", vi.GetName())
		}
	}
	res := runORT(t, ex.Model, feeds)
	feat, ok := res[FeaturesOutput]
	if !ok {
		t.Fatalf("no %s output", FeaturesOutput)
	}
	nf := len(ex.Features)
	if len(feat.Dims) != 2 || feat.Dims[0] != int64(in.Rows) || feat.Dims[1] != int64(nf) {
		t.Fatalf("features dims %v, want [%d %d]", feat.Dims, in.Rows, nf)
	}
	flat := feat.floats(t)
	rows := make([][]float64, in.Rows)
	for i := range rows {
		rows[i] = flat[i*nf : (i+1)*nf]
	}
	var unknown [][]int64
	if u, ok := res[UnknownOutput]; ok {
		k := len(ex.Unknown)
		if len(u.Dims) != 2 || u.Dims[0] != int64(in.Rows) || u.Dims[1] != int64(k) {
			t.Fatalf("unknown_categories dims %v, want [%d %d]", u.Dims, in.Rows, k)
		}
		flags := u.ints(t)
		unknown = make([][]int64, in.Rows)
		for i := range unknown {
			unknown[i] = flags[i*k : (i+1)*k]
		}
	} else if len(ex.Unknown) > 0 {
		t.Fatalf("no %s output for columns %v", UnknownOutput, ex.Unknown)
	}
	return ex, rows, unknown
}

// inexact reports whether the artifact uses a step whose ONNX form has no
// exact operator.
func inexact(a *artifact.Artifact) bool {
	for _, g := range a.Groups {
		for _, s := range g.Steps {
			switch s.Name {
			case "log1p", "power_transformer":
				return true
			case "quantile_transformer":
				if strings.Contains(string(mustJSON(s.Fitted)), `"output_distribution":"normal"`) {
					return true
				}
			}
		}
	}
	return false
}

// diffStats accumulates the largest differences of a comparison.
type diffStats struct {
	maxAbs, maxRel float64
	maxScaled      float64 // |got - want| / max(1, |want|)
	maxULP         uint64
	where          string
}

func (d *diffStats) add(got, want float64, where string) {
	if math.Float64bits(got) == math.Float64bits(want) || (math.IsNaN(got) && math.IsNaN(want)) {
		return
	}
	abs := math.Abs(got - want)
	rel := abs / math.Abs(want)
	if want == 0 {
		rel = 0
	}
	if abs > d.maxAbs {
		d.maxAbs, d.where = abs, where
	}
	d.maxRel = max(d.maxRel, rel)
	d.maxScaled = max(d.maxScaled, abs/max(1, math.Abs(want)))
	d.maxULP = max(d.maxULP, ulps(got, want))
}

func (d *diffStats) merge(o diffStats) {
	d.maxAbs, d.maxRel, d.maxScaled = max(d.maxAbs, o.maxAbs), max(d.maxRel, o.maxRel), max(d.maxScaled, o.maxScaled)
	d.maxULP = max(d.maxULP, o.maxULP)
}

// ulps returns the number of float64 values between a and b (huge when the
// signs differ).
func ulps(a, b float64) uint64 {
	ia, ib := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if (ia < 0) != (ib < 0) {
		return math.MaxUint64
	}
	if ia > ib {
		return uint64(ia - ib)
	}
	return uint64(ib - ia)
}

// checkAgainstTransform compares the ONNX Runtime rows with normguard
// transform's: bit for bit unless exact is false, then within the
// inexact bounds. Rows normguard transform refuses must hold NaN in some
// feature or flag an unknown category.
func checkAgainstTransform(t testing.TB, ex *Exported, want []rowResult, got [][]float64, unknown [][]int64, exact bool) diffStats {
	t.Helper()
	var d diffStats
	for i, w := range want {
		if w.err != nil {
			refused := false
			for _, v := range got[i] {
				refused = refused || math.IsNaN(v)
			}
			for _, u := range unknownRow(unknown, i) {
				refused = refused || u != 0
			}
			if !refused {
				t.Errorf("row %d: normguard transform refuses it (%v), the graph gives %v with no NaN and no unknown flag", i+1, w.err, got[i])
			}
			continue
		}
		for k, name := range ex.Features {
			g, wv := got[i][k], w.out[k]
			same := math.Float64bits(g) == math.Float64bits(wv) || (math.IsNaN(g) && math.IsNaN(wv))
			if same {
				continue
			}
			d.add(g, wv, name)
			if exact || math.IsNaN(g) != math.IsNaN(wv) || math.Abs(g-wv) > inexactTol*max(1, math.Abs(wv)) {
				t.Errorf("row %d feature %s: got %v (%016x), want %v (%016x)", i+1, name, g, math.Float64bits(g), wv, math.Float64bits(wv))
			}
		}
	}
	return d
}

func unknownRow(u [][]int64, i int) []int64 {
	if u == nil {
		return nil
	}
	return u[i]
}

// TestExportMatchesTransformOnParityCases runs every scikit-learn parity
// case's fitted artifact, exported to ONNX, in ONNX Runtime on the case's
// test rows and compares with normguard transform (itself checked against
// scikit-learn by the CLI parity test).
func TestExportMatchesTransformOnParityCases(t *testing.T) {
	ortScript(t)
	dirs, _ := filepath.Glob(filepath.Join(peerDir, "*"))
	if len(dirs) == 0 {
		t.Fatal("no parity cases found")
	}
	var worst diffStats
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			a, err := fitArtifact(t, filepath.Join(d, "spec.json"), filepath.Join(d, "train.csv"))
			if err != nil {
				t.Skipf("fit refuses the training data, nothing to export: %v", err)
			}
			tr, err := transform.New(a)
			if err != nil {
				t.Fatal(err)
			}
			in := readInputs(t, tr, filepath.Join(d, "test.csv"))
			ex, got, unknown := exportRun(t, a, in, tr, ExportOptions{})
			want := transformRows(t, tr, in, ex.Features)
			st := checkAgainstTransform(t, ex, want, got, unknown, !inexact(a))
			if st.maxAbs > 0 {
				t.Logf("largest difference %.3g (%.3g of max(1, |value|); relative %.3g) in %s", st.maxAbs, st.maxScaled, st.maxRel, st.where)
			}
			worst.merge(st)
		})
	}
	t.Logf("all cases: largest difference %.3g, %.3g of max(1, |value|)", worst.maxAbs, worst.maxScaled)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
