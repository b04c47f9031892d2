package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/quickstart"
)

// TestServeReattachesVersionObserved (attack run 32 F1): rows observed
// under v1, the model's reference lost from the monitoring store, v2
// pushed (current) before serve --state-recover. serve re-attached the
// current version, v2: /drift answered 200 judging the numeric features on
// 0 rows ("check that the column holds numbers") and the export labelled
// v1's summaries with v2's digest. serve now re-attaches v1, the version
// the rows were observed under; when the registry no longer holds it, the
// rows are said unjudged.
func TestServeReattachesVersionObserved(t *testing.T) {
	dir, art := flights(t)
	later := filepath.Join(dir, quickstart.Files.Later)
	header, recs := csvRows(t, later)
	const rows = 150
	v2 := filepath.Join(t.TempDir(), "v2.json")
	if code, _, errOut := runCLI(t, "fit", "--spec", filepath.Join(dir, quickstart.Files.Spec), "--data", later, "--out", v2); code != ExitOK {
		t.Fatalf("fit v2: exit %d: %s", code, errOut)
	}
	build := func(t *testing.T) (reg, state, digest1 string) {
		t.Helper()
		reg = t.TempDir()
		s := startServer(t, reg)
		digest1 = pushFlights(t, s, "v1", art)
		s.mustDo("POST", "/v1/models/flight-delay/observations", "", rowsJSON(header, recs[:rows], nil), 200)
		s.stop()
		state = filepath.Join(reg, "monitor.db")
		damageRefsRecord(t, state, "flight-delay")
		if code, _, errOut := runCLI(t, "push", v2, "--registry", reg, "--model", "flight-delay", "--model-version", "v2"); code != ExitOK {
			t.Fatalf("push v2: exit %d: %s", code, errOut)
		}
		return reg, state, digest1
	}

	t.Run("registry holds v1", func(t *testing.T) {
		reg, state, digest1 := build(t)
		s := startServer(t, reg, "--state-recover")
		if msg := s.stderr.String(); !strings.Contains(msg, "re-attached artifact "+digest1) {
			t.Errorf("recovery report %q: want v1, %s, re-attached", msg, digest1)
		}
		var d struct {
			Window struct {
				Rows       int64 `json:"rows"`
				Unprofiled int64 `json:"unprofiled_rows"`
			} `json:"window"`
			Features []struct {
				Name         string `json:"name"`
				CurrentCount int    `json:"current_count"`
				Error        string `json:"error"`
			} `json:"features"`
		}
		if err := json.Unmarshal(s.mustDo("GET", "/v1/models/flight-delay/drift", "", nil, 200), &d); err != nil {
			t.Fatal(err)
		}
		s.stop()
		if d.Window.Rows != rows || d.Window.Unprofiled != 0 || len(d.Features) == 0 {
			t.Fatalf("/drift window: %d rows, %d unprofiled, %d features; want %d rows, 0 unprofiled", d.Window.Rows, d.Window.Unprofiled, len(d.Features), rows)
		}
		col := map[string]int{}
		for j, name := range header {
			col[name] = j
		}
		for _, f := range d.Features {
			j, ok := col[f.Name]
			if !ok {
				t.Errorf("/drift feature %s: not a column of the rows sent", f.Name)
				continue
			}
			present := 0
			for _, rec := range recs[:rows] {
				if rec[j] != "" {
					present++
				}
			}
			if f.CurrentCount != present || f.Error != "" {
				t.Errorf("/drift feature %s: current_count %d (error %q), want the %d values sent", f.Name, f.CurrentCount, f.Error, present)
			}
		}
		code, out, errOut := runCLI(t, "monitor", "export", "--state", state)
		if code != ExitOK {
			t.Fatalf("monitor export: exit %d: %s", code, errOut)
		}
		var ex struct {
			Windows []struct {
				Digest string `json:"artifact_digest"`
				Rows   int64  `json:"rows"`
			} `json:"windows"`
		}
		if err := json.Unmarshal([]byte(out), &ex); err != nil {
			t.Fatal(err)
		}
		if len(ex.Windows) != 1 || ex.Windows[0].Digest != digest1 || ex.Windows[0].Rows != rows {
			t.Errorf("monitor export: %+v, want one window of %d rows of v1, %s", ex.Windows, rows, digest1)
		}
	})

	t.Run("registry no longer holds v1", func(t *testing.T) {
		reg, _, _ := build(t)
		if err := os.Remove(filepath.Join(reg, "models", "flight-delay", "versions", "v1.json")); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, reg, "--state-recover")
		if msg := s.stderr.String(); !strings.Contains(msg, fmt.Sprintf("its %d rows are kept but not judged", rows)) || !strings.Contains(msg, "no longer holds") {
			t.Errorf("recovery report %q: want the %d rows kept but not judged, their version no longer in the registry", msg, rows)
		}
		status, body, _ := s.do("GET", "/v1/models/flight-delay/drift", "", nil)
		if status != 409 || !strings.Contains(string(body), "unjudged") {
			t.Errorf("/drift: %d %s; want 409 unjudged", status, body)
		}
		var h struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(s.mustDo("GET", "/healthz", "", nil, 200), &h); err != nil {
			t.Fatal(err)
		}
		if h.Status != "degraded" {
			t.Errorf("/healthz status %q, want degraded", h.Status)
		}
	})
}
