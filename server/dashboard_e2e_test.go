package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/chromium"
)

// TestDashboardOnRealServerInChromium loads the dashboard of a real
// server (real registry, monitor and JSON, no fakes) after shifted
// observations and checks in headless Chromium that the drifting feature
// is flagged and its distribution and history plots are drawn. It skips
// without chromium unless CI=true.
func TestDashboardOnRealServerInChromium(t *testing.T) {
	bin := chromium.Path(t)
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	// Before any observation: the empty state names both endpoints.
	empty := chromium.Run(t, bin, "--virtual-time-budget=5000", "--dump-dom", ts.URL+"/#model=flight-delay&stage=output")
	for _, want := range []string{`id="no-observations"`, ">POST /v1/models/flight-delay/observations<",
		">POST /v1/models/flight-delay/observations?stage=output<"} {
		if !strings.Contains(empty, want) {
			t.Errorf("the empty state lacks %s:\n%.3000s", want, empty)
		}
	}

	var body bytes.Buffer
	body.WriteString(`{"rows":[`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		// delay far above the training months; distance as usual.
		fmt.Fprintf(&body, `{"date":"2001-06-01 00:05","delay":%d,"distance":%d,"origin":"LAS","destination":"PHL"}`,
			300+i%50, 200+(i*37)%2400)
	}
	body.WriteString(`]}`)
	resp, err := http.Post(ts.URL+"/v1/models/flight-delay/observations", "application/json", &body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("observations: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	if err := s.cfg.Monitor.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}

	dom := chromium.Run(t, bin, "--virtual-time-budget=5000", "--dump-dom", ts.URL+"/")
	for _, want := range []string{`data-model="flight-delay"`, `data-state="ready"`} {
		if !strings.Contains(dom, want) {
			t.Fatalf("the page lacks %s:\n%.3000s", want, dom)
		}
	}
	row := regexp.MustCompile(`<tr class="([a-z ]+)" data-feature="delay"`).FindStringSubmatch(dom)
	if row == nil || !strings.Contains(row[1], "drift") {
		t.Errorf("delay's table row is %v, want class drift", row)
	}
	// The quickstart's training months have no missing delay: the
	// training rates beside the window's are 0.
	delayRow := regexp.MustCompile(`<tr class="[a-z ]+" data-feature="delay"[\s\S]*?</tr>`).FindString(dom)
	if got := strings.Count(delayRow, `class="muted small training-rate" title="in the training data">training 0%<`); got != 2 {
		t.Errorf("delay's row shows %d training rates of 0%%, want 2 (missing, out of range): %.800s", got, delayRow)
	}
	for _, feature := range []string{"delay", "distance"} {
		dist := regexp.MustCompile(`<svg[^>]*class="plot-dist"[^>]*data-feature="` + feature + `"[\s\S]*?</svg>`).FindString(dom)
		if !strings.Contains(dist, "dist-ref") || !strings.Contains(dist, "dist-cur") {
			t.Errorf("%s: no reference and current distributions drawn: %.500s", feature, dist)
		}
		hist := regexp.MustCompile(`<svg[^>]*class="plot-history"[^>]*data-feature="` + feature + `"[\s\S]*?</svg>`).FindString(dom)
		if !strings.Contains(hist, "point") {
			t.Errorf("%s: no point in the history chart: %.500s", feature, hist)
		}
	}
}
