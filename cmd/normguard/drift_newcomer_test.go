package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/quickstart"
)

// The cases a newcomer to drift runs into: a header typo, an empty file,
// a time column, a high-cardinality column with new values, and choosing
// the features.

type driftFeature struct {
	Name                string   `json:"name"`
	Type                string   `json:"type"`
	Kind                string   `json:"kind"`
	Method              string   `json:"method"`
	Statistic           *float64 `json:"statistic"`
	PValue              *float64 `json:"p_value"`
	Threshold           *float64 `json:"threshold"`
	Drift               bool     `json:"drift"`
	StatisticErrorBound *float64 `json:"statistic_error_bound"`
	NewCategories       []string `json:"new_categories"`
	NewCategoriesTotal  int      `json:"new_categories_total"`
	Skipped             string   `json:"skipped"`
	Error               string   `json:"error"`
	Effect              *struct {
		Value float64 `json:"value"`
	} `json:"effect"`
	Time *struct {
		Layout       string `json:"layout"`
		ReferenceMin string `json:"reference_min"`
		ReferenceMax string `json:"reference_max"`
		CurrentMin   string `json:"current_min"`
		CurrentMax   string `json:"current_max"`
		Parts        []struct {
			Name      string  `json:"name"`
			Statistic float64 `json:"statistic"`
			PValue    float64 `json:"p_value"`
			Threshold float64 `json:"threshold"`
			Drift     bool    `json:"drift"`
			Effect    struct {
				Value float64 `json:"value"`
			} `json:"effect"`
		} `json:"parts"`
	} `json:"time"`
}

type driftReportJSON struct {
	Features        []driftFeature `json:"features"`
	MissingFeatures []string       `json:"missing_features"`
	DriftShare      float64        `json:"drift_share"`
}

// driftRun runs drift with args and --format json and decodes the report.
func driftRun(t *testing.T, args ...string) (int, driftReportJSON, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append(append([]string{"drift"}, args...), "--format", "json")...)
	var rep driftReportJSON
	if out != "" {
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("drift %v: %v\n%s", args, err, out)
		}
	}
	return code, rep, errOut
}

// modes returns the two ways to give the reference: the artifact fitted
// on the quickstart's training months, and those months' data.
func modes(t *testing.T) map[string][]string {
	t.Helper()
	dir, _ := flights(t)
	return map[string][]string{
		"artifact":  {"--artifact", filepath.Join(dir, quickstart.Files.Artifact)},
		"reference": {"--reference", filepath.Join(dir, quickstart.Files.Train)},
	}
}

// writeFiltered writes the header and the rows of src that keep accepts
// (by line) to a new file in a temporary folder.
func writeFiltered(t *testing.T, src string, keep func(line string) bool, edit func(header string) string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var b strings.Builder
	sc := bufio.NewScanner(in)
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first {
			b.WriteString(edit(line) + "\n")
		} else if keep(line) {
			b.WriteString(line + "\n")
		}
	}
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func same(s string) string { return s }

