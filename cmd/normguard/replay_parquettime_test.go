package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// TestReplayParquetTimes (attack run 22 note): a Parquet file's TIMESTAMP
// or DATE time column was read as its raw integer and refused as times
// that do not parse. Replayed, it gives the windows the same rows give
// from a CSV file holding the times as text.
func TestReplayParquetTimes(t *testing.T) {
	dir := t.TempDir()
	_, art := run22Fit(t, dir)
	type millis struct {
		T time.Time `parquet:"t,timestamp(millisecond)"`
		X float64   `parquet:"x"`
		C string    `parquet:"c"`
	}
	type micros struct {
		T time.Time `parquet:"t,timestamp(microsecond)"`
		X float64   `parquet:"x"`
		C string    `parquet:"c"`
	}
	type nanos struct {
		T time.Time `parquet:"t,timestamp(nanosecond)"`
		X float64   `parquet:"x"`
		C string    `parquet:"c"`
	}
	type date struct { // days since 1970-01-01, as a Parquet DATE holds them
		T int32   `parquet:"t,date"`
		X float64 `parquet:"x"`
		C string  `parquet:"c"`
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const n = 400
	var ms []millis
	var us []micros
	var ns []nanos
	var ds []date
	hourly, daily := []string{}, []string{}
	for i := range n {
		x, c := 5+float64(i%11)/7, string("ab"[i%3%2])
		at := t0.Add(time.Duration(i)*time.Hour + 1500*time.Millisecond)
		day := t0.AddDate(0, 0, i/10)
		ms = append(ms, millis{at, x, c})
		us = append(us, micros{at, x, c})
		ns = append(ns, nanos{at, x, c})
		ds = append(ds, date{int32(day.Unix() / 86400), x, c})
		hourly = append(hourly, fmt.Sprintf("%s,%v,%s", at.Format(time.RFC3339Nano), x, c))
		daily = append(daily, fmt.Sprintf("%s,%v,%s", day.Format(time.DateOnly), x, c))
	}
	write := func(name string, rows any) string {
		t.Helper()
		p := filepath.Join(dir, name)
		var err error
		switch rows := rows.(type) {
		case []millis:
			err = parquet.WriteFile(p, rows)
		case []micros:
			err = parquet.WriteFile(p, rows)
		case []nanos:
			err = parquet.WriteFile(p, rows)
		case []date:
			err = parquet.WriteFile(p, rows)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	windows := func(data, window string) []any {
		t.Helper()
		out := filepath.Join(dir, "r.json")
		code, _, errOut := runCLI(t, "monitor", "replay", "--artifact", art, "--data", data, "--time-column", "t", "--window", window, "--format", "json", "--out", out)
		if code == ExitError {
			t.Fatalf("replay of %s: exit %d\n%s", data, code, errOut)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var tl struct {
			Windows []any `json:"windows"`
		}
		if err := json.Unmarshal(b, &tl); err != nil || len(tl.Windows) < 2 {
			t.Fatalf("timeline of %s: %v, %d windows", data, err, len(tl.Windows))
		}
		return tl.Windows
	}
	csvHourly, csvDaily := filepath.Join(dir, "hourly.csv"), filepath.Join(dir, "daily.csv")
	writeLines(t, csvHourly, "t,x,c", hourly)
	writeLines(t, csvDaily, "t,x,c", daily)
	want := windows(csvHourly, "1d")
	for _, p := range []string{write("ms.parquet", ms), write("us.parquet", us), write("ns.parquet", ns)} {
		if got := windows(p, "1d"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: windows differ from the CSV's:\n%.600v\nwant\n%.600v", filepath.Base(p), got, want)
		}
	}
	if got, want := windows(write("d.parquet", ds), "7d"), windows(csvDaily, "7d"); !reflect.DeepEqual(got, want) {
		t.Errorf("dates: windows differ from the CSV's:\n%.600v\nwant\n%.600v", got, want)
	}
}
