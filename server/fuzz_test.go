package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequests sends arbitrary methods, paths, queries, tokens and bodies
// to the whole handler: no request may crash it or get a 5xx.
func FuzzRequests(f *testing.F) {
	f.Add("POST", "/v1/models/flight-delay/transform", "", "", []byte(`{"rows":[{"date":"x","delay":1,"distance":2,"origin":"LAS","destination":"PHL"}]}`))
	f.Add("POST", "/v1/models/flight-delay/observations", "stage=output", "", []byte(`{"rows":[{"delay":1}]}`))
	f.Add("GET", "/v1/models/flight-delay/drift", "plots=1", "", []byte(nil))
	f.Add("PUT", "/v1/models/x/versions/v1", "current=false", "t", []byte(`{}`))
	f.Add("PUT", "/v1/models/flight-delay/current", "", "t", []byte(`{"version":"v1"}`))
	f.Add("GET", "/v1/models/flight-delay/versions/current/artifact", "", "", []byte(nil))
	f.Add("DELETE", "/metrics", "", "", []byte(nil))
	s, done := benchServer(f)
	f.Cleanup(done)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, method, path, query, token string, body []byte) {
		if !validMethod(method) {
			return
		}
		u := &url.URL{Path: "/" + strings.TrimLeft(path, "/"), RawQuery: query}
		req, err := http.NewRequest(method, "http://normguard"+u.RequestURI(), bytes.NewReader(body))
		if err != nil {
			return
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: got %d %s, want a 4xx or success", method, u.RequestURI(), w.Code, w.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS":
		return true
	}
	return false
}
