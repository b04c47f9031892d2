package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFitRefusesJSONLTextNotUTF8: two Latin-1 categories in a .jsonl file,
// "caf\xe9" and "caf\xe8", were read as encoding/json reads them, both
// "caf\uFFFD", and fit one category for them, exit 0 (attack run 32 F2);
// the same bytes in CSV were refused. Refused as CSV's are: exit 2, the
// file, line, column and value, the iconv command, nothing written.
func TestFitRefusesJSONLTextNotUTF8(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "c.yaml")
	writeTestFile(t, specPath, "version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps: [one_hot_encoder: {}]\n")
	data := filepath.Join(dir, "c.jsonl")
	writeTestFile(t, data, "{\"city\":\"bar\"}\n{\"city\":\"caf\xe9\"}\n{\"city\":\"caf\xe8\"}\n")
	out := filepath.Join(dir, "c.json")
	code, _, errOut := runCLI(t, "fit", "--spec", specPath, "--data", data, "--out", out)
	if code != ExitError {
		t.Fatalf("fit: exit %d, want %d\nstderr: %s", code, ExitError, errOut)
	}
	for _, want := range []string{"c.jsonl:2: column \"city\"", `"caf\xe9"`, "not UTF-8", "iconv -f WINDOWS-1252 -t UTF-8"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("fit: stderr %q, want it to hold %q", errOut, want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("fit wrote %s although it refused the data (stat: %v)", out, err)
	}

	// The same categories in UTF-8 are three.
	writeTestFile(t, data, "{\"city\":\"bar\"}\n{\"city\":\"caf\u00e9\"}\n{\"city\":\"caf\u00e8\"}\n")
	mustRun(t, "fit", "--spec", specPath, "--data", data, "--out", out)
	art := string(readFile(t, out))
	if strings.Contains(art, "\uFFFD") || strings.Contains(art, `\ufffd`) {
		t.Errorf("the artifact holds U+FFFD")
	}
	for _, c := range []string{`"bar"`, `"caf\u00e9"`, `"caf\u00e8"`} {
		if !strings.Contains(art, c) && !strings.Contains(art, strings.NewReplacer(`\u00e9`, "\u00e9", `\u00e8`, "\u00e8").Replace(c)) {
			t.Errorf("artifact lacks the category %s", c)
		}
	}
}

// TestTransformRefusesJSONLTextNotUTF8: passed-through text that is not
// UTF-8 read from a .jsonl file became "ab\uFFFDc" in every output format,
// exit 0 (attack run 32 F2). Refused naming the line, column and value, to
// every output; such text in a column the artifact does not read is skipped.
func TestTransformRefusesJSONLTextNotUTF8(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "tr.csv")
	writeTestFile(t, train, "x,name\n1,abc\n2,def\n3,ghi\n")
	pass := filepath.Join(dir, "pass.yaml")
	writeTestFile(t, pass, "version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    type: numeric\n    steps: [standard_scaler: {}]\n")
	artPass := filepath.Join(dir, "pass.json")
	mustRun(t, "fit", "--spec", pass, "--data", train, "--out", artPass)

	in := filepath.Join(dir, "bad.jsonl")
	writeTestFile(t, in, "{\"x\":1,\"name\":\"abc\"}\n{\"x\":2,\"name\":\"ab\xe9c\"}\n")
	for _, ext := range []string{"csv", "jsonl", "parquet"} {
		out := filepath.Join(dir, "o."+ext)
		code, _, errOut := runCLI(t, "transform", "--artifact", artPass, "--in", in, "--out", out)
		if code != ExitError {
			t.Fatalf(".%s: exit %d, want %d\nstderr: %s", ext, code, ExitError, errOut)
		}
		for _, want := range []string{"bad.jsonl:2: column \"name\"", `"ab\xe9c"`, "not UTF-8", "iconv"} {
			if !strings.Contains(errOut, want) {
				t.Errorf(".%s: stderr %q, want it to hold %q", ext, errOut, want)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf(".%s: %s was written although transform refused its input (stat: %v)", ext, out, err)
		}
	}

	// Dropped by the artifact, the column is not read: as in a CSV file.
	drop := filepath.Join(dir, "drop.yaml")
	writeTestFile(t, drop, "version: 1\nremainder: drop\ncolumns:\n  - name: x\n    type: numeric\n    steps: [standard_scaler: {}]\n")
	artDrop := filepath.Join(dir, "drop.json")
	mustRun(t, "fit", "--spec", drop, "--data", train, "--out", artDrop)
	out := filepath.Join(dir, "dropped.csv")
	mustRun(t, "transform", "--artifact", artDrop, "--in", in, "--out", out)
	if got := strings.Count(string(readFile(t, out)), "\n"); got != 3 {
		t.Errorf("dropped: got %d lines, want a header and 2 rows:\n%s", got, readFile(t, out))
	}
}
