package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/chromium"
)

// flightsVectorsJSON is GET .../vectors with two producers of one column:
// the writer's vectors break the contract, the reader's keep it; the
// reader also had 3 vectors of another dimension refused, and a third
// producer had only refused ones (refused_producers).
const flightsVectorsJSON = `{"model":"flights","version":"v2","artifact_digest":"sha256:0123","columns":[{"column":"emb","producers":[
 {"producer":"reader","rows":100,"missing":0,"dimension":100,"refused":{"dimension_mismatch":3},"norms":{"count":100,"min":2.3,"max":9.9,"mean":5.7,"std":1.3,"unit_share":0,"quantiles":[],
  "histogram":[{"lo":1,"hi":2,"count":0},{"lo":2,"hi":4,"count":20},{"lo":4,"hi":8,"count":70},{"lo":8,"hi":16,"count":10},{"lo":16,"hi":32,"count":0}]},"verdicts":[]},
 {"producer":"<img src=x onerror=alert(2)>","rows":100,"missing":0,"dimension":100,"norms":{"count":100,"min":1,"max":1,"mean":1,"std":0,"unit_share":1,"quantiles":[],
  "histogram":[{"lo":0.5,"hi":1,"count":0},{"lo":1,"hi":2,"count":100}]},
  "verdicts":[{"code":"normalized_unexpectedly","message":"100 of 100 vectors are unit length","fix":"remove the extra L2 normalization","evidence":{}}]}],
 "refused_producers":[{"producer":"legacy-writer","refused":{"dimension_mismatch":250,"invalid_vector":2}}],
 "pairs":[{"a":"<img src=x onerror=alert(2)>","b":"reader","drift":{"mmd2":0.5,"mmd_p_value":0.005,"domain_auc":1,"mean_cosine":0.001,"drift":true}}]}]}`

func TestDashboardVectorsInChromium(t *testing.T) {
	bin := chromium.Path(t)
	api := fullAPI()
	api["/v1/models/flights/vectors"] = reply{http.StatusOK, flightsVectorsJSON}
	srv := httptest.NewServer(&fakeService{api: api})
	defer srv.Close()
	dom := dumpDOM(t, bin, srv.URL+"/")
	if !strings.Contains(dom, `data-state="ready"`) {
		t.Fatalf("the page never finished drawing: %.600s", dom)
	}
	if !strings.Contains(dom, `<section id="vectors">`) {
		t.Fatalf("got no vector section")
	}
	if got := count(dom, `<svg class="plot norms"`); got != 2 {
		t.Errorf("got %d norm plots, want 2 (one per producer)", got)
	}
	for _, want := range []string{"keeps the contract", "normalized_unexpectedly", "refused since start: 3 dimension_mismatch",
		"legacy-writer", "refused since start: 250 dimension_mismatch, 2 invalid_vector", "remove the extra L2 normalization", "DRIFT", "&lt;img src=x onerror=alert(2)&gt;"} {
		if !strings.Contains(dom, want) {
			t.Errorf("got no %q in the vector section", want)
		}
	}
	for _, tag := range tagsOf(dom) {
		if strings.HasPrefix(tag, "<img") {
			t.Fatalf("a producer name became markup: %s", tag)
		}
	}
}
