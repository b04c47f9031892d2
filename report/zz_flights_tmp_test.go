package report

import (
	"os"
	"os/exec"
	"testing"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
)

func TestZZFlightsTmp(t *testing.T) {
	path := "/work/shared/datasets/flights_2001h1_1m.csv"
	r, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fields := []table.Field{}
	for _, h := range r.Header() {
		fields = append(fields, table.Field{Name: h, Kind: table.String})
	}
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	cols, _, err := table.ReadAll(r, fields)
	if err != nil {
		t.Fatal(err)
	}
	split := func(month string) []table.Column {
		var out []table.Column
		for _, name := range []string{"delay", "distance", "origin"} {
			var src table.Column
			for _, c := range cols {
				if c.Name == name {
					src = c
				}
			}
			dst := table.Column{Name: name, Kind: table.String}
			for i, d := range cols[0].Str {
				if d[5:7] == month {
					dst.Str = append(dst.Str, src.Str[i])
				}
			}
			if name != "origin" {
				n, ok := table.InferNumeric(&dst)
				if !ok {
					t.Fatal("not numeric")
				}
				dst = n
			}
			out = append(out, dst)
		}
		return out
	}
	rep, err := drift.Compare(split("01"), split("06"), drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/flights.html")
	if err := DriftHTML(f, rep, HTMLMeta{Title: "Flights: January vs June 2001", Reference: "flights_2001h1_1m.csv (January)", Current: "flights_2001h1_1m.csv (June)", Generated: "2024-05-01 12:00 UTC"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=/tmp/chr", "--screenshot=/tmp/flights.png", "--window-size=1280,2000", "file:///tmp/flights.html").CombinedOutput()
	t.Log(string(out), err)
}
