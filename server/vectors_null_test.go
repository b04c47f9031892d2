package server

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVectorNullElementRefused: a null element of an observed vector (how
// pandas' to_json and JSON.stringify write NaN) is refused with a 400
// naming the row and the element, counted invalid_vector, as every other
// element that is not a finite number is; it was read as 0, so a vector
// of nulls was judged zero_vectors and one null among numbers passed as a
// clean vector (attack run 16, F7). A null vector is still a missing one.
func TestVectorNullElementRefused(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, filepath.Join(dir, "monitor.db.vectors.json"), &now)
	url := ts.URL + "/v1/models/store/observations?producer="
	d := len(rest[0])
	allNull := "[" + strings.TrimSuffix(strings.Repeat("null,", d), ",") + "]"
	lastNull := strings.TrimSuffix(vectorJSON(rest[1][:d-1]), "]") + ",null]"
	for _, c := range []struct{ producer, body, want string }{
		{"nulls", `{"rows":[{"emb":` + allNull + `}]}`, `row 1: column "emb": element 0 of the vector is null`},
		{"onenull", `{"rows":[{"emb":` + vectorJSON(rest[0]) + `},{"emb":` + lastNull + `}]}`,
			`row 2: column "emb": element ` + strconv.Itoa(d-1) + ` of the vector is null`},
	} {
		status, resp := send(t, "POST", url+c.producer, "", []byte(c.body))
		if status != http.StatusBadRequest || errorCode(resp) != "bad_request" || !strings.Contains(attackfixMessage(resp), c.want) {
			t.Errorf("%s: %d %s, want 400 saying %q", c.producer, status, resp, c.want)
		}
		if v, _ := vecrefMetric(t, ts, c.producer, "invalid_vector"); v != 1 {
			t.Errorf("%s: normguard_vector_refusals_total{reason=invalid_vector} = %v, want 1", c.producer, v)
		}
	}
	got, _ := getVectors(t, ts)
	col := got.Columns[0]
	if len(col.Producers) != 0 {
		t.Errorf("producers %+v, want none: no vector was accepted", col.Producers)
	}
	if len(col.RefusedProducers) != 2 {
		t.Fatalf("refused_producers %+v, want nulls and onenull", col.RefusedProducers)
	}
	for _, r := range col.RefusedProducers {
		if r.Refused["invalid_vector"] != 1 || len(r.Refused) != 1 {
			t.Errorf("refused_producers %s: %v, want invalid_vector: 1", r.Producer, r.Refused)
		}
	}
	// A null vector is a missing one, not a refused one.
	if status, resp := send(t, "POST", url+"ok", "", []byte(`{"rows":[{"emb":`+vectorJSON(rest[2])+`},{"emb":null}]}`)); status != http.StatusOK {
		t.Errorf("a vector and a null one: %d %s", status, resp)
	}
}
