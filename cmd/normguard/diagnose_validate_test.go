package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/quickstart"
)

// TestDiagnoseValidatesRawFirst: with --raw, diagnose first checks the raw
// rows against the artifact by normguard validate's rules. June's rows
// transformed correctly: every column ok, "anomalies" present and empty,
// exit 0. The same pipeline fed rows whose origin is missing in every
// third row (imputed correctly, so every feature is still what the
// artifact produces): still ok per column, but a missing_rate_change on
// origin (0% at training) is reported and the exit status is 1.
func TestDiagnoseValidatesRawFirst(t *testing.T) {
	dir, _ := flights(t)
	art := filepath.Join(dir, quickstart.Files.Artifact)
	june := filepath.Join(dir, quickstart.Files.Later)
	n := 0
	gaps := mapRows(t, june, func(line string) string {
		n++
		if n%3 != 0 {
			return line
		}
		f := strings.Split(line, ",")
		f[3] = "" // origin
		return strings.Join(f, ",")
	})
	for _, c := range []struct {
		name, raw string
		exit      int
		anomalies map[string]string
	}{
		{"june", june, ExitOK, map[string]string{}},
		{"origin gaps", gaps, ExitFound, map[string]string{"origin": "missing_rate_change"}},
	} {
		fed := filepath.Join(t.TempDir(), "fed.csv")
		if code, _, errOut := runCLI(t, "transform", "--artifact", art, "--in", c.raw, "--out", fed); code != ExitOK {
			t.Fatalf("%s: transform exit %d: %s", c.name, code, errOut)
		}
		code, out, errOut := runCLI(t, "diagnose", "--artifact", art, "--raw", c.raw, "--observed", fed, "--format", "json")
		var rep struct {
			Features []struct {
				Name, Verdict string
			} `json:"features"`
			Anomalies *[]struct {
				Column, Code string
			} `json:"anomalies"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: exit %d, %v: %s %s", c.name, code, err, out, errOut)
		}
		if code != c.exit {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.exit, errOut)
		}
		for _, f := range rep.Features {
			if f.Verdict != "ok" {
				t.Errorf("%s: %s is %s, want ok (the pipeline is right)", c.name, f.Name, f.Verdict)
			}
		}
		if rep.Anomalies == nil {
			t.Fatalf("%s: no \"anomalies\" in the JSON; want the validation's list", c.name)
		}
		got := map[string]string{}
		for _, a := range *rep.Anomalies {
			got[a.Column] = a.Code
		}
		if len(got) != len(c.anomalies) {
			t.Errorf("%s: anomalies %v, want %v", c.name, got, c.anomalies)
		}
		for col, code := range c.anomalies {
			if got[col] != code {
				t.Errorf("%s: anomaly on %s is %q, want %q", c.name, col, got[col], code)
			}
		}
		// The table and the page lead with the anomalies.
		_, table, _ := runCLI(t, "diagnose", "--artifact", art, "--raw", c.raw, "--observed", fed)
		page := filepath.Join(t.TempDir(), "why.html")
		runCLI(t, "diagnose", "--artifact", art, "--raw", c.raw, "--observed", fed, "--format", "html", "--out", page)
		html, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for col, code := range c.anomalies {
			if !strings.HasPrefix(table, "COLUMN") || !strings.Contains(table, col) || !strings.Contains(table, code) {
				t.Errorf("%s: table does not lead with the %s anomaly on %s:\n%s", c.name, code, col, table)
			}
			if !strings.Contains(string(html), `data-code="`+code+`"`) {
				t.Errorf("%s: page has no %s card", c.name, code)
			}
		}
		if len(c.anomalies) == 0 && strings.Contains(string(html), "Data anomalies") {
			t.Errorf("%s: page shows an anomalies section with nothing found", c.name)
		}
	}
}
