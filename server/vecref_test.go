package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/embed"
)

// scaled returns copies of vs with every value multiplied by f.
func scaled(vs [][]float64, f func(float64) float64) [][]float64 {
	out := make([][]float64, len(vs))
	for i, v := range vs {
		out[i] = make([]float64, len(v))
		for k, x := range v {
			out[i][k] = f(x)
		}
	}
	return out
}

// vecrefMetric returns the value of the refusal counter of producer and
// reason in /metrics, -1 when it has no such series, and the number of
// the counter's series.
func vecrefMetric(t *testing.T, ts *httptest.Server, producer, reason string) (float64, int) {
	t.Helper()
	status, body := send(t, "GET", ts.URL+"/metrics", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	series := regexp.MustCompile(`(?m)^normguard_vector_refusals_total\{.*$`).FindAllString(string(body), -1)
	want := fmt.Sprintf(`normguard_vector_refusals_total{model="store",producer=%q,reason=%q} `, producer, reason)
	for _, s := range series {
		if v, ok := strings.CutPrefix(s, want); ok {
			var x float64
			fmt.Sscan(v, &x)
			return x, len(series)
		}
	}
	return -1, len(series)
}

// TestVectorRefusalsCounted: vectors refused with a 400 are counted per
// producer and reason, in GET /vectors (refused) and in
// normguard_vector_refusals_total. A producer whose every vector was
// refused is listed under refused_producers, with no window and no
// dimension; its refusals are not written to the state file and are gone
// after a restart. Vectors refused only along with a wrong one are not
// counted.
func TestVectorRefusalsCounted(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, ts := vf.serve(t)
	url := ts.URL + "/v1/models/store/observations?producer="
	short := func(d int) string { return vectorJSON(make([]float64, d)) }
	for _, c := range []struct{ producer, body, want string }{
		{"wrongdim", string(vectorBody([][]float64{make([]float64, 10), make([]float64, 10)})), "dimension_mismatch"},
		// a right vector (refused along, not counted), two of other
		// dimensions and one that is not an array of numbers
		{"wrongdim", `{"rows":[{"emb":` + vectorJSON(vf.rest[0]) + `},{"emb":` + short(5) + `},{"emb":` + short(7) + `},{"emb":"x"}]}`, "a vector of 5 values"},
		{"wrongdim", `{"rows":[{"emb":[1e400]},{"emb":[]}]}`, "element 0: 1e400 is out of the float64 range"},
	} {
		status, resp := send(t, "POST", url+c.producer, "", []byte(c.body))
		if status != http.StatusBadRequest || !strings.Contains(string(resp), c.want) {
			t.Fatalf("%.60s: %d %s, want 400 saying %q", c.body, status, resp, c.want)
		}
	}
	if status, resp := send(t, "POST", url+"good", "", vectorBody(vf.rest[:5])); status != http.StatusOK {
		t.Fatalf("good: %d %s", status, resp)
	}
	if status, resp := send(t, "POST", url+"good", "", vectorBody([][]float64{vf.rest[5][:99]})); status != http.StatusBadRequest {
		t.Fatalf("good, a 99-d vector: %d %s", status, resp)
	}

	got, body := getVectors(t, ts)
	col := got.Columns[0]
	wantRefused := []vectorRefusedReport{{Producer: "wrongdim", Refused: map[string]int64{"dimension_mismatch": 4, "invalid_vector": 3}}}
	if !reflect.DeepEqual(col.RefusedProducers, wantRefused) {
		t.Errorf("refused_producers %+v, want %+v", col.RefusedProducers, wantRefused)
	}
	if len(col.Producers) != 1 || col.Producers[0].Producer != "good" || col.Producers[0].Rows != 5 ||
		!reflect.DeepEqual(col.Producers[0].Refused, map[string]int64{"dimension_mismatch": 1}) {
		t.Errorf("producers %+v, want good with 5 vectors and refused dimension_mismatch: 1", col.Producers)
	}
	if !strings.Contains(body, `"refused_producers":[{"producer":"wrongdim","refused":{"dimension_mismatch":4,"invalid_vector":3}}]`) {
		t.Errorf("GET vectors: %.2000s", body)
	}
	for _, c := range []struct {
		producer, reason string
		want             float64
	}{{"wrongdim", "dimension_mismatch", 4}, {"wrongdim", "invalid_vector", 3}, {"good", "dimension_mismatch", 1}, {"good", "invalid_vector", -1}} {
		if v, _ := vecrefMetric(t, ts, c.producer, c.reason); v != c.want {
			t.Errorf("normguard_vector_refusals_total{producer=%q,reason=%q} = %v, want %v", c.producer, c.reason, v, c.want)
		}
	}

	// Not in the state file: a restart knows nothing of them.
	files, _ := filepath.Glob(filepath.Join(vf.dir, "monitor.db.vectors*"))
	if len(files) == 0 {
		t.Fatal("no state file written")
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("wrongdim")) || bytes.Contains(b, []byte("refused")) {
			t.Errorf("%s names the refused producer or refusals", f)
		}
	}
	_, again := vf.serve(t)
	got, body = getVectors(t, again)
	col = got.Columns[0]
	if len(col.RefusedProducers) != 0 || len(col.Producers) != 1 || col.Producers[0].Rows != 5 || len(col.Producers[0].Refused) != 0 ||
		!strings.Contains(body, `"refused":{}`) {
		t.Errorf("after a restart: %.1500s, want good's 5 vectors and no refusal", body)
	}
}

