package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDriftVectorRowNotSampleRowRun20 (attack run 20 F6): drift
// --artifact named an invalid vector by its place in the seeded sample
// it draws ("current row 674", a clean row of the file) instead of its
// row in the file (4321). The sample's rows are not the file's: the
// error now names no row and points to validate's nan_vectors, which
// lists the file's row; drift --reference --current still names it.
func TestDriftVectorRowNotSampleRowRun20(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(6, 20))
	unit := func(s float64) []float64 { return randomVector(rng, s) }
	var train strings.Builder
	for range 300 {
		fmt.Fprintf(&train, `{"emb": %s}`+"\n", jsonVector(unit(1)))
	}
	tr := filepath.Join(dir, "train.jsonl")
	os.WriteFile(tr, []byte(train.String()), 0o644)
	sp := filepath.Join(dir, "s.yaml")
	os.WriteFile(sp, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n"), 0o644)
	art := filepath.Join(dir, "m.json")
	mustRun(t, "fit", "-q", "--spec", sp, "--data", tr, "--out", art)
	for _, bad := range []string{"nan", "huge"} {
		var cur strings.Builder
		for i := range 5000 {
			v := jsonVector(unit(1))
			if i == 4321 {
				if bad == "nan" {
					v = strings.Replace(v, "[", "[null, ", 1)
					v = v[:strings.LastIndex(v, ",")] + "]" // still 8 values, the first null (NaN)
				} else {
					v = jsonVector(unit(1e160))
				}
			}
			fmt.Fprintf(&cur, `{"emb": %s}`+"\n", v)
		}
		f := filepath.Join(dir, bad+".jsonl")
		os.WriteFile(f, []byte(cur.String()), 0o644)
		code, _, errOut := runCLI(t, "drift", "--artifact", art, "--current", f)
		if code != ExitError {
			t.Fatalf("%s: drift --artifact exit %d, want 2\n%s", bad, code, errOut)
		}
		if strings.Contains(errOut, "current row") || !strings.Contains(errOut, "its row in the data is not known here") || !strings.Contains(errOut, "nan_vectors") {
			t.Errorf("%s: drift --artifact: %q, want no sample row named and validate's nan_vectors pointed to", bad, errOut)
		}
		_, vout, _ := runCLI(t, "validate", "--artifact", art, "--data", f)
		if !strings.Contains(vout, "rows [4321]") {
			t.Errorf("%s: validate does not list row 4321: %s", bad, vout)
		}
		// The full files, unsampled: the file's row is named.
		_, _, errOut = runCLI(t, "drift", "--reference", tr, "--current", f)
		if !strings.Contains(errOut, "current row 4321") {
			t.Errorf("%s: drift --reference --current: %q, want current row 4321", bad, errOut)
		}
	}
}
