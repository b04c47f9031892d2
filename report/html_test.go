package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/chromium"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// numCol returns a numeric column of n values spread evenly over
// [shift, shift+10).
func numCol(name string, n int, shift float64) table.Column {
	c := table.Column{Name: name, Kind: table.Numeric, Num: make([]float64, n)}
	for i := range c.Num {
		c.Num[i] = shift + 10*float64(i)/float64(n)
	}
	return c
}

// nanCol returns a numeric column of n missing values.
func nanCol(name string, n int) table.Column {
	c := table.Column{Name: name, Kind: table.Numeric, Num: make([]float64, n)}
	for i := range c.Num {
		c.Num[i] = math.NaN()
	}
	return c
}

// catCol returns a categorical column holding each category count times.
func catCol(name string, cats []string, count int) table.Column {
	c := table.Column{Name: name, Kind: table.String}
	for _, s := range cats {
		for range count {
			c.Str = append(c.Str, s)
		}
	}
	return c
}

func compare(t *testing.T, ref, cur []table.Column, opt drift.Options) *drift.Report {
	t.Helper()
	r, err := drift.Compare(ref, cur, opt)
	if err != nil {
		t.Fatalf("drift.Compare: %v", err)
	}
	return r
}

func renderHTML(t *testing.T, r *drift.Report, meta HTMLMeta) string {
	t.Helper()
	var b bytes.Buffer
	if err := DriftHTML(&b, r, meta); err != nil {
		t.Fatalf("DriftHTML: %v", err)
	}
	return b.String()
}

// mixedReport drifts on "shifted", has a new category in "city", cannot
// compare "empty" (no current values) and is calm on the rest.
func mixedReport(t *testing.T) *drift.Report {
	t.Helper()
	ref := []table.Column{
		numCol("same", 400, 0), numCol("shifted", 400, 0), nanCol("empty", 50),
		catCol("city", []string{"oslo", "rome", "<script>"}, 100),
	}
	cur := []table.Column{
		numCol("same", 400, 0), numCol("shifted", 400, 8), nanCol("empty", 50),
		catCol("city", []string{"oslo", "rome", "<script>", "new&town"}, 100),
	}
	return compare(t, ref, cur, drift.Options{})
}

// segmentReport compares x within the segments "north" and "<s>" of
// the column region (identical data on both sides).
func segmentReport(t *testing.T) *drift.Report {
	t.Helper()
	cols := []table.Column{catCol("region", []string{"north", "<s>"}, 200), numCol("x", 400, 0)}
	r, err := drift.CompareSegments(cols, cols, "region", drift.Options{})
	if err != nil {
		t.Fatalf("drift.CompareSegments: %v", err)
	}
	return r
}