// TestDriftTimeColumnBothModes checks that the flights' date column is
// compared as time in both modes — hour of day and day of week, by
// scipy's chi-square and Jensen-Shannon numbers (testdata/drift), at half
// the test's threshold each — with the time ranges reported and no
// category listed; and that both modes reach the same verdict on every
// feature, for June and for June's mornings (whose hours drift).
func TestDriftTimeColumnBothModes(t *testing.T) {
	dir, _ := flights(t)
	june := filepath.Join(dir, quickstart.Files.Later)
	morning := writeFiltered(t, june, func(l string) bool { return l[11:13] < "12" }, same)
	var want map[string]map[string]struct {
		Statistic     float64 `json:"statistic"`
		PValue        float64 `json:"p_value"`
		JensenShannon float64 `json:"jensenshannon"`
	}
	if err := json.Unmarshal(readFile(t, "testdata/drift/quickstart_time_expected.json"), &want); err != nil {
		t.Fatal(err)
	}
	trainMin, trainMax := textRange(t, filepath.Join(dir, quickstart.Files.Train), "date")
	for cur, path := range map[string]string{"june": june, "june_morning": morning} {
		curMin, curMax := textRange(t, path, "date")
		verdicts := map[string]map[string]bool{}
		for mode, ref := range modes(t) {
			code, rep, errOut := driftRun(t, append(ref, "--current", path)...)
			if code == ExitError {
				t.Fatalf("%s %s: exit 2: %s", mode, cur, errOut)
			}
			verdicts[mode] = map[string]bool{}
			for _, f := range rep.Features {
				verdicts[mode][f.Name] = f.Drift
				if f.Name != "date" {
					continue
				}
				if f.Kind != "time" || f.Time == nil || len(f.NewCategories) != 0 {
					t.Fatalf("%s %s: date: kind %q, time %v, new categories %v; want a time column", mode, cur, f.Kind, f.Time, f.NewCategories)
				}
				if f.Time.Layout != "2006-01-02 15:04" || f.Time.ReferenceMin != trainMin || f.Time.ReferenceMax != trainMax ||
					f.Time.CurrentMin != curMin || f.Time.CurrentMax != curMax {
					t.Errorf("%s %s: date: got %+v, want ranges %s..%s and %s..%s", mode, cur, *f.Time, trainMin, trainMax, curMin, curMax)
				}
				anyDrift := false
				for _, p := range f.Time.Parts {
					w, ok := want[cur][p.Name]
					if !ok {
						t.Fatalf("%s %s: unexpected part %q", mode, cur, p.Name)
					}
					if !closeTo(p.Statistic, w.Statistic, 1e-9) || !closeTo(p.PValue, w.PValue, 1e-6) || !closeTo(p.Effect.Value, w.JensenShannon, 1e-9) {
						t.Errorf("%s %s: %s: chi2 %v p %v js %v; scipy %v %v %v", mode, cur, p.Name, p.Statistic, p.PValue, p.Effect.Value,
							w.Statistic, w.PValue, w.JensenShannon)
					}
					wantDrift := w.PValue < 0.05/2 && w.JensenShannon > 0.1
					if p.Threshold != 0.025 || p.Drift != wantDrift {
						t.Errorf("%s %s: %s: threshold %v drift %v; want 0.025 and %v", mode, cur, p.Name, p.Threshold, p.Drift, wantDrift)
					}
					anyDrift = anyDrift || wantDrift
				}
				if len(f.Time.Parts) != 2 || f.Drift != anyDrift {
					t.Errorf("%s %s: date: %d parts, drift %v; want 2 parts, drift %v", mode, cur, len(f.Time.Parts), f.Drift, anyDrift)
				}
			}
		}
		if !mapsEqual(verdicts["artifact"], verdicts["reference"]) || len(verdicts["artifact"]) != 5 {
			t.Errorf("%s: verdicts differ between modes: artifact %v, reference %v", cur, verdicts["artifact"], verdicts["reference"])
		}
		if cur == "june_morning" && !verdicts["artifact"]["date"] {
			t.Errorf("june mornings: date does not drift")
		}
	}
}

