package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutOverStateFilesAndRegistryRefused (attack run 22 F9): --out
// naming a file kept beside --state (its marker, the vector journal)
// replaced it, exit 0, and the next serve refused the state or lost the
// vectors; pull --out naming a file of the --registry folder replaced it,
// damaging the registry. Both are refused before anything is read, exit
// 2, the files left as they were.
func TestOutOverStateFilesAndRegistryRefused(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "st.db")
	for _, suffix := range append([]string{""}, stateCompanions...) {
		if err := os.WriteFile(state+suffix, []byte("kept "+suffix), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, suffix := range stateCompanions {
		code, _, stderr := runCLI(t, "monitor", "export", "--state", state, "--out", state+suffix)
		if code != ExitError || !strings.Contains(stderr, "--out and --state name the same file") {
			t.Errorf("export --out %s: exit %d, %q; want exit 2 naming --out and --state", suffix, code, stderr)
		}
		if got := readFile(t, state+suffix); string(got) != "kept "+suffix {
			t.Errorf("export --out %s changed the file: %q", suffix, got)
		}
	}

	good := fitGood(t, dir)
	reg := filepath.Join(dir, "reg")
	mustRun(t, "push", good, "--registry", reg, "--model", "m", "--model-version", "1")
	current := filepath.Join(reg, "models", "m", "current.json")
	before := readFile(t, current)
	for _, out := range []string{current, filepath.Join(reg, "models", "m", "versions", "1.json"), filepath.Join(reg, "new.json")} {
		code, _, stderr := runCLI(t, "pull", "m@1", "--registry", reg, "--out", out)
		if code != ExitError || !strings.Contains(stderr, "inside the registry folder --registry names") {
			t.Errorf("pull --out %s: exit %d, %q; want exit 2 naming the registry folder", out, code, stderr)
		}
	}
	if !bytes.Equal(readFile(t, current), before) {
		t.Error("a refused pull changed current.json")
	}
	if _, err := os.Stat(filepath.Join(reg, "new.json")); err == nil {
		t.Error("a refused pull wrote into the registry folder")
	}
	// Beside the registry folder (a name it starts with) is fine.
	mustRun(t, "pull", "m@1", "--registry", reg, "--out", reg+"-copy.json")
	if !bytes.Equal(readFile(t, reg+"-copy.json"), readFile(t, good)) {
		t.Error("pull beside the registry did not write the artifact")
	}
}
