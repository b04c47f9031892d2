package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDriftAnswersAnomalies posts observations of the quickstart model
// without distance and with half the origins an airport code the encoder
// never saw: GET /drift lists those anomalies by validate's codes, and
// /metrics has a normguard_feature_anomaly series for each.
func TestDriftAnswersAnomalies(t *testing.T) {
	s, done := benchServer(t)
	defer done()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	origins := []string{"LAS", "PHX", "ORD", "ATL", "DFW"}
	var body bytes.Buffer
	body.WriteString(`{"rows":[`)
	for i := 0; i < 400; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		origin := origins[i%len(origins)]
		if i%2 == 1 {
			origin = "ZZZ"
		}
		fmt.Fprintf(&body, `{"date":"2001-06-%02d %02d:%02d","delay":%d,"origin":%q,"destination":%q}`,
			1+i%28, i%24, i%60, -10+i%50, origin, origins[(i/2)%len(origins)])
	}
	body.WriteString(`]}`)
	resp, err := http.Post(ts.URL+"/v1/models/flight-delay/observations", "application/json", &body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("observations: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	if err := s.cfg.Monitor.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}

	resp, err = http.Get(ts.URL + "/v1/models/flight-delay/drift")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("drift: %v %v", err, resp.Status)
	}
	var d struct {
		Anomalies []struct {
			Column, Code string
			CurrentCount *int64 `json:"current_count"`
		} `json:"anomalies"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range d.Anomalies {
		got = append(got, a.Column+"/"+a.Code)
		if a.Code == "unseen_categories" && (a.CurrentCount == nil || *a.CurrentCount != 200) {
			t.Errorf("unseen origins: count %v, want 200", a.CurrentCount)
		}
	}
	if want := "distance/empty_column origin/unseen_categories"; strings.Join(got, " ") != want {
		t.Errorf("anomalies %v, want %s", got, want)
	}

	resp, err = http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	m.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`normguard_feature_anomaly{code="empty_column",feature="distance",model="flight-delay",stage="input"} 1`,
		`normguard_feature_anomaly{code="unseen_categories",feature="origin",model="flight-delay",stage="input"} 1`,
	} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
