package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/normguard/normguard/artifact"
)

// dialectFiles writes one training table as plain CSV, gzip CSV, TSV and
// semicolon CSV, and a spec, into dir.
func dialectFiles(t *testing.T, dir string, seed uint64) (spec string, files map[string]string) {
	t.Helper()
	plain := filepath.Join(dir, "train.csv")
	writeMixedCSV(t, plain, 3000, seed)
	text := readFile(t, plain)
	if bytes.ContainsAny(text, "\t;\"") {
		t.Fatal("the generated table must hold no tab, semicolon or quote")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text)
	zw.Close()
	files = map[string]string{
		"csv":   plain,
		"gzip":  filepath.Join(dir, "train.csv.gz"),
		"tsv":   filepath.Join(dir, "train.tsv"),
		"semi":  filepath.Join(dir, "train_semi.csv"),
		"tabgz": filepath.Join(dir, "train.tsv.gz"),
	}
	tabs := bytes.ReplaceAll(text, []byte(","), []byte("\t"))
	var tgz bytes.Buffer
	zw = gzip.NewWriter(&tgz)
	zw.Write(tabs)
	zw.Close()
	for key, data := range map[string][]byte{
		"gzip": gz.Bytes(), "tsv": tabs, "semi": bytes.ReplaceAll(text, []byte(","), []byte(";")), "tabgz": tgz.Bytes(),
	} {
		if err := os.WriteFile(files[key], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec = filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte(mixedSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec, files
}

// TestFitEveryDialectSameArtifact fits the same table read as CSV, gzip
// CSV, TSV and semicolon CSV (with --delimiter) and checks the artifacts
// have one digest.
func TestFitEveryDialectSameArtifact(t *testing.T) {
	dir := t.TempDir()
	spec, files := dialectFiles(t, dir, 5)
	digest := func(name string, extra ...string) string {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		mustRun(t, append([]string{"fit", "-q", "--spec", spec, "--out", out}, extra...)...)
		a, err := artifact.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		return a.Digest
	}
	want := digest("plain", "--data", files["csv"])
	for name, args := range map[string][]string{
		"gzip":  {"--data", files["gzip"]},
		"tsv":   {"--data", files["tsv"]},
		"tabgz": {"--data", files["tabgz"]},
		"semi":  {"--data", files["semi"], "--delimiter", ";"},
		"tab":   {"--data", files["tsv"], "--delimiter", `\t`},
	} {
		if got := digest(name, args...); got != want {
			t.Errorf("%s: artifact digest %s, want %s (the plain CSV's)", name, got, want)
		}
	}
}

// TestTransformToCompressedTSV transforms to .tsv.zst and .csv.gz and
// checks the decompressed text is the plain CSV output with tabs (or the
// same bytes), and that fit --transform-out writes the same.
func TestTransformToCompressedTSV(t *testing.T) {
	dir := t.TempDir()
	spec, files := dialectFiles(t, dir, 5)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "-q", "--spec", spec, "--data", files["csv"], "--out", art,
		"--transform-out", filepath.Join(dir, "fit_out.tsv.zst"))
	mustRun(t, "transform", "-q", "--artifact", art, "--in", files["csv"], "--out", filepath.Join(dir, "out.csv"))
	mustRun(t, "transform", "-q", "--artifact", art, "--in", files["gzip"], "--out", filepath.Join(dir, "out.tsv.zst"))
	mustRun(t, "transform", "-q", "--artifact", art, "--in", files["semi"], "--delimiter", ";", "--out", filepath.Join(dir, "out_semi.csv.gz"))
	want := readFile(t, filepath.Join(dir, "out.csv"))
	wantTabs := bytes.ReplaceAll(want, []byte(","), []byte("\t"))

	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for _, name := range []string{"out.tsv.zst", "fit_out.tsv.zst"} {
		got, err := dec.DecodeAll(readFile(t, filepath.Join(dir, name)), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, wantTabs) {
			t.Errorf("%s: decompressed text differs from out.csv with tabs", name)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, "out_semi.csv.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	// --delimiter ';' applies to --out too.
	if !bytes.Equal(got.Bytes(), bytes.ReplaceAll(want, []byte(","), []byte(";"))) {
		t.Errorf("out_semi.csv.gz: decompressed text differs from out.csv with semicolons")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestDriftValidateOnTSV checks drift and validate give the same report
// for a TSV (and a semicolon CSV with --delimiter) as for the CSV.
func TestDriftValidateOnTSV(t *testing.T) {
	dir := t.TempDir()
	spec, files := dialectFiles(t, dir, 5)
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "-q", "--spec", spec, "--data", files["csv"], "--out", art)
	curDir := filepath.Join(dir, "current")
	os.Mkdir(curDir, 0o755)
	_, cur := dialectFiles(t, curDir, 6)
	report := func(key string, args ...string) (int, string) {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code == ExitError {
			t.Fatalf("normguard %s: exit 2: %s", strings.Join(args, " "), errOut)
		}
		out = strings.ReplaceAll(out, cur[key], "CURRENT")
		return code, strings.ReplaceAll(out, files[key], "DATA")
	}
	// One --delimiter applies to every data file a command names, so the
	// reference is in the current file's dialect (the report shows only
	// the current file's path).
	for _, cmd := range []func(key string) []string{
		func(key string) []string {
			return []string{"validate", "--format", "json", "--artifact", art, "--data", cur[key]}
		},
		func(key string) []string {
			return []string{"drift", "--format", "json", "--reference", files[key], "--current", cur[key]}
		},
		func(key string) []string {
			return []string{"drift", "--format", "json", "--artifact", art, "--current", cur[key]}
		},
	} {
		wantCode, want := report("csv", cmd("csv")...)
		if !strings.Contains(want, `"tier"`) {
			t.Fatalf("%s: the report on the CSV does not cover column tier:\n%s", cmd("csv")[0], want)
		}
		for key, extra := range map[string][]string{"tsv": nil, "semi": {"--delimiter", ";"}, "tabgz": nil} {
			code, got := report(key, append(cmd(key), extra...)...)
			if code != wantCode || got != want {
				t.Errorf("%s on %s: exit %d, report\n%s\nwant exit %d, report\n%s", cmd(key)[0], key, code, got, wantCode, want)
			}
		}
	}
}

// TestDialectErrors checks the CLI's errors for a wrong delimiter, a bad
// --delimiter and a damaged compressed file: exit 2 with a message that
// names the file and what to do.
func TestDialectErrors(t *testing.T) {
	dir := t.TempDir()
	spec, files := dialectFiles(t, dir, 5)
	bad := filepath.Join(dir, "bad.csv.gz")
	gz := readFile(t, files["gzip"])
	os.WriteFile(bad, gz[:len(gz)/2], 0o644)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"fit", "--spec", spec, "--data", files["semi"], "--out", filepath.Join(dir, "x.json")},
			[]string{files["semi"] + ":1:", "semicolon-separated: pass --delimiter ';'"}},
		{[]string{"validate", "--artifact", "none.json", "--data", files["csv"], "--delimiter", ";;"},
			[]string{"--delimiter", "one character"}},
		{[]string{"fit", "--spec", spec, "--data", bad, "--out", filepath.Join(dir, "y.json")},
			[]string{bad, "invalid gzip data", "ends early"}},
		{[]string{"fit", "--spec", spec, "--data", files["csv"], "--out", filepath.Join(dir, "z.json"), "--transform-out", filepath.Join(dir, "o.parquet.gz")},
			[]string{"o.parquet.gz", "Parquet compresses its own pages"}},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != ExitError {
			t.Errorf("normguard %s: exit %d, want 2", strings.Join(tc.args, " "), code)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("normguard %s: stderr %q lacks %q", strings.Join(tc.args, " "), errOut, w)
			}
		}
	}
	for _, name := range []string{"x.json", "y.json", "z.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written after an error", name)
		}
	}
}

