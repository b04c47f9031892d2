package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
)

// wantRefusal checks a 400 JSON error holding every want.
func wantRefusal(t *testing.T, what string, status int, body []byte, want ...string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if status != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Code != "bad_request" {
		t.Fatalf("%s: got %d %s, want a 400 bad_request JSON error", what, status, body)
	}
	for _, w := range want {
		if !strings.Contains(e.Error.Message, w) {
			t.Errorf("%s: got %q, want it to hold %q", what, e.Error.Message, w)
		}
	}
}

// TestTransformBodyRefusesTextNotUTF8: passed-through text that is not
// UTF-8 in a JSON body was read as encoding/json reads it and answered
// "ab\uFFFDc", 200 (attack run 32 F2). Refused with 400 naming the row,
// the column and the bytes; U+FFFD sent as such is text.
func TestTransformBodyRefusesTextNotUTF8(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(train, []byte("x,name\n1,abc\n2,def\n3,ghi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader("version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    type: numeric\n    steps: [standard_scaler: {}]\n"), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, _ := fitAndPut(t, dir, sp, train, "m", "v1")
	s, err := New(Config{Registry: store, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	url := ts.URL + "/v1/models/m/transform"

	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"Latin-1 byte", "{\"rows\":[{\"x\":1,\"name\":\"abc\"},{\"x\":2,\"name\":\"ab\xe9c\"}]}",
			[]string{`rows[1].name: the value "ab\xe9c" holds the byte 0xE9 (byte 48 of the body), which is not UTF-8`, "iconv"}},
		{"after an escape", "{\"rows\":[{\"x\":1,\"name\":\"\\t\xe9\"}]}", []string{`rows[0].name: the value "\\t\xe9"`}},
		{"Latin-1 byte in a numeric column", "{\"rows\":[{\"x\":\"1\xb5\",\"name\":\"a\"}]}", []string{`rows[0].x: the value "1\xb5"`}},
		{"unpaired surrogate escape", `{"rows":[{"x":1,"name":"caf\udce9"}]}`,
			[]string{`rows[0].name: the value "caf\\udce9" holds the escape \udce9 (byte 28 of the body), an unpaired UTF-16 surrogate`}},
		{"key of a row", "{\"rows\":[{\"x\":1,\"name\":\"a\",\"n\xe9\":1}]}", []string{`rows[0]: the key "n\xe9"`}},
		{"key of the body", "{\"r\xe9\":[]}", []string{`the key "r\xe9"`}},
	} {
		status, body := send(t, "POST", url, "", []byte(c.body))
		wantRefusal(t, c.name, status, body, append(c.want, "not UTF-8")...)
	}

	// U+FFFD given as such, and a surrogate pair, are text.
	status, body := send(t, "POST", url, "", []byte(`{"rows":[{"x":1,"name":"a`+"\uFFFD"+`b\ufffd\ud83d\ude00"}]}`))
	if status != http.StatusOK || !strings.Contains(string(body), `"a`+"\uFFFD"+`b`+"\uFFFD"+`😀"`) {
		t.Errorf("U+FFFD as text: got %d %s, want 200 with the text", status, body)
	}
}

// TestObservationsBodyRefusesTextNotUTF8: categories that are not UTF-8
// sent to /observations were recorded as encoding/json reads them, both
// "caf\xe9" and "caf\xe8" as "caf\uFFFD", 200 (attack run 32 F2). Refused
// with 400 naming the row and column; a key the artifact does not read
// is skipped, its value unread, as before.
func TestObservationsBodyRefusesTextNotUTF8(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	url := ts.URL + "/v1/models/flight-delay/observations"

	status, body := send(t, "POST", url, "", []byte("{\"rows\":[{\"origin\":\"LAS\"},{\"origin\":\"caf\xe9\"},{\"origin\":\"caf\xe8\"}]}"))
	wantRefusal(t, "origin", status, body, `rows[1].origin: the value "caf\xe9" holds the byte 0xE9`, "not UTF-8")
	status, body = send(t, "POST", url+"?stage=input", "", []byte(`{"rows":[{"delay":1,"origin":"\udce9"}]}`))
	wantRefusal(t, "surrogate", status, body, `rows[0].origin: the value "\\udce9" holds the escape \udce9`)
	status, body = send(t, "POST", url, "", []byte("{\"rows\":[{\"delay\":1,\"\xe9\":2}]}"))
	wantRefusal(t, "key", status, body, `rows[0]: the key "\xe9"`, "not UTF-8")

	status, body = send(t, "POST", url, "", []byte("{\"rows\":[{\"origin\":\"LAS\",\"comment\":\"caf\xe9\",\"more\":{\"k\":\"\\udce9\"}}]}"))
	if status != http.StatusOK {
		t.Errorf("text not UTF-8 in keys not read: got %d %s, want 200", status, body)
	}
}
