package quickstart

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunKeepsOthersFiles: the quickstart runs again in its own folder,
// but never overwrites a file of one of its names that it did not write
// or that was changed since (attack run 7: a spec.yaml and a fed.csv in
// --dir were replaced with exit 0). A refused run writes nothing.
func TestRunKeepsOthersFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), dir, io.Discard); err != nil {
		t.Fatalf("a second run in the quickstart's own folder: %v", err)
	}

	// A user's spec edited in place, and a folder of the user's own files.
	spec := filepath.Join(dir, Files.Spec)
	edited := []byte("version: 1\ncolumns: []  # mine\n")
	if err := os.WriteFile(spec, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), dir, io.Discard)
	if err == nil || !strings.Contains(err.Error(), Files.Spec+" (changed since the quickstart wrote it)") || !strings.Contains(err.Error(), "another --dir") {
		t.Fatalf("run over an edited spec: %v, want a refusal naming %s", err, Files.Spec)
	}
	if got, _ := os.ReadFile(spec); string(got) != string(edited) {
		t.Fatalf("the edited spec was overwritten: %q", got)
	}

	mine := t.TempDir()
	fed := filepath.Join(mine, Files.Fed)
	if err := os.WriteFile(fed, []byte("x\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(mine, Files.Train), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), mine, io.Discard)
	if err == nil || !strings.Contains(err.Error(), Files.Fed) || !strings.Contains(err.Error(), Files.Train+" (not a regular file)") {
		t.Fatalf("run into a folder of the user's files: %v, want a refusal naming %s and %s", err, Files.Fed, Files.Train)
	}
	entries, err := os.ReadDir(mine)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("a refused run wrote into the folder: %v", entries)
	}
	if got, _ := os.ReadFile(fed); string(got) != "x\n1\n" {
		t.Errorf("the user's fed.csv was overwritten: %q", got)
	}

	// A damaged manifest vouches for nothing.
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(spec); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), dir, io.Discard); err == nil || !strings.Contains(err.Error(), Files.Artifact) {
		t.Errorf("run with a damaged manifest: %v, want a refusal", err)
	}
}
