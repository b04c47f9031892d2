package dashboard

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/internal/chromium"
)

var screenshotOut = flag.String("dashboard.screenshot", "", "also write the browser test's screenshot to this PNG file (to look at it)")

// hostile is a feature name that is markup: it must show as text.
const hostile = `<img src=x onerror=alert(1)>`

// Fake API answers, in the shapes the service serves.
const (
	modelsJSON = `{"models":[
 {"name":"flights","current":"v2","versions":[
  {"model":"flights","version":"v1","digest":"sha256:aaaaaaaaaaaa5f0c2d1e6b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819","created":"2026-11-20T08:00:00Z","current":false},
  {"model":"flights","version":"v2","digest":"sha256:0123456789ab5f0c2d1e6b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819","created":"2026-11-25T20:00:00Z","current":true}]},
 {"name":"taxis","current":"v1","versions":[
  {"model":"taxis","version":"v1","digest":"sha256:fedcba9876545f0c2d1e6b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819","created":"2026-11-24T10:00:00Z","current":true}]},
 {"name":"broken","current":"v1","versions":[
  {"model":"broken","version":"v1","digest":"sha256:99999999999999999999999999999999999999999999999999999999999999aa","created":"2026-11-24T10:00:00Z","current":true}]}]}`

	// dep_delay drifts (10 bins), carrier is categorical (3 labels), the
	// hostile name is a calm distance (4 bins), empty_col failed. The
	// training rates are set for dep_delay and carrier only.
	flightsDriftJSON = `{"features":[
 {"name":"dep_delay","type":"numeric","method":"auto","statistic":0.21,"p_value":0.0001,"threshold":0.05,"drift":true,
  "effect":{"name":"wasserstein_normed","value":0.3,"threshold":0.1},"reference_count":1000,"current_count":500},
 {"name":"carrier","type":"categorical","method":"auto","statistic":2.4,"p_value":0.3,"threshold":0.05,"drift":false,
  "effect":{"name":"jensenshannon","value":0.02,"threshold":0.1},"reference_count":1000,"current_count":500},
 {"name":"<img src=x onerror=alert(1)>","type":"numeric","method":"wasserstein_normed","statistic":0.02,"p_value":null,"threshold":0.1,"drift":false,
  "reference_count":1000,"current_count":500},
 {"name":"empty_col","type":"numeric","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,
  "reference_count":1000,"current_count":0,"error":"no values left after dropping missing values"}],
 "drift_share":0.3333333333333333,"dataset_drift":false,"drift_share_threshold":0.5,
 "window":{"start":"2026-11-25T20:00:00Z","end":"2026-11-25T21:00:00Z","rows":500},
 "training":{"dep_delay":{"missing_rate":0.005,"out_of_range_rate":0},"carrier":{"missing_rate":0.25,"out_of_range_rate":0}},
 "plots":{
  "dep_delay":{"edges":[-20,-10,0,10,20,30,40,50,60,70,80],"ref":[0.05,0.15,0.3,0.2,0.12,0.08,0.05,0.03,0.01,0.01],"cur":[0.01,0.04,0.1,0.15,0.2,0.2,0.12,0.1,0.05,0.03]},
  "carrier":{"labels":["AA","DL","other"],"ref":[0.4,0.35,0.25],"cur":[0.38,0.37,0.25]},
  "<img src=x onerror=alert(1)>":{"edges":[0,1,2,3,4],"ref":[0.25,0.25,0.25,0.25],"cur":[0.24,0.26,0.25,0.25]}}}`

	flightsHistoryJSON = `{"windows":[` +
		window0 + `,` + window1 + `,` + window2 + `,` + window3 + `,` + window4 + `]}`
	// dep_delay's smallest p-value is 1e-9 (window3); carrier's p-value
	// underflowed to 0 in window2.
	window0 = `{"start":"2026-11-25T16:00:00Z","end":"2026-11-25T17:00:00Z","rows":1234,"features":[` +
		`{"name":"dep_delay","method":"auto","statistic":0.02,"p_value":0.4,"threshold":0.05,"drift":false,"missing_rate":0.01,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"carrier","method":"auto","statistic":1.1,"p_value":0.6,"threshold":0.05,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"<img src=x onerror=alert(1)>","method":"wasserstein_normed","statistic":0.01,"p_value":null,"threshold":0.1,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"empty_col","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,"missing_rate":1,"out_of_range_rate":0,"unseen_rate":0}]}`
	window1 = `{"start":"2026-11-25T17:00:00Z","end":"2026-11-25T18:00:00Z","rows":1190,"features":[` +
		`{"name":"dep_delay","method":"auto","statistic":0.03,"p_value":0.2,"threshold":0.05,"drift":false,"missing_rate":0.01,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"carrier","method":"auto","statistic":1.5,"p_value":0.5,"threshold":0.05,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"<img src=x onerror=alert(1)>","method":"wasserstein_normed","statistic":0.015,"p_value":null,"threshold":0.1,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"empty_col","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,"missing_rate":1,"out_of_range_rate":0,"unseen_rate":0}]}`
	window2 = `{"start":"2026-11-25T18:00:00Z","end":"2026-11-25T19:00:00Z","rows":1302,"features":[` +
		`{"name":"dep_delay","method":"auto","statistic":0.06,"p_value":0.04,"threshold":0.05,"drift":false,"missing_rate":0.02,"out_of_range_rate":0.001,"unseen_rate":0},` +
		`{"name":"carrier","method":"auto","statistic":2.0,"p_value":0,"threshold":0.05,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0.01},` +
		`{"name":"<img src=x onerror=alert(1)>","method":"wasserstein_normed","statistic":0.02,"p_value":null,"threshold":0.1,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"empty_col","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,"missing_rate":1,"out_of_range_rate":0,"unseen_rate":0}]}`
	window3 = `{"start":"2026-11-25T19:00:00Z","end":"2026-11-25T20:00:00Z","rows":1250,"features":[` +
		`{"name":"dep_delay","method":"auto","statistic":0.15,"p_value":1e-9,"threshold":0.05,"drift":true,"missing_rate":0.03,"out_of_range_rate":0.01,"unseen_rate":0},` +
		`{"name":"carrier","method":"auto","statistic":2.2,"p_value":0.33,"threshold":0.05,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"<img src=x onerror=alert(1)>","method":"wasserstein_normed","statistic":0.018,"p_value":null,"threshold":0.1,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"empty_col","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,"missing_rate":1,"out_of_range_rate":0,"unseen_rate":0}]}`
	window4 = `{"start":"2026-11-25T20:00:00Z","end":"2026-11-25T21:00:00Z","rows":500,"features":[` +
		`{"name":"dep_delay","method":"auto","statistic":0.21,"p_value":0.0001,"threshold":0.05,"drift":true,"missing_rate":0.04,"out_of_range_rate":0.02,"unseen_rate":0},` +
		`{"name":"carrier","method":"auto","statistic":2.4,"p_value":0.3,"threshold":0.05,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0.005},` +
		`{"name":"<img src=x onerror=alert(1)>","method":"wasserstein_normed","statistic":0.02,"p_value":null,"threshold":0.1,"drift":false,"missing_rate":0,"out_of_range_rate":0,"unseen_rate":0},` +
		`{"name":"empty_col","method":"auto","statistic":null,"p_value":null,"threshold":0.05,"drift":false,"missing_rate":1,"out_of_range_rate":0,"unseen_rate":0}]}`

	notFoundJSON = `{"error":{"code":"not_found","message":"model taxis has no observations yet"}}`
)

