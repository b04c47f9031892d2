package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/quickstart"
)

// TestDiffReview diffs the artifacts of the quickstart's training months
// and of June (real flights) the way a reviewer reads them: exit 1, the
// sections in review order, one-hot columns named as categories added or
// removed, the profile summarised unless --verbose; an artifact against
// itself exits 0 and a missing file 2.
func TestDiffReview(t *testing.T) {
	dir := t.TempDir()
	qs := filepath.Join(dir, "qs")
	mustRun(t, "quickstart", "--dir", qs)
	a := filepath.Join(qs, quickstart.Files.Artifact)
	b := filepath.Join(dir, "june.json")
	mustRun(t, "fit", "-q", "--spec", filepath.Join(qs, quickstart.Files.Spec), "--data", filepath.Join(qs, quickstart.Files.Later), "--out", b)

	code, out, errOut := runCLI(t, "diff", a, b)
	if code != ExitFound {
		t.Fatalf("diff of two months: exit %d, want %d\n%s%s", code, ExitFound, out, errOut)
	}
	last := -1
	for _, head := range []string{"\nmodel:", "\nspec: no change", "\nparameters:", "\nschema:", "\ntraining data:", "\nprofile:"} {
		i := strings.Index(out, head)
		if i < 0 || i < last {
			t.Errorf("section %q missing or out of order in:\n%s", head, out)
		}
		last = i
	}
	// Fitted parameters in chain order: the imputer before the scaler.
	if i, j := strings.Index(out, "~ delay.simple_imputer.statistics_:"), strings.Index(out, "~ delay.robust_scaler.center_:"); i < 0 || j < i {
		t.Errorf("want delay's imputer statistics before its scaler's center:\n%s", out)
	}
	aa, err := artifact.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := artifact.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	inB := map[string]bool{}
	for _, f := range ab.Outputs {
		inB[f.Name] = true
	}
	removed := 0
	for _, f := range aa.Outputs {
		if inB[f.Name] {
			continue
		}
		removed++
		col, cat, _ := strings.Cut(f.Name, "_")
		want := "- outputs: " + f.Name + `  (one-hot category "` + cat + `" of ` + col + " removed)"
		if !strings.Contains(out, want) {
			t.Errorf("output %s: want the line %q in:\n%s", f.Name, want, out)
		}
	}
	if removed == 0 {
		t.Fatal("no one-hot column differs between the months; the test needs one")
	}
	if strings.Contains(out, "(order)") {
		t.Errorf("the common columns keep their order, but diff reports a reordering:\n%s", out)
	}
	// The profile is summarised: one line per moved feature, no raw paths.
	if strings.Contains(out, "profile.inputs[") || !regexp.MustCompile(`(?m)^  input  delay +mean [+-]\d\.\d\d sd; std ×\d\.\d\d`).MatchString(out) {
		t.Errorf("profile summary: want a line for delay's mean and std, no raw profile paths:\n%s", out)
	}

	code, verbose, _ := runCLI(t, "diff", "--verbose", a, b)
	if code != ExitFound || !strings.Contains(verbose, "~ profile.inputs[delay].mean: ") || len(verbose) <= len(out) {
		t.Errorf("--verbose: exit %d, want %d and every profile value:\n%s", code, ExitFound, verbose)
	}

	if code, out, _ := runCLI(t, "diff", a, a); code != ExitOK || out != "identical: "+aa.Digest+"\n" {
		t.Errorf("diff A A: exit %d, output %q; want 0 and identical", code, out)
	}
	if code, _, errOut := runCLI(t, "diff", a, filepath.Join(dir, "nope.json")); code != ExitError || !strings.Contains(errOut, "nope.json") {
		t.Errorf("diff with a missing file: exit %d, stderr %q; want 2 naming the file", code, errOut)
	}
}
