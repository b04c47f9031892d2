package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestInterruptedSaysSo: a command stopped by SIGINT or SIGTERM (its
// context canceled) says it was interrupted, exits 2 and leaves no output
// file; it printed "normguard: context canceled" (attack run 8).
func TestInterruptedSaysSo(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "features.csv")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"transform", "--artifact", "../../testdata/models/penguins.artifact.json",
		"--in", "../../testdata/models/penguins_train.csv", "--out", out}, &stdout, &stderr)
	if code != ExitError || !strings.Contains(stderr.String(), "normguard: interrupted (SIGINT or SIGTERM) before finishing") {
		t.Fatalf("exit %d, stderr %q; want 2 and the interruption named", code, stderr.String())
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Errorf("left %v", got)
	}
}
