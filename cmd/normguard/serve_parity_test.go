package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/server"
)

// pandasNA are the cells the CSV reader takes as missing (pandas' default
// NA strings); they travel as JSON null.
var pandasNA = map[string]bool{"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true,
	"-1.#QNAN": true, "-NaN": true, "-nan": true, "1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true,
	"NA": true, "NULL": true, "NaN": true, "None": true, "n/a": true, "nan": true, "null": true}

// csvAsJSONRows turns CSV records into a transform body: cells that parse
// as numbers go as the same literal, NA cells as null, the rest as strings.
func csvAsJSONRows(header []string, recs [][]string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i, rec := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, name := range header {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(name)
			b.Write(k)
			b.WriteByte(':')
			v := rec[j]
			_, err := strconv.ParseFloat(v, 64)
			switch {
			case pandasNA[v]:
				b.WriteString("null")
			case err == nil && json.Valid([]byte(v)):
				b.WriteString(v)
			default:
				s, _ := json.Marshal(v)
				b.Write(s)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestServeTransformMatchesCLIOnEveryParityCase fits every scikit-learn
// parity case, transforms its test rows with `normguard transform` and with
// the HTTP service (one batch and row by row), and compares every output
// value bit for bit.
func TestServeTransformMatchesCLIOnEveryParityCase(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(peerDir, "*"))
	if len(dirs) == 0 {
		t.Fatal("no parity cases found")
	}
	store, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Registry: store})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ran := 0
	for _, d := range dirs {
		var pc peerCase
		if err := json.Unmarshal(readFile(t, filepath.Join(d, "case.json")), &pc); err != nil {
			t.Fatal(err)
		}
		if pc.ExpectError {
			continue
		}
		name := filepath.Base(d)
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			art, out := filepath.Join(tmp, "a.json"), filepath.Join(tmp, "out.csv")
			mustRun(t, "fit", "--spec", filepath.Join(d, "spec.json"), "--data", filepath.Join(d, "train.csv"), "--out", art)
			mustRun(t, "transform", "--artifact", art, "--in", filepath.Join(d, "test.csv"), "--out", out)
			wantHeader, want := csvRows(t, out)
			data, err := os.ReadFile(art)
			if err != nil {
				t.Fatal(err)
			}
			model := fmt.Sprintf("case%d", ran)
			if _, _, err := store.Put(context.Background(), model, "v1", data, registry.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			header, recs := csvRows(t, filepath.Join(d, "test.csv"))
			check := func(body []byte, first int) {
				t.Helper()
				resp, err := http.Post(ts.URL+"/v1/models/"+model+"/transform", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var r transformResponse
				if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("transform: %d %v", resp.StatusCode, err)
				}
				if len(r.Columns) != len(wantHeader) {
					t.Fatalf("got columns %v, want %v", r.Columns, wantHeader)
				}
				for i, row := range r.Rows {
					for j, raw := range row {
						sameCell(t, first+i, wantHeader[j], raw, want[first+i][j])
					}
				}
			}
			check(csvAsJSONRows(header, recs), 0)
			for i := range recs {
				check(csvAsJSONRows(header, recs[i:i+1]), i)
			}
		})
		ran++
	}
}
