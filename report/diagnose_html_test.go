package report

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/chromium"
)

const hostile = `<b>&"x</script>`

// diagnosisReport has an ok column and a not_normalized one with paired
// plots, an unpaired drift column with a distribution plot, and a
// columns_swapped column with a hostile name and no plot.
func diagnosisReport() *diagnose.Report {
	line := func(slope float64) *diagnose.Plot {
		p := &diagnose.Plot{}
		for i := range 50 {
			x := float64(i)/10 - 2.5
			p.Expected, p.Observed = append(p.Expected, x), append(p.Observed, slope*x)
		}
		return p
	}
	v := func(name, verdict, what, fix string, ev map[string]any, p *diagnose.Plot) diagnose.Verdict {
		expl := what
		if fix != "" {
			expl += ": " + fix
		}
		return diagnose.Verdict{Name: name, Verdict: verdict, Explanation: expl, Fix: fix, Evidence: ev, Plot: p}
	}
	return &diagnose.Report{Features: []diagnose.Verdict{
		v("calm", diagnose.OK, "the observed values are the artifact's transform of the raw rows", "", map[string]any{"max_abs_diff": 0.0}, line(1)),
		v("raw", diagnose.NotNormalized, "never scaled", "apply the artifact's transform", map[string]any{"max_abs_diff": 202.5}, line(40)),
		v("moved", diagnose.Drift, "the input drifted", "refit on recent data", map[string]any{"ks": 0.31, "p_value": math.NaN()},
			&diagnose.Plot{Distribution: &drift.Plot{Edges: []float64{0, 1, 2, 3}, Ref: []float64{0.2, 0.5, 0.3}, Cur: []float64{0.5, 0.25, 0.125}}}),
		v(hostile, diagnose.ColumnsSwapped, "holds column <i>y</i>'s values", "select <features> by name",
			map[string]any{"partner": "<i>y</i>", "mapping": map[string]string{"a&b": "<c>"}}, nil),
	}}
}

func renderDiagnosis(t *testing.T, r *diagnose.Report, meta DiagnoseMeta) string {
	t.Helper()
	var b bytes.Buffer
	if err := DiagnoseHTML(&b, r, meta); err != nil {
		t.Fatalf("DiagnoseHTML: %v", err)
	}
	return b.String()
}

