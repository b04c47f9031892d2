package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/chromium"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// skippedDriftJSON is the service's drift answer for a window compared
// with a training profile by drift.CompareProfile: x is calm, user_id is
// an identifier (every value distinct: skipped), and the window lacks
// the trained feature "gone".
func skippedDriftJSON(t *testing.T) (string, *drift.Report) {
	t.Helper()
	col := func(name string, n int) table.Column {
		c := table.Column{Name: name, Kind: table.Numeric}
		for i := range n {
			c.Num = append(c.Num, float64(i%50))
		}
		return c
	}
	ids := func(prefix string, n int) table.Column {
		c := table.Column{Name: "user_id", Kind: table.String}
		for i := range n {
			c.Str = append(c.Str, fmt.Sprintf("%s%d", prefix, i))
		}
		return c
	}
	train := []table.Column{col("x", 500), ids("a", 500), col("gone", 500)}
	rep, err := drift.CompareProfile(profile.Columns(train, 1), []table.Column{col("x", 200), ids("b", 200)}, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(struct {
		*drift.Report
		Window map[string]any `json:"window"`
	}{rep, map[string]any{"start": "2026-11-25T20:00:00Z", "end": "2026-11-25T21:00:00Z", "rows": 200}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b), rep
}

// TestDashboardSkippedAndMissingInChromium checks that a skipped feature
// shows as skipped with its reason, not as ok, and is not counted as
// judged, and that the features missing from the window are named.
func TestDashboardSkippedAndMissingInChromium(t *testing.T) {
	bin := chromium.Path(t)
	body, rep := skippedDriftJSON(t)
	var reason string
	for _, f := range rep.Features {
		if f.Name == "user_id" {
			reason = f.Skipped
		}
	}
	if reason == "" || len(rep.MissingFeatures) != 1 || rep.MissingFeatures[0] != "gone" {
		t.Fatalf("got features %+v missing %v from drift.CompareProfile, want user_id skipped and gone missing", rep.Features, rep.MissingFeatures)
	}
	api := fullAPI()
	api["/v1/models/flights/drift"] = reply{http.StatusOK, body}
	api["/v1/models/flights/history"] = reply{http.StatusOK, `{"windows":[]}`}
	srv := httptest.NewServer(&fakeService{api: api})
	defer srv.Close()
	dom := dumpDOM(t, bin, srv.URL+"/")
	for _, s := range []string{
		`<tr class="skipped" data-feature="user_id">`,
		`<div class="muted small skip">skipped — ` + reason + `</div>`,
		`<article class="card skipped" id="card-1" data-feature="user_id">`,
		`<p class="muted skip">skipped — ` + reason + `</p>`,
		`<tr class="ok" data-feature="x">`,
		// x is the one judged feature; user_id is not judged.
		"0 of 1</strong>", `<span class="muted" id="skipped-count">1 skipped (not judged)</span>`,
		`<p class="error-box" id="missing-features"><span class="badge drift">MISSING</span> 1 of the training features is missing from the current window: <code>gone</code></p>`,
	} {
		if !strings.Contains(dom, s) {
			t.Errorf("got a page without %q, want it:\n%.4000s", s, dom[strings.Index(dom, `id="detail"`):])
		}
	}
	if strings.Contains(dom, `<tr class="ok" data-feature="user_id">`) {
		t.Error("got the skipped user_id shown as ok, want skipped")
	}
}