func TestDriftHTML(t *testing.T) {
	const weird = `<b>&"`
	tests := []struct {
		name string
		rep  *drift.Report
		meta HTMLMeta
		// plots names the features that have a plot, escaped as they
		// appear in data-feature.
		plots []string
		// order lists escaped feature names as the summary must list them.
		order []string
		want  []string // substrings the page must contain
		avoid []string // substrings it must not contain
	}{
		{
			name: "numeric shift, worst first",
			rep: compare(t,
				[]table.Column{numCol("calm", 400, 0), numCol("mild", 400, 0), numCol("moved", 400, 0)},
				[]table.Column{numCol("calm", 400, 0), numCol("mild", 400, 0.3), numCol("moved", 400, 5)},
				drift.Options{}),
			meta:  HTMLMeta{Title: "Shift", Reference: "train.csv", Current: "today.csv", Generated: "2024-05-01 12:00 UTC"},
			plots: []string{"calm", "mild", "moved"},
			// moved drifts; mild (p < 1) before calm (identical, p = 1).
			order: []string{"moved", "mild", "calm"},
			// One of three drifts: share 1/3 is under the default 0.5.
			want: []string{"<title>Shift</title>", "train.csv", "today.csv", "2024-05-01 12:00 UTC",
				"no data set drift", "1 of 3</strong>", `class="card drift"`, "wasserstein_normed", "auto:ks", "<path class=\"ng-reference\"", "<path class=\"ng-current\""},
			avoid: []string{"DATA SET DRIFT", "Segment"},
		},
		{
			name: "categorical with a new category",
			rep: compare(t,
				[]table.Column{catCol("city", []string{"oslo", "rome"}, 50)},
				[]table.Column{catCol("city", []string{"oslo", "rome", "zurich"}, 50)},
				drift.Options{}),
			plots: []string{"city"},
			order: []string{"city"},
			want: []string{"<title>Drift report</title>", "auto:chisquare", "jensenshannon", "<code>zurich</code>",
				`<rect class="ng-reference"`, `<rect class="ng-current"`, "zurich, current: 33.3%"},
			avoid: []string{"Generated"},
		},
		{
			name:  "error case shows its message instead of a plot",
			rep:   compare(t, []table.Column{nanCol("empty", 20), numCol("x", 50, 0)}, []table.Column{nanCol("empty", 20), numCol("x", 50, 0)}, drift.Options{}),
			plots: []string{"x"},
			want:  []string{`class="card error"`, `<span class="badge error">error</span>`, `<p class="msg">error: `, "could not be compared"},
		},
		{
			name: "names, categories and sources are escaped",
			rep: compare(t,
				[]table.Column{numCol(weird, 100, 0), catCol("c"+weird, []string{"x", "<i>y</i>"}, 30)},
				[]table.Column{numCol(weird, 100, 1), catCol("c"+weird, []string{"x", "<i>y</i>", "<u>new</u>"}, 30)},
				drift.Options{}),
			meta:  HTMLMeta{Title: "<h1>t</h1>", Reference: "a<b>.csv", Current: `"c".csv`},
			plots: []string{"&lt;b&gt;&amp;&#34;", "c&lt;b&gt;&amp;&#34;"},
			want: []string{"&lt;b&gt;&amp;&#34;", "&lt;i&gt;y&lt;/i&gt;", "&lt;u&gt;new&lt;/u&gt;", "&lt;h1&gt;t&lt;/h1&gt;",
				"a&lt;b&gt;.csv", "&#34;c&#34;.csv"},
			avoid: []string{weird, "<b>", "<i>", "<u>", "<h1>t"},
		},
		{
			name:  "segments get a column, a card label and data-segment",
			rep:   segmentReport(t),
			plots: []string{"x", "x"},
			want: []string{`<th scope="col">Segment</th>`, `<td>north</td>`, `data-feature="x" data-segment="north"`,
				`data-feature="x" data-segment="&lt;s&gt;"`, `<span class="seg">segment &lt;s&gt;</span>`},
			avoid: []string{"<s>"},
		},
		{
			name: "distances show an em dash for the p-value",
			rep: compare(t, []table.Column{numCol("w", 100, 0)}, []table.Column{numCol("w", 100, 1)},
				drift.Options{Method: "wasserstein"}),
			plots: []string{"w"},
			order: []string{"w"},
			// wasserstein of two uniform samples 1 apart: exactly 1.
			want: []string{`<td>wasserstein</td><td class="n">1</td><td class="n">—</td>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderHTML(t, tt.rep, tt.meta)
			checkWellFormed(t, page)
			if got := strings.Count(page, `<svg class="ng-plot"`); got != len(tt.plots) {
				t.Errorf("got %d svg.ng-plot, want %d", got, len(tt.plots))
			}
			for _, name := range tt.plots {
				if !strings.Contains(page, `<svg class="ng-plot" data-feature="`+name+`"`) {
					t.Errorf("got no plot with data-feature=%q, want one", name)
				}
			}
			for _, svg := range plotsOf(page) {
				if !strings.Contains(svg, `class="ng-reference"`) || !strings.Contains(svg, `class="ng-current"`) {
					t.Errorf("got a plot without both series: %.200s", svg)
				}
				if !strings.Contains(svg, ">reference</text>") || !strings.Contains(svg, ">current</text>") {
					t.Errorf("got a plot without the reference / current legend: %.200s", svg)
				}
			}
			last := -1
			for i, name := range tt.order {
				at := strings.Index(page, `">`+name+`</a></td>`)
				if at < 0 {
					t.Fatalf("got no summary row for %q, want one", name)
				}
				if at < last {
					t.Errorf("got %q before %q in the summary, want the order %v", tt.order[i-1], name, tt.order)
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
			checkSelfContained(t, page)
		})
	}
}

func TestDriftHTMLMixed(t *testing.T) {
	r := mixedReport(t)
	page := renderHTML(t, r, HTMLMeta{})
	checkWellFormed(t, page)
	// One plot per feature with a Plot; the error feature has none.
	want := 0
	for _, f := range r.Features {
		if f.Plot != nil {
			want++
		}
	}
	if want != 3 {
		t.Fatalf("got %d features with a plot from drift.Compare, want 3 (all but \"empty\")", want)
	}
	if got := strings.Count(page, `<svg class="ng-plot"`); got != want {
		t.Errorf("got %d svg.ng-plot, want %d", got, want)
	}
	if strings.Contains(page, `data-feature="empty"`) {
		t.Error("got a plot for the feature that could not be compared, want its error text instead")
	}
	// shifted and city drift (city's Jensen-Shannon distance between
	// thirds and quarters is sqrt((ln(8/7) + 0.75 ln(6/7) + 0.25 ln 2)/2)
	// = 0.309), "empty" is not judged: share 2/3.
	if !strings.Contains(page, "DATA SET DRIFT") || !strings.Contains(page, "2 of 3</strong>") {
		t.Error("got no data set drift with 2 of 3 judged features drifting, want DATA SET DRIFT")
	}
	if !strings.Contains(page, `<code>new&amp;town</code>`) {
		t.Error("got no escaped new category new&town, want <code>new&amp;town</code>")
	}
	// Card ids follow the summary's order and its links.
	if !strings.Contains(page, `<a href="#feature-1">shifted</a>`) || !strings.Contains(page, `id="feature-1"`) {
		t.Error("got the drifting feature elsewhere than first, want it first with card #feature-1")
	}
}

func TestDriftHTMLNilReport(t *testing.T) {
	var b bytes.Buffer
	if err := DriftHTML(&b, nil, HTMLMeta{}); err == nil {
		t.Error("got no error for a nil report, want one")
	}
}

func TestShareTicks(t *testing.T) {
	tests := []struct {
		max   float64
		step  float64
		ticks int
		label string // percent(step*ticks, step)
	}{
		{0.47, 0.1, 5, "50%"},
		{0.2, 0.05, 4, "20%"},
		{0.093, 0.02, 5, "10%"},
		{0.0042, 0.001, 5, "0.5%"},
		{1, 0.2, 5, "100%"},
		{0, 0.25, 4, "100%"},
		{math.NaN(), 0.25, 4, "100%"},
	}
	for _, tt := range tests {
		step, ticks := shareTicks(tt.max)
		if math.Abs(step-tt.step) > 1e-12 || ticks != tt.ticks {
			t.Errorf("shareTicks(%v): got (%v, %d), want (%v, %d)", tt.max, step, ticks, tt.step, tt.ticks)
		}
		if got := percent(step*float64(ticks), step); got != tt.label {
			t.Errorf("percent of the top tick for %v: got %q, want %q", tt.max, got, tt.label)
		}
	}
}

// plotsOf returns each <svg class="ng-plot"> element of a page.
func plotsOf(page string) []string {
	var out []string
	for _, part := range strings.Split(page, `<svg class="ng-plot"`)[1:] {
		end := strings.Index(part, "</svg>")
		if end < 0 {
			end = len(part)
		}
		out = append(out, part[:end])
	}
	return out
}

var externalRef = regexp.MustCompile(`(?i)https?://|<link\b|<script\b|<iframe\b|<img\b|\bsrc=|url\(`)

// checkSelfContained fails when the page refers to anything outside it.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("got %q in the page, want a page that loads nothing from outside", m)
	}
}

