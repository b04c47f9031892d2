package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// TestTimeColumnNotAnInput: with --time-column naming a column the
// artifact does not read, observations were all refused, "the rows have
// no "event_ts" column" while every row had it (attack run 4, F11): the
// column was dropped with the other non-input columns. Its text and its
// Unix seconds both place rows in their event windows.
func TestTimeColumnNotAnInput(t *testing.T) {
	s, done := benchServerWith(t, monitor.Options{TimeColumn: "event_ts", Window: 24 * time.Hour, EvalInterval: time.Hour})
	defer done()
	mon := s.cfg.Monitor
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	post := func(body string) (int, string) {
		resp, err := http.Post(ts.URL+"/v1/models/flight-delay/observations", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	row := `{"date":"2001-06-01 00:05","delay":12,"distance":1235,"origin":"LAS","destination":"PHL","event_ts":%s}`
	body := `{"rows":[` + strings.Join([]string{
		strings.Replace(row, "%s", `"2001-06-01 10:00"`, 1),
		strings.Replace(row, "%s", `"2001-06-01 11:00"`, 1),
		strings.Replace(row, "%s", `991548000`, 1), // 2001-06-03 06:00 UTC in Unix seconds
	}, ",") + `]}`
	if code, b := post(body); code != http.StatusOK {
		t.Fatalf("observations with the time column: %d %s", code, b)
	}
	// Rows naming no feature at all are still refused, the time column
	// aside.
	if code, b := post(`{"rows":[{"event_ts":"2001-06-01 10:00","nonsense":1}]}`); code != http.StatusBadRequest || !strings.Contains(b, "no column of the rows") {
		t.Errorf("rows with only the time column and an unknown one: %d %s, want 400", code, b)
	}
	// A JSON string of digits is no time in a text layout: untimed, not
	// Unix seconds (attack run 7: "2026" and "20261206" became times in
	// 1970, late rows). Both go to the latest window, counted as untimed.
	digits := `{"rows":[` + strings.Replace(row, "%s", `"991180800"`, 1) + "," + strings.Replace(row, "%s", `"20010603"`, 1) + `]}`
	if code, b := post(digits); code != http.StatusOK {
		t.Fatalf("observations with digit strings: %d %s", code, b)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"normguard_observations_untimed_total 2\n", "normguard_observations_late_total 0\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
	if err := mon.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, w := range mon.History("flight-delay", monitor.StageInput) {
		got[w.Start.Format(time.DateOnly)] += w.Rows
	}
	if got["2001-06-01"] != 2 || got["2001-06-03"] != 3 || len(got) != 2 {
		t.Errorf("rows by event window: %v, want 2001-06-01: 2, 2001-06-03: 3", got)
	}
}