// TestDiagnoseOnTSV checks diagnose gives the same report for raw and
// observed TSV files (and semicolon files with --delimiter) as for CSV.
func TestDiagnoseOnTSV(t *testing.T) {
	dir := t.TempDir()
	spec, files := dialectFiles(t, dir, 7)
	art := filepath.Join(dir, "a.json")
	obs := map[string]string{
		"csv": filepath.Join(dir, "obs.csv"), "tsv": filepath.Join(dir, "obs.tsv"), "semi": filepath.Join(dir, "obs_semi.csv"),
	}
	mustRun(t, "fit", "-q", "--spec", spec, "--data", files["csv"], "--out", art, "--transform-out", obs["csv"])
	mustRun(t, "transform", "-q", "--artifact", art, "--in", files["csv"], "--out", obs["tsv"])
	mustRun(t, "transform", "-q", "--artifact", art, "--in", files["semi"], "--out", obs["semi"], "--delimiter", ";")
	report := func(key string, extra ...string) (int, string) {
		t.Helper()
		args := append([]string{"diagnose", "--format", "json", "--artifact", art, "--raw", files[key], "--observed", obs[key]}, extra...)
		code, out, errOut := runCLI(t, args...)
		if code == ExitError {
			t.Fatalf("normguard %s: exit 2: %s", strings.Join(args, " "), errOut)
		}
		out = strings.ReplaceAll(out, obs[key], "OBSERVED")
		return code, strings.ReplaceAll(out, files[key], "RAW")
	}
	wantCode, want := report("csv")
	if wantCode != ExitOK || !strings.Contains(want, "n1") {
		t.Fatalf("diagnose on the CSV pair: exit %d, want 0 and a report naming n1:\n%s", wantCode, want)
	}
	for key, extra := range map[string][]string{"tsv": nil, "semi": {"--delimiter", ";"}} {
		if code, got := report(key, extra...); code != wantCode || got != want {
			t.Errorf("diagnose on %s: exit %d, report\n%s\nwant exit %d, report\n%s", key, code, got, wantCode, want)
		}
	}
}
