package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestVectorProducerNameChecked: a ?producer= name that is not UTF-8 or
// holds a control character is refused with 400 bad_query naming the
// byte, for a request whose vectors are good and for one refused (whose
// refusal was counted under the name: a prometheus panic, 500, attack
// run 36 F4); nothing is kept under the name, so %ff and %fe cannot
// become one producer "\ufffd" after a restart.
func TestVectorProducerNameChecked(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, ts := vf.serve(t)
	url := ts.URL + "/v1/models/store/observations?producer="
	good := vectorBody(vf.rest[:3])
	wrongDim := []byte(`{"rows":[{"emb":[1,2]}]}`)
	for _, c := range []struct {
		name, producer string
		want           string
	}{
		{"byte ff", "%ff", "byte 0xff at offset 0 is not UTF-8"},
		{"byte fe after text", "ab%fe", "byte 0xfe at offset 2 is not UTF-8"},
		{"encoded surrogate", "%ed%a0%80", "byte 0xed at offset 0 is not UTF-8"},
		{"NUL", "a%00", "control character U+0000 at offset 1"},
		{"newline", "a%0Ab", "control character U+000A at offset 1"},
		{"DEL", "%7f", "control character U+007F at offset 0"},
		{"C1 control", "x%c2%85", "control character U+0085 at offset 1"},
	} {
		for _, body := range [][]byte{good, wrongDim} {
			status, resp := send(t, "POST", url+c.producer, "", body)
			if status != http.StatusBadRequest || errorCode(resp) != "bad_query" || !strings.Contains(attackfixMessage(resp), c.want) {
				t.Errorf("%s: got %d %s, want 400 bad_query saying %q", c.name, status, resp, c.want)
			}
		}
	}
	// Names of UTF-8 text are taken, U+FFFD itself among them.
	for _, p := range []string{"writer", "%c3%a9crivain", "%ef%bf%bd", "a%20b"} {
		if status, resp := send(t, "POST", url+p, "", good); status != http.StatusOK {
			t.Errorf("producer %s: got %d %s, want 200", p, status, resp)
		}
	}
	got, body := getVectors(t, ts)
	var names []string
	for _, p := range got.Columns[0].Producers {
		names = append(names, p.Producer)
	}
	if want := []string{"a b", "writer", "écrivain", "\ufffd"}; strings.Join(names, "|") != strings.Join(want, "|") ||
		len(got.Columns[0].RefusedProducers) != 0 {
		t.Errorf("producers %q, refused producers %+v, want %q and none refused: %.300s", names, got.Columns[0].RefusedProducers, want, body)
	}
}

// TestVectorElementOutOfRange: an element out of the float64 range is
// named with its row, column and index and said to be out of the range,
// as .../transform says it (attack run 36 F7: "must be an array of
// numbers"); other elements that are not numbers are named too.
func TestVectorElementOutOfRange(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, ts := vf.serve(t)
	url := ts.URL + "/v1/models/store/observations?producer=w"
	v := vectorJSON(vf.rest[0])
	last := strings.LastIndex(v, ",")
	for _, c := range []struct{ name, body, want string }{
		{"1e400 last", `{"rows":[{"emb":` + v + `},{"emb":` + v[:last] + `,1e400]}]}`, `row 2: column "emb": element 99: 1e400 is out of the float64 range`},
		{"-1e309 first", `{"rows":[{"emb":[-1e309` + v[strings.Index(v, ","):] + `}]}`, `row 1: column "emb": element 0: -1e309 is out of the float64 range`},
		{"string element", `{"rows":[{"emb":[1,"2"]}]}`, `row 1: column "emb": element 1 of the vector is not a number (got "2")`},
		{"nested array", `{"rows":[{"emb":[1,[2]]}]}`, `element 1 of the vector is not a number (got [2])`},
		{"empty", `{"rows":[{"emb":[]}]}`, `row 1: column "emb": is an empty array`},
		{"string", `{"rows":[{"emb":"x"}]}`, `row 1: column "emb": must be an array of numbers (or null)`},
	} {
		status, resp := send(t, "POST", url, "", []byte(c.body))
		if status != http.StatusBadRequest || !strings.Contains(attackfixMessage(resp), c.want) {
			t.Errorf("%s: got %d %s, want 400 saying %q", c.name, status, resp, c.want)
		}
	}
	// The smallest subnormal and the largest float64 are in the range.
	e := append([]float64(nil), vf.rest[0]...)
	e[0], e[1] = 4.9e-324, 1.7976931348623157e308
	if status, resp := send(t, "POST", url, "", vectorBody([][]float64{e})); status != http.StatusOK {
		t.Errorf("edge values: got %d %s, want 200", status, resp)
	}
}