// TestDriftModesAgreeFeatureByFeature holds drift --artifact and drift
// --reference together on the quickstart months, feature by feature:
// the same verdict and method everywhere, the same numbers for the
// categorical features of at most profile.TopCategories training values
// and the time features, and for the numeric ones a ks from the profile
// within its reported bound of the exact statistic. A categorical of more
// values is tested on other categories in each mode (the most frequent in
// both samples, or the profile's top ones well above its cut: attack run
// 27 F1), so only its verdict is held.
func TestDriftModesAgreeFeatureByFeature(t *testing.T) {
	dir, _ := flights(t)
	june := filepath.Join(dir, quickstart.Files.Later)
	m := modes(t)
	_, a, _ := driftRun(t, append(m["artifact"], "--current", june)...)
	_, r, _ := driftRun(t, append(m["reference"], "--current", june)...)
	if len(a.Features) != 5 || len(r.Features) != 5 {
		t.Fatalf("features: artifact %d, reference %d; want 5", len(a.Features), len(r.Features))
	}
	for _, fa := range a.Features {
		i := slices.IndexFunc(r.Features, func(x driftFeature) bool {
			return x.Name == fa.Name
		})
		if i < 0 {
			t.Fatalf("%s: not in the --reference report", fa.Name)
		}
		fr := r.Features[i]
		if fa.Drift != fr.Drift || fa.Method != fr.Method || fa.Kind != fr.Kind || fa.Error != "" || fr.Error != "" {
			t.Errorf("%s: artifact %s drift %v kind %q, reference %s drift %v kind %q (errors %q %q)",
				fa.Name, fa.Method, fa.Drift, fa.Kind, fr.Method, fr.Drift, fr.Kind, fa.Error, fr.Error)
		}
		if fa.Type == "numeric" {
			if fa.StatisticErrorBound == nil || math.Abs(*fa.Statistic-*fr.Statistic) > *fa.StatisticErrorBound+1e-12 {
				t.Errorf("%s: ks from the profile %v, exact %v, bound %v", fa.Name, *fa.Statistic, *fr.Statistic, fa.StatisticErrorBound)
			}
			continue
		}
		if fa.Kind == "" && len(distinctOf(t, filepath.Join(dir, quickstart.Files.Train), fa.Name)) > profile.TopCategories {
			continue
		}
		if !closeTo(*fa.Statistic, *fr.Statistic, 1e-12) || !closeTo(*fa.PValue, *fr.PValue, 1e-12) {
			t.Errorf("%s: artifact statistic %v p %v, reference %v p %v", fa.Name, *fa.Statistic, *fa.PValue, *fr.Statistic, *fr.PValue)
		}
	}
}

// TestDriftHeaderTypo: a feature the current file lacks (its header
// misspells it) is reported missing and makes drift exit 1, in both
// modes, in the JSON and in the table.
func TestDriftHeaderTypo(t *testing.T) {
	dir, _ := flights(t)
	typo := writeFiltered(t, filepath.Join(dir, quickstart.Files.Later), func(string) bool { return true },
		func(h string) string { return strings.Replace(h, "delay", "dealy", 1) })
	for mode, ref := range modes(t) {
		code, rep, errOut := driftRun(t, append(ref, "--current", typo)...)
		if code != ExitFound || !slices.Equal(rep.MissingFeatures, []string{"delay"}) {
			t.Errorf("%s: exit %d, missing %v (%s); want 1 and [delay]", mode, code, rep.MissingFeatures, errOut)
		}
		for _, f := range rep.Features {
			if f.Name == "delay" {
				t.Errorf("%s: delay compared though the file lacks it", mode)
			}
		}
		code, out, _ := runCLI(t, append(append([]string{"drift"}, ref...), "--current", typo)...)
		if code != ExitFound || !strings.Contains(out, "MISSING from the current data") || !strings.Contains(out, "delay") {
			t.Errorf("%s: table exit %d:\n%s", mode, code, out)
		}
	}
}

// TestDriftEmptyCurrent: a header-only or empty current file is an error
// (exit 2) with a message naming the file, in both modes.
func TestDriftEmptyCurrent(t *testing.T) {
	dir, _ := flights(t)
	headerOnly := writeFiltered(t, filepath.Join(dir, quickstart.Files.Later), func(string) bool { return false }, same)
	empty := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for mode, ref := range modes(t) {
		for _, cur := range []string{headerOnly, empty} {
			code, out, errOut := runCLI(t, append(append([]string{"drift"}, ref...), "--current", cur)...)
			if code != ExitError || !strings.Contains(errOut, cur) || out != "" {
				t.Errorf("%s %s: exit %d, stderr %q, stdout %q; want exit 2 naming the file", mode, filepath.Base(cur), code, errOut, out)
			}
		}
	}
}