var (
	voidElements = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true, "wbr": true}
	entity       = regexp.MustCompile(`^&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);`)
	tagName      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*`)
)

// checkWellFormed checks the page minimally: every non-void element is
// closed in order, attribute values are quoted without a raw '<', and
// every '&' and '<' in text starts an entity or a tag.
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Errorf("got a page starting %.20q, want <!DOCTYPE html>", page)
	}
	var stack []string
	for i := 0; i < len(page); {
		switch {
		case page[i] == '&':
			if entity.FindString(page[i:]) == "" {
				t.Fatalf("got a bare '&' at %.40q, want an entity", page[i:])
			}
			i++
		case strings.HasPrefix(page[i:], "<!"):
			end := strings.IndexByte(page[i:], '>')
			if end < 0 {
				t.Fatal("got an unterminated <! declaration")
			}
			i += end + 1
		case strings.HasPrefix(page[i:], "</"):
			end := strings.IndexByte(page[i:], '>')
			if end < 0 {
				t.Fatalf("got an unterminated end tag at %.40q", page[i:])
			}
			name := page[i+2 : i+end]
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("got </%s> at %.60q, want the end of %v", name, page[i:], stack)
			}
			stack = stack[:len(stack)-1]
			i += end + 1
		case page[i] == '<':
			name := tagName.FindString(page[i+1:])
			if name == "" {
				t.Fatalf("got a bare '<' at %.40q, want a tag", page[i:])
			}
			j := i + 1 + len(name)
			for j < len(page) && page[j] != '>' { // attributes
				if page[j] == '"' {
					end := strings.IndexByte(page[j+1:], '"')
					if end < 0 {
						t.Fatalf("got an unterminated attribute in <%s", name)
					}
					if v := page[j+1 : j+1+end]; strings.Contains(v, "<") {
						t.Fatalf("got a raw '<' in the attribute value %q", v)
					}
					j += end + 1
				}
				j++
			}
			if j == len(page) {
				t.Fatalf("got an unterminated <%s tag", name)
			}
			i = j + 1
			switch {
			case page[j-1] == '/' || voidElements[name]:
			case name == "style" || name == "script":
				end := strings.Index(page[i:], "</"+name+">")
				if end < 0 {
					t.Fatalf("got an unterminated <%s>", name)
				}
				i += end + len("</"+name+">")
			default:
				stack = append(stack, name)
			}
		default:
			i++
		}
	}
	if len(stack) > 0 {
		t.Errorf("got unclosed elements %v, want none", stack)
	}
}

// TestDriftHTMLRendersInChromium renders the page in headless Chromium,
// checks the plots are in the DOM it builds and that a 1280-pixel-wide
// screenshot shows the legend colours and the red drift verdict. It skips
// without chromium on PATH, except in CI (CI=true), where that fails.
func TestDriftHTMLRendersInChromium(t *testing.T) {
	bin := chromium.Path(t)
	r := mixedReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "drift.html")
	page := renderHTML(t, r, HTMLMeta{Title: "Browser check", Reference: "ref.csv", Current: "cur.csv"})
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()

	dom := chromium.Run(t, bin, "--dump-dom", pageURL)
	plots := plotsOf(dom)
	if len(plots) != 3 {
		t.Fatalf("got %d svg.ng-plot in the rendered DOM, want 3", len(plots))
	}
	for _, name := range []string{"same", "shifted", "city"} {
		if !strings.Contains(dom, `data-feature="`+name+`"`) {
			t.Errorf("got no rendered plot for %q, want one", name)
		}
	}
	for _, svg := range plots {
		if !strings.Contains(svg, "<rect") {
			t.Errorf("got a rendered plot without <rect> (bars or legend): %.200s", svg)
		}
	}
	if got := strings.Count(dom, `<path class="ng-`); got != 4 {
		t.Errorf("got %d histogram <path> elements in the rendered DOM, want 4 (two numeric plots, two series each)", got)
	}
	// The numeric plots' x labels, as rendered, are round numbers: all
	// multiples of one step of 1, 2, 2.5 or 5 times a power of ten.
	numericPlots := 0
	for _, svg := range plots {
		if !strings.Contains(svg, `ng-reference" d=`) || strings.Contains(svg, "<rect class=\"ng-reference\"") {
			continue // categorical
		}
		numericPlots++
		ms := xTick.FindAllStringSubmatch(svg, -1)
		if len(ms) < 2 {
			t.Errorf("a rendered numeric plot has %d x tick labels, want 2 or more: %.300s", len(ms), svg)
			continue
		}
		a, _ := strconv.ParseFloat(ms[0][2], 64)
		b, _ := strconv.ParseFloat(ms[1][2], 64)
		step := b - a
		mant := step / math.Pow(10, math.Floor(math.Log10(step)))
		if !slices.ContainsFunc([]float64{1, 2, 2.5, 5}, func(m float64) bool { return math.Abs(m-mant) < 1e-9 }) {
			t.Errorf("rendered x ticks %q, %q: step %v is not 1, 2, 2.5 or 5 times a power of ten", ms[0][2], ms[1][2], step)
		}
		for _, m := range ms {
			v, err := strconv.ParseFloat(m[2], 64)
			if k := v / step; err != nil || math.Abs(k-math.Round(k)) > 1e-9 {
				t.Errorf("rendered x tick %q is not a multiple of %v", m[2], step)
			}
		}
	}
	if numericPlots != 2 {
		t.Errorf("checked the x ticks of %d rendered numeric plots, want 2 (same, shifted)", numericPlots)
	}
	if !strings.Contains(dom, "&lt;script&gt;") || strings.Contains(dom, "</script>") {
		t.Error("got the category <script> parsed as an element, want it as text")
	}

	shot := filepath.Join(dir, "drift.png")
	chromium.Run(t, bin, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars", pageURL)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("reading the screenshot: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("got a %d-byte screenshot starting %q, want a PNG", len(b), b[:min(len(b), 8)])
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1280, 2000) {
		t.Errorf("got a %v screenshot, want 1280x2000", got)
	}
	for _, c := range []struct {
		what string
		hex  string
	}{{"reference legend", colorReference}, {"current legend", colorCurrent}, {"drift red", "#b42318"}} {
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

// stamps returns a text column of n times step apart from start, written
// as "2006-01-02 15:04".
func stamps(name string, start time.Time, step time.Duration, n int) table.Column {
	c := table.Column{Name: name, Kind: table.String}
	for i := range n {
		c.Str = append(c.Str, start.Add(time.Duration(i)*step).Format("2006-01-02 15:04"))
	}
	return c
}

// fieldsData is a quickstart-like pair of tables exercising every field
// of a drift report: amount moves by 8 of its 10-wide range, income does
// not, age is missing from the current data, user_id is an identifier
// (all 672 values distinct), city gains 13 rare new categories, ts is a
// time column (28 whole days from a Monday against 7 whole days from a
// Monday: both calendar parts covered evenly) and ts_short a time column
// whose current values span five hours (no part covered evenly).
func fieldsData() (ref, cur []table.Column) {
	const n = 672 // 28 days of hours
	ids := func(prefix string) table.Column {
		c := table.Column{Name: "user_id", Kind: table.String}
		for i := range n {
			c.Str = append(c.Str, fmt.Sprintf("%s-%04d", prefix, i))
		}
		return c
	}
	city := catCol("city", []string{"oslo", "rome"}, 300)
	curCity := catCol("city", []string{"oslo", "rome"}, 300)
	for i := range 13 {
		curCity.Str = append(curCity.Str, fmt.Sprintf("town%02d", i))
	}
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	mar := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC) // a Monday
	ref = []table.Column{numCol("amount", n, 0), numCol("income", n, 0), numCol("age", n, 0), ids("a"), city,
		stamps("ts", jan, time.Hour, n), stamps("ts_short", jan, time.Hour, n)}
	cur = []table.Column{numCol("amount", n, 8), numCol("income", n, 0), ids("b"), curCity,
		stamps("ts", mar, time.Hour, 7*24), stamps("ts_short", mar, time.Minute, 300)}
	return ref, cur
}

