package onnx

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/transform"
)

// semanticsSpec exercises what the parity cases do not: values normguard
// transform refuses (NaN into binarizer, normalizer and kbins, box-cox of
// x <= 0, unknown categories with handle_unknown error), the missing
// category of encoders fitted without an imputer, a -0 fill value and
// clip bound, float32 kbins, and numeric and text passthrough.
const semanticsSpec = `version: 1
remainder: passthrough
columns:
  - name: b
    type: numeric
    steps: [{binarizer: {threshold: 0.5}}]
  - names: [r1, r2]
    type: numeric
    steps: [{normalizer: {norm: max}}]
  - name: k
    type: numeric
    steps: [{kbins_discretizer: {n_bins: 3, encode: onehot-dense, strategy: uniform, dtype: float32}}]
  - name: pos
    type: numeric
    steps: [{power_transformer: {method: box-cox, standardize: false}}]
  - name: m
    type: numeric
    steps:
      - simple_imputer: {strategy: constant, fill_value: -0.0, add_indicator: true}
      - min_max_scaler: {feature_range: [-0.0, 1.0], clip: true}
  - name: c1
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: error, drop: first}}]
  - name: c2
    type: categorical
    steps: [{ordinal_encoder: {handle_unknown: use_encoded_value, unknown_value: -1}}]
  - name: c3
    type: categorical
    steps:
      - simple_imputer: {strategy: constant, fill_value: zz}
      - one_hot_encoder: {handle_unknown: infrequent_if_exist, min_frequency: 3}
  - name: c4
    type: categorical
    steps: [{ordinal_encoder: {}}]
`

const semanticsTrain = `b,r1,r2,k,pos,m,c1,c2,c3,c4,p,id
0.1,1,2,0.0,1.5,-3,x,u,s,a,10,r1
0.9,-4,2,1.0,2.5,,y,v,s,b,11,r2
0.5,0,0,2.0,0.5,4,,u,t,a,12,r3
1.2,3,-6,3.0,3.5,0,x,,s,b,13,r4
-1,1e-300,0,0.3,4.5,-0.0,y,v,,a,14,r5
2,5,5,2.9,1.25,7,x,u,t,b,15,r6
0.3,7,1,1.7,6,2,,w,q,a,16,r7
0.7,-2,-2,0.4,0.75,,y,u,s,b,17,r8
`

const semanticsTest = `b,r1,r2,k,pos,m,c1,c2,c3,c4,p,id
0.1,1,2,0.0,1.5,-3,x,u,s,a,10,r1
,1,2,1.5,2,1,y,v,t,b,1.5,x
0.6,,2,1.5,2,1,x,u,s,a,-0.0,y
0.6,1,2,,2,1,x,u,s,a,7,z
0.6,1,2,1.5,0,1,x,u,s,a,7,w
0.6,1,2,1.5,-2,1,x,u,s,a,7,w
0.6,1,2,1.5,2,,x,u,s,a,7,w
0.6,1,2,1.5,2,-100,new,u,s,a,7,w
0.6,1,2,1.5,2,100,,new,,a,7,w
0.6,0,0,1.5,2,1,x,,q,new,7,w
0.6,-0.0,0,-5,2,1,y,w,qq,,7,w
0.6,-0.0,0,99,2,1,x,v,t,b,-0.0,w
`

