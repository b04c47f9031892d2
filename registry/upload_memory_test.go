package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// uploadGrowthBound bounds the resident memory an upload adds to the
// process (peak VmHWM less VmRSS before it), whatever the artifact's size
// and shape. Measured with this test's generated artifacts:
//
//	shape    size      uploads at once  growth
//	wide     25 MB     1                 7.9 MB
//	wide     105 MB    1                13.4 MB  (161 MB decoded whole)
//	wide     105 MB    4                13.3 MB  (161 MB decoded whole)
//	wide     315 MB    1                26.0 MB
//	wide     315 MB    4                23.3 MB
//	ordinal  42 MB     1                 6.0 MB  (257 MB with the step checked whole)
//	ordinal  106 MB    1                 6.7 MB
//	ordinal  316 MB    1                 8.7 MB
//	quantile  42 MB    1                 6.2 MB  (177 MB with the step decoded whole)
//	quantile 105 MB    1                 6.3 MB  (433 MB with the step decoded whole)
//	quantile 314 MB    1                 7.2 MB
//	quantile 314 MB    4                 6.5 MB
//	onehot     4 MB    1                 5.8 MB  (21.5 MB and 5.2 s, not 0.2 s, with the lists matched whole)
//	onehot    42 MB    1                 7.9 MB
//	onehot   105 MB    1                 6.4 MB
//	onehot   315 MB    1                 6.3 MB
//	onehot   315 MB    4                 7.0 MB
//	given     23 MB    1                43.6 MB  (spec 8.0 MB, 95% of MaxSpecBytes; 50.5 MB before)
//	given     23 MB    4                42.2 MB
//	givenover 31 MB    1                 1.0 MB  (spec 16.2 MB: refused before it is decoded)
//	onehotwide 102 MB  1                18.0 MB  (370,000 outputs of one encoder; 133-173 MB with its output names built whole)
//	onehotwide  84 MB  1                18.7 MB  (300,000 outputs, 1,000 encoders; 151.5 MB before)
//	onehotwide  84 MB  4                20.6 MB
//	hugecat    99 MB  1                 1.5 MB  (one 99 MB category, refused at MaxStringBytes; 531.6 MB when the decoder read it whole)
//	longname   99 MB  1                 1.5 MB  (one 99 MB column name in the input schema, refused alike)
//	inputs      7 MB  1                33.9 MB  (an input schema of 7.1 MB, within MaxNamesBytes: decoded whole)
//	inputs     30 MB  1                 1.4 MB  (an input schema of 30 MB: refused before it is decoded)
//	fittednames 99 MB 1                 1.5 MB  (a scaler's feature_names_in_ of 99 MB, refused alike; 451.5 MB when decoded whole)
//	hugecolumn 106 MB 1                27.8 MB  (one profile column's quantiles and CDF, refused at MaxColumnBytes: the decoder holds at most the bound, in a buffer grown by doubling)
//	deep      105 MB  1                 1.1 MB  (an array nested 52 million levels, refused at MaxDepth)
//	fittedfloats 100 MB 1              33.5 MB  (a scaler's scale_ of 4.4 million entries, refused at MaxOutputs entries; 603.0 MB when read whole)
//	sample     20 MB  1                83.2 MB  (an embedding's sample at MaxSampleBytes, 16 MiB: sampleGrowthBound)
//
// (NORMGUARD_UPLOAD_MB=300 NORMGUARD_UPLOAD_PARALLEL=4, and
// NORMGUARD_UPLOAD_SHAPE=ordinal, quantile or onehot NORMGUARD_UPLOAD_MB=40,
// 100, 300; these sizes take minutes and gigabytes to fit, so CI runs the
// default; NORMGUARD_UPLOAD_SHAPE=given NORMGUARD_UPLOAD_MB=22,
// givenover 30, onehotwide 100 with NORMGUARD_UPLOAD_GROUPS=1 or 1000,
// hugecat 100, longname 100, inputs 7 and 30, fittednames 100,
// hugecolumn 100, deep 100, fittedfloats 100, sample 400,
// measured under /tmp/coord/quiet. A one-hot encoder with more than a
// few thousand outputs gives them to the check one at a time, reading
// its lists again (step.EachOutput). The quantile uploads took 1.7, 4.6 and 11.9 s of wall time,
// the onehot ones 2.0, 3.8 and 13.2 s, the child process's whole run, on
// the shared 2-core machine. Before, a one-hot encoder's infrequent
// categories were matched by a linear search each: quadratic time.)
const uploadGrowthBound = 64 << 20

