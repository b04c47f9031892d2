package tempfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestSweepRemovesOrphansOnly: a file of an ended process and one of a
// reused pid (same pid, another start time) are removed; files of this
// process, of a running process and foreign names are kept.
func TestSweepRemovesOrphansOnly(t *testing.T) {
	if _, ok := processStart(os.Getpid()); !ok {
		t.Skip("no /proc")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	dead := cmd.Process.Pid
	parent := os.Getppid()
	parentStart, ok := processStart(parent)
	if !ok {
		t.Skip("parent start unreadable")
	}
	dir := t.TempDir()
	files := map[string]bool{ // name → kept
		fmt.Sprintf(".a.csv%s%d-%d-1", marker, dead, selfStart):         false,
		fmt.Sprintf(".b.csv%s%d-%d-2", marker, selfPid, selfStart-3600): false, // pid reused
		fmt.Sprintf(".c.csv%s%d-%d-3", marker, selfPid, selfStart):      true,
		fmt.Sprintf(".d.csv%s%d-%d-4", marker, parent, parentStart):     true,
		".e.csv.tmp-12345": true,
		"f.csv":            true,
		fmt.Sprintf(".g.csv%sx-%d-5", marker, selfStart): true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := Sweep(dir); n != 2 {
		t.Errorf("Sweep removed %d files, want 2", n)
	}
	got := names(t, dir)
	for name, kept := range files {
		if slices.Contains(got, name) != kept {
			t.Errorf("%s: kept = %v, want %v", name, !kept, kept)
		}
	}
}

// TestCreateNamesItsOwner: Create's file names this process, and a
// missing folder is named in an error that wraps fs.ErrNotExist.
func TestCreateNamesItsOwner(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, "out.csv")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	pid, start, ok := owner(filepath.Base(f.Name()))
	if !ok || pid != os.Getpid() || start != selfStart || !strings.HasPrefix(filepath.Base(f.Name()), ".out.csv"+marker) {
		t.Errorf("name %s: got pid %d start %d (%v), want %d %d", f.Name(), pid, start, ok, os.Getpid(), selfStart)
	}
	missing := filepath.Join(dir, "nodir")
	_, err = Create(missing, "x.csv")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "folder "+missing+" does not exist") {
		t.Errorf("got %v, want the missing folder named", err)
	}
}
