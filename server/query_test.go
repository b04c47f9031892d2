package server

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/monitor"
)

// TestAmbiguousQueriesRefused: a query parameter given twice, one the API
// does not read (a misspelling) or a query that does not parse is a 400
// bad_query; the handlers read a parameter's first value, so
// ?stage=output&stage=input stored rows as output and ?stge=output as
// input without a word (attack run 13).
func TestAmbiguousQueriesRefused(t *testing.T) {
	_, ts, _ := versionsServer(t, 1, Config{})
	for _, q := range []string{
		"?stage=output&stage=input",
		"?stage=output&stage=bogus",
		"?stge=output",
		"?version=v1&version=v1",
		"?stage=%zz",
	} {
		status, body := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/transform"+q, "t", benchBody(1))
		if status != http.StatusBadRequest || errorCode(body) != "bad_query" {
			t.Errorf("%s: %d %s, want 400 bad_query", q, status, body)
		}
	}
	status, body := send(t, http.MethodPut, ts.URL+"/v1/models/flight-delay/versions/v9?current=false&current=true", "t", nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "given 2 times") {
		t.Errorf("PUT with current twice: %d %s, want 400", status, body)
	}
}

// TestQueryParametersPerEndpoint: a parameter one endpoint reads was
// dropped without a word by the others (attack run 15):
// /transform?version=1 transformed with the current version, and
// ?plots=true, read as "not 1", answered without plots. Each endpoint
// refuses the parameters it does not read, and a yes/no parameter with
// another value, with a 400 bad_query; what it reads still works.
func TestQueryParametersPerEndpoint(t *testing.T) {
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	_, ts, _ := versionsServer(t, 2, Config{Monitor: mon})
	m := ts.URL + "/v1/models/flight-delay"
	if status, body := send(t, http.MethodPost, m+"/observations", "t", benchBody(5)); status != http.StatusOK {
		t.Fatalf("observations: %d %s", status, body)
	}
	refused := []struct{ method, url, want string }{
		{http.MethodPost, m + "/transform?version=v1", "versions/{version}/transform"},
		{http.MethodPost, m + "/versions/v1/transform?stage=output", "takes no query parameters"},
		{http.MethodPost, m + "/observations?plots=1", "reads only stage, version, producer"},
		{http.MethodPost, m + "/observations?producer=p&stage=output", "have no stage"},
		{http.MethodGet, m + "/drift?plots=yes", "use 1 or true"},
		{http.MethodGet, m + "/drift?version=v1", "reads only stage, plots"},
		{http.MethodGet, m + "/history?plots=1", "reads only stage"},
		{http.MethodGet, m + "/window-state?history=yes", "use 1 or true"},
		// attack run 16: a yes/no parameter given empty is neither
		{http.MethodGet, m + "/window-state?history", "use 1 or true"},
		{http.MethodGet, m + "/window-state?history=", "use 1 or true"},
		{http.MethodGet, m + "/drift?plots", "use 1 or true"},
		{http.MethodPost, m + "/observations?stage=", "stage must be input or output"},
		{http.MethodPost, m + "/observations?version=", "version is empty"},
		{http.MethodGet, m + "/vectors?version=", "version is empty"},
		{http.MethodGet, m + "/window-state?stage=output", "reads only history"},
		{http.MethodGet, m + "?version=v1", "takes no query parameters"},
		{http.MethodGet, ts.URL + "/v1/models?current=1", "takes no query parameters"},
		{http.MethodGet, m + "/versions/v1/artifact?stage=input", "takes no query parameters"},
		{http.MethodPut, m + "/current?version=v1", "takes no query parameters"},
		{http.MethodGet, m + "/vectors?stage=input", "reads only version"},
	}
	for _, c := range refused {
		var body []byte
		if c.method == http.MethodPost {
			body = benchBody(1)
		}
		status, got := send(t, c.method, c.url, "t", body)
		if status != http.StatusBadRequest || errorCode(got) != "bad_query" || !strings.Contains(string(got), c.want) {
			t.Errorf("%s %s: %d %s, want 400 bad_query saying %q", c.method, c.url, status, got, c.want)
		}
	}
	// What each reads still works.
	for _, c := range []struct{ method, url string }{
		{http.MethodPost, m + "/versions/v1/transform"},
		{http.MethodPost, m + "/observations?stage=input&version=v1"},
		{http.MethodGet, m + "/drift?stage=input&plots=true"},
		{http.MethodGet, m + "/drift?plots=0"},
		{http.MethodGet, m + "/history?stage=input"},
		{http.MethodGet, m + "/window-state?history=1"},
		{http.MethodGet, m},
	} {
		var body []byte
		if c.method == http.MethodPost {
			body = benchBody(1)
		}
		if status, got := send(t, c.method, c.url, "t", body); status != http.StatusOK {
			t.Errorf("%s %s: %d %s", c.method, c.url, status, got)
		}
	}
	// ?plots=true is read as plots.
	_, got := send(t, http.MethodGet, m+"/drift?plots=true", "t", nil)
	if !strings.Contains(string(got), `"plots"`) {
		t.Errorf("drift?plots=true answered without plots")
	}
}
