package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVectorObservationsStrict: ?producer= observations read their body
// as strictly as the plain observations: a body that is not one JSON
// object holding "rows", an array of objects, is a JSON 400 saying what
// is wrong, and nothing is counted; rows without a vector are not
// "accepted".
func TestVectorObservationsStrict(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, "", &now)
	url := ts.URL + "/v1/models/store/observations?producer=w"
	good := string(vectorBody(rest[:2]))
	for _, c := range []struct{ name, body, want string }{
		{"null", `null`, "not a JSON object"},
		{"empty", ``, "not a JSON object"},
		{"array", `[{"emb":[1]}]`, "not a JSON object"},
		{"string", `"rows"`, "not a JSON object"},
		{"trailing garbage", good + ` trailing`, "unexpected data after the JSON object"},
		{"second object", good + good, "unexpected data after the JSON object"},
		{"no rows", `{}`, `no "rows"`},
		{"rows null", `{"rows":null}`, `no "rows"`},
		{"rows not an array", `{"rows":{"emb":[1]}}`, "the body must be"},
		{"row null", `{"rows":[null]}`, "row 1 is null"},
		{"row not an object", `{"rows":[[1,2]]}`, "the body must be"},
		{"unknown key", `{"rows":[],"extra":1}`, "unknown field"},
		{"no vector column", `{"rows":[{"x":1},{"y":[1,2]}]}`, "no row holds a vector column"},
		{"empty rows", `{"rows":[{},{}]}`, "no row holds a vector column"},
		{"number out of range", `{"rows":[{"emb":[1e400]}]}`, `row 1: column "emb": element 0: 1e400 is out of the float64 range`},
		{"not an array", `{"rows":[{"emb":{"a":1}}]}`, "must be an array of numbers"},
		{"truncated", good[:len(good)-3], "the body must be"},
	} {
		status, resp := send(t, "POST", url, "", []byte(c.body))
		if status != http.StatusBadRequest || errorCode(resp) != "bad_request" || !strings.Contains(attackfixMessage(resp), c.want) {
			t.Errorf("%s: %d %s, want 400 bad_request saying %q", c.name, status, resp, c.want)
		}
	}
	if got, _ := getVectors(t, ts); len(got.Columns) != 1 || len(got.Columns[0].Producers) != 0 {
		t.Errorf("after refused bodies: %+v, want no producer", got.Columns)
	}

	// Rows without a vector (absent or null) are not accepted.
	body := `{"rows":[` + strings.TrimSuffix(strings.TrimPrefix(good, `{"rows":[`), `]}`) + `,{"emb":null},{"other":1}]}`
	status, resp := send(t, "POST", url, "", []byte(body))
	if status != http.StatusOK {
		t.Fatalf("2 vectors and 2 rows without: %d %s", status, resp)
	}
	var ack vectorObservationsResponse
	if err := json.Unmarshal(resp, &ack); err != nil {
		t.Fatal(err)
	}
	if ack.Accepted != 2 || ack.Columns["emb"] != 2 {
		t.Errorf("2 vectors and 2 rows without: accepted %d, columns %v, want 2 and emb: 2", ack.Accepted, ack.Columns)
	}
	// The plain path's bound on rows: a 413 too_many_rows.
	s, ts2 := vectorServer(t, store, "", &now)
	s.cfg.MaxRows = 1
	if status, resp := send(t, "POST", ts2.URL+"/v1/models/store/observations?producer=w", "", []byte(good)); status != http.StatusRequestEntityTooLarge || errorCode(resp) != "too_many_rows" {
		t.Errorf("2 rows over MaxRows 1: %d %s, want 413 too_many_rows", status, resp)
	}
}

// TestVectorDimensionFromContract: a vector whose dimension is not the
// contract's is refused with a 400 naming both, and does not fix the
// producer's dimension: the producer's vectors of the contract's
// dimension are accepted after it, in the same window.
func TestVectorDimensionFromContract(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, "", &now)
	url := ts.URL + "/v1/models/store/observations?producer=w"
	const dim = 100 // the GloVe contract's
	if len(rest[0]) != dim {
		t.Fatalf("vectors of %d values, want %d", len(rest[0]), dim)
	}
	for _, d := range []int{1, 2, dim - 1, dim + 1, 2 * dim} {
		status, resp := send(t, "POST", url, "", vectorBody([][]float64{make([]float64, d), make([]float64, d)}))
		if status != http.StatusBadRequest || !strings.Contains(string(resp), "dimension_mismatch") ||
			!strings.Contains(string(resp), "dimension 100") {
			t.Errorf("vectors of %d values: %d %s, want 400 naming dimension_mismatch and the contract's 100", d, status, resp)
		}
	}
	// One request mixing the two: refused whole, nothing counted.
	mixed := [][]float64{rest[0], make([]float64, 2)}
	if status, resp := send(t, "POST", url, "", vectorBody(mixed)); status != http.StatusBadRequest {
		t.Errorf("a request of a 100-d and a 2-d vector: %d %s, want 400", status, resp)
	}
	if got, _ := getVectors(t, ts); len(got.Columns[0].Producers) != 0 {
		t.Fatalf("after refused vectors: producers %+v, want none", got.Columns[0].Producers)
	}
	status, resp := send(t, "POST", url, "", vectorBody(rest[:5]))
	if status != http.StatusOK {
		t.Fatalf("vectors of the contract's dimension after refused ones: %d %s", status, resp)
	}
	got, _ := getVectors(t, ts)
	if ps := got.Columns[0].Producers; len(ps) != 1 || ps[0].Producer != "w" || ps[0].Dim != dim || ps[0].Rows != 5 {
		t.Errorf("producers %+v, want w with 5 vectors of %d", ps, dim)
	}
}

// attackfixMessage returns the message of a JSON error body.
func attackfixMessage(body []byte) string {
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	json.Unmarshal(body, &e)
	return e.Error.Message
}
