package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputFolderErrors: --out into a missing folder names the folder,
// and a folder passed as data says it is a folder.
func TestOutputFolderErrors(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	missing := filepath.Join(dir, "nodir")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"fit --out", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", bad("train.csv"), "--out", filepath.Join(missing, "a.json")}, "folder " + missing + " does not exist"},
		{"transform --out", []string{"transform", "--artifact", good, "--in", bad("train.csv"), "--out", filepath.Join(missing, "x.csv")}, "folder " + missing + " does not exist"},
		{"fit --data folder", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", dir, "--out", filepath.Join(dir, "b.json")}, dir + " is a folder"},
		{"transform --in folder", []string{"transform", "--artifact", good, "--in", dir, "--out", filepath.Join(dir, "y.csv")}, dir + " is a folder"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != ExitError || !strings.Contains(stderr, c.want) || strings.Contains(stderr, ".tmp") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", c.name, code, stderr, c.want)
		}
	}
}

// TestOrphanTempFilesRemoved: a temporary file left beside an output by
// a process that has ended is removed by the next transform writing
// there; the output is written.
func TestOrphanTempFilesRemoved(t *testing.T) {
	good := fitGood(t, t.TempDir())
	dir := t.TempDir() // written to for the first time by the transform below
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, fmt.Sprintf(".out.csv.normguard-tmp-%d-1700000000-123", cmd.Process.Pid))
	if err := os.WriteFile(orphan, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "transform", "--artifact", good, "--in", bad("train.csv"), "--out", filepath.Join(dir, "out.csv"))
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan %s still there (%v)", orphan, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err != nil {
		t.Errorf("output: %v", err)
	}
}
