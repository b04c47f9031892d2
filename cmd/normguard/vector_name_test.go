package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestVectorColumnNamedOtherwise (attack run 18 F6): observed vectors
// under another column name than the artifact's vector column. A lone
// .npy file, whose column is named after its stem, is read as the
// artifact's only vector column: diagnose, validate, drift and transform
// of store_dump.npy give exactly what they give for the same file named
// emb.npy. A JSON Lines key that is not the column's is an error naming
// the column and the file's columns (diagnose said "all 0 features
// match", exit 0). With two vector columns the stem still names the
// column, and a stem naming neither is an error naming the rule and the
// columns (validate advised "declare it `type: vector`").
func TestVectorColumnNamedOtherwise(t *testing.T) {
	dir := t.TempDir()
	vs := gloveVectors(t)
	train, held := vs[:150], vs[150:]
	scaled := make([][]float64, len(held))
	for i, v := range held {
		scaled[i] = make([]float64, len(v))
		for k, x := range v {
			scaled[i][k] = 3 * x // 3x too long: the contract's norms rule it out
		}
	}
	dim := len(vs[0])
	writeNPYFloat32(t, filepath.Join(dir, "emb.npy"), train, dim)
	os.Mkdir(filepath.Join(dir, "named"), 0o755)
	writeNPYFloat32(t, filepath.Join(dir, "named", "emb.npy"), scaled, dim)
	writeNPYFloat32(t, filepath.Join(dir, "scaled_dump.npy"), scaled, dim)
	writeNPYFloat32(t, filepath.Join(dir, "store_dump.npy"), held, dim)
	os.Mkdir(filepath.Join(dir, "held"), 0o755)
	writeNPYFloat32(t, filepath.Join(dir, "held", "emb.npy"), held, dim)
	fed := writeVectorsJSONL(t, dir, "fed.jsonl", "vec", scaled)
	spec := filepath.Join(dir, "s.yaml")
	os.WriteFile(spec, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n"), 0o644)
	art := filepath.Join(dir, "vec.json")
	mustRun(t, "fit", "--spec", spec, "--data", filepath.Join(dir, "emb.npy"), "--out", art, "-q")

	// diagnose: the stem does not matter for a lone .npy.
	code, want, _ := runCLI(t, "diagnose", "--artifact", art, "--observed", filepath.Join(dir, "named", "emb.npy"), "--format", "json")
	if code != ExitFound || !strings.Contains(want, `"verdict": "not_normalized"`) {
		t.Fatalf("diagnose of 3x vectors as emb.npy: exit %d, %s; want 1 not_normalized", code, want)
	}
	code, got, errOut := runCLI(t, "diagnose", "--artifact", art, "--observed", filepath.Join(dir, "scaled_dump.npy"), "--format", "json")
	if code != ExitFound || got != want {
		t.Errorf("diagnose of the same vectors as scaled_dump.npy: exit %d (want 1), report\n%s\nwant the report of emb.npy\n%s\nstderr: %s", code, got, want, errOut)
	}
	// A JSON Lines key is the column's name: nothing matches, exit 2.
	code, got, errOut = runCLI(t, "diagnose", "--artifact", art, "--observed", fed)
	if code != ExitError || !strings.Contains(errOut, `has no column "emb", the artifact's vector column`) || !strings.Contains(errOut, `"vec"`) {
		t.Errorf("diagnose of vectors under key vec: exit %d (want 2), stdout %q, stderr %q; want the column and the file's columns named", code, got, errOut)
	}

	// validate and drift (the README's example): as emb.npy.
	for _, cmd := range [][]string{
		{"validate", "--artifact", art, "--data"},
		{"drift", "--artifact", art, "--format", "json", "--current"},
		{"transform", "--artifact", art, "--out", "-", "--in"},
	} {
		wcode, wout, werr := runCLI(t, append(cmd, filepath.Join(dir, "held", "emb.npy"))...)
		gcode, gout, gerr := runCLI(t, append(cmd, filepath.Join(dir, "store_dump.npy"))...)
		if wcode == ExitError {
			t.Fatalf("%s of emb.npy: exit 2: %s", cmd[0], werr)
		}
		if cmd[0] == "drift" { // the report names the file
			gout = strings.ReplaceAll(gout, filepath.Join(dir, "store_dump.npy"), filepath.Join(dir, "held", "emb.npy"))
		}
		if gcode != wcode || gout != wout {
			t.Errorf("%s of store_dump.npy: exit %d, output\n%.300s\nstderr %s\nwant exit %d and the output for emb.npy\n%.300s", cmd[0], gcode, gout, gerr, wcode, wout)
		}
	}

	// fit: a lone .npy for a spec with one vector column is that
	// column: the artifact is byte for byte the one fitted from emb.npy.
	a1, a2 := filepath.Join(dir, "fit_emb.json"), filepath.Join(dir, "fit_dump.json")
	mustRun(t, "fit", "--spec", spec, "--data", filepath.Join(dir, "held", "emb.npy"), "--out", a1, "-q")
	mustRun(t, "fit", "--spec", spec, "--data", filepath.Join(dir, "store_dump.npy"), "--out", a2, "-q")
	if string(readFile(t, a1)) != string(readFile(t, a2)) {
		t.Errorf("fit of store_dump.npy differs from fit of the same vectors as emb.npy")
	}

	// Two vector columns: the stem names the column; a stem naming
	// neither is named as the problem.
	two := make([]string, 0, len(train))
	for i, v := range train {
		two = append(two, `{"emb": `+jsonVector(v)+`, "emb2": `+jsonVector(train[len(train)-1-i])+`}`)
	}
	twoP := filepath.Join(dir, "two.jsonl")
	os.WriteFile(twoP, []byte(strings.Join(two, "\n")+"\n"), 0o644)
	spec2 := filepath.Join(dir, "s2.yaml")
	os.WriteFile(spec2, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: []\n  - name: emb2\n    type: vector\n    steps: []\n"), 0o644)
	art2 := filepath.Join(dir, "two.json")
	mustRun(t, "fit", "--spec", spec2, "--data", twoP, "--out", art2, "-q")
	for _, cmd := range []string{"validate", "drift"} {
		flag := "--data"
		if cmd == "drift" {
			flag = "--current"
		}
		code, _, errOut = runCLI(t, cmd, "--artifact", art2, flag, filepath.Join(dir, "store_dump.npy"))
		if code != ExitError || !strings.Contains(errOut, `named after the file, here "store_dump"`) || !strings.Contains(errOut, `"emb", "emb2"`) || strings.Contains(errOut, "declare it") {
			t.Errorf("%s of store_dump.npy for two vector columns: exit %d (want 2), stderr %q; want the stem rule and both columns named", cmd, code, errOut)
		}
	}
	code, _, errOut = runCLI(t, "fit", "--spec", spec2, "--data", filepath.Join(dir, "store_dump.npy"), "--out", filepath.Join(dir, "x.json"))
	if code != ExitError || !strings.Contains(errOut, `named after the file, here "store_dump"`) || !strings.Contains(errOut, "emb.npy") {
		t.Errorf("fit of store_dump.npy for two vector columns: exit %d (want 2), stderr %q; want the stem rule named", code, errOut)
	}
}

// jsonVector writes v as a JSON array.
func jsonVector(v []float64) string {
	var b strings.Builder
	b.WriteString("[")
	for k, x := range v {
		if k > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	b.WriteString("]")
	return b.String()
}
