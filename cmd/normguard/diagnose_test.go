package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestDiagnoseCLIPairedScenarios runs `normguard diagnose` on the paired
// mismatch scenarios (testdata/mismatch-scenarios, from scikit-learn
// 1.2.1) and checks every column's verdict and the exit status.
func TestDiagnoseCLIPairedScenarios(t *testing.T) {
	for _, name := range []string{"paired_all_bugs", "paired_clean", "paired_columns_swapped"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("../../testdata/mismatch-scenarios", name)
			tmp := t.TempDir()
			art := filepath.Join(tmp, "a.json")
			mustRun(t, "fit", "-q", "--spec", filepath.Join(dir, "spec.json"), "--data", filepath.Join(dir, "train.csv"), "--out", art)
			args := []string{"diagnose", "--artifact", art, "--observed", filepath.Join(dir, "observed.csv"),
				"--raw", filepath.Join(dir, "raw.csv"), "--format", "json"}
			if _, err := os.Stat(filepath.Join(dir, "old_train.csv")); err == nil {
				old := filepath.Join(tmp, "old.json")
				mustRun(t, "fit", "-q", "--spec", filepath.Join(dir, "spec.json"), "--data", filepath.Join(dir, "old_train.csv"), "--out", old)
				args = append(args, "--candidate", old)
			}
			code, out, errOut := runCLI(t, args...)
			var want struct {
				Verdicts map[string]string `json:"verdicts"`
			}
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected.json")), &want); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Features []struct{ Name, Verdict string } `json:"features"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("exit %d, %v: %s %s", code, err, out, errOut)
			}
			allOK := true
			for _, f := range got.Features {
				if w, ok := want.Verdicts[f.Name]; ok && f.Verdict != w {
					t.Errorf("%s: got %s, want %s", f.Name, f.Verdict, w)
				}
				allOK = allOK && f.Verdict == "ok"
			}
			if len(got.Features) != len(want.Verdicts) {
				t.Errorf("got %d columns, want %d", len(got.Features), len(want.Verdicts))
			}
			if wantCode := map[bool]int{true: ExitOK, false: ExitFound}[allOK]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
		})
	}
}

// TestDiagnoseCLIUnpaired runs unpaired diagnose on the unpaired scenario,
// with the batch size given and searched.
func TestDiagnoseCLIUnpaired(t *testing.T) {
	dir := "../../testdata/mismatch-scenarios/unpaired_distribution"
	art := filepath.Join(t.TempDir(), "a.json")
	mustRun(t, "fit", "-q", "--spec", filepath.Join(dir, "spec.json"), "--data", filepath.Join(dir, "train.csv"), "--out", art)
	var want struct {
		Verdicts map[string]string `json:"verdicts"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected.json")), &want); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--batch-size", "128"}, nil} {
		args := append([]string{"diagnose", "--artifact", art, "--observed", filepath.Join(dir, "observed.csv"), "--format", "json"}, extra...)
		code, out, errOut := runCLI(t, args...)
		if code != ExitFound {
			t.Fatalf("%v: exit %d, want %d: %s", extra, code, ExitFound, errOut)
		}
		var got struct {
			Features []struct{ Name, Verdict string } `json:"features"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		for _, f := range got.Features {
			if w := want.Verdicts[f.Name]; f.Verdict != w {
				t.Errorf("%v %s: got %s, want %s", extra, f.Name, f.Verdict, w)
			}
		}
		if len(got.Features) != len(want.Verdicts) {
			t.Errorf("%v: got %d columns, want %d", extra, len(got.Features), len(want.Verdicts))
		}
	}
	if code, _, errOut := runCLI(t, "diagnose", "--artifact", art, "--observed", filepath.Join(dir, "observed.csv"), "--raw", filepath.Join(dir, "observed.csv"), "--batch-size", "5"); code != ExitError || errOut == "" {
		t.Errorf("--batch-size with --raw: exit %d, want %d", code, ExitError)
	}
}