// TestDriftUncomputableFeature: a feature whose statistic cannot be
// computed (every current value missing) is named in the report, and
// drift exits 2 after writing it.
func TestDriftUncomputableFeature(t *testing.T) {
	dir, _ := flights(t)
	src := filepath.Join(dir, quickstart.Files.Later)
	// Blank the delay column (the second field) of every row.
	noDelay := filepath.Join(t.TempDir(), "no_delay.csv")
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(readFile(t, src))), "\n") {
		f := strings.Split(line, ",")
		if i > 0 {
			f[1] = ""
		}
		b.WriteString(strings.Join(f, ",") + "\n")
	}
	if err := os.WriteFile(noDelay, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for mode, ref := range modes(t) {
		code, rep, errOut := driftRun(t, append(ref, "--current", noDelay)...)
		i := slices.IndexFunc(rep.Features, func(f driftFeature) bool {
			return f.Name == "delay"
		})
		if code != ExitError || i < 0 || rep.Features[i].Error == "" || !strings.Contains(errOut, "delay") {
			t.Errorf("%s: exit %d, report %+v, stderr %q; want exit 2 after a report naming delay", mode, code, rep, errOut)
		}
	}
}

// TestDriftHighCardinalityBounded compares gapminder's 1960s (120
// countries, more than the profile keeps) with its 2000s (185, 65 new):
// the JSON lists at most 10 new countries, counts all 65, and the
// verdicts of the two modes agree, but for country's: --reference tests
// the 100 countries most frequent in both decades and sees the new ones,
// while the profile's 100 countries are all at its cut (10 rows each),
// where the choice of the top 100 is luck as far as the profile can tell,
// so --artifact does not compare country, saying why (attack run 27 F1,
// run 29 F1); nor does validate's other_categories test it (no kept
// country stands clearly above the cut): --reference is how to judge it.
func TestDriftHighCardinalityBounded(t *testing.T) {
	ref, cur := "testdata/drift/gapminder_1960s.csv", "testdata/drift/gapminder_2000s.csv"
	refCountries, curCountries := distinctOf(t, ref, "country"), distinctOf(t, cur, "country")
	var wantNew []string
	for c := range curCountries {
		if !refCountries[c] {
			wantNew = append(wantNew, c)
		}
	}
	art := filepath.Join(t.TempDir(), "gapminder.json")
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte("version: 1\nremainder: passthrough\ncolumns:\n  - name: fertility\n    type: numeric\n    steps:\n      - simple_imputer: {strategy: median}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "fit", "-q", "--spec", spec, "--data", ref, "--out", art)
	verdicts := map[string]map[string]bool{}
	for mode, args := range map[string][]string{"artifact": {"--artifact", art}, "reference": {"--reference", ref}} {
		code, rep, errOut := driftRun(t, append(args, "--current", cur)...)
		if code == ExitError {
			t.Fatalf("%s: exit 2: %s", mode, errOut)
		}
		verdicts[mode] = map[string]bool{}
		for _, f := range rep.Features {
			verdicts[mode][f.Name] = f.Drift
			if len(f.NewCategories) > 10 {
				t.Errorf("%s %s: %d new categories listed; want at most 10", mode, f.Name, len(f.NewCategories))
			}
			if f.Name != "country" {
				continue
			}
			switch {
			case f.Kind != "":
				t.Errorf("%s: country is %q; want an ordinary categorical", mode, f.Kind)
			case mode == "artifact" && !strings.Contains(f.Skipped, "lies near its cut"):
				// Its 100 kept countries all have 10 rows, the cut: not
				// compared against the profile, saying why (attack run 29 F1).
				t.Errorf("artifact: country skipped %q; want it skipped as all near the profile's cut", f.Skipped)
			case mode == "reference" && f.Skipped != "":
				t.Errorf("reference: country skipped: %s", f.Skipped)
			}
			if mode == "reference" {
				if f.NewCategoriesTotal != len(wantNew) || len(f.NewCategories) != 10 {
					t.Errorf("reference: %d new countries listed of %d; want 10 of %d", len(f.NewCategories), f.NewCategoriesTotal, len(wantNew))
				}
				for _, c := range f.NewCategories {
					if refCountries[c] || !curCountries[c] {
						t.Errorf("reference: %q listed as new", c)
					}
				}
			}
		}
	}
	if !verdicts["reference"]["country"] {
		t.Errorf("reference: country does not drift though 65 of its 185 countries are new")
	}
	delete(verdicts["artifact"], "country")
	delete(verdicts["reference"], "country")
	if !mapsEqual(verdicts["artifact"], verdicts["reference"]) || len(verdicts["artifact"]) != 3 {
		t.Errorf("verdicts differ: artifact %v, reference %v", verdicts["artifact"], verdicts["reference"])
	}
}

// TestDriftColumnsExclude: --columns and --exclude choose the features in
// both modes; a name that is not a feature is an error naming it.
func TestDriftColumnsExclude(t *testing.T) {
	dir, _ := flights(t)
	june := filepath.Join(dir, quickstart.Files.Later)
	for mode, ref := range modes(t) {
		for _, tc := range []struct {
			flags []string
			want  []string
		}{
			{[]string{"--columns", "delay,distance"}, []string{"delay", "distance"}},
			{[]string{"--exclude", "date,origin"}, []string{"delay", "destination", "distance"}},
			{[]string{"--columns", "delay,date", "--exclude", "date"}, []string{"delay"}},
		} {
			code, rep, errOut := driftRun(t, append(append(ref, "--current", june), tc.flags...)...)
			var got []string
			for _, f := range rep.Features {
				got = append(got, f.Name)
			}
			slices.Sort(got)
			if code == ExitError || !slices.Equal(got, tc.want) {
				t.Errorf("%s %v: exit %d, features %v (%s); want %v", mode, tc.flags, code, got, errOut, tc.want)
			}
		}
		for _, flags := range [][]string{{"--columns", "delay,dealy"}, {"--exclude", "dat"}} {
			code, _, errOut := runCLI(t, append(append(append([]string{"drift"}, ref...), "--current", june), flags...)...)
			bad := strings.Split(flags[1], ",")
			if code != ExitError || !strings.Contains(errOut, `"`+bad[len(bad)-1]+`"`) {
				t.Errorf("%s %v: exit %d, stderr %q; want exit 2 naming it", mode, flags, code, errOut)
			}
		}
		code, _, errOut := runCLI(t, append(append(append([]string{"drift"}, ref...), "--current", june), "--columns", "delay", "--exclude", "delay")...)
		if code != ExitError || !strings.Contains(errOut, "no feature") {
			t.Errorf("%s: everything excluded: exit %d, stderr %q", mode, code, errOut)
		}
	}
}

// TestDriftIdentifierSkipped: a column of unique ids is skipped in both
// modes, with the reason, and left out of the drift share.
func TestDriftIdentifierSkipped(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, from, n int) string {
		var b strings.Builder
		b.WriteString("id,x\n")
		for i := 0; i < n; i++ {
			b.WriteString("row-" + strconv.Itoa(from+i) + "," + strconv.Itoa(i%17) + "\n")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ref, cur := write("ref.csv", 0, 400), write("cur.csv", 400, 300)
	spec := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte("version: 1\nremainder: passthrough\ncolumns:\n  - name: x\n    type: numeric\n    steps:\n      - standard_scaler: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "-q", "--spec", spec, "--data", ref, "--out", art)
	for mode, args := range map[string][]string{"artifact": {"--artifact", art}, "reference": {"--reference", ref}} {
		code, rep, errOut := driftRun(t, append(args, "--current", cur)...)
		if code != ExitOK || len(rep.Features) != 2 {
			t.Fatalf("%s: exit %d, %d features (%s); want 0 and 2", mode, code, len(rep.Features), errOut)
		}
		for _, f := range rep.Features {
			if f.Name == "id" && (f.Kind != "identifier" || !strings.Contains(f.Skipped, "identifier") || f.Drift || len(f.NewCategories) != 0) {
				t.Errorf("%s: id: kind %q skipped %q drift %v new %v; want skipped as identifier", mode, f.Kind, f.Skipped, f.Drift, f.NewCategories)
			}
		}
	}
}

// textRange returns the smallest and largest text of a CSV column (for
// ISO timestamps, the earliest and latest).
func textRange(t *testing.T, path, col string) (lo, hi string) {
	t.Helper()
	for v := range distinctOf(t, path, col) {
		if lo == "" || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// distinctOf returns the set of values of a CSV column.
func distinctOf(t *testing.T, path, col string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	at := slices.Index(rows[0], col)
	out := map[string]bool{}
	for _, r := range rows[1:] {
		out[r[at]] = true
	}
	return out
}

func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
