package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// fitGood fits testdata/bad/good.yaml on testdata/bad/train.csv.
func fitGood(t *testing.T, dir string) string {
	t.Helper()
	art := filepath.Join(dir, "good.json")
	mustRun(t, "fit", "-q", "--spec", bad("good.yaml"), "--data", bad("train.csv"), "--out", art)
	return art
}

// TestOneByteChangeRefused flips, in turn, bytes all over an artifact and
// checks that every changed file is refused by verify and transform.
func TestOneByteChangeRefused(t *testing.T) {
	dir := t.TempDir()
	art := fitGood(t, dir)
	orig := readFile(t, art)
	if out := mustRun(t, "verify", art); !strings.HasPrefix(out, "ok sha256:") {
		t.Fatalf("verify: got %q, want ok sha256:...", out)
	}
	tampered := filepath.Join(dir, "tampered.json")
	step := len(orig)/97 + 1
	for i := 0; i < len(orig); i += step {
		for _, delta := range []byte{1, 0x20} {
			b := bytes.Clone(orig)
			b[i] ^= delta
			if err := os.WriteFile(tampered, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runCLI(t, "verify", tampered); code != ExitError || !strings.Contains(errOut, "artifact") {
				t.Fatalf("byte %d ^ %#x: verify exit %d, want %d; stderr %q", i, delta, code, ExitError, errOut)
			}
		}
	}
	// Truncation.
	for _, n := range []int{0, 1, len(orig) / 2, len(orig) - 2} {
		os.WriteFile(tampered, orig[:n], 0o644)
		if code, _, errOut := runCLI(t, "transform", "--artifact", tampered, "--in", bad("train.csv"), "--out", filepath.Join(dir, "o.csv")); code != ExitError || !strings.Contains(errOut, "corrupt artifact") {
			t.Fatalf("truncated to %d bytes: exit %d, stderr %q", n, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o.csv")); err == nil {
		t.Fatalf("transform with a corrupt artifact wrote output")
	}
}

// TestRoundTrip checks encode -> decode -> same digest and same bytes.
func TestRoundTrip(t *testing.T) {
	art := fitGood(t, t.TempDir())
	data := readFile(t, art)
	a, err := artifact.Decode(data, art)
	if err != nil {
		t.Fatal(err)
	}
	want := a.Digest
	again, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != want || !bytes.Equal(again, data) {
		t.Fatalf("re-encoding changed the artifact: digest %s, want %s", a.Digest, want)
	}
}

// TestLibraryMatchesCLI checks that the library (rows in memory) and the
// CLI (CSV file) give the same bits.
func TestLibraryMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	art := fitGood(t, dir)
	out := filepath.Join(dir, "out.csv")
	mustRun(t, "transform", "-q", "--artifact", art, "--in", bad("train.csv"), "--out", out)

	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(bad("train.csv"))
	recs, _ := csv.NewReader(f).ReadAll()
	f.Close()
	var rows []map[string]any
	for _, rec := range recs[1:] {
		row := map[string]any{}
		for j, h := range recs[0] {
			if rec[j] == "" {
				row[h] = nil
			} else {
				row[h] = rec[j]
			}
		}
		rows = append(rows, row)
	}
	b, err := tr.Rows(rows)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := table.NewCSVWriter(&buf, tr.Outputs())
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), string(readFile(t, out)); got != want {
		t.Fatalf("library output differs from CLI output:\n got %q\nwant %q", got, want)
	}
}

// TestFitTransformOutMatchesTransform checks that fit --transform-out
// writes the same bytes as transforming the training data afterwards.
func TestFitTransformOutMatchesTransform(t *testing.T) {
	dir := t.TempDir()
	mixed := filepath.Join(dir, "mixed.csv")
	writeMixedCSV(t, mixed, 30000, 5)
	mixedSpecPath := filepath.Join(dir, "mixed.yaml")
	os.WriteFile(mixedSpecPath, []byte(mixedSpec), 0o644)
	for _, c := range []struct{ spec, data string }{{bad("good.yaml"), bad("train.csv")}, {mixedSpecPath, mixed}} {
		art := filepath.Join(dir, "a.json")
		direct := filepath.Join(dir, "direct.csv")
		mustRun(t, "fit", "-q", "--spec", c.spec, "--data", c.data, "--out", art, "--transform-out", direct)
		later := filepath.Join(dir, "later.csv")
		mustRun(t, "transform", "-q", "--artifact", art, "--in", c.data, "--out", later)
		if a, b := readFile(t, direct), readFile(t, later); !bytes.Equal(a, b) {
			t.Fatalf("%s: fit --transform-out differs from transform", c.data)
		}
	}
}
