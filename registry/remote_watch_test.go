package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRemoteStalledServer: a server that accepts the connection and never
// answers, or answers a byte now and then, hung list, pull and push for
// good (attack run 15). Each fails once nothing moves for Stall, or the
// bytes move slower than minRate, with an error naming the URL.
func TestRemoteStalledServer(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	drip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"models": [`))
		for {
			if _, err := w.Write([]byte{' '}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer drip.Close()
	artifactBytes := []byte(strings.Repeat(" ", 4<<20)) // sent to a server that reads nothing
	for _, base := range []string{"http://" + silent.Addr().String(), drip.URL} {
		r := Dial(base, "tok", nil)
		r.Stall = 300 * time.Millisecond
		calls := map[string]func() error{
			"list": func() error { _, err := r.List(context.Background()); return err },
			"pull": func() error { _, _, err := r.Get(context.Background(), "m", "current"); return err },
			"push": func() error {
				_, _, err := r.Put(context.Background(), "m", "v1", artifactBytes, PutOptions{})
				return err
			},
		}
		for name, call := range calls {
			start := time.Now()
			err := call()
			took := time.Since(start)
			if err == nil || !errors.Is(err, errStalled) || !strings.Contains(err.Error(), base) {
				t.Errorf("%s %s: %v, want the server named as stalled", name, base, err)
			}
			if took > 5*time.Second {
				t.Errorf("%s %s: took %v", name, base, took)
			}
		}
	}
}
