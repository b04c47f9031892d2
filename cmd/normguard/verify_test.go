package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// TestVerifyNamesTheField re-digests an artifact whose ordinal encoder's
// categories are out of order (as an edit that kept the digest valid
// would leave it) and checks that verify refuses it with exit 2, naming
// the entry by its JSON path, with the message every other command gives
// when it loads the file (artifact.Load).
func TestVerifyNamesTheField(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	spec := filepath.Join(dir, "spec.yaml")
	writeTestFile(t, train, "city,x\nlyon,1\nnice,2\nparis,3\nlyon,4\n")
	writeTestFile(t, spec, "version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps: [ordinal_encoder]\n  - name: x\n    type: numeric\n    steps: [standard_scaler]\n")
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "-q", "--spec", spec, "--data", train, "--out", art)
	if out := mustRun(t, "verify", art); !strings.HasPrefix(out, "ok sha256:") {
		t.Fatalf("verify: got %q, want ok sha256:...", out)
	}

	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := a.Groups[0].Steps[0].Fitted.(*step.OrdinalEncoder)
	if !ok {
		t.Fatalf("groups[0].steps[0] is %T, want an ordinal encoder", a.Groups[0].Steps[0].Fitted)
	}
	cats := enc.Categories[0]
	cats[0], cats[1] = cats[1], cats[0] // nice, lyon, paris
	bad := filepath.Join(dir, "bad.json")
	if _, err := artifact.Save(a, bad); err != nil {
		t.Fatal(err)
	}
	_, loadErr := artifact.Load(bad)
	if loadErr == nil {
		t.Fatal("Load accepts categories out of order")
	}
	code, out, errOut := runCLI(t, "verify", bad)
	t.Logf("verify: %s", errOut)
	if code != ExitError || out != "" {
		t.Fatalf("verify: exit %d, stdout %q; want exit %d and nothing on stdout", code, out, ExitError)
	}
	const want = `groups[0].steps[0].fitted.categories_[0][1]: "lyon" comes after "nice": categories="auto" must be sorted (by code point, as not all of them are numbers)`
	if !strings.Contains(errOut, want) {
		t.Errorf("verify's stderr %q does not name %s", errOut, want)
	}
	if !strings.Contains(errOut, loadErr.Error()) {
		t.Errorf("verify's stderr %q, Load's refusal %q", errOut, loadErr)
	}
}

func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