// sampleGrowthBound bounds the growth of an upload whose bulk is an
// embedding's reference sample, the one element an artifact holds that
// readers decode whole past MaxColumnBytes (at most MaxSampleBytes, 16
// MiB, of base64), at about five times its size: the decoder's buffer
// grown by doubling to hold the embedding, and the values as float64.
// Measured (NORMGUARD_UPLOAD_SHAPE=sample NORMGUARD_UPLOAD_MB=400, the
// sample at its bound, 786 vectors of 4,000 float32 values): 83.2 and
// 83.7 MB; 1018 MB for a sample of 64 MiB (70 MB artifact) and 223 MB
// for one of 15 MB before its text was decoded and written a piece at a
// time.
const sampleGrowthBound = 96 << 20

// TestUploadMemoryIsFlat uploads a generated artifact (wide: many numeric
// columns, each with a full training profile on both sides; about 24 MB,
// or NORMGUARD_UPLOAD_MB) with PutFrom in a child process, so that
// nothing else in the test binary counts, NORMGUARD_UPLOAD_PARALLEL times
// at once (default 1), and checks the growth of the child's resident set
// against uploadGrowthBound. With NORMGUARD_UPLOAD_SHAPE=ordinal the bulk
// is instead one ordinal encoder's categories, which Verify reads entry
// by entry; with NORMGUARD_UPLOAD_SHAPE=quantile, a quantile transformer's
// quantiles_ and references_ (n_quantiles_ as large as the row count),
// which Verify also reads entry by entry; with NORMGUARD_UPLOAD_SHAPE=onehot,
// one one-hot encoder's categories_ and infrequent_categories_ (every
// category but one infrequent), which Verify reads entry by entry, twice;
// with given, eight ordinal encoders given the same categories in the
// spec (a spec section near MaxSpecBytes), with givenover twice that
// (refused: the child checks the refusal); with onehotwide, one-hot
// encoders (NORMGUARD_UPLOAD_GROUPS of them) with as many outputs as
// categories, names of about 100 bytes; with hugecat, one ordinal
// encoder whose last category is a single string of about the
// artifact's size, with longname, one input column's name as long (both
// refused: artifact.MaxStringBytes); with inputs, an input schema of
// about the artifact's size (refused past artifact.MaxNamesBytes), with
// fittednames a standard scaler's feature_names_in_ as long (refused
// alike); with hugecolumn, one profile column's quantiles and CDF as
// long (refused past artifact.MaxColumnBytes), with deep, an array
// nested as many levels as the file has bytes (refused past
// artifact.MaxDepth), with fittedfloats a standard scaler's scale_ of
// about the artifact's size (refused past artifact.MaxOutputs entries),
// with sample an embedding's reference sample as large, up to
// artifact.MaxSampleBytes (accepted).
// NORMGUARD_UPLOAD_KEEP=FILE
// keeps the generated artifact in FILE, or uploads FILE when it exists
// (so that a large one is generated once, and measured alone).
func TestUploadMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and uploads a large artifact")
	}
	mb := envInt(t, "NORMGUARD_UPLOAD_MB", 24)
	parallel := envInt(t, "NORMGUARD_UPLOAD_PARALLEL", 1)
	shape := os.Getenv("NORMGUARD_UPLOAD_SHAPE")
	dir := t.TempDir()
	path := filepath.Join(dir, "big.json")
	if keep := os.Getenv("NORMGUARD_UPLOAD_KEEP"); keep != "" {
		path = keep
		if _, err := os.Stat(path); err == nil {
			t.Logf("uploading the artifact already at %s", path)
		} else {
			writeBigArtifact(t, path, shape, int64(mb)<<20)
		}
	} else {
		writeBigArtifact(t, path, shape, int64(mb)<<20)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUploadMemoryChild$", "-test.v")
	cmd.Env = append(os.Environ(), "NORMGUARD_UPLOAD_CHILD="+path, fmt.Sprintf("NORMGUARD_UPLOAD_PARALLEL=%d", parallel))
	if want := refusalOf(shape, size); want != "" {
		// Past a bound: refused, and the refusal must not cost the
		// section's size.
		cmd.Env = append(cmd.Env, "NORMGUARD_UPLOAD_REFUSED="+want)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child upload: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`before_kb=(\d+) peak_kb=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child printed no measurement:\n%s", out)
	}
	before, _ := strconv.ParseInt(string(m[1]), 10, 64)
	peak, _ := strconv.ParseInt(string(m[2]), 10, 64)
	growth := (peak - before) << 10
	t.Logf("%s artifact %.1f MB, %d upload(s) at once: resident before %.1f MB, peak %.1f MB, growth %.1f MB",
		shapeName(shape), float64(size)/1e6, parallel, float64(before<<10)/1e6, float64(peak<<10)/1e6, float64(growth)/1e6)
	bound := int64(uploadGrowthBound)
	if shape == "sample" {
		bound = sampleGrowthBound
	}
	if growth > bound {
		t.Errorf("an upload grew the resident set by %.1f MB, want at most %.1f MB", float64(growth)/1e6, float64(bound)/1e6)
	}
}

// TestUploadMemoryChild is TestUploadMemoryIsFlat's child: it uploads the
// artifact at $NORMGUARD_UPLOAD_CHILD with PutFrom, as many times at once
// as $NORMGUARD_UPLOAD_PARALLEL says, and prints its resident set before
// and its peak after.
func TestUploadMemoryChild(t *testing.T) {
	path := os.Getenv("NORMGUARD_UPLOAD_CHILD")
	if path == "" {
		t.Skip("the child of TestUploadMemoryIsFlat")
	}
	parallel := envInt(t, "NORMGUARD_UPLOAD_PARALLEL", 1)
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := statusKB(t, "VmRSS")
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Open(path)
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			_, _, errs[i] = l.PutFrom(context.Background(), "big", fmt.Sprintf("v%d", i), f, PutOptions{})
		}()
	}
	wg.Wait()
	want := os.Getenv("NORMGUARD_UPLOAD_REFUSED")
	for _, err := range errs {
		switch {
		case want == "" && err != nil:
			t.Fatal(err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Fatalf("got %v, want a refusal with %q", err, want)
		}
	}
	fmt.Printf("before_kb=%d peak_kb=%d\n", before, statusKB(t, "VmHWM"))
}

// refusalOf returns the refusal an upload of an artifact of the shape
// and size must get, or "" when it must be accepted.
func refusalOf(shape string, size int64) string {
	switch {
	case shape == "givenover":
		return "spec: more than the"
	case shape == "hugecat":
		return "groups[0].steps[0].fitted.categories_[0][2]: a string of more than"
	case shape == "longname":
		return "inputs[0].name: a string of more than"
	case shape == "inputs" && size > artifact.MaxNamesBytes:
		return "inputs: more than the"
	case shape == "fittednames" && size > artifact.MaxNamesBytes:
		return "groups[0].steps[0].fitted.feature_names_in_: more than the"
	case shape == "fittedfloats" && size > artifact.MaxOutputs*24:
		return "groups[0].steps[0].fitted.scale_: more than the"
	case shape == "hugecolumn" && size > artifact.MaxColumnBytes:
		return "profile.inputs[0]: more than the"
	case shape == "deep":
		return "levels deep"
	}
	return ""
}

func shapeName(shape string) string {
	if shape == "" {
		return "wide"
	}
	return shape
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// statusKB returns a kB field of /proc/self/status.
func statusKB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("memory is measured from /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// writeBigArtifact fits an artifact of about size bytes and writes it to
// path, returning its size. The wide shape (shape "") standardizes many
// numeric columns of 40 rows, each profiled with its quantile grid, CDF
// and histogram on both sides; the ordinal shape encodes one column
// whose every row is a distinct value. The column or row count is
// calibrated on a small fit.
func writeBigArtifact(t *testing.T, path, shape string, size int64) int64 {
	t.Helper()
	small := fitBig(t, shape, 200)
	n := max(int(float64(200)*float64(size)/float64(len(small))), 1)
	data := fitBig(t, shape, n)
	if r := float64(size) / float64(len(data)); r > 1.1 || r < 0.9 {
		// The fixed part of a small artifact skews the first guess.
		data = fitBig(t, shape, max(int(float64(n)*r), 1))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return int64(len(data))
}

// quantileColumns is the quantile shape's column count.
const quantileColumns = 4

// fitBig fits an artifact of n numeric columns (wide), n distinct
// categories (ordinal, onehot) or a quantile grid of n quantiles per column
// (quantile) and returns its bytes.
func fitBig(t *testing.T, shape string, n int) []byte {
	t.Helper()
	var specText strings.Builder
	var csv strings.Builder
	r := rand.New(rand.NewPCG(uint64(n), 3))
	switch shape {
	case "":
		const rows = 40
		specText.WriteString("version: 1\ncolumns:\n  - names: [")
		for j := range n {
			if j > 0 {
				specText.WriteString(", ")
				csv.WriteByte(',')
			}
			fmt.Fprintf(&specText, "x%d", j)
			fmt.Fprintf(&csv, "x%d", j)
		}
		specText.WriteString("]\n    type: numeric\n    steps: [standard_scaler]\n")
		csv.WriteByte('\n')
		for range rows {
			for j := range n {
				if j > 0 {
					csv.WriteByte(',')
				}
				csv.WriteString(strconv.FormatFloat(r.NormFloat64(), 'g', 6, 64))
			}
			csv.WriteByte('\n')
		}
	case "ordinal":
		specText.WriteString("version: 1\ncolumns:\n  - name: id\n    type: categorical\n    steps: [ordinal_encoder]\n")
		csv.WriteString("id\n")
		for i := range n {
			fmt.Fprintf(&csv, "customer-%016x-%d\n", r.Uint64(), i)
		}
	case "onehot":
		// Every value is distinct, so max_categories makes all but one
		// infrequent: categories_ and infrequent_categories_ hold n
		// entries each, the outputs are two.
		specText.WriteString("version: 1\ncolumns:\n  - name: id\n    type: categorical\n    steps:\n      - one_hot_encoder: {max_categories: 2}\n")
		csv.WriteString("id\n")
		for i := range n {
			fmt.Fprintf(&csv, "customer-%016x-%d\n", r.Uint64(), i)
		}
	case "quantile":
		// n_quantiles_ is n (the row count): quantiles_ and references_
		// hold quantileColumns+1 arrays of n floats.
		fmt.Fprintf(&specText, "version: 1\ncolumns:\n  - names: [q0")
		for j := 1; j < quantileColumns; j++ {
			fmt.Fprintf(&specText, ", q%d", j)
		}
		fmt.Fprintf(&specText, "]\n    type: numeric\n    steps:\n      - quantile_transformer: {n_quantiles: %d, subsample: %d}\n", n, max(n, 100000))
		for j := range quantileColumns {
			if j > 0 {
				csv.WriteByte(',')
			}
			fmt.Fprintf(&csv, "q%d", j)
		}
		csv.WriteByte('\n')
		for range n {
			for j := range quantileColumns {
				if j > 0 {
					csv.WriteByte(',')
				}
				csv.WriteString(strconv.FormatFloat(r.NormFloat64(), 'g', -1, 64))
			}
			csv.WriteByte('\n')
		}
	case "given", "givenover":
		return fitGiven(t, n, shape == "givenover")
	case "onehotwide":
		return wideOneHot(t, n, envInt(t, "NORMGUARD_UPLOAD_GROUPS", 1))
	case "hugecat":
		return hugeCategory(t, n)
	case "longname":
		return longColumnName(t, n)
	case "inputs":
		return longInputs(t, n)
	case "fittednames":
		return longFittedNames(t, n)
	case "hugecolumn":
		return hugeProfileColumn(t, n)
	case "fittedfloats":
		return longFittedFloats(t, n)
	case "sample":
		return bigSample(t, n)
	case "deep":
		return deepNesting(t, n)
	default:
		t.Fatalf("NORMGUARD_UPLOAD_SHAPE=%q: want empty (wide), ordinal, onehot, quantile, given, givenover, onehotwide, hugecat, longname, inputs, fittednames, fittedfloats, sample, hugecolumn or deep", shape)
	}
	sp, err := spec.Parse(strings.NewReader(specText.String()), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := table.NewCSVReader(strings.NewReader(csv.String()), "big.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, tr, fit.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// givenColumns is the given shapes' column count: each column's ordinal
// encoder is given the same categories (a YAML anchor, so that the spec
// file stays within spec.MaxSize while its encoding in the artifact
// approaches artifact.MaxSpecBytes).
const givenColumns = 8

// fitGiven fits ordinal encoders given n categories each in the spec and
// returns the artifact's bytes. over doubles the spec's columns after the
// fit (the digest recomputed), putting the spec past MaxSpecBytes when
// the fitted one is past half of it: a file fit never writes.
func fitGiven(t *testing.T, n int, over bool) []byte {
	t.Helper()
	var specText, csv strings.Builder
	specText.WriteString("version: 1\ncolumns:\n")
	for j := range givenColumns {
		fmt.Fprintf(&specText, "  - names: [c%d]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: ", j)
		if j > 0 {
			specText.WriteString("*cats}\n")
			continue
		}
		specText.WriteString("&cats [[")
		for i := range n {
			if i > 0 {
				specText.WriteString(", ")
			}
			fmt.Fprintf(&specText, "k%07x", i)
		}
		specText.WriteString("]]}\n")
	}
	for j := range givenColumns {
		if j > 0 {
			csv.WriteByte(',')
		}
		fmt.Fprintf(&csv, "c%d", j)
	}
	csv.WriteString("\n")
	for i := range 4 {
		for j := range givenColumns {
			if j > 0 {
				csv.WriteByte(',')
			}
			fmt.Fprintf(&csv, "k%07x", (i*7+j)%n)
		}
		csv.WriteString("\n")
	}
	a := fitText(t, specText.String(), csv.String())
	if over {
		a.Spec.Columns = append(a.Spec.Columns, a.Spec.Columns...)
	}
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// wideOneHot builds an artifact of groups one-hot encoders whose n
// outputs in all have names of about 100 bytes: it fits encoders on two
// values, then gives each n/groups sorted categories, with the outputs
// they name (the profile left out), and encodes it (a fit would apply
// the encoders to as many rows as categories).
func wideOneHot(t *testing.T, n, groups int) []byte {
	t.Helper()
	var specText, csv strings.Builder
	specText.WriteString("version: 1\ncolumns:\n")
	for j := range groups {
		fmt.Fprintf(&specText, "  - names: [c%d]\n    type: categorical\n    steps: [one_hot_encoder]\n", j)
		if j > 0 {
			csv.WriteByte(',')
		}
		fmt.Fprintf(&csv, "c%d", j)
	}
	csv.WriteString("\n")
	for _, v := range []string{"a", "b"} {
		for j := range groups {
			if j > 0 {
				csv.WriteByte(',')
			}
			csv.WriteString(v)
		}
		csv.WriteString("\n")
	}
	a := fitText(t, specText.String(), csv.String())
	a.Profile = nil
	a.Outputs = a.Outputs[:0]
	per := max(n/groups, 1)
	prefix := strings.Repeat("category-with-a-long-name-", 4)
	for j := range a.Groups {
		e := a.Groups[j].Steps[0].Fitted.(*step.OneHotEncoder)
		list := make(step.CategoryList, per)
		for i := range list {
			c := fmt.Sprintf("%s%08d", prefix, i)
			list[i] = &c
			a.Outputs = append(a.Outputs, artifact.Field{Name: fmt.Sprintf("c%d_%s", j, c), Type: spec.TypeNumeric})
		}
		a.Groups[j].Steps[0].Fitted = &step.OneHotEncoder{Names: e.Names, Categories: []step.CategoryList{list}, HandleUnknown: e.HandleUnknown}
	}
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hugeCategory builds an artifact of one ordinal encoder whose last
// category is one string of about n*200 bytes (the calibration's unit),
// the digest recomputed: a file fit does not write.
func hugeCategory(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [c]\n    type: categorical\n    steps: [ordinal_encoder]\n", "c\na\nb\n")
	e := a.Groups[0].Steps[0].Fitted.(*step.OrdinalEncoder)
	huge := strings.Repeat("z", n*200)
	e.Categories[0] = append(e.Categories[0], &huge)
	return encode(t, a)
}

// longColumnName builds an artifact whose first input column has a name
// of about n*200 bytes in the input schema (only there): a file fit does
// not write.
func longColumnName(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [c]\n    type: categorical\n    steps: [ordinal_encoder]\n", "c\na\nb\n")
	a.Inputs[0].Name = strings.Repeat("c", n*200)
	return encode(t, a)
}

// longInputs builds an artifact whose input schema lists about n*200/60
// more columns (names of 16 bytes, each a 60-byte entry), which no group
// reads, the profile left out: up to artifact.MaxNamesBytes a valid
// artifact, past it one fit does not write.
func longInputs(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [c]\n    type: categorical\n    steps: [ordinal_encoder]\n", "c\na\nb\n")
	a.Profile = nil
	for i := range n * 200 / 60 {
		a.Inputs = append(a.Inputs, artifact.Field{Name: fmt.Sprintf("column-%09d", i), Type: spec.TypeNumeric})
	}
	return encode(t, a)
}

// longFittedNames builds an artifact whose standard scaler lists about
// n*200/36 input names in its fitted feature_names_in_ (each a 36-byte
// line), more than its inputs: a file fit does not write.
func longFittedNames(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [x]\n    steps: [standard_scaler]\n", "x\n1\n2\n")
	sc := a.Groups[0].Steps[0].Fitted.(*step.StandardScaler)
	for i := range n * 200 / 36 {
		sc.Names = append(sc.Names, fmt.Sprintf("column-%09d", i))
	}
	return encode(t, a)
}

// longFittedFloats builds an artifact whose standard scaler's scale_
// holds about n*200/24 numbers (each a line of about 24 bytes): a file
// fit does not write (refused past artifact.MaxOutputs entries).
func longFittedFloats(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [x]\n    steps: [standard_scaler]\n", "x\n1\n2\n")
	sc := a.Groups[0].Steps[0].Fitted.(*step.StandardScaler)
	for i := range n * 200 / 24 {
		sc.Scale = append(sc.Scale, 1+float64(i)*1e-9)
	}
	return encode(t, a)
}

// bigSample builds an artifact with a vector column of 4,000 dimensions
// whose embedding's reference sample holds about n*150/16,000 vectors
// (float32, as base64: n*200 bytes), at most MaxSampleBytes: within
// every bound (an embedding is decoded whole).
func bigSample(t *testing.T, n int) []byte {
	t.Helper()
	const dim = 4000
	r := rand.New(rand.NewPCG(3, 4))
	var data strings.Builder
	for i := range 8 {
		fmt.Fprintf(&data, `{"id": %d, "emb": [`, i)
		for k := range dim {
			if k > 0 {
				data.WriteString(", ")
			}
			data.WriteString(strconv.FormatFloat(float64(float32(r.NormFloat64())), 'g', -1, 32))
		}
		data.WriteString("]}\n")
	}
	path := filepath.Join(t.TempDir(), "v.jsonl")
	if err := os.WriteFile(path, []byte(data.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [standard_scaler]\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := table.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, tr, fit.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := &a.Embeddings[0].Contract.Profile
	rows := min(n*150/(4*dim), int(artifact.MaxSampleBytes*3/4/(4*dim)))
	p.Sample = p.Sample[:0]
	for range rows {
		v := make([]float64, dim)
		for k := range v {
			v[k] = float64(float32(r.NormFloat64()))
		}
		p.Sample = append(p.Sample, v)
	}
	return encode(t, a)
}

// hugeProfileColumn builds an artifact whose first profile column holds
// a quantiles array of about n*200/24 numbers (each a line of about 24
// bytes) and a CDF as long: a file fit does not write.
func hugeProfileColumn(t *testing.T, n int) []byte {
	t.Helper()
	a := fitText(t, "version: 1\ncolumns:\n  - names: [x]\n    steps: [standard_scaler]\n", "x\n1\n2\n3\n")
	f := &a.Profile.Inputs[0]
	for i := range n * 200 / 48 {
		f.Quantiles = append(f.Quantiles, float64(i)*1.000001)
		f.CDF = append(f.CDF, 0.5)
	}
	return encode(t, a)
}

// deepNesting builds a file of about n*200 bytes whose "format" value is
// an array nested as deep (a file fit does not write: refused at
// artifact.MaxDepth levels).
func deepNesting(t *testing.T, n int) []byte {
	t.Helper()
	k := n * 100
	return []byte(`{"format": ` + strings.Repeat("[", k) + strings.Repeat("]", k) + "}\n")
}

// fitText fits specText on csv.
func fitText(t *testing.T, specText, csv string) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(specText), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := table.NewCSVReader(strings.NewReader(csv), "big.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, tr, fit.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// encode encodes a (artifact.Encode does not hold it to the bounds the
// readers do: Save and EncodeChecked do).
func encode(t *testing.T, a *artifact.Artifact) []byte {
	t.Helper()
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
