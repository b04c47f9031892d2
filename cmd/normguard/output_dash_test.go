package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutDashIsStandardOutput (attack run 18 F7d): --out - wrote a file
// named "-" for fit, export, bundle, drift, validate, diagnose and monitor
// replay (fit and export printed "-> -"), standard output empty, exit 0.
// "-" is standard output, as for transform and pull: what a command writes
// there is byte for byte what it writes to a file, no file "-" is left,
// and two outputs both "-" are refused.
func TestOutDashIsStandardOutput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var b strings.Builder
	b.WriteString("t,a\n")
	for i := range 60 {
		b.WriteString("2026-01-0" + string(rune('1'+i/10)) + "," + string(rune('0'+i%10)) + "\n")
	}
	os.WriteFile("train.csv", []byte(b.String()), 0o644)
	os.WriteFile("s.yaml", []byte("version: 1\ncolumns:\n  - name: a\n    steps: [{standard_scaler: {}}]\n"), 0o644)
	mustRun(t, "fit", "--spec", "s.yaml", "--data", "train.csv", "--out", "a.json", "-q")
	mustRun(t, "transform", "--artifact", "a.json", "--in", "train.csv", "--out", "f.csv", "-q")
	cases := [][]string{
		{"fit", "--spec", "s.yaml", "--data", "train.csv", "-q"},
		{"export", "--artifact", "a.json", "-q"},
		{"drift", "--artifact", "a.json", "--current", "train.csv", "--format", "json"},
		{"validate", "--artifact", "a.json", "--data", "train.csv", "--format", "json"},
		{"diagnose", "--artifact", "a.json", "--observed", "f.csv", "--raw", "train.csv", "--format", "json"},
		{"monitor", "replay", "--artifact", "a.json", "--data", "train.csv", "--time-column", "t", "--window", "1d", "--format", "json"},
	}
	for _, c := range cases {
		name := strings.Join(c[:2], " ")
		file := filepath.Join(dir, "out.x")
		wcode, _, werr := runCLI(t, append(c, "--out", file)...)
		want := readFile(t, file)
		os.Remove(file)
		code, stdout, errOut := runCLI(t, append(c, "--out", "-")...)
		if code != wcode || stdout != string(want) || len(want) == 0 {
			t.Errorf("%s --out -: exit %d, %d bytes on standard output; want exit %d and the %d bytes --out FILE writes\nstderr: %s %s", name, code, len(stdout), wcode, len(want), errOut, werr)
		}
		if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
			t.Errorf("%s --out -: wrote a file named \"-\"", name)
			os.Remove(filepath.Join(dir, "-"))
		}
	}
	// fit and export say where the output went, not "-> -".
	_, _, errOut := runCLI(t, "fit", "--spec", "s.yaml", "--data", "train.csv", "--out", "-")
	if !strings.Contains(errOut, "-> standard output") {
		t.Errorf("fit --out - says %q, want it to name standard output", errOut)
	}
	// Two outputs on standard output would be mixed: refused.
	code, stdout, errOut := runCLI(t, "fit", "--spec", "s.yaml", "--data", "train.csv", "--out", "-", "--transform-out", "-")
	if code != ExitError || stdout != "" || !strings.Contains(errOut, "both name standard output") {
		t.Errorf("fit --out - --transform-out -: exit %d, %d bytes out, stderr %q; want exit 2 naming both", code, len(stdout), errOut)
	}
}
