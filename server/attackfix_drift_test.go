package server

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"testing"
)

// TestDriftPlotsOfHugeValues: an observation at the edge of the float64
// range (1.7e308, -1.7e308, both) at either stage must not make
// GET /drift?plots=1 fail: the answer is a 200 whose numbers all encode,
// and every bin edge of the plots is finite.
func TestDriftPlotsOfHugeValues(t *testing.T) {
	for _, c := range []struct{ name, stage, body string }{
		{"input-max", "input", `{"rows":[{"delay":1.7e308}]}`},
		{"input-min", "input", `{"rows":[{"delay":-1.7e308}]}`},
		{"input-both", "input", `{"rows":[{"delay":-1.7e308,"distance":1.7e308},{"delay":1.7e308,"distance":-1.7e308}]}`},
		{"input-mixed", "input", `{"rows":[{"delay":1.7e308},{"delay":12},{"delay":-3}]}`},
		{"output-max", "output", `{"rows":[{"delay":1.7e308}]}`},
		{"output-both", "output", `{"rows":[{"delay":-1.7e308},{"delay":1.7e308}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, done := benchServer(t)
			defer done()
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			status, resp := send(t, "POST", ts.URL+"/v1/models/flight-delay/observations?stage="+c.stage, "", []byte(c.body))
			if status != 200 {
				t.Fatalf("observations: %d %s", status, resp)
			}
			for _, q := range []string{"", "&plots=1"} {
				status, resp = send(t, "GET", ts.URL+"/v1/models/flight-delay/drift?stage="+c.stage+q, "", nil)
				if status != 200 {
					t.Fatalf("drift%s: %d %s", q, status, resp)
				}
				var d struct {
					Plots map[string]struct {
						Edges    []*float64
						Ref, Cur []*float64
					}
				}
				if err := json.Unmarshal(resp, &d); err != nil {
					t.Fatalf("drift%s: %v", q, err)
				}
				if q == "" {
					continue
				}
				if len(d.Plots) == 0 {
					t.Errorf("drift%s: no plots", q)
				}
				for name, p := range d.Plots {
					for i, e := range p.Edges {
						if e == nil {
							t.Errorf("plot %s: edge %d is null, want finite", name, i)
						}
					}
					for i := range p.Ref {
						if p.Ref[i] == nil || p.Cur[i] == nil {
							t.Errorf("plot %s: bin %d share is null", name, i)
						}
					}
				}
			}
		})
	}
}

// TestPlotJSONNonFinite: a plot number that is not finite is written as
// null, the others as encoding/json writes them, and edges left out when
// there are none.
func TestPlotJSONNonFinite(t *testing.T) {
	inf := func(s int) float64 { return math.Inf(s) }
	got, err := json.Marshal(plotJSON{Labels: []string{"a"}, Ref: []float64{0.5, math.NaN()}, Cur: []float64{inf(1), 1e-7}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"labels":["a"],"ref":[0.5,null],"cur":[null,1e-7]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got, err = json.Marshal(plotJSON{Edges: []float64{inf(-1), 0, 1e21}, Ref: []float64{}, Cur: []float64{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"edges":[null,0,1e+21],"ref":[],"cur":[]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
