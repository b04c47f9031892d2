package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
)

// Attack run 8 F6: a data file whose header holds many columns the
// artifact does not read (1.5 million in 13.9 MB) took about 2.4 KB of
// memory a column in validate (3.6 GB), drift --artifact and diagnose, and
// 100,000 of them made a 40 MB report: one unexpected_column anomaly each.

// writeWide writes a data file with kindArtifact's columns (id, day, x)
// and n more, and three rows: CSV, or JSON Lines (every key in each row)
// when ext is ".jsonl".
func writeWide(t *testing.T, n int, ext string) string {
	t.Helper()
	var b strings.Builder
	rows := [][3]string{{"k001", "2024-01-02", "3"}, {"k002", "2024-01-03", "5"}, {"k003", "2024-01-04", "7"}}
	if ext == ".jsonl" {
		for _, r := range rows {
			fmt.Fprintf(&b, `{"id": %q, "day": %q, "x": %s`, r[0], r[1], r[2])
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, `, "c%d": null`, i)
			}
			b.WriteString("}\n")
		}
	} else {
		b.WriteString("id,day,x")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, ",c%d", i)
		}
		b.WriteByte('\n')
		for _, r := range rows {
			b.WriteString(r[0] + "," + r[1] + "," + r[2])
			b.WriteString(strings.Repeat(",", n))
			b.WriteByte('\n')
		}
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("wide%d%s", n, ext))
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// validateBytes returns the bytes allocated to read and validate the file
// and the report as JSON.
func validateBytes(t *testing.T, path string) (alloc uint64, report []byte) {
	t.Helper()
	a := kindArtifact(t)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	d, err := Read(path, a)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CheckData(a, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	report, err = json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc, report
}

// TestWideHeaderMemory: each column the artifact does not read costs a
// bounded number of bytes (its name, the reader's header entry), and the
// report does not grow with them.
func TestWideHeaderMemory(t *testing.T) {
	for _, c := range []struct {
		ext   string
		bound uint64 // bytes allocated per extra column
	}{{".csv", 250}, {".jsonl", 550}} {
		t.Run(c.ext, func(t *testing.T) {
			const n1, n2 = 1000, 101000
			a1, r1 := validateBytes(t, writeWide(t, n1, c.ext))
			a2, r2 := validateBytes(t, writeWide(t, n2, c.ext))
			per := (a2 - min(a1, a2)) / (n2 - n1)
			t.Logf("%s: %d bytes allocated per extra column; reports of %d and %d bytes", c.ext, per, len(r1), len(r2))
			if per > c.bound {
				t.Errorf("%s: %d bytes allocated per extra column, want at most %d", c.ext, per, c.bound)
			}
			if len(r2) > 8<<10 || len(r2) > len(r1)+16 {
				t.Errorf("%s: report of %d bytes for %d extra columns (%d for %d), want at most 8 KiB and no growth", c.ext, len(r2), n2, len(r1), n1)
			}
		})
	}
}

// TestWideHeaderReport: up to MaxListed unexpected columns get an anomaly
// each, as before; more make one unexpected_column anomaly with their
// count and the first MaxListed names.
func TestWideHeaderReport(t *testing.T) {
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("c%d", i)
		}
		return out
	}
	for _, n := range []int{MaxListed, MaxListed + 1, 100000} {
		a := kindArtifact(t)
		d, err := Read(writeWide(t, n, ".csv"), a)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CheckData(a, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n <= MaxListed {
			if len(rep.Anomalies) != n {
				t.Fatalf("%d extra columns: %d anomalies, want one each: %s", n, len(rep.Anomalies), codes(rep))
			}
			for i, an := range rep.Anomalies {
				if an.Code != UnexpectedColumn || an.Column != fmt.Sprintf("c%d", i) || an.Count != 0 || an.Columns != nil {
					t.Errorf("anomaly %d: %+v, want unexpected_column of c%d alone", i, an, i)
				}
			}
			continue
		}
		if len(rep.Anomalies) != 1 {
			t.Fatalf("%d extra columns: %d anomalies, want 1: %s", n, len(rep.Anomalies), codes(rep))
		}
		an := rep.Anomalies[0]
		if an.Code != UnexpectedColumn || an.Column != "c0" || an.Count != int64(n) || strings.Join(an.Columns, ",") != strings.Join(names(MaxListed), ",") {
			t.Errorf("%d extra columns: %s %s count %d columns %q, want unexpected_column c0 count %d and c0..c19", n, an.Column, an.Code, an.Count, an.Columns, n)
		}
		more := fmt.Sprintf(`"c19", and %s more`, fmtCount(int64(n-MaxListed)))
		if !strings.Contains(an.Description, more) || !strings.HasPrefix(an.Description, fmtCount(int64(n))+" columns are not inputs") {
			t.Errorf("%d extra columns: description %q, want it to start with the count and end the names with %q", n, an.Description, more)
		}
		b, err := json.Marshal(an)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), fmt.Sprintf(`"count":%d,"columns":["c0","c1",`, n)) {
			t.Errorf("JSON %s lacks count and columns", b)
		}
	}
}