// summaryRows returns the summary table's rows, by feature name.
func summaryRows(t *testing.T, page string) map[string]string {
	t.Helper()
	start, end := strings.Index(page, "<tbody>"), strings.Index(page, "</tbody>")
	if start < 0 || end < start {
		t.Fatal("got no summary table body")
	}
	rows := map[string]string{}
	for _, row := range strings.Split(page[start:end], "<tr ")[1:] {
		m := regexp.MustCompile(`<a href="#feature-\d+">([^<]*)</a>`).FindStringSubmatch(row)
		if m == nil {
			t.Fatalf("got a summary row without a feature link: %.200s", row)
		}
		rows[m[1]] = row
	}
	return rows
}

// TestDriftHTMLReportFields checks that the page says what DriftTable
// says about each kind of feature: missing features first among the
// problems and in the header, skipped ones as skipped with the reason
// (not judged), time columns with both ranges and the parts compared,
// new categories with how many more there are, and ks's error bound
// against a profile.
func TestDriftHTMLReportFields(t *testing.T) {
	ref, cur := fieldsData()
	rep := compare(t, ref, cur, drift.Options{})
	page := renderHTML(t, rep, HTMLMeta{Title: "Fields"})
	checkWellFormed(t, page)
	checkSelfContained(t, page)

	// Drift first, then missing, then ok, then skipped.
	wantOrder := []struct{ name, verdict string }{
		{"amount", "drift"}, {"age", "missing"}, {"", "ok"}, {"", "ok"}, {"", "ok"}, {"", "skipped"}, {"", "skipped"},
	}
	rowVerdict := regexp.MustCompile(`<tr class="(\w+)">(?:<td>[^<]*</td>)?<td><a href="#feature-(\d+)">([^<]*)</a>`)
	ms := rowVerdict.FindAllStringSubmatch(page, -1)
	if len(ms) != len(wantOrder) {
		t.Fatalf("got %d summary rows, want %d", len(ms), len(wantOrder))
	}
	for i, w := range wantOrder {
		if ms[i][1] != w.verdict || (w.name != "" && ms[i][3] != w.name) || ms[i][2] != strconv.Itoa(i+1) {
			t.Errorf("summary row %d: got %s %q (#feature-%s), want %s %q (#feature-%d)", i+1, ms[i][1], ms[i][3], ms[i][2], w.verdict, w.name, i+1)
		}
	}
	rows := summaryRows(t, page)
	for name, verdict := range map[string]string{"income": "ok", "city": "ok", "ts": "ok", "user_id": "skipped", "ts_short": "skipped"} {
		if !strings.HasPrefix(rows[name], `class="`+verdict+`"`) {
			t.Errorf("%s: got the row %.80q, want verdict %s", name, rows[name], verdict)
		}
	}

	// The header: 1 of the 4 judged features drifts (user_id and
	// ts_short are skipped, age is missing), and age is named as missing.
	for _, s := range []string{
		"1 of 4</strong> features drift", "2 skipped (not judged)",
		`<p class="problem" id="missing"><span class="badge missing">MISSING</span> <strong>1 of the reference's features is missing from the current data:</strong> <code>age</code>`,
		`<span class="badge missing">missing</span> from the current data`,
		`<article class="card missing" id="feature-2">`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("got a page without %q, want it", s)
		}
	}

	// Skipped features say why, in the table and on their card.
	if s := `<span class="badge skipped">skipped</span> — identifier: 672 distinct values among 672`; !strings.Contains(rows["user_id"], s) {
		t.Errorf("user_id: got the row %q, want %q", rows["user_id"], s)
	}
	if !strings.Contains(rows["ts_short"], `<span class="badge skipped">skipped</span> — time column: the current values (2024-03-04 00:00:00 .. 2024-03-04 04:59:00) cover the hours of the day unevenly`) {
		t.Errorf("ts_short: got the row %q, want it skipped for its uneven hours", rows["ts_short"])
	}
	if !strings.Contains(page, `<p class="skip">skipped — identifier: 672 distinct values`) {
		t.Error("got no skip reason on user_id's card, want one")
	}
	for _, name := range []string{"user_id", "ts_short"} {
		if strings.Contains(rows[name], `badge ok`) {
			t.Errorf("%s: got an ok badge on a skipped feature: %q", name, rows[name])
		}
	}

	// The time column: both ranges, and both calendar parts compared.
	for _, s := range []string{
		`reference <span class="nw">2024-01-01 00:00</span> .. <span class="nw">2024-01-28 23:00</span><br>current <span class="nw">2024-03-04 00:00</span> .. <span class="nw">2024-03-10 23:00</span><br>hour_of_day p=`,
		"<br>day_of_week p=",
	} {
		if !strings.Contains(rows["ts"], s) {
			t.Errorf("ts: got the row %q, want %q", rows["ts"], s)
		}
	}
	for _, s := range []string{
		`<dt>reference range</dt><dd>2024-01-01 00:00 .. 2024-01-28 23:00</dd>`,
		`<dt>current range</dt><dd>2024-03-04 00:00 .. 2024-03-10 23:00</dd>`,
		`<dt>hour_of_day</dt><dd>statistic `, `<dt>day_of_week</dt><dd>statistic `,
		// ts_short's card names both parts as not compared.
		`<dt>day_of_week</dt><dd>not compared: the current values (2024-03-04 00:00:00 .. 2024-03-04 04:59:00) cover the days of the week unevenly`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("got a page without %q, want it", s)
		}
	}

	// city: 13 new categories, the report names 10; the table shows 5
	// and 8 more, the card all 10 and 3 more.
	if !strings.Contains(rows["city"], "<code>town00</code>, <code>town01</code>, <code>town02</code>, <code>town03</code>, <code>town04</code> and 8 more") {
		t.Errorf("city: got the row %q, want 5 new categories and 8 more", rows["city"])
	}
	if !strings.Contains(page, "<code>town09</code> and 3 more</dd>") {
		t.Error("got no card listing city's 10 new categories and 3 more, want one")
	}

	// Reference mode computes ks exactly: no error bound.
	if strings.Contains(page, `class="bound"`) || strings.Contains(page, "statistic error bound") {
		t.Error("got an error bound on exact statistics, want none")
	}
}

