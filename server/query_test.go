package server

import (
	"net/http"
	"strings"
	"testing"
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
	// Parameters the API reads, once each, still work.
	if status, body := send(t, http.MethodPost, ts.URL+"/v1/models/flight-delay/transform?version=v1", "t", benchBody(1)); status != http.StatusOK {
		t.Errorf("?version=v1: %d %s", status, body)
	}
}