// TestVectorRefusalsBounded: the producers the refusal counts name are
// bounded per column as the windows' producers are: a producer refused
// for being one too many is named while fewer than 16 are, the producers
// holding a window are named (up to 32 in all), and the refusals of the
// others are counted under producer "".
func TestVectorRefusalsBounded(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	_, ts := vectorServer(t, store, "", &now)
	post := func(producer string, vs [][]float64, want int) {
		t.Helper()
		if status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer="+producer, "", vectorBody(vs)); status != want {
			t.Fatalf("%s: %d %s, want %d", producer, status, resp, want)
		}
	}
	wrong := [][]float64{make([]float64, 3), make([]float64, 3)}
	for i := range maxProducers {
		post(fmt.Sprintf("w%02d", i), rest[:5], http.StatusOK)
	}
	post("extra", rest[:5], http.StatusBadRequest) // a 17th producer
	for i := range maxProducers {
		post(fmt.Sprintf("w%02d", i), wrong, http.StatusBadRequest)
	}
	for i := range 40 {
		post(fmt.Sprintf("p%02d", i), wrong, http.StatusBadRequest)
	}
	got, body := getVectors(t, ts)
	col := got.Columns[0]
	want := []vectorRefusedReport{
		{Producer: "", Refused: map[string]int64{"dimension_mismatch": 80}},
		{Producer: "extra", Refused: map[string]int64{"too_many_producers": 5}},
	}
	if !reflect.DeepEqual(col.RefusedProducers, want) {
		t.Errorf("refused_producers %+v, want %+v", col.RefusedProducers, want)
	}
	if len(col.Producers) != maxProducers {
		t.Fatalf("%d producers, want %d: %.1000s", len(col.Producers), maxProducers, body)
	}
	for _, p := range col.Producers {
		if p.Rows != 5 || !reflect.DeepEqual(p.Refused, map[string]int64{"dimension_mismatch": 2}) {
			t.Errorf("producer %s: %d vectors, refused %v, want 5 and dimension_mismatch: 2", p.Producer, p.Rows, p.Refused)
		}
	}
	v, series := vecrefMetric(t, ts, "", "dimension_mismatch")
	if v != 80 || series != maxProducers+2 {
		t.Errorf(`producer "": %v, %d series; want 80 and %d (16 window producers, extra, "")`, v, series, maxProducers+2)
	}
	if v, _ := vecrefMetric(t, ts, "extra", "too_many_producers"); v != 5 {
		t.Errorf("extra too_many_producers = %v, want 5", v)
	}
}