// reply is a canned API answer.
type reply struct {
	status int
	body   string
}

// fakeService serves Handler at "/" and canned API answers, and records
// the API requests it saw.
type fakeService struct {
	api map[string]reply // by request path
	mu  sync.Mutex
	log []string // API request URIs, in order
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		Handler().ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.log = append(f.log, r.URL.RequestURI())
	f.mu.Unlock()
	rep, ok := f.api[r.URL.Path]
	if !ok {
		rep = reply{http.StatusNotFound, `{"error":{"code":"not_found","message":"no such route in the fake API"}}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

func (f *fakeService) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// fullAPI is the fake API of the main case: flights with observations,
// taxis without, broken failing.
func fullAPI() map[string]reply {
	return map[string]reply{
		"/v1/models":                 {http.StatusOK, modelsJSON},
		"/v1/models/flights/drift":   {http.StatusOK, flightsDriftJSON},
		"/v1/models/flights/history": {http.StatusOK, flightsHistoryJSON},
		"/v1/models/taxis/drift":     {http.StatusNotFound, notFoundJSON},
		"/v1/models/taxis/history":   {http.StatusOK, `{"windows":[]}`},
		"/v1/models/broken/drift":    {http.StatusInternalServerError, `{"error":{"code":"internal","message":"profile of broken is unreadable"}}`},
		"/v1/models/broken/history":  {http.StatusOK, `{"windows":[]}`},
	}
}

// dumpDOM loads url in Chromium and returns the DOM after the script ran.
func dumpDOM(t *testing.T, bin, url string) string {
	t.Helper()
	return chromium.Run(t, bin, "--virtual-time-budget=5000", "--dump-dom", url)
}

var (
	attrValue = regexp.MustCompile(`="[^"]*"`)
	startTag  = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
)

// tagsOf returns the start tags of a serialized DOM with their attribute
// values blanked: Chromium writes '<' and '>' in text as &lt; and &gt;,
// so what is left is markup only.
func tagsOf(dom string) []string {
	return startTag.FindAllString(attrValue.ReplaceAllString(dom, `=""`), -1)
}

// escapedAttr returns the ways Chromium may write s as an attribute value
// (newer versions also escape < and >).
func escapedAttr(s string) []string {
	old := strings.NewReplacer("&", "&amp;", `"`, "&quot;", "\u00a0", "&nbsp;").Replace(s)
	return []string{old, strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(old)}
}

// svgOf returns the <svg class="cls" data-feature="feature"> element of
// dom, or "" when there is none; it fails on two.
func svgOf(t *testing.T, dom, cls, feature string) string {
	t.Helper()
	var found []string
	variants := escapedAttr(feature)
	if variants[0] == variants[1] {
		variants = variants[:1]
	}
	for _, v := range variants {
		start := `<svg class="` + cls + `" data-feature="` + v + `"`
		for rest := dom; ; {
			i := strings.Index(rest, start)
			if i < 0 {
				break
			}
			rest = rest[i:]
			end := strings.Index(rest, "</svg>")
			if end < 0 {
				t.Fatalf("got an unterminated %s for %q", cls, feature)
			}
			found = append(found, rest[:end])
			rest = rest[end:]
		}
	}
	if len(found) > 1 {
		t.Fatalf("got %d svg.%s for %q, want one", len(found), cls, feature)
	}
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

func count(s, sub string) int { return strings.Count(s, sub) }

func TestDashboardRendersInChromium(t *testing.T) {
	bin := chromium.Path(t)
	fake := &fakeService{api: fullAPI()}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dom := dumpDOM(t, bin, srv.URL+"/")
	if !strings.Contains(dom, `data-state="ready"`) {
		t.Fatalf("got a page that never finished drawing (no body data-state=\"ready\"): %.600s", dom)
	}

	t.Run("models and versions", func(t *testing.T) {
		for _, name := range []string{"flights", "taxis", "broken"} {
			if !regexp.MustCompile(`<li class="model( selected)?" data-model="` + name + `">`).MatchString(dom) {
				t.Errorf("got no list item for model %q, want one", name)
			}
			if !strings.Contains(dom, `>`+name+`</button>`) {
				t.Errorf("got no button named %q, want one", name)
			}
		}
		if !strings.Contains(dom, `<li class="model selected" data-model="flights">`) {
			t.Error("got flights not selected, want the first model selected")
		}
		if got := count(dom, `<li class="version current"`); got != 3 {
			t.Errorf("got %d versions marked current, want 3 (one per model)", got)
		}
		if !strings.Contains(dom, `<li class="version current" data-version="v2">`) || !strings.Contains(dom, `<li class="version" data-version="v1">`) {
			t.Error("got flights' versions marked wrongly, want v2 current and v1 not")
		}
		if !strings.Contains(dom, `>sha256:0123456789ab…</code>`) {
			t.Error("got no shortened digest sha256:0123456789ab…, want one")
		}
	})

	t.Run("feature table", func(t *testing.T) {
		tests := []struct {
			feature, class string
		}{{"dep_delay", "drift"}, {"carrier", "ok"}, {hostile, "ok"}, {"empty_col", "error"}}
		for _, tt := range tests {
			found := false
			for _, v := range escapedAttr(tt.feature) {
				found = found || strings.Contains(dom, `<tr class="`+tt.class+`" data-feature="`+v+`">`)
			}
			if !found {
				t.Errorf("got no table row of class %q for %q, want one", tt.class, tt.feature)
			}
		}
		if got := count(dom, `<span class="badge drift">drift</span>`); got != 2 {
			t.Errorf("got %d drift badges, want 2 (dep_delay's row and card)", got)
		}
		// dep_delay's rates come from the newest history window.
		for _, s := range []string{">4%<", ">2%<", "1.00e-4", "no data set drift", "1 of 3</strong>", "500 rows",
			"no values left after dropping missing values"} {
			if !strings.Contains(dom, s) {
				t.Errorf("got no %q in the page, want it", s)
			}
		}
	})

	t.Run("training rates", func(t *testing.T) {
		// Beside the window's rates: the training rates the drift JSON
		// gives (dep_delay missing 0.5%, carrier 25%, out of range 0), none
		// for features it does not list.
		row := func(feature string) string {
			i := strings.Index(dom, `data-feature="`+feature+`">`)
			if i < 0 {
				t.Fatalf("no table row for %s", feature)
			}
			return dom[i : i+strings.Index(dom[i:], "</tr>")]
		}
		for _, c := range []struct{ feature, rate, live, train string }{
			{"dep_delay", "missing_rate", "4%", "training 0.5%"},
			{"dep_delay", "out_of_range_rate", "2%", "training 0%"},
			{"carrier", "missing_rate", "0%", "training 25%"},
		} {
			cell := regexp.MustCompile(`<td class="n" data-rate="` + c.rate + `">([^<]*)<div class="muted small training-rate"[^>]*>([^<]*)</div></td>`).FindStringSubmatch(row(c.feature))
			if cell == nil || cell[1] != c.live || cell[2] != c.train {
				t.Errorf("%s %s: got cell %q, want %s with %q beneath", c.feature, c.rate, cell, c.live, c.train)
			}
		}
		if strings.Contains(row("empty_col"), "training-rate") {
			t.Error("empty_col has no training rates in the JSON, but its row shows one")
		}
	})

	t.Run("p-value axis", func(t *testing.T) {
		// The axis reaches the smallest p-value drawn (dep_delay's 1e-9);
		// a p-value of 0 (carrier) sits on the floor, marked "<1e-16".
		for _, c := range []struct{ feature, min, bottomTick string }{
			{"dep_delay", "1e-9", ">1e-9</text>"},
			{"carrier", "&lt; 1e-16", ">&lt;1e-16</text>"},
		} {
			hist := svgOf(t, dom, "plot-history", c.feature)
			if !strings.Contains(hist, `data-axis-min="`+c.min+`"`) || !strings.Contains(hist, c.bottomTick) {
				t.Errorf("%s: want the p-value axis down to %s (tick %s), got %.400s", c.feature, c.min, c.bottomTick, hist)
			}
		}
	})

	t.Run("x ticks", func(t *testing.T) {
		// Round values on a linear value axis: dep_delay's edges run from
		// -20 to 80 (a step of 20 gives 6 ticks, 10 would give 11), the
		// hostile feature's from 0 to 4.
		tick := regexp.MustCompile(`<text class="tick xtick" x="[-0-9.]+" y="[-0-9.]+" text-anchor="[a-z]+">([^<]*)</text>`)
		for _, c := range []struct{ feature, want string }{
			{"dep_delay", "-20 0 20 40 60 80"},
			{hostile, "0 1 2 3 4"},
		} {
			var got []string
			for _, m := range tick.FindAllStringSubmatch(svgOf(t, dom, "plot-dist", c.feature), -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s: got x ticks %q, want %q", c.feature, got, c.want)
			}
		}
	})

	t.Run("plots", func(t *testing.T) {
		tests := []struct {
			feature            string
			kind               string
			refPaths, curPaths int
			refBars, curBars   int
			metric             string
			points, driftPts   int
		}{
			{"dep_delay", "numeric", 1, 1, 0, 0, "p_value", 5, 2},
			{"carrier", "categorical", 0, 0, 3, 3, "p_value", 5, 0},
			{hostile, "numeric", 1, 1, 0, 0, "statistic", 5, 0},
			{"empty_col", "none", 0, 0, 0, 0, "statistic", 0, 0},
		}
		for _, tt := range tests {
			dist := svgOf(t, dom, "plot-dist", tt.feature)
			if dist == "" {
				t.Errorf("got no distribution plot for %q, want one", tt.feature)
				continue
			}
			if !strings.Contains(dist, `data-kind="`+tt.kind+`"`) {
				t.Errorf("%s: got %.120s, want data-kind=%q", tt.feature, dist, tt.kind)
			}
			for _, c := range []struct {
				what string
				got  int
				want int
			}{
				{"reference histogram paths", count(dist, `<path class="dist-ref"`), tt.refPaths},
				{"current histogram paths", count(dist, `<path class="dist-cur"`), tt.curPaths},
				{"reference bars", count(dist, `<rect class="bar-ref"`), tt.refBars},
				{"current bars", count(dist, `<rect class="bar-cur"`), tt.curBars},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %d %s, want %d", tt.feature, c.got, c.what, c.want)
				}
			}
			hist := svgOf(t, dom, "plot-history", tt.feature)
			if hist == "" {
				t.Errorf("got no history plot for %q, want one", tt.feature)
				continue
			}
			if !strings.Contains(hist, `data-metric="`+tt.metric+`"`) {
				t.Errorf("%s: got %.120s, want data-metric=%q", tt.feature, hist, tt.metric)
			}
			if got := count(hist, `<circle class="point`); got != tt.points {
				t.Errorf("%s: got %d history points, want %d", tt.feature, got, tt.points)
			}
			if got := count(hist, `<circle class="point drift"`); got != tt.driftPts {
				t.Errorf("%s: got %d drifting history points, want %d", tt.feature, got, tt.driftPts)
			}
			wantLines := 0
			if tt.points > 0 {
				wantLines = 1
			}
			if got := count(hist, `class="threshold-line"`); got != wantLines {
				t.Errorf("%s: got %d threshold lines, want %d", tt.feature, got, wantLines)
			}
		}
	})

	t.Run("hostile name is text", func(t *testing.T) {
		img := regexp.MustCompile(`(?i)^<img\b`)
		handler := regexp.MustCompile(`(?i)\son[a-z]+=`)
		tags := tagsOf(dom)
		if len(tags) < 100 {
			t.Fatalf("got %d start tags in the DOM, want the whole page's", len(tags))
		}
		for _, tag := range tags {
			if img.MatchString(tag) {
				t.Errorf("got the element %s in the DOM, want the feature name as text", tag)
			}
			if handler.MatchString(tag) {
				t.Errorf("got an event handler attribute in %s, want none", tag)
			}
		}
		const asText = "&lt;img src=x onerror=alert(1)&gt;"
		// The table's button, the card's heading and the plots' titles.
		if got := count(dom, ">"+asText+"<"); got < 2 {
			t.Errorf("got the hostile name as text %d times, want it in the table and its card", got)
		}
	})

	t.Run("API requests", func(t *testing.T) {
		reqs := strings.Join(fake.requests(), "\n")
		for _, want := range []string{"/v1/models\n", "/v1/models/flights/drift?stage=input&plots=1", "/v1/models/flights/history?stage=input"} {
			if !strings.Contains(reqs+"\n", want) {
				t.Errorf("got requests %q, want one of %q", reqs, want)
			}
		}
	})
}

// TestDashboardStatesInChromium checks the empty and error states and the
// stage toggle through the URL fragment.
func TestDashboardStatesInChromium(t *testing.T) {
	bin := chromium.Path(t)
	tests := []struct {
		name     string
		api      map[string]reply
		fragment string
		want     []string // substrings of the DOM
		avoid    []string
		requests []string // API requests the page must make
	}{
		{
			name:     "no observations yet",
			api:      fullAPI(),
			fragment: "#model=taxis",
			want: []string{`<li class="model selected" data-model="taxis">`, `id="no-observations"`,
				"No observations yet for taxis (stage input).", "model taxis has no observations yet", `data-state="ready"`,
				`<code class="endpoint" data-stage="input">POST /v1/models/taxis/observations</code>`,
				`<code class="endpoint" data-stage="output">POST /v1/models/taxis/observations?stage=output</code>`},
			avoid:    []string{`class="plot-dist"`, `<div id="banner" class="banner" role="alert">`},
			requests: []string{"/v1/models/taxis/drift?stage=input&plots=1"},
		},
		{
			name:     "output stage",
			api:      fullAPI(),
			fragment: "#model=flights&stage=output",
			want:     []string{`data-stage="output" aria-pressed="true"`, `data-stage="input" aria-pressed="false"`, "flights", "output features"},
			requests: []string{"/v1/models/flights/drift?stage=output&plots=1", "/v1/models/flights/history?stage=output"},
		},
		{
			name: "no models",
			api:  map[string]reply{"/v1/models": {http.StatusOK, `{"models":[]}`}},
			want: []string{`id="no-models"`, "No models yet", `data-state="ready"`},
		},
		{
			name:  "listing fails",
			api:   map[string]reply{"/v1/models": {http.StatusInternalServerError, `{"error":{"code":"internal","message":"registry <dir> is unreadable"}}`}},
			want:  []string{`<div id="banner" class="banner" role="alert"><p>Cannot list the models: registry &lt;dir&gt; is unreadable</p>`, `data-state="error"`, "update failed", "The model list is unavailable."},
			avoid: []string{"<dir>"},
		},
		{
			name:     "drift fails",
			api:      fullAPI(),
			fragment: "#model=broken",
			want:     []string{`role="alert"><p>Cannot load the drift of broken: profile of broken is unreadable`, `class="error-box"`},
		},
		{
			name:     "unknown model in the fragment",
			api:      fullAPI(),
			fragment: "#model=gone",
			want:     []string{"There is no model named “gone”; showing the first one.", `<li class="model selected" data-model="flights">`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeService{api: tt.api}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			dom := dumpDOM(t, bin, srv.URL+"/"+tt.fragment)
			for _, s := range tt.want {
				if !strings.Contains(dom, s) {
					t.Errorf("got a page without %q, want it:\n%.3000s", s, dom)
				}
			}
			for _, s := range tt.avoid {
				if strings.Contains(dom, s) {
					t.Errorf("got %q in the page, want it absent", s)
				}
			}
			reqs := fake.requests()
			for _, want := range tt.requests {
				if !contains(reqs, want) {
					t.Errorf("got requests %q, want %q among them", reqs, want)
				}
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// TestDashboardRefreshesInChromium lets 25 s of virtual time pass: the
// page asks for the model list again every 10 s.
func TestDashboardRefreshesInChromium(t *testing.T) {
	bin := chromium.Path(t)
	fake := &fakeService{api: fullAPI()}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dom := chromium.Run(t, bin, "--virtual-time-budget=25000", "--dump-dom", srv.URL+"/")
	n := 0
	for _, r := range fake.requests() {
		if r == "/v1/models" {
			n++
		}
	}
	if n < 3 {
		t.Errorf("got %d requests of /v1/models in 25 s, want 3 (at 0, 10 and 20 s)", n)
	}
	if !strings.Contains(dom, `data-refreshes="3"`) {
		t.Errorf("got body %.200s, want data-refreshes=\"3\"", dom[strings.Index(dom, "<body"):])
	}
}

// TestDashboardScreenshotInChromium takes a 1280-pixel-wide screenshot
// and checks the series colours and the drift red are drawn.
func TestDashboardScreenshotInChromium(t *testing.T) {
	bin := chromium.Path(t)
	fake := &fakeService{api: fullAPI()}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	shot := t.TempDir() + "/dashboard.png"
	chromium.Run(t, bin, "--virtual-time-budget=5000", "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars", srv.URL+"/")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("reading the screenshot: %v", err)
	}
	if *screenshotOut != "" {
		if err := os.WriteFile(*screenshotOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1280, 2000) {
		t.Errorf("got a %v screenshot, want 1280x2000", got)
	}
	for _, c := range []struct{ what, hex string }{{"reference blue", "#1f6fb4"}, {"current orange", "#d35400"}, {"drift red", "#b42318"}} {
		if !hasColor(img, c.hex) {
			t.Errorf("got no %s pixels (%s) in the screenshot, want some", c.what, c.hex)
		}
	}
}

// hasColor reports whether some pixel of img is within 2 per channel of
// the colour #rrggbb.
func hasColor(img image.Image, hex string) bool {
	var want color.NRGBA
	for i, p := range []*uint8{&want.R, &want.G, &want.B} {
		v := 0
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789abcdef", c)
		}
		*p = uint8(v)
	}
	near := func(a uint32, b uint8) bool { return math.Abs(float64(a>>8)-float64(b)) <= 2 }
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, want.R) && near(g, want.G) && near(b, want.B) {
				return true
			}
		}
	}
	return false
}
