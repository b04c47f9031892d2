package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/registry"
)

// hostileBodies are request bodies an attacker or a broken client sends
// to /transform and /observations: each must get a JSON 4xx (or be
// served), never a 5xx, and the server must go on serving.
func hostileBodies() []struct{ name, body string } {
	row := `"date":"2001-06-01 00:05","delay":12,"distance":1235,"origin":"LAS","destination":"PHL"`
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000)
	return []struct{ name, body string }{
		{"deep array nesting as rows", `{"rows":` + deep + `}`},
		{"deep array nesting as a value", `{"rows":[{"delay":` + deep + `}]}`},
		{"deep object nesting as a value", `{"rows":[{"delay":` + deepObj + `}]}`},
		{"deep nesting at the top", deep},
		{"number over float64", `{"rows":[{` + row + `,"delay":1e999}]}`},
		{"negative number over float64", `{"rows":[{"delay":-1e400,"distance":1}]}`},
		{"subnormal underflow", `{"rows":[{"delay":1e-400,"distance":1}]}`},
		{"a million digits", `{"rows":[{"delay":` + strings.Repeat("9", 1_000_000) + `}]}`},
		{"a million fraction digits", `{"rows":[{"delay":0.` + strings.Repeat("1", 1_000_000) + `}]}`},
		{"huge exponent", `{"rows":[{"delay":1e99999999999999999999}]}`},
		{"NaN literal", `{"rows":[{"delay":NaN}]}`},
		{"Infinity literal", `{"rows":[{"delay":Infinity}]}`},
		{"NaN as a string", `{"rows":[{"delay":"NaN"}]}`},
		{"duplicate keys in a row", `{"rows":[{` + row + `,"delay":13,"delay":"x"}]}`},
		{"duplicate rows keys", `{"rows":[{` + row + `}],"rows":[{` + row + `}]}`},
		{"number as a categorical", `{"rows":[{"origin":12}]}`},
		{"object as a categorical", `{"rows":[{"origin":{"a":1}}]}`},
		{"array as a number", `{"rows":[{"delay":[1,2]}]}`},
		{"bool as a number", `{"rows":[{"delay":true}]}`},
		{"invalid UTF-8", "{\"rows\":[{\"origin\":\"\xff\xfe\xfd\"}]}"},
		{"NUL bytes", "{\"rows\":[{\"origin\":\"a\\u0000b\"}]}"},
		{"lone surrogate", `{"rows":[{"origin":"\ud800"}]}`},
		{"a million empty rows", `{"rows":[` + strings.TrimSuffix(strings.Repeat("{},", 1_000_000), ",") + `]}`},
		{"a 100,000-key row", `{"rows":[{` + manyKeys(100_000) + `}]}`},
		{"a 1 MB key", `{"rows":[{"` + strings.Repeat("k", 1<<20) + `":1}]}`},
		{"rows null", `{"rows":null}`},
		{"rows an object", `{"rows":{"delay":1}}`},
		{"row null", `{"rows":[null]}`},
		{"trailing garbage", `{"rows":[{` + row + `}]} {"rows":[]}`},
		{"truncated", `{"rows":[{` + row},
		{"empty", ``},
		{"only whitespace", "   \n\t "},
		{"BOM", "\xef\xbb\xbf" + `{"rows":[{` + row + `}]}`},
		{"unknown top-level field", `{"rows":[{` + row + `}],"extra":1}`},
		{"string escapes galore", `{"rows":[{"origin":"` + strings.Repeat(`\u00e9`, 200_000) + `"}]}`},
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return b.String()
}

// TestHostileBodies sends every hostile body to /transform and
// /observations: no 5xx, every refusal a JSON error, and the server still
// transforms a good row afterwards.
func TestHostileBodies(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, c := range hostileBodies() {
		for _, ep := range []string{"transform", "observations"} {
			status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/"+ep, "", []byte(c.body))
			switch {
			case status >= 500:
				t.Errorf("%s to %s: %d %.300s, want a 4xx", c.name, ep, status, resp)
			case status >= 400 && errorCode(resp) == "":
				t.Errorf("%s to %s: %d with a body that is not a JSON error: %.300s", c.name, ep, status, resp)
			}
		}
	}
	if status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/transform", "", benchBody(1)); status != http.StatusOK {
		t.Fatalf("a good row after the attack: %d %s", status, resp)
	}
}