// TestVectorsHugeValues: GET /vectors answered 500 "encoding the answer
// failed" when a window held vectors of norm 1e4 or more (the histogram's
// last bin has no upper edge, +Inf) or vectors of finite values whose
// squares pass the float64 range (norms, their mean, std and quantiles
// +Inf or NaN). Now 200 with valid JSON, such a number null, the 0
// quantile the smallest norm; two producers of such vectors are compared
// as the CLI's drift does: no verdict, "values too large to compare"
// (they were scaled down by a power of two, which let one such vector
// hide a drift: TestVectorsOneHugeVector); the previous window's report
// too.
func TestVectorsHugeValues(t *testing.T) {
	dir := t.TempDir()
	store, rest, _ := vectorRegistry(t, dir)
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	const k = 996 // 2^996 ≈ 6.7e299: GloVe's values up to ~5 make norms past the float64 range
	cases := []struct {
		name string
		f    func(float64) float64
	}{
		{"x 1e4", func(x float64) float64 { return x * 1e4 }},
		{"x 1e300", func(x float64) float64 { return x * 1e300 }},
		{"x 2^996", func(x float64) float64 { return math.Ldexp(x, k) }},
		{"x 1", func(x float64) float64 { return x }},
	}
	pairs := map[string]embed.DriftResult{}
	for _, c := range cases {
		cnow := now
		_, ts := vectorServer(t, store, "", &cnow)
		for _, p := range []struct {
			name string
			vs   [][]float64
		}{{"a", rest[:50]}, {"b", rest[50:100]}} {
			if status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer="+p.name, "", vectorBody(scaled(p.vs, c.f))); status != http.StatusOK {
				t.Fatalf("%s, %s: %d %s", c.name, p.name, status, resp)
			}
		}
		for _, stage := range []string{"open", "previous"} {
			status, body := send(t, "GET", ts.URL+"/v1/models/store/vectors", "", nil)
			if status != http.StatusOK || !json.Valid(body) {
				t.Fatalf("%s, %s window: GET vectors %d %.300s, want 200 and valid JSON", c.name, stage, status, body)
			}
			var got vectorsResponse
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			var raw struct {
				Columns []struct {
					Producers []struct {
						Norms    map[string]any `json:"norms"`
						Previous *struct {
							Norms map[string]any `json:"norms"`
						} `json:"previous"`
					} `json:"producers"`
				} `json:"columns"`
			}
			json.Unmarshal(body, &raw)
			norms := raw.Columns[0].Producers[0].Norms
			if stage == "previous" {
				norms = raw.Columns[0].Producers[0].Previous.Norms
			}
			hist := norms["histogram"].([]any)
			last := hist[len(hist)-1].(map[string]any)
			q := norms["quantiles"].([]any)
			switch c.name {
			case "x 1e4":
				if last["hi"] != nil || last["lo"] != 1e4 || norms["max"] == nil || norms["std"] == nil || q[0] != norms["min"] {
					t.Errorf("%s, %s: norms %v, want finite statistics and the last bin [1e4, null)", c.name, stage, norms)
				}
			case "x 1e300", "x 2^996":
				if norms["max"] != nil || norms["mean"] != nil || norms["std"] != nil || q[0] != norms["min"] || norms["count"] != 50.0 {
					t.Errorf("%s, %s: norms %v, want max, mean and std null and the 0 quantile the min", c.name, stage, norms)
				}
			}
			if stage == "open" {
				ps := got.Columns[0].Pairs
				switch {
				case len(ps) != 1:
					t.Fatalf("%s: pairs %+v, want a and b", c.name, ps)
				case c.name == "x 1e300" || c.name == "x 2^996":
					if ps[0].Drift != nil || !strings.Contains(ps[0].Skipped, `values too large to compare: 50 of producer "a"'s 50 sampled vectors`) {
						t.Errorf("%s: pair %+v, want no verdict: values too large to compare", c.name, ps[0])
					}
				case ps[0].Drift == nil:
					t.Fatalf("%s: pairs %+v, want a and b compared", c.name, ps)
				default:
					pairs[c.name] = *ps[0].Drift
				}
			}
			cnow = cnow.Add(time.Hour)
		}
	}
	if base, big := pairs["x 1"], pairs["x 1e4"]; base.Drift != big.Drift || base.DriftedDims != big.DriftedDims {
		t.Errorf("x 1e4: %+v, want the verdict of x 1: %+v", big, base)
	}
}

