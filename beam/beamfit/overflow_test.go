package beamfit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
)

// TestFitRefusesOverflow: values near the float64 limit give standard_
// scaler an infinite var_, which every reader refuses; the Beam fit
// refuses it (the fitted step fails its check between stages, and the
// whole artifact is checked as the CLI's fit checks it before writing)
// and writes nothing (attack run 8, F8: the CLI's fit wrote such an
// artifact with exit 0).
func TestFitRefusesOverflow(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "part-000.csv")
	if err := os.WriteFile(data, []byte("x\n1.7e308\n-1.7e308\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps:\n      - standard_scaler: {}\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "artifact.json")
	err = Run(context.Background(), "prism", Options{Spec: sp, Data: data, Out: out, Model: "m", ModelVersion: "1"})
	if err == nil || !strings.Contains(err.Error(), "var_[0]") || !strings.Contains(err.Error(), "+Inf") {
		t.Fatalf("Run: %v, want a refusal naming var_[0] = +Inf", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an artifact was written: %v", err)
	}
}