// rawRequest writes raw bytes on a new connection and returns the status
// line of the answer ("" when the server closed the connection first).
func rawRequest(t *testing.T, addr string, raw []byte) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go conn.Write(raw) // the server may answer before it has read it all
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestHostileHTTP runs the real http.Server settings (Serve) against
// requests that attack the protocol: huge headers and URLs, bodies that
// lie about their length, chunked bodies over the limit, and a slowloris
// body that never ends. None may get a 5xx or stop other clients from
// being served, and no body reservation may leak.
func TestHostileHTTP(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	local := s.cfg.Registry.(*registry.Local)
	srv, err := New(Config{Registry: local, Monitor: s.cfg.Monitor, Token: "t",
		ReadTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	addr := ln.Addr().String()
	base := "http://" + addr
	path := "/v1/models/flight-delay/transform"
	good := benchBody(1)
	req := func(headers string, body string) []byte {
		return []byte("POST " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + body)
	}
	for _, c := range []struct {
		name string
		raw  []byte
		want string // status code expected in the status line
	}{
		{"a 1 MB header", req("X-Big: "+strings.Repeat("a", 1<<20)+"\r\nContent-Length: 0\r\n", ""), "431"},
		{"10,000 headers", req(strings.Repeat("X-A: b\r\n", 10_000)+"Content-Length: 0\r\n", ""), "431"},
		{"a 1 MB URL", []byte("GET /v1/models/" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: x\r\n\r\n"), "431"},
		{"a length over the limit", req("Content-Length: 99999999999\r\n", "{"), "413"},
		{"a negative length", req("Content-Length: -5\r\n", ""), "400"},
		{"two lengths", req("Content-Length: 5\r\nContent-Length: 6\r\n", "12345"), "400"},
		{"length and chunked", req("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), "400"},
		{"a chunked body over the limit", req("Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", 2<<20, strings.Repeat(" ", 2<<20))), "413"},
		{"a bad chunk size", req("Transfer-Encoding: chunked\r\n", "zz\r\n"), "400"},
		{"a length longer than the body (then closed)", req("Content-Length: 1000\r\n", string(good)), ""},
		// The rest never comes: 408 at ReadTimeout, said so, not with
		// the socket's "i/o timeout" as a 400 (attack run 30 F4).
		{"a length longer than the body (kept open)", req("Content-Length: 1000\r\n", string(good)), "408"},
		{"HTTP/0.9", []byte("GET /\r\n"), "400"},
		{"a bad method", []byte("F\x00O " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"), "400"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw
			if c.want == "" { // the client goes away after writing
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				conn.Write(raw)
				conn.Close()
				return
			}
			line := rawRequest(t, addr, raw)
			if !strings.Contains(line, " "+c.want+" ") && !strings.HasSuffix(line, " "+c.want) {
				t.Errorf("got %q, want status %s", line, c.want)
			}
		})
	}

	// Slowloris: bodies that trickle in hold their reservation only until
	// ReadTimeout; meanwhile other clients are served.
	var slow []net.Conn
	for i := 0; i < 8; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n", path)
		slow = append(slow, conn)
	}
	for i := 0; i < 20; i++ {
		status, resp := send(t, "POST", base+path, "", good)
		if status != http.StatusOK {
			t.Fatalf("a good request while 8 slow bodies are open: %d %s", status, resp)
		}
	}
	for _, conn := range slow { // one more byte each, well within ReadTimeout
		conn.Write([]byte("1\r\n \r\n"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.bodies.inUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d body bytes still reserved 10 s after the slow bodies started; ReadTimeout is 2 s", srv.bodies.inUse())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, conn := range slow {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		data, _ := io.ReadAll(conn)
		if bytes.Contains(data, []byte("HTTP/1.1 5")) {
			t.Errorf("a slow body was answered %q", bytes.SplitN(data, []byte("\r\n"), 2)[0])
		}
	}
	if status, resp := send(t, "POST", base+path, "", good); status != http.StatusOK {
		t.Fatalf("a good request after the attack: %d %s", status, resp)
	}
}

// TestHostileUploads sends damaged and oversized artifacts as uploads:
// every one is refused with a JSON 4xx, none leaves a temporary file, and
// a good upload works afterwards.
func TestHostileUploads(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	local := s.cfg.Registry.(*registry.Local)
	art, _, err := local.Get(context.Background(), "flight-delay", "v1")
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Decode(art, "flights")
	if err != nil {
		t.Fatal(err)
	}
	// Re-digested artifacts whose content is hostile.
	longName := *a
	longName.Model = &artifact.Model{Name: strings.Repeat("m", 1<<20), Version: "1"}
	longNameBytes, err := artifact.Encode(&longName)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000)
	for _, c := range []struct{ name, body string }{
		{"deep nesting", deep},
		{"deep nesting inside", strings.Replace(string(art), `"passthrough": [`, `"passthrough": [`+deep+`,`, 1)},
		{"10 MB of spaces", strings.Repeat(" ", 10<<20)},
		{"the artifact twice", string(art) + string(art)},
		{"the artifact and garbage", string(art) + "\x00\x01"},
		{"a number of a million digits as the format version", strings.Replace(string(art), `"format_version": 1`, `"format_version": `+strings.Repeat("9", 1_000_000), 1)},
		{"a 1 MB model name", string(longNameBytes)},
		{"half of it", string(art[:len(art)/2])},
		{"binary", "\x1f\x8b\x08\x00\x00\x00\x00\x00"},
	} {
		status, resp := send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/bad", "t", []byte(c.body))
		if status < 400 || status >= 500 || errorCode(resp) == "" {
			t.Errorf("%s: %d %.300s, want a JSON 4xx", c.name, status, resp)
		}
	}
	entries, err := os.ReadDir(filepath.Join(local.Dir(), "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if status, resp := send(t, "PUT", ts.URL+"/v1/models/flight-delay/versions/good", "t", art); status != http.StatusCreated {
		t.Fatalf("a good upload after the attack: %d %s", status, resp)
	}
}