// TestVectorNormsJSON: the statistics are written as encoding/json writes
// embed.NormStats (every field, byte for byte) when all are finite, a
// number that is not finite as null; reportNorms gives the numbers that
// have a finite value one, and does not change what it is given.
func TestVectorNormsJSON(t *testing.T) {
	fin := embed.NormStats{Count: 3, Min: 1, Max: 2.5, Mean: 1.5, Std: 0.25, UnitShare: 1.0 / 3,
		Quantiles: []float64{1, 1.25, 2.5}, Histogram: []embed.Bin{{Lo: 1, Hi: 1.07, Count: 2}, {Lo: 2.4, Hi: 2.6, Count: 1}}}
	want, err := json.Marshal(fin)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(embed.NormStats) ([]byte, error){finiteNormsJSON, func(s embed.NormStats) ([]byte, error) { return json.Marshal(vectorNorms(s)) }} {
		if got, err := f(fin); err != nil || !bytes.Equal(got, want) {
			t.Errorf("finite: %s %v\nwant     %s", got, err, want)
		}
	}
	if got, _ := finiteNormsJSON(embed.NormStats{}); string(got) != `{"count":0,"min":0,"max":0,"mean":0,"std":0,"unit_share":0,"quantiles":null,"histogram":null}` {
		t.Errorf("empty: %s", got)
	}
	inf, nan := math.Inf(1), math.NaN()
	huge := embed.NormStats{Count: 2, Min: 4e4, Max: inf, Mean: inf, Std: nan, Quantiles: []float64{nan, inf, inf},
		Histogram: []embed.Bin{{Lo: 1e4, Hi: inf, Count: 2}}}
	got, err := json.Marshal(reportNorms(huge))
	if err != nil || string(got) != `{"count":2,"min":40000,"max":null,"mean":null,"std":null,"unit_share":0,"quantiles":[40000,null,null],"histogram":[{"lo":10000,"hi":null,"count":2}]}` {
		t.Errorf("huge: %s %v", got, err)
	}
	if !math.IsNaN(huge.Quantiles[0]) {
		t.Error("reportNorms changed the quantiles it was given")
	}
	// norms all equal whose sum overflowed: mean, std and quantiles known
	same := embed.NormStats{Count: 3, Min: 1e308, Max: 1e308, Mean: inf, Std: nan, Quantiles: []float64{nan, 1e308, inf}}
	if got, _ := json.Marshal(reportNorms(same)); string(got) != `{"count":3,"min":1e+308,"max":1e+308,"mean":1e+308,"std":0,"unit_share":0,"quantiles":[1e+308,1e+308,1e+308],"histogram":null}` {
		t.Errorf("equal norms: %s", got)
	}
}

// TestVectorsOneHugeVector: one vector of 1e308 values among a producer's
// ordinary ones made a clear drift between producers read as none (attack
// run 8, F9): the samples were scaled down by a power of two to fit, which
// pushed every ordinary vector below float64's range. The pair now gives
// no verdict, naming the producer, and its producer report flags the
// vector as nan_vectors.
func TestVectorsOneHugeVector(t *testing.T) {
	store, rest, _ := vectorRegistry(t, t.TempDir())
	now := time.Date(2026, 12, 4, 10, 20, 0, 0, time.UTC)
	for _, huge := range []bool{false, true} {
		cnow := now
		_, ts := vectorServer(t, store, "", &cnow)
		b := scaled(rest[50:100], func(x float64) float64 { return 3*x + 1 }) // plainly drifted from a
		if huge {
			v := make([]float64, len(b[0]))
			for k := range v {
				v[k] = 1e308
			}
			b = append(b, v)
		}
		for _, p := range []struct {
			name string
			vs   [][]float64
		}{{"a", rest[:50]}, {"b", b}} {
			if status, resp := send(t, "POST", ts.URL+"/v1/models/store/observations?producer="+p.name, "", vectorBody(p.vs)); status != http.StatusOK {
				t.Fatalf("huge %v, %s: %d %s", huge, p.name, status, resp)
			}
		}
		status, body := send(t, "GET", ts.URL+"/v1/models/store/vectors", "", nil)
		var got vectorsResponse
		if status != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Columns[0].Pairs) != 1 {
			t.Fatalf("huge %v: GET vectors %d %.300s", huge, status, body)
		}
		pair := got.Columns[0].Pairs[0]
		if !huge {
			if pair.Drift == nil || !pair.Drift.Drift {
				t.Fatalf("ordinary vectors: pair %+v, want drift", pair)
			}
			continue
		}
		if pair.Drift != nil || !strings.Contains(pair.Skipped, `values too large to compare: 1 of producer "b"'s 51 sampled vectors`) {
			t.Errorf("one huge vector: pair %+v, want no verdict naming producer b", pair)
		}
		flagged := false
		for _, f := range got.Columns[0].Producers[1].Verdicts {
			flagged = flagged || f.Code == "nan_vectors"
		}
		if !flagged {
			t.Errorf("producer b's verdicts %+v, want nan_vectors", got.Columns[0].Producers[1].Verdicts)
		}
	}
}
