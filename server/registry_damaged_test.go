package server

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
)

// TestDamagedRegistryIs503: a transform or an observation of a model whose registry files were damaged by hand is a 503
// registry_damaged, not a 400 blaming the request (attack run 11 F3).
func TestDamagedRegistryIs503(t *testing.T) {
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	s, ts, _ := versionsServer(t, 2, Config{Monitor: mon})
	dir := s.cfg.Registry.(*registry.Local).Dir()
	model := filepath.Join(dir, "models", "flight-delay")
	if err := os.WriteFile(filepath.Join(model, "current.json"), []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/v1/models/flight-delay/transform"},
		{http.MethodPost, "/v1/models/flight-delay/observations"},
		{http.MethodGet, "/v1/models/flight-delay"},
	} {
		var body []byte
		if c.method == http.MethodPost {
			body = benchBody(1)
		}
		status, got := send(t, c.method, ts.URL+c.path, "t", body)
		if status != http.StatusServiceUnavailable || errorCode(got) != registry.CodeDamaged {
			t.Errorf("%s %s: %d %s, want 503 %s", c.method, c.path, status, got, registry.CodeDamaged)
		}
	}
	// v1's files are intact: it still transforms.
	if status, got := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/versions/v1/transform", "t", benchBody(1)); status != http.StatusOK {
		t.Errorf("transform with the intact v1: %d %s", status, got)
	}
}