// TestExportSemantics runs an artifact built to hit every edge the
// kernels handle, row by row against normguard transform: values it
// refuses give NaN (or an unknown flag) in the graph, the rest the same
// bits (box-cox within powerMaxRel).
func TestExportSemantics(t *testing.T) {
	ortScript(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"spec.yaml": semanticsSpec, "train.csv": semanticsTrain, "test.csv": semanticsTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := fitArtifact(t, filepath.Join(dir, "spec.yaml"), filepath.Join(dir, "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	in := readInputs(t, tr, filepath.Join(dir, "test.csv"))
	ex, got, unknown := exportRun(t, a, in, tr, ExportOptions{})
	want := transformRows(t, tr, in, ex.Features)

	if len(ex.Dropped) != 1 || ex.Dropped[0] != "id" {
		t.Errorf("dropped %v, want [id]", ex.Dropped)
	}
	if ex.Features[len(ex.Features)-1] != "p" {
		t.Errorf("last feature %q, want the numeric passthrough p", ex.Features[len(ex.Features)-1])
	}
	if want := []string{"c1", "c2", "c3", "c4"}; jsonList(ex.Unknown) != jsonList(want) {
		t.Errorf("unknown columns %v, want %v", ex.Unknown, want)
	}
	refused := 0
	for i, w := range want {
		if w.err != nil {
			refused++
			t.Logf("row %d refused by normguard transform: %v", i+2, w.err)
			continue
		}
		for k, name := range ex.Features {
			g, v := got[i][k], w.out[k]
			if math.Float64bits(g) == math.Float64bits(v) || (math.IsNaN(g) && math.IsNaN(v)) {
				continue
			}
			if name == "pos" && math.Abs(g-v) <= powerMaxRel*math.Abs(v) {
				continue
			}
			t.Errorf("row %d feature %s: got %v (%016x), want %v (%016x)", i+2, name, g, math.Float64bits(g), v, math.Float64bits(v))
		}
	}
	if refused < 6 {
		t.Errorf("normguard transform refuses %d rows, the test data has 6 it must refuse", refused)
	}

	col := func(name string) int {
		k := indexOf(ex.Features, name)
		if k < 0 {
			t.Fatalf("no feature %q in %v", name, ex.Features)
		}
		return k
	}
	// Line 3: b is missing -> binarizer refuses -> NaN.
	if g := got[1][col("b")]; !math.IsNaN(g) {
		t.Errorf("binarizer of NaN: got %v, want NaN", g)
	}
	// Line 4: r1 missing -> the whole normalizer row is NaN.
	if g := got[2][col("r2")]; !math.IsNaN(g) {
		t.Errorf("normalizer row with NaN: r2 got %v, want NaN", g)
	}
	// Line 5: k missing -> every kbins column NaN.
	if g := got[3][col("k_0.0")]; !math.IsNaN(g) {
		t.Errorf("kbins of NaN: got %v, want NaN", g)
	}
	// Lines 6, 7: box-cox of 0 and -2 -> NaN.
	for _, i := range []int{4, 5} {
		if g := got[i][col("pos")]; !math.IsNaN(g) {
			t.Errorf("line %d box-cox of x <= 0: got %v, want NaN", i+2, g)
		}
	}
	// Line 9: c1 "new" with handle_unknown error -> its columns NaN,
	// flagged.
	if g := got[7][col("c1_y")]; !math.IsNaN(g) || unknown[7][0] != 1 {
		t.Errorf("unknown c1 with handle_unknown error: got %v flag %d, want NaN and 1", g, unknown[7][0])
	}
	// Line 10: c1 missing is the training category "nan" (known); c2
	// "new" is unknown -> -1, flagged; c3 missing is imputed to zz, a
	// category of the encoder fitted after the imputer (an infrequent one:
	// one training row), so known, in the infrequent column.
	if unknown[8][0] != 0 || unknown[8][1] != 1 || unknown[8][2] != 0 || got[8][col("c2")] != -1 || got[8][col("c3_infrequent_sklearn")] != 1 {
		t.Errorf("line 10: flags %v, c2 %v; want c1 known, c2 unknown coded -1", unknown[8], got[8][col("c2")])
	}
	// Line 11: c2 missing is the training category encoded as NaN; c4
	// "new" with handle_unknown error -> NaN, flagged.
	if !math.IsNaN(got[9][col("c2")]) || unknown[9][1] != 0 || unknown[9][3] != 1 || !math.IsNaN(got[9][col("c4")]) {
		t.Errorf("line 11: c2 %v c4 %v flags %v", got[9][col("c2")], got[9][col("c4")], unknown[9])
	}
	// Line 12: c3 "qq" was never seen: infrequent column, flagged.
	if got[10][col("c3_infrequent_sklearn")] != 1 || unknown[10][2] != 1 {
		t.Errorf("line 12: c3 unknown to the infrequent column: got %v, flag %d", got[10][col("c3_infrequent_sklearn")], unknown[10][2])
	}
	// Line 13: -0 survives the normalizer (a zero row divides by 1) and
	// the numeric passthrough.
	for _, name := range []string{"r1", "p"} {
		g, w := got[11][col(name)], want[11].out[col(name)]
		if g != 0 || !math.Signbit(g) || !math.Signbit(w) {
			t.Errorf("line 13 %s: got %v, want -0 (normguard transform: %v)", name, g, w)
		}
	}
}
