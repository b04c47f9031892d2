package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffWideGroup: a group of many columns is named in diff's lines by
// its first columns, its last, its count and a hash, not by all of them:
// one group of 1,000 columns made every changed parameter's line carry
// all 1,000 names (14 MB of output, 40 s; 2,000 columns ran past two
// minutes) (attack run 9, F4).
func TestDiffWideGroup(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	names := make([]string, n)
	for j := range names {
		names[j] = fmt.Sprintf("f%d", j)
	}
	spec := filepath.Join(dir, "wide.yaml")
	if err := os.WriteFile(spec, []byte("version: 1\ncolumns:\n  - names: ["+strings.Join(names, ",")+"]\n    type: numeric\n    steps:\n      - standard_scaler: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, shift := range []int{0, 1} {
		var b strings.Builder
		b.WriteString(strings.Join(names, ",") + "\n")
		for i := 0; i < 4; i++ {
			for j := range names {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%d", i*(j%7+shift)+j)
			}
			b.WriteByte('\n')
		}
		data := filepath.Join(dir, fmt.Sprintf("d%d.csv", k))
		if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "fit", "--spec", spec, "--data", data, "--out", filepath.Join(dir, fmt.Sprintf("a%d.json", k)))
	}
	code, out, errOut := runCLI(t, "diff", filepath.Join(dir, "a0.json"), filepath.Join(dir, "a1.json"))
	if code != ExitFound {
		t.Fatalf("diff: exit %d, %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	longest := 0
	for _, l := range lines {
		longest = max(longest, len(l))
	}
	if longest > 400 || !strings.Contains(out, "f0,f1,...,f299 (300 columns, ") || !strings.Contains(out, ".standard_scaler.var_[f7]") {
		t.Errorf("diff of a 300-column group: %d lines, the longest %d bytes; want the group named by its count and each variance named by column:\n%.2000s", len(lines), longest, out)
	}
}
