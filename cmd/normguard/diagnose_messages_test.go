package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiagnoseRawErrorNamesFileAndLine (attack run 18 F7c): a raw value
// whose feature overflows was reported as "raw:1"; it is named by file
// and line, as transform names it (big.csv:2: the header is line 1).
func TestDiagnoseRawErrorNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a\n")
	rng := rand.New(rand.NewPCG(1, 1))
	for range 300 {
		fmt.Fprintf(&b, "%v\n", 1+rng.Float64()*1e-10) // std ~3e-11: 1e300 overflows
	}
	train := filepath.Join(dir, "train.csv")
	os.WriteFile(train, []byte(b.String()), 0o644)
	sp := filepath.Join(dir, "s.yaml")
	os.WriteFile(sp, []byte("version: 1\ncolumns:\n  - name: a\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "--spec", sp, "--data", train, "--out", art, "-q")
	obs := filepath.Join(dir, "obs.csv")
	os.WriteFile(obs, []byte("a\n0\n0\n0\n"), 0o644)
	big := filepath.Join(dir, "big.csv")
	os.WriteFile(big, []byte("a\n1\n1e300\n1\n"), 0o644) // the bad value is on line 3
	_, _, terr := runCLI(t, "transform", "--artifact", art, "--in", big, "--out", filepath.Join(dir, "o.csv"))
	if !strings.Contains(terr, big+":3: ") {
		t.Fatalf("transform names %q; the test expects %s:3", terr, big)
	}
	code, _, errOut := runCLI(t, "diagnose", "--artifact", art, "--observed", obs, "--raw", big)
	if code != ExitError || !strings.Contains(errOut, big+":3: standard_scaler") || strings.Contains(errOut, "raw:") {
		t.Errorf("diagnose --raw: exit %d, %q; want exit 2 naming %s:3", code, errOut, big)
	}
}

// TestDiagnoseUnpairedVectorAndFeatures (attack run 18 F7f): diagnose
// without --raw of a fresh artifact holding a vector column and a feature
// said "the artifact has no profile of its outputs; refit it", and a
// refit said the same. The output profile is kept with the feature: the
// artifact's own output is judged ok (exit 0, both columns judged), and
// the feature fed unscaled is not_normalized (exit 1).
func TestDiagnoseUnpairedVectorAndFeatures(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(2, 2))
	var train, good, bad strings.Builder
	for range 300 {
		v := make([]float64, 8)
		n := 0.0
		for k := range v {
			v[k] = rng.NormFloat64()
			n += v[k] * v[k]
		}
		for k := range v {
			v[k] /= math.Sqrt(n)
		}
		x := 5 + rng.NormFloat64()
		fmt.Fprintf(&train, `{"emb": %s, "x": %v}`+"\n", jsonVector(v), x)
	}
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(train.String()), 0o644)
	sp := filepath.Join(dir, "m.yaml")
	os.WriteFile(sp, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n  - name: x\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	art := filepath.Join(dir, "m.json")
	mustRun(t, "fit", "--spec", sp, "--data", filepath.Join(dir, "t.jsonl"), "--out", art, "-q")
	feats := filepath.Join(dir, "f.jsonl")
	mustRun(t, "transform", "--artifact", art, "--in", filepath.Join(dir, "t.jsonl"), "--out", feats, "-q")
	// The features as the store holds them: the vector whole, x scaled;
	// and the same with x as it came (never scaled).
	raw := strings.Split(strings.TrimSpace(train.String()), "\n")
	for i, l := range strings.Split(strings.TrimSpace(string(readFile(t, feats))), "\n") {
		var d map[string]float64
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		v := make([]float64, 8)
		for k := range v {
			v[k] = d[fmt.Sprintf("emb_%d", k)]
		}
		var r struct{ X float64 }
		json.Unmarshal([]byte(raw[i]), &r)
		fmt.Fprintf(&good, `{"emb": %s, "x": %v}`+"\n", jsonVector(v), d["x"])
		fmt.Fprintf(&bad, `{"emb": %s, "x": %v}`+"\n", jsonVector(v), r.X)
	}
	goodP, badP := filepath.Join(dir, "good.jsonl"), filepath.Join(dir, "bad.jsonl")
	os.WriteFile(goodP, []byte(good.String()), 0o644)
	os.WriteFile(badP, []byte(bad.String()), 0o644)
	verdicts := func(path string) (int, map[string]string, string) {
		code, out, errOut := runCLI(t, "diagnose", "--artifact", art, "--observed", path, "--format", "json")
		var rep struct {
			Features []struct{ Name, Verdict string } `json:"features"`
		}
		json.Unmarshal([]byte(out), &rep)
		got := map[string]string{}
		for _, f := range rep.Features {
			got[f.Name] = f.Verdict
		}
		return code, got, errOut
	}
	code, got, errOut := verdicts(goodP)
	if code != ExitOK || len(got) != 2 || got["emb"] != "ok" || got["x"] != "ok" {
		t.Errorf("diagnose of the artifact's own features: exit %d, %v, stderr %q; want 0, emb and x ok", code, got, errOut)
	}
	code, got, errOut = verdicts(badP)
	if code != ExitFound || got["emb"] != "ok" || got["x"] != "not_normalized" {
		t.Errorf("diagnose with x unscaled: exit %d, %v, stderr %q; want 1, emb ok and x not_normalized", code, got, errOut)
	}
}
