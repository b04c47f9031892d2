package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/spec"
)

// TestDriftTrainingRates checks the drift JSON's "training" rates, which
// the dashboard sets beside the window's: the training data below has
// amount missing in 1 of 4 rows and city in 2 of 4, so the input rates
// are 0.25 and 0.5; the outputs (imputed) miss nothing; out of range is 0.
func TestDriftTrainingRates(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(data, []byte("amount,city\n1,a\n,b\n3,\n4,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader(`version: 1
columns:
  - name: amount
    type: numeric
    steps: [{simple_imputer: {strategy: mean}}, {standard_scaler: {}}]
  - name: city
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}, {one_hot_encoder: {}}]
`), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, _ := fitAndPut(t, dir, sp, data, "m", "v1")
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	s, err := New(Config{Registry: store, Monitor: mon, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	for _, c := range []struct {
		stage, body string
		want        map[string]float64 // feature -> training missing rate
	}{
		{"input", `{"rows":[{"amount":2,"city":"a"},{"amount":5,"city":"b"}]}`, map[string]float64{"amount": 0.25, "city": 0.5}},
		{"output", `{"rows":[{"amount":0.1,"city_a":1,"city_b":0}]}`, map[string]float64{"amount": 0, "city_a": 0, "city_b": 0}},
	} {
		resp, err := http.Post(ts.URL+"/v1/models/m/observations?stage="+c.stage, "application/json", strings.NewReader(c.body))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s observations: %v %v", c.stage, err, resp.Status)
		}
		resp.Body.Close()
		resp, err = http.Get(ts.URL + "/v1/models/m/drift?stage=" + c.stage)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Training map[string]struct {
				MissingRate    *float64 `json:"missing_rate"`
				OutOfRangeRate *float64 `json:"out_of_range_rate"`
			} `json:"training"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range c.want {
			tr, ok := got.Training[name]
			if !ok || tr.MissingRate == nil || *tr.MissingRate != want || tr.OutOfRangeRate == nil || *tr.OutOfRangeRate != 0 {
				t.Errorf("%s: training rates of %s: got %+v, want missing %v, out of range 0", c.stage, name, tr, want)
			}
		}
	}
}
