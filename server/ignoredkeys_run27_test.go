package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestObservationsNameIgnoredKeys (attack run 27 note): a key of the rows
// that names no feature was dropped without a word when another key was
// a feature, so a misspelt feature showed only as missing. The response
// lists such keys (sorted, the first 20, each cut short).
func TestObservationsNameIgnoredKeys(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	long := strings.Repeat("k", 500)
	body := `{"rows":[{"delay":12,"distance":1235,"origin":"LAS","destination":"PHL","dest1nation":"PHL","` + long + `":1},{"delay":3,"zz":1}]}`
	status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/observations", "", []byte(body))
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, resp)
	}
	var got observationsResponse
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"dest1nation", strings.Repeat("k", 64) + "... (500 bytes)", "zz"}
	if got.Accepted != 2 || !slices.Equal(got.IgnoredKeys, want) {
		t.Errorf("accepted %d, ignored %q; want 2 and %q", got.Accepted, got.IgnoredKeys, want)
	}
	status, resp = send(t, "POST", ts.URL+"/v1/models/flight-delay/observations", "", benchBody(2))
	if status != http.StatusOK || strings.Contains(string(resp), "ignored_keys") {
		t.Errorf("rows of features only: %d %s; want no ignored_keys", status, resp)
	}
}
