package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// writeJSONLines writes rows to path as JSON Lines.
func writeJSONLines(t testing.TB, path string, rows []map[string]any) {
	t.Helper()
	var lines bytes.Buffer
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(b, '\n'))
	}
	if err := os.WriteFile(path, lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fitAndPut fits sp on the data file at path and stores the artifact as
// model@version in the registry folder dir/reg; it returns the registry
// and the artifact.
func fitAndPut(t testing.TB, dir string, sp *spec.Spec, path, model, version string) (*registry.Local, *artifact.Artifact) {
	t.Helper()
	tr, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, tr, fit.Options{})
	tr.Close()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.Put(context.Background(), model, version, enc, registry.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return reg, a
}