// TestWideHeaderRenamedAndIgnored: a renamed header keeps its own anomaly
// among many unexpected columns; ignored columns (remainder drop) are
// named up to MaxListed, with their count.
func TestWideHeaderRenamedAndIgnored(t *testing.T) {
	f := numFeature("distance", 100, 0, 0, 1)
	g := numFeature("delay", 100, 0, 0, 1)
	d := present("delay", 10)
	d.Min, d.Max, d.Distinct = 0.5, 0.5, 2
	miss := Summary{Name: "distance", Absent: true}
	extra := []string{"e0", "Distance"}
	for i := 1; i < 30; i++ {
		extra = append(extra, fmt.Sprintf("e%d", i))
	}
	sc := &Schema{Features: []profile.Feature{f, g}, Passthrough: true}
	r, err := CheckSummaries(sc, 10, []Summary{miss, d}, extra, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(r), "distance/missing_column Distance/unexpected_column e0/unexpected_column"; got != want {
		t.Fatalf("anomalies %q, want %q", got, want)
	}
	if r.Anomalies[0].SimilarTo != "Distance" || r.Anomalies[1].SimilarTo != "distance" {
		t.Errorf("similar: %q, %q", r.Anomalies[0].SimilarTo, r.Anomalies[1].SimilarTo)
	}
	if g := r.Anomalies[2]; g.Count != 30 || len(g.Columns) != MaxListed || g.Columns[0] != "e0" || g.Columns[1] != "e1" || g.SimilarTo != "" {
		t.Errorf("group: count %d columns %q similar %q, want 30 columns e0, e1, ... without the renamed one", g.Count, g.Columns, g.SimilarTo)
	}

	sc.Passthrough = false
	r, err = CheckSummaries(sc, 10, []Summary{miss, d}, extra, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(r), "distance/missing_column Distance/unexpected_column"; got != want {
		t.Fatalf("remainder drop: anomalies %q, want %q", got, want)
	}
	if len(r.Ignored) != MaxListed || r.Ignored[0] != "e0" || r.Ignored[1] != "e1" || r.IgnoredCount != 30 {
		t.Errorf("ignored %q count %d, want the first %d of 30", r.Ignored, r.IgnoredCount, MaxListed)
	}
	// A few ignored columns are all named, without a count (as before).
	r, err = CheckSummaries(sc, 10, []Summary{miss, d}, extra[:3], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Ignored, ",") != "e0,e1" || r.IgnoredCount != 0 {
		t.Errorf("ignored %q count %d, want e0,e1 and no count", r.Ignored, r.IgnoredCount)
	}
}

// TestSameLoose: sameLoose equals comparing the names lowercased without
// '_', '-', ' ' and '.' (what closest did, allocating two strings a
// candidate).
func TestSameLoose(t *testing.T) {
	norm := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if r != '_' && r != '-' && r != ' ' && r != '.' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	words := []string{"", "_", "a", "A", "ab", "a_b", "A-B", "a.b.", " ab", "abc", "Straße", "STRASSE", "straße",
		"Ünïcode", "ünïcode", "ü", "\xff", "\xfe", "a\xffb", "a\xff_b", "ǅ", "ǆ", "Ǆ", "distance", "Distance_", "dis-tance", "distances"}
	for _, a := range words {
		for _, b := range words {
			if got, want := sameLoose(a, b), norm(a) == norm(b); got != want {
				t.Errorf("sameLoose(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
