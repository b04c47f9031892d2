package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/quickstart"
)

// TestServeReattachesLostReference (attack runs 30 F5, 31 F6): a
// recovery that lost a model's reference (its refs record) reported "all
// N rows kept", then /drift answered 404 "no observations ... yet" and
// monitor export listed no window. serve now re-attaches the registry's
// current version at start; when the registry no longer holds the model,
// /drift, /healthz, the recovery report and the export say the rows are
// kept but not judged.
func TestServeReattachesLostReference(t *testing.T) {
	dir, art := flights(t)
	header, recs := csvRows(t, filepath.Join(dir, quickstart.Files.Later))
	const rows = 150
	build := func(t *testing.T) (reg, state string) {
		t.Helper()
		reg = t.TempDir()
		s := startServer(t, reg)
		pushFlights(t, s, "v1", art)
		s.mustDo("POST", "/v1/models/flight-delay/observations", "", rowsJSON(header, recs[:rows], nil), 200)
		s.stop()
		state = filepath.Join(reg, "monitor.db")
		damageRefsRecord(t, state, "flight-delay")
		return reg, state
	}
	exportRows := func(t *testing.T, state string) (windows int, total int64, stderr string) {
		t.Helper()
		code, out, errOut := runCLI(t, "monitor", "export", "--state", state)
		if code != ExitOK {
			t.Fatalf("monitor export: exit %d: %s", code, errOut)
		}
		var ex struct {
			Windows []struct {
				Rows int64 `json:"rows"`
			} `json:"windows"`
		}
		if err := json.Unmarshal([]byte(out), &ex); err != nil {
			t.Fatal(err)
		}
		for _, w := range ex.Windows {
			total += w.Rows
		}
		return len(ex.Windows), total, errOut
	}

	t.Run("registry holds the artifact", func(t *testing.T) {
		reg, state := build(t)
		s := startServer(t, reg, "--state-recover")
		if msg := s.stderr.String(); !strings.Contains(msg, "lost: 1 refs") || !strings.Contains(msg, "re-attached artifact sha256:") {
			t.Errorf("recovery report %q: want the refs record lost and the artifact re-attached", msg)
		}
		var d struct {
			Window struct {
				Rows int64 `json:"rows"`
			} `json:"window"`
		}
		if err := json.Unmarshal(s.mustDo("GET", "/v1/models/flight-delay/drift", "", nil, 200), &d); err != nil {
			t.Fatal(err)
		}
		if d.Window.Rows != rows {
			t.Errorf("/drift window rows %d, want %d", d.Window.Rows, rows)
		}
		s.stop()
		if n, total, _ := exportRows(t, state); n != 1 || total != rows {
			t.Errorf("monitor export after the recovery: %d windows of %d rows, want 1 of %d", n, total, rows)
		}
	})

	t.Run("registry lost the model", func(t *testing.T) {
		reg, state := build(t)
		if err := os.RemoveAll(filepath.Join(reg, "models", "flight-delay")); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, reg, "--state-recover")
		if msg := s.stderr.String(); !strings.Contains(msg, fmt.Sprintf("its %d rows are kept but not judged", rows)) {
			t.Errorf("recovery report %q: want the %d rows said kept but not judged", msg, rows)
		}
		status, body, _ := s.do("GET", "/v1/models/flight-delay/drift", "", nil)
		if status != 409 || !strings.Contains(string(body), fmt.Sprintf("holds %d rows", rows)) || strings.Contains(string(body), "no input observations") {
			t.Errorf("/drift: %d %s; want 409 naming the %d rows the window holds", status, body, rows)
		}
		var h struct {
			Status   string   `json:"status"`
			Problems []string `json:"problems"`
		}
		if err := json.Unmarshal(s.mustDo("GET", "/healthz", "", nil, 200), &h); err != nil {
			t.Fatal(err)
		}
		if h.Status != "degraded" || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], `model "flight-delay"`) {
			t.Errorf("/healthz: %+v; want degraded, naming the model whose rows are not judged", h)
		}
		s.stop()
		n, _, errOut := exportRows(t, state)
		if n != 0 || !strings.Contains(errOut, fmt.Sprintf("1 window(s) (%d rows) are left out", rows)) {
			t.Errorf("monitor export: %d windows, stderr %q; want the window of %d rows said left out", n, errOut, rows)
		}
	})
}

// damageRefsRecord flips a byte of model's refs record in the monitoring
// store at path (its checksum then fails).
func damageRefsRecord(t *testing.T, path, model string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("refs"))
		v := b.Get([]byte(model))
		if v == nil {
			return fmt.Errorf("no refs record of model %q", model)
		}
		d := append([]byte(nil), v...)
		d[len(d)/2] ^= 1
		return b.Put([]byte(model), d)
	})
	if err != nil {
		t.Fatal(err)
	}
}
