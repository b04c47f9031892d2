package dashboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/chromium"
	"github.com/normguard/normguard/validate"
)

// TestDashboardAnomaliesInChromium checks that a window's data anomalies
// (the service runs validate's rules on every window) are listed above the
// features, each with its column, code, description and fix, errors and
// warnings told apart, and that a window without anomalies shows no list.
func TestDashboardAnomaliesInChromium(t *testing.T) {
	bin := chromium.Path(t)
	body, _ := skippedDriftJSON(t)
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	doc["anomalies"] = []validate.Anomaly{
		{Column: "gone", Code: validate.MissingColumn, Severity: validate.SeverityError,
			Description: `input column "gone" is not in the data`, Fix: "send the column"},
		{Column: "x", Code: validate.MissingRateChange, Severity: validate.SeverityWarning,
			Description: "missing in 40% of rows, 0% at training", Fix: "find why x is missing"},
	}
	withAnomalies, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, body string
		want       []string
		absent     []string
	}{
		{"anomalies", string(withAnomalies), []string{
			`<div class="anomalies" id="anomalies"><h3>2 data anomalies in this window</h3>`,
			`<li class="error-box" data-code="missing_column"><code>gone</code> <span class="badge drift">missing_column</span> input column "gone" is not in the data<span class="muted"> Fix: send the column</span></li>`,
			`<li class="warn-box" data-code="missing_rate_change"><code>x</code> <span class="badge skipped">missing_rate_change</span> missing in 40% of rows, 0% at training<span class="muted"> Fix: find why x is missing</span></li>`,
		}, nil},
		{"none", body, nil, []string{`id="anomalies"`}},
	} {
		api := fullAPI()
		api["/v1/models/flights/drift"] = reply{http.StatusOK, c.body}
		api["/v1/models/flights/history"] = reply{http.StatusOK, `{"windows":[]}`}
		srv := httptest.NewServer(&fakeService{api: api})
		dom := dumpDOM(t, bin, srv.URL+"/")
		srv.Close()
		for _, s := range c.want {
			if !strings.Contains(dom, s) {
				t.Errorf("%s: got a page without %q", c.name, s)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(dom, s) {
				t.Errorf("%s: got %q on the page, want none", c.name, s)
			}
		}
		if c.want != nil && strings.Index(dom, `id="anomalies"`) > strings.Index(dom, `data-feature="x"`) {
			t.Errorf("%s: the anomalies come after the features, want them first", c.name)
		}
	}
}