func TestDiagnoseHTML(t *testing.T) {
	okOnly := &diagnose.Report{Features: diagnosisReport().Features[:1]}
	tests := []struct {
		name  string
		rep   *diagnose.Report
		meta  DiagnoseMeta
		plots map[string]string // data-feature (escaped) -> data-kind
		order []string          // escaped names in summary order (mismatched first)
		want  []string
		avoid []string
	}{
		{
			name: "paired, unpaired and hostile columns",
			rep:  diagnosisReport(),
			meta: DiagnoseMeta{Title: "Prod <check>", Artifact: "a&b.json", Observed: "obs.csv", Raw: "raw.csv",
				Candidates: []string{"old<1>.json"}, Generated: "2024-05-01"},
			plots: map[string]string{"calm": "scatter", "raw": "scatter", "moved": "distribution"},
			// Mismatched first (not_normalized, columns_swapped), then the
			// warning (drift), then ok.
			order: []string{"raw", "&lt;b&gt;&amp;&#34;x&lt;/script&gt;", "moved", "calm"},
			want: []string{"<title>Prod &lt;check&gt;</title>", "a&amp;b.json", "<dt>Raw rows</dt><dd>raw.csv</dd>",
				"<dt>Candidate</dt><dd>old&lt;1&gt;.json</dd>", "<dt>Generated</dt><dd>2024-05-01</dd>",
				`<span class="badge bad big">MISMATCH</span>`, "<strong>3 of 4</strong>",
				// the explanation without its fix, then the fix apart
				`<p class="expl">never scaled</p>`, `<p class="fix"><strong>Likely fix:</strong> apply the artifact&#39;s transform</p>`,
				`<p class="expl">holds column &lt;i&gt;y&lt;/i&gt;&#39;s values</p>`, "select &lt;features&gt; by name",
				// evidence: numbers compact, NaN as "-", maps as escaped JSON, keys sorted
				"<dt>max_abs_diff</dt><dd>202.5</dd>", "<dt>p_value</dt><dd>-</dd>",
				"<dt>mapping</dt><dd>{&#34;a\\u0026b&#34;:&#34;\\u003cc\\u003e&#34;}</dd>",
				`<line class="ng-identity"`, `<circle class="ng-point"`, `<path class="ng-reference"`, `<path class="ng-current"`,
				">training output</text>", ">observed = expected</text>",
				// 1 - (0.5 + 0.25 + 0.125) of the observed values are off the bins
				"12.5% of the observed values lie outside the plotted range.", `class="card warn"`, `class="card bad"`, `class="card ok"`},
			avoid: []string{hostile, "<i>", "<c>", "<check>", "unpaired: no raw rows"},
		},
		{
			name:  "unpaired and all ok",
			rep:   okOnly,
			plots: map[string]string{"calm": "scatter"},
			order: []string{"calm"},
			want: []string{"<title>Diagnosis</title>", `<span class="badge ok big">all features ok</span>`,
				"unpaired: no raw rows", `<span class="badge ok">ok × 1</span>`},
			avoid: []string{"MISMATCH", `class="fix"`, "Candidate", "Generated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderDiagnosis(t, tt.rep, tt.meta)
			checkWellFormed(t, page)
			checkSelfContained(t, page)
			if got := strings.Count(page, `<svg class="ng-plot"`); got != len(tt.plots) {
				t.Errorf("got %d svg.ng-plot, want %d", got, len(tt.plots))
			}
			for name, kind := range tt.plots {
				if want := `<svg class="ng-plot" data-feature="` + name + `" data-kind="` + kind + `"`; !strings.Contains(page, want) {
					t.Errorf("got no %s plot for %q, want %s", kind, name, want)
				}
			}
			last := -1
			for _, name := range tt.order {
				at := strings.Index(page, `">`+name+`</a></td>`)
				if at < 0 {
					t.Fatalf("got no summary row for %q, want one", name)
				}
				if at < last {
					t.Errorf("got %q out of the report's order %v", name, tt.order)
				}
				last = at
			}
			for _, s := range tt.want {
				if !strings.Contains(page, s) {
					t.Errorf("got a page without %q, want it", s)
				}
			}
			for _, s := range tt.avoid {
				if strings.Contains(page, s) {
					t.Errorf("got %q in the page, want it absent", s)
				}
			}
		})
	}
}

// TestDiagnoseHTMLScatterGeometry checks the scatter's points land where
// the axes say: with x ticks -3..3 and y ticks -3..3 (values within
// [-2.5, 2.4]), the point (0, 0) is at the middle of the plot area.
func TestDiagnoseHTMLScatterGeometry(t *testing.T) {
	svg := scatterSVG("x", []float64{-2.5, 0, 2.4}, []float64{-2.5, 0, 2.4})
	// x: plotLeft + innerW/2 = 52 + 248 = 300; y: plotTop + plotInnerH/2 = 30 + 85 = 115.
	if !strings.Contains(svg, `cx="300.0" cy="115.0"`) {
		t.Errorf("got no point at (300.0, 115.0) for (0, 0) in %s, want one", svg)
	}
	// The identity line spans the shared range -3..3: from the bottom left
	// (52, 200) to the top right (548, 30).
	if !strings.Contains(svg, `x1="52.0" y1="200.0" x2="548.0" y2="30.0"`) {
		t.Errorf("got no identity line from (52, 200) to (548, 30) in %s, want one", svg)
	}
}

func TestAxisTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{-2.5, 2.4, []float64{-3, -2, -1, 0, 1, 2, 3}},
		{0, 202.7, []float64{0, 50, 100, 150, 200, 250}},
		{0.5, 0.5, []float64{-0.5, 0, 0.5, 1, 1.5}},
		{-2.52, -2.39, []float64{-2.55, -2.5, -2.45, -2.4, -2.35}},
		{1e6, 3e6, []float64{1e6, 1.5e6, 2e6, 2.5e6, 3e6}},
	}
	for _, tt := range tests {
		got := axisTicks(tt.lo, tt.hi)
		ok := len(got) == len(tt.want)
		for i := 0; ok && i < len(got); i++ {
			ok = math.Abs(got[i]-tt.want[i]) <= 1e-9*math.Max(1, math.Abs(tt.want[i]))
		}
		if !ok {
			t.Errorf("axisTicks(%v, %v): got %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestDiagnoseNil(t *testing.T) {
	var b bytes.Buffer
	for name, err := range map[string]error{
		"html": DiagnoseHTML(&b, nil, DiagnoseMeta{}), "json": DiagnoseJSON(&b, nil), "table": DiagnoseTable(&b, nil, false),
	} {
		if err == nil {
			t.Errorf("%s: got no error for a nil report, want one", name)
		}
	}
}

func TestDiagnoseTableAndJSON(t *testing.T) {
	r := diagnosisReport()
	var b bytes.Buffer
	if err := DiagnoseTable(&b, r, false); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	for _, s := range []string{"FEATURE", "raw", "not_normalized", "max_abs_diff=202.5", "ks=0.31 p_value=-",
		"raw: never scaled: apply the artifact's transform", "3 of 4 features mismatched"} {
		if !strings.Contains(table, s) {
			t.Errorf("got a table without %q, want it:\n%s", s, table)
		}
	}
	if i, j, k := strings.Index(table, "\nraw "), strings.Index(table, "\nmoved "), strings.Index(table, "\ncalm "); !(i >= 0 && i < j && j < k) {
		t.Errorf("got rows raw at %d, moved at %d, calm at %d, want mismatched first, then drift, then ok:\n%s", i, j, k, table)
	}
	if strings.Contains(table, "calm: ") || strings.Contains(table, "\x1b[") {
		t.Errorf("got an explanation for the ok column or colour codes, want neither:\n%s", table)
	}
	b.Reset()
	if err := DiagnoseJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Features []struct {
			Name, Verdict, Explanation, Fix string
			Evidence                        map[string]any
			Plot                            any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("got invalid JSON %v:\n%s", err, b.String())
	}
	if len(got.Features) != 4 || got.Features[0].Verdict != diagnose.NotNormalized || got.Features[0].Fix != "apply the artifact's transform" ||
		got.Features[0].Evidence["max_abs_diff"] != 202.5 || got.Features[0].Plot != nil {
		t.Errorf("got %+v, want 4 features, first raw not_normalized with its fix and evidence, no plot", got.Features)
	}
	var order []string
	for _, f := range got.Features {
		order = append(order, f.Name)
	}
	if want := []string{"raw", hostile, "moved", "calm"}; !slices.Equal(order, want) {
		t.Errorf("got JSON order %q, want mismatched first %q", order, want)
	}
	// NaN evidence is written as null.
	if p, ok := got.Features[2].Evidence["p_value"]; got.Features[2].Name != "moved" || !ok || p != nil {
		t.Errorf("moved p_value: got %v (present %v), want null", p, ok)
	}
}

// TestDiagnoseHTMLRendersInChromium renders the page in headless Chromium
// and checks the plots are in the DOM and the screenshot shows the series
// colours and the red mismatch badge. It skips without chromium on PATH,
// except in CI (CI=true), where that fails.
func TestDiagnoseHTMLRendersInChromium(t *testing.T) {
	bin := chromium.Path(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "diagnose.html")
	page := renderDiagnosis(t, diagnosisReport(), DiagnoseMeta{Artifact: "a.json", Observed: "obs.csv", Raw: "raw.csv"})
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	dom := chromium.Run(t, bin, "--dump-dom", pageURL)
	if got := len(plotsOf(dom)); got != 3 {
		t.Fatalf("got %d svg.ng-plot in the rendered DOM, want 3", got)
	}
	if got := strings.Count(dom, `<circle class="ng-point"`); got != 100 {
		t.Errorf("got %d scatter points in the rendered DOM, want 100 (two plots of 50)", got)
	}
	if strings.Contains(dom, "<b>") || !strings.Contains(dom, "&lt;b&gt;") {
		t.Error("got the hostile column name parsed as markup, want it as text")
	}
	shot := filepath.Join(dir, "diagnose.png")
	chromium.Run(t, bin, "--screenshot="+shot, "--window-size=1280,1800", "--hide-scrollbars", pageURL)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("reading the screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1280, 1800) {
		t.Errorf("got a %v screenshot, want 1280x1800", got)
	}
	for _, c := range []struct{ what, hex string }{
		{"training output / identity line", colorReference}, {"observed points", colorCurrent}, {"mismatch red", "#b42318"},
	} {
		if !hasColor(img, c.hex) {
			t.Errorf("got no %s pixels (%s) in the screenshot, want some", c.what, c.hex)
		}
	}
}
