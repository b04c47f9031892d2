package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestConcurrentRequestsGiveTheSameBytes fires transforms of different
// sizes, observations and drift reads from several goroutines at once
// (run it with -race) and checks each transform answer against the answer
// to the same body sent alone.
func TestConcurrentRequestsGiveTheSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("fits the quickstart artifact")
	}
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	post := func(path string, body []byte) (int, []byte) {
		resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	bodies := [][]byte{benchBody(1), benchBody(3), benchBody(700), benchBody(5000)}
	want := make([][]byte, len(bodies))
	for i, b := range bodies {
		code, out := post("/v1/models/flight-delay/transform", b)
		if code != http.StatusOK {
			t.Fatalf("transform: %d %s", code, out)
		}
		want[i] = out
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 30; k++ {
				i := (g + k) % len(bodies)
				switch k % 5 {
				case 3:
					if code, out := post("/v1/models/flight-delay/observations", bodies[i]); code != http.StatusOK {
						t.Errorf("observations: %d %s", code, out)
					}
				case 4:
					resp, err := http.Get(ts.URL + "/v1/models/flight-delay/drift?plots=1")
					if err == nil {
						resp.Body.Close()
					}
				default:
					code, out := post("/v1/models/flight-delay/transform", bodies[i])
					if code != http.StatusOK || !bytes.Equal(out, want[i]) {
						t.Errorf("goroutine %d request %d: got %d and %d bytes, want the %d bytes of the lone request",
							g, k, code, len(out), len(want[i]))
					}
				}
			}
		}(g)
	}
	wg.Wait()
}
