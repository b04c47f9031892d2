package main

import (
	"bytes"
	"context"
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
