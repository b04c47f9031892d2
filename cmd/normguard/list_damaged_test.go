package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListDamagedModel: `list` of a registry folder with one model's
// current.json damaged by hand lists the others, marks it damaged and
// exits 2 naming it (attack run 11 F3: the whole listing failed).
func TestListDamagedModel(t *testing.T) {
	dir := t.TempDir()
	a1, _, anon := registryArtifacts(t, dir)
	reg := filepath.Join(dir, "reg")
	mustRun(t, "push", a1, "--registry", reg)
	mustRun(t, "push", anon, "--registry", reg, "--model", "churn", "--model-version", "2024-01")
	if err := os.WriteFile(filepath.Join(reg, "models", "fraud", "current.json"), []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "json"} {
		code, out, errOut := runCLI(t, "list", "--registry", reg, "--format", format)
		if code != ExitError || !strings.Contains(errOut, "model fraud cannot be read") || !strings.Contains(errOut, "current.json") {
			t.Errorf("list --format %s: exit %d, stderr %q; want 2 naming fraud's current.json", format, code, errOut)
		}
		if !strings.Contains(out, "churn") || !strings.Contains(out, "2024-01") || !strings.Contains(out, "damaged") {
			t.Errorf("list --format %s: stdout %q, want churn listed and fraud marked damaged", format, out)
		}
	}
}
