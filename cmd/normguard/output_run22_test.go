package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
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
	// A companion that does not exist yet is refused too (attack run 26).
	fresh := filepath.Join(dir, "fresh.db")
	if err := os.WriteFile(fresh, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "monitor", "export", "--state", fresh, "--out", fresh+".vectors.json"); code != ExitError || !strings.Contains(stderr, "the vector windows' snapshot") {
		t.Errorf("export --out a companion not yet there: exit %d, %q; want exit 2 naming the vector snapshot", code, stderr)
	}
	if _, err := os.Stat(fresh + ".vectors.json"); err == nil {
		t.Error("a refused export wrote the vector snapshot")
	}
	for _, suffix := range stateCompanions {
		code, _, stderr := runCLI(t, "monitor", "export", "--state", state, "--out", state+suffix)
		if code != ExitError || !strings.Contains(stderr, "a file serve keeps beside --state") {
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

// TestStateGivenByALink (attack run 24 F3, F8): a --state naming a link
// to a state had its companions looked for beside the link: serve
// refused a sound state as damaged (marker missing) and export's --out
// over the state's marker went through. The companions are those of the
// file the link names, unless the link has its own (a state always
// given by the link); pull --out naming a link into the registry folder
// is refused too (F2).
func TestStateGivenByALink(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "st.db")
	mon, err := monitor.Open(state, monitor.Options{EvalInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Close(); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "state-link")
	if err := os.Symlink(state, link); err != nil {
		t.Fatal(err)
	}
	if got := stateFile(link); got != state {
		t.Fatalf("stateFile(link) = %q, want %q", got, state)
	}
	mark := readFile(t, state+".mark")
	code, _, stderr := runCLI(t, "monitor", "export", "--state", link, "--out", state+".mark")
	if code != ExitError || !strings.Contains(stderr, "a file serve keeps beside --state") || !bytes.Equal(readFile(t, state+".mark"), mark) {
		t.Errorf("export --state link --out the marker: exit %d, %q; want exit 2, the marker kept", code, stderr)
	}
	if code, _, stderr := runCLI(t, "monitor", "export", "--state", link, "--out", filepath.Join(dir, "e.json")); code != ExitOK {
		t.Errorf("export --state link: exit %d, %q; want 0", code, stderr)
	}
	// A state always given by its link keeps its companions there.
	own := filepath.Join(dir, "own-link")
	if err := os.Symlink(state, own); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own+".mark", mark, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := stateFile(own); got != own {
		t.Errorf("stateFile of a link with its own marker = %q, want the link", got)
	}

	good := fitGood(t, dir)
	reg := filepath.Join(dir, "reg")
	mustRun(t, "push", good, "--registry", reg, "--model", "m", "--model-version", "1")
	current := filepath.Join(reg, "models", "m", "current.json")
	lnk := filepath.Join(dir, "lnk")
	if err := os.Symlink(current, lnk); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, current)
	if code, _, stderr := runCLI(t, "pull", "m@1", "--registry", reg, "--out", lnk); code != ExitError || !strings.Contains(stderr, "inside the registry folder") {
		t.Errorf("pull --out a link to current.json: exit %d, %q; want exit 2", code, stderr)
	}
	if !bytes.Equal(readFile(t, current), before) {
		t.Error("a refused pull changed current.json")
	}
}
