package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

func TestRunUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: normguard-beam fit"},
		{"unknown command", []string{"frobnicate"}, "usage: normguard-beam fit"},
		{"missing flags", []string{"fit", "--spec", ""}, "missing --spec, --data, --out"},
		{"transform: missing flags", []string{"transform", "--artifact", ""}, "missing --artifact, --in, --out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			*specPath, *dataPattern, *outPath, *artifactPath, *inPattern = "", "", "", "", ""
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tc.args, &stdout, &stderr); got != exitError {
				t.Errorf("exit status %d, want %d", got, exitError)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.want)
			}
		})
	}
}

// TestRunFit fits two CSV shards on Prism and checks the artifact loads
// with the rows of both shards and the imputer's statistic, the mean of
// 1, 2, 3 and 4.
func TestRunFit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spec := write("spec.yaml", "version: 1\ncolumns:\n  - name: x\n    steps: [{simple_imputer: {strategy: mean}}, standard_scaler]\n")
	write("b.csv", "x\n3\n4\n")
	write("a.csv", "x\n1\nNA\n2\n")
	out := filepath.Join(dir, "a.json")
	*model, *modelVersion = "", ""
	var stdout, stderr bytes.Buffer
	args := []string{"fit", "--spec", spec, "--data", filepath.Join(dir, "*.csv"), "--out", out, "--runner", "prism"}
	if got := run(context.Background(), args, &stdout, &stderr); got != exitOK {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", got, exitOK, stderr.String())
	}
	a, err := artifact.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Training.Rows != 5 {
		t.Errorf("training rows %d, want 5", a.Training.Rows)
	}
	if !strings.Contains(stdout.String(), a.Digest) {
		t.Errorf("stdout %q, want the digest %s", stdout.String(), a.Digest)
	}
	imp, ok := a.Groups[0].Steps[0].Fitted.(*step.SimpleImputer)
	if !ok || len(imp.Statistics) != 1 || imp.Statistics[0] != 2.5 {
		t.Errorf("imputer fitted %+v, want statistics_ [2.5]", a.Groups[0].Steps[0].Fitted)
	}
}

// TestRunTransformValidateDrift fits on Prism, then runs transform,
// validate and drift through the command line: the shards hold every row
// under one header, a category the training never saw is an anomaly (exit
// 1, report in --out), and clean data passes validate (exit 0).
func TestRunTransformValidateDrift(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var train, cur strings.Builder
	train.WriteString("x,c\n")
	cur.WriteString("x,c\n")
	for i := range 200 {
		fmt.Fprintf(&train, "%d,%s\n", i%17, []string{"a", "b"}[i%2])
		fmt.Fprintf(&cur, "%d,%s\n", i%17, []string{"a", "b", "z"}[i%3])
	}
	spec := write("spec.yaml", "version: 1\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n  - name: c\n    type: categorical\n    steps: [one_hot_encoder]\n")
	trainPath := write("train.csv", train.String())
	curPath := write("cur.csv", cur.String())
	art := filepath.Join(dir, "a.json")
	reset := func() {
		*specPath, *dataPattern, *outPath, *artifactPath, *inPattern, *current = "", "", "", "", "", ""
		*model, *modelVersion, *format = "", "", "table"
	}
	runOK := func(want int, args ...string) string {
		t.Helper()
		reset()
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), append(args, "--runner", "prism"), &stdout, &stderr); got != want {
			t.Fatalf("%s: exit status %d, want %d; stderr:\n%s", args[0], got, want, stderr.String())
		}
		return stdout.String()
	}
	runOK(exitOK, "fit", "--spec", spec, "--data", trainPath, "--out", art)

	shards := filepath.Join(dir, "out", "part.csv")
	if err := os.Mkdir(filepath.Dir(shards), 0o755); err != nil {
		t.Fatal(err)
	}
	runOK(exitOK, "transform", "--artifact", art, "--in", trainPath, "--out", shards)
	b, err := os.ReadFile(filepath.Join(dir, "out", "part-00000-of-00001.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 201 || !strings.HasPrefix(string(b), "x,c_a,c_b\n") {
		t.Errorf("transform wrote %d lines starting %q, want a header x,c_a,c_b and 200 rows", lines, strings.SplitN(string(b), "\n", 2)[0])
	}

	// A bad value: exit 2, the error names the file's line first, and no
	// shard is left behind.
	bad := write("bad.csv", "x,c\n1,a\n2,b\n3,a\ninf,b\n")
	failed := filepath.Join(dir, "failed", "part.csv")
	if err := os.Mkdir(filepath.Dir(failed), 0o755); err != nil {
		t.Fatal(err)
	}
	reset()
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"transform", "--artifact", art, "--in", bad, "--out", failed, "--runner", "prism"}, &stdout, &stderr); got != exitError {
		t.Fatalf("transform of a bad value: exit status %d, want %d", got, exitError)
	}
	if first := strings.SplitN(stderr.String()[strings.LastIndex(stderr.String(), "normguard-beam: "):], "\n", 2)[0]; !strings.Contains(first, bad+":5:") {
		t.Errorf("error line %q, want it to name %s:5", first, bad)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "failed", "*")); len(left) != 0 {
		t.Errorf("a failed transform left %v", left)
	}

	rep := filepath.Join(dir, "validate.json")
	runOK(exitFound, "validate", "--artifact", art, "--data", curPath, "--format", "json", "--out", rep)
	b, err = os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"code": "unseen_categories"`) || !strings.Contains(string(b), `"z"`) {
		t.Errorf("validate report lacks the unseen category z:\n%s", b)
	}
	if out := runOK(exitOK, "validate", "--artifact", art, "--data", trainPath); !strings.Contains(out, "no anomaly") {
		t.Errorf("validate of the training data printed %q, want \"no anomaly\"", out)
	}
	if out := runOK(exitFound, "drift", "--artifact", art, "--current", curPath, "--format", "json"); !strings.Contains(out, `"dataset_drift"`) {
		t.Errorf("drift printed %q, want drift JSON", out)
	}
}

// TestRunFitRefusesVectorColumn checks that a spec with a vector group is
// refused before any pipeline runs, naming the column and the command
// that fits it.
func TestRunFitRefusesVectorColumn(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.yaml")
	text := "version: 1\ncolumns:\n  - name: x\n    steps: [standard_scaler]\n" +
		"  - name: emb\n    type: vector\n    steps: [{normalizer: {norm: l2}}]\n"
	if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "a.jsonl")
	if err := os.WriteFile(data, []byte(`{"x": 1, "emb": [3, 4]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"fit", "--spec", spec, "--data", data, "--out", filepath.Join(dir, "a.json"), "--runner", "prism"}
	if got := run(context.Background(), args, &stdout, &stderr); got != exitError {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", got, exitError, stderr.String())
	}
	for _, want := range []string{"columns[1] (emb) is a vector column", "normguard fit"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q, want it to contain %q", stderr.String(), want)
		}
	}
	if strings.Contains(stderr.String(), "unknown field") {
		t.Errorf("stderr %q still shows the spec re-parse error", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "a.json")); !os.IsNotExist(err) {
		t.Errorf("an artifact was written (stat: %v)", err)
	}
}