// TestDriftHTMLErrorBound checks that ks against a profile shows its
// error bound next to the statistic, in the table and on the card.
func TestDriftHTMLErrorBound(t *testing.T) {
	ref := []table.Column{numCol("x", 5000, 0)}
	rep, err := drift.CompareProfile(profile.Columns(ref, 1), []table.Column{numCol("x", 300, 0.5)}, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Features[0].StatisticErrorBound
	if b == nil {
		t.Fatal("got no statistic_error_bound from drift.CompareProfile, want one")
	}
	page := renderHTML(t, rep, HTMLMeta{})
	checkWellFormed(t, page)
	for _, s := range []string{
		`<td class="n">` + num(float64(rep.Features[0].Statistic)) + ` <span class="bound"`,
		`>± ` + num(float64(*b)) + `</span></td>`,
		`<dt>statistic error bound</dt><dd>± ` + num(float64(*b)) + ` (ks against the profile)</dd>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("got a page without %q, want it", s)
		}
	}
}

// TestDriftHTMLNumericOnlyMethod checks that a categorical feature a
// numeric-only method cannot compare is skipped with the reason, and the
// numeric one is still judged.
func TestDriftHTMLNumericOnlyMethod(t *testing.T) {
	rep := compare(t,
		[]table.Column{numCol("x", 200, 0), catCol("c", []string{"a", "b"}, 50)},
		[]table.Column{numCol("x", 200, 0), catCol("c", []string{"a", "b"}, 50)},
		drift.Options{Method: "anderson"})
	page := renderHTML(t, rep, HTMLMeta{})
	checkWellFormed(t, page)
	rows := summaryRows(t, page)
	if s := `<span class="badge skipped">skipped</span> — anderson applies to numeric features only`; !strings.Contains(rows["c"], s) {
		t.Errorf("c: got the row %q, want %q", rows["c"], s)
	}
	if !strings.HasPrefix(rows["x"], `class="ok"`) || !strings.Contains(page, "0 of 1</strong> features drift") ||
		!strings.Contains(page, "1 skipped (not judged)") {
		t.Error("got c counted as judged, want 0 of 1 judged features drifting and 1 skipped")
	}
}
