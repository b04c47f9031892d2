package registry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

const testSpec = `
version: 1
columns:
  - name: income
    steps: [{simple_imputer: {strategy: median}}, standard_scaler]
  - name: city
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: ignore}}]
`

type artifactKey struct {
	model, version string
	seed           int
}

var (
	artifactsMu sync.Mutex
	artifacts   = map[artifactKey][]byte{}
)

// fitArtifact returns the bytes of a small fitted artifact linked to
// model@version (model "" links none); artifacts with different seeds have
// different training data, hence different digests.
func fitArtifact(t testing.TB, model, version string, seed int) []byte {
	t.Helper()
	k := artifactKey{model, version, seed}
	artifactsMu.Lock()
	defer artifactsMu.Unlock()
	if b, ok := artifacts[k]; ok {
		return b
	}
	sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	csv := fmt.Sprintf("income,city\n%d,paris\n2,rome\n3,paris\n,oslo\n", 10+seed)
	r, err := table.NewCSVReader(strings.NewReader(csv), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{Model: model, ModelVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	b, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	artifacts[k] = b
	return b
}

// digestOf returns the digest of artifact bytes.
func digestOf(t testing.TB, data []byte) string {
	t.Helper()
	a, err := artifact.Decode(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	return a.Digest
}

// hostileNames are names that must never reach the file system.
var hostileNames = []string{
	"", ".", "..", "../x", "..\\x", "a/b", "/abs", "a\\b", "%2e%2e", "%2F", "a..b", "con\x00", "x\x00y",
	"-flag", ".hidden", "_x", "a b", "a\nb", "ünïcödé", "模型", "a:b", "a@b", "a?b", "a#b", "a*b",
	strings.Repeat("a", MaxNameLen+1),
}

func mustPut(t *testing.T, s Store, model, version string, data []byte, opt PutOptions) (Version, bool) {
	t.Helper()
	v, created, err := s.Put(context.Background(), model, version, data, opt)
	if err != nil {
		t.Fatalf("Put(%s@%s): %v", model, version, err)
	}
	return v, created
}

func mustResolve(t *testing.T, s Store, model, version string) Version {
	t.Helper()
	v, err := s.Resolve(context.Background(), model, version)
	if err != nil {
		t.Fatalf("Resolve(%s@%s): %v", model, version, err)
	}
	return v
}
