package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// editedExport returns ex encoded, edited by edit and encoded again (with
// a new digest over the edited content, as anyone can compute it), read
// back by ReadExport as name.
func editedExport(t *testing.T, ex *Export, name string, edit func(ex *Export)) (*Export, error) {
	t.Helper()
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	var c Export
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	return ReadExport(bytes.NewReader(b), name)
}

// wantRefusal fails unless err is an ErrInvalidExport naming name and
// every one of wants.
func wantRefusal(t *testing.T, what string, err error, name string, wants ...string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidExport) || !strings.Contains(err.Error(), name+": ") {
		t.Errorf("%s: got %v, want an ErrInvalidExport naming %s", what, err, name)
		return
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: message %q lacks %q", what, err, w)
		}
	}
}

// TestExportCheck2WindowRows: a window's rows are the most rows one of its
// features counts plus its unprofiled_rows; rows inflated (×1000, +1) or
// deflated are refused with the path windows[0].rows even when the
// export is digested again; a feature or all features left out are
// refused against the artifact (windows[0].features), and one
// artifact's windows are of one model, within an export and across a
// merge (windows[0].model).
func TestExportCheck2WindowRows(t *testing.T) {
	a, ex := checkedExport(t)
	rows := ex.Windows[0].Rows
	for _, tc := range []struct {
		name string
		edit func(ex *Export)
		want []string
	}{
		{"rows x1000", func(ex *Export) { ex.Windows[0].Rows *= 1000 }, []string{"windows[0].rows: " + fmt.Sprint(rows*1000), fmt.Sprintf("counts %d and unprofiled_rows accounts for 0 more", rows)}},
		{"rows +1", func(ex *Export) { ex.Windows[0].Rows++ }, []string{"windows[0].rows: " + fmt.Sprint(rows+1)}},
		{"rows -1", func(ex *Export) { ex.Windows[0].Rows-- }, []string{"windows[0].features[0].rows"}},
		{"unprofiled negative", func(ex *Export) { ex.Windows[0].Unprofiled = -1 }, []string{"windows[0].unprofiled_rows: -1"}},
		{"unprofiled without rows", func(ex *Export) { ex.Windows[0].Unprofiled = 5 }, []string{"windows[0].rows: " + fmt.Sprint(rows)}},
		{"no features", func(ex *Export) { ex.Windows[0].Features = nil }, []string{"windows[0].rows:", "lists no feature"}},
	} {
		_, err := editedExport(t, ex, "e.json", tc.edit)
		wantRefusal(t, tc.name, err, "e.json", tc.want...)
	}

	// Against the artifact: a feature dropped, all dropped with the rows
	// said to be unprofiled.
	for _, tc := range []struct {
		name string
		edit func(ex *Export)
		want []string
	}{
		{"feature dropped", func(ex *Export) { ex.Windows[0].Features = ex.Windows[0].Features[1:] }, []string{"windows[0].features: lack \"x\""}},
		{"all dropped", func(ex *Export) {
			ex.Windows[0].Unprofiled, ex.Windows[0].Features = ex.Windows[0].Rows, nil
		}, []string{"windows[0].features: lack \"x\""}},
	} {
		read, err := editedExport(t, ex, "e.json", tc.edit)
		if err != nil {
			t.Fatalf("%s: read: %v (the artifact is needed to refuse it)", tc.name, err)
		}
		wantRefusal(t, tc.name+" (Check)", read.Check(a), "e.json", tc.want...)
		_, err = MergeExports(a, []*Export{read})
		wantRefusal(t, tc.name+" (merge)", err, "e.json", tc.want...)
	}

	// The model: another name for the same artifact's window, in a second
	// window of the export, or in a second export of the merge.
	read, err := editedExport(t, ex, "e.json", func(ex *Export) {
		w := ex.Windows[0]
		w.Model = "m2"
		ex.Windows = append(ex.Windows, w)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, "model renamed in the export", read.Check(a), "e.json", `windows[1].model: "m2", but windows[0]`, `fitted for model "m"`)
	renamed, err := editedExport(t, ex, "m2.json", func(ex *Export) { ex.Windows[0].Model = "m2" })
	if err != nil {
		t.Fatal(err)
	}
	_, err = MergeExports(a, []*Export{ex, renamed})
	wantRefusal(t, "model renamed across the merge", err, "m2.json", `windows[0].model: "m2", but x.json windows[0]`)
}

// fitOther fits an artifact of model "m" whose input features are p and
// q, none of the test artifact's.
func fitOther(t *testing.T) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(`
version: 1
columns:
  - name: p
    type: numeric
    steps: [standard_scaler]
  - name: q
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: ignore}}]
`), "other.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("p,q\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "%v,%s\n", rng.NormFloat64(), []string{"k", "l"}[rng.IntN(2)])
	}
	r, err := table.NewCSVReader(strings.NewReader(b.String()), "other.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := fit.Fit(context.Background(), sp, r, fit.Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Encode(o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestExportCheck2ArtifactChangedMidWindow: when the model's artifact
// changes mid-window to one profiling none of the earlier features, the
// window's rows exceed every feature's: the export says how many
// (unprofiled_rows), is read, checked against the new artifact and
// merged (again too), its anomalies and timeline as the monitor's; a
// feature of the new artifact no row reached is listed with 0 rows.
func TestExportCheck2ArtifactChangedMidWindow(t *testing.T) {
	a, o := testArtifact(t), fitOther(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m, "m", a, StageInput, normalRows(1, 30, trainMean), 30)
	p := make([]float64, 20)
	q := make([]string, 20)
	for i := range p {
		p[i], q[i] = float64(i%5)/5, []string{"k", "l"}[i%2]
	}
	observe(t, m, "m", o, StageInput, []table.Column{{Name: "p", Kind: table.Numeric, Num: p}, {Name: "q", Kind: table.String, Str: q}}, 20)
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Windows) != 1 {
		t.Fatalf("%d windows, want 1", len(ex.Windows))
	}
	w := ex.Windows[0]
	if w.Rows != 50 || w.Unprofiled != 30 || len(w.Features) != 2 || w.Features[0].Rows != 20 || w.Features[1].Rows != 20 || w.ArtifactDigest != o.Digest {
		t.Fatalf("window rows %d unprofiled %d features %+v digest %s; want 50, 30, p and q with 20 rows, %s", w.Rows, w.Unprofiled, w.Features, w.ArtifactDigest, o.Digest)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"unprofiled_rows":30`)) {
		t.Errorf("export lacks unprofiled_rows: %.300s", b)
	}
	read, err := ReadExport(bytes.NewReader(b), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := read.Check(o); err != nil {
		t.Fatal(err)
	}
	merged, err := MergeExports(o, []*Export{read})
	if err != nil {
		t.Fatal(err)
	}
	if mw := merged.Windows[0]; mw.Rows != 50 || mw.Unprofiled != 30 {
		t.Errorf("merged window rows %d unprofiled %d, want 50 and 30", mw.Rows, mw.Unprofiled)
	}
	if err := merged.Check(o); err != nil {
		t.Errorf("the merged export: %v", err)
	}
	// The same window said to have no unprofiled rows is refused.
	_, err = editedExport(t, read, "e.json", func(ex *Export) { ex.Windows[0].Unprofiled = 0 })
	wantRefusal(t, "unprofiled rows left out", err, "e.json", "windows[0].rows: 50", "counts 20 and unprofiled_rows accounts for 0 more")

	// The other way round: the rows of the first artifact are the
	// unprofiled ones.
	m2 := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m2, "m", o, StageInput, []table.Column{{Name: "p", Kind: table.Numeric, Num: p}, {Name: "q", Kind: table.String, Str: q}}, 20)
	cols := normalRows(2, 10, trainMean)
	observe(t, m2, "m", a, StageInput, cols, 10)
	ex2, err := m2.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	w = ex2.Windows[0]
	if w.Rows != 30 || w.Unprofiled != 20 || len(w.Features) != 4 {
		t.Fatalf("window rows %d unprofiled %d features %d, want 30, 20, 4", w.Rows, w.Unprofiled, len(w.Features))
	}
	if _, err := MergeExports(a, []*Export{ex2}); err != nil {
		t.Error(err)
	}

	// The stage's artifact changes with no row since (as after a push
	// that no row followed): the window lists the new artifact's
	// features with 0 rows, all its rows unprofiled.
	m3 := openTest(t, "", testOptions(newClock(t0)))
	observe(t, m3, "m", a, StageInput, normalRows(3, 12, trainMean), 12)
	ss := m3.lookup("m", StageInput)
	ref, err := newReference(o)
	if err != nil {
		t.Fatal(err)
	}
	ss.mu.Lock()
	ss.ref = ref
	ss.mu.Unlock()
	ex3, err := m3.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	var in *ExportWindow
	for i := range ex3.Windows {
		if ex3.Windows[i].Stage == StageInput {
			in = &ex3.Windows[i]
		}
	}
	if in == nil || in.ArtifactDigest != o.Digest || in.Rows != 12 || in.Unprofiled != 12 || len(in.Features) != 2 || in.Features[0].Rows != 0 || in.Features[1].Rows != 0 {
		t.Fatalf("input window %+v; want artifact %s, 12 rows all unprofiled, p and q with 0 rows", in, o.Digest)
	}
	b, err = json.Marshal(ex3)
	if err != nil {
		t.Fatal(err)
	}
	read3, err := ReadExport(bytes.NewReader(b), "z.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeExports(o, []*Export{read3}); err != nil {
		t.Errorf("zero-row features: %v", err)
	}
}

// TestExportCheck2WindowTimes: windows of a model and stage are disjoint
// and start on the grid of their length or where the window before them
// ends: a copy of the window shifted by half its length (overlapping), a
// window shifted off the grid and a window of length 0 are refused even
// digested again; a window continuing where the one before ends (a store
// whose --window was lengthened) is read; windows of different lengths
// in two exports that overlap do not merge.
func TestExportCheck2WindowTimes(t *testing.T) {
	a, ex := checkedExport(t)
	start := ex.Windows[0].Start // 10:00, one hour
	for _, tc := range []struct {
		name string
		edit func(ex *Export)
		want []string
	}{
		{"overlapping", func(ex *Export) {
			w := ex.Windows[0]
			w.Start, w.End = w.Start.Add(30*time.Minute), w.End.Add(30*time.Minute)
			ex.Windows = append(ex.Windows, w)
		}, []string{"windows[1].start:", "overlaps windows[0]"}},
		{"shifted", func(ex *Export) {
			w := &ex.Windows[0]
			w.Start, w.End = w.Start.Add(20*time.Minute), w.End.Add(20*time.Minute)
		}, []string{"windows[0].start:", "is not on the grid of the window's length 1h"}},
		{"zero length", func(ex *Export) { ex.Windows[0].End = ex.Windows[0].Start }, []string{"windows[0].end:"}},
		{"one day from 12:00", func(ex *Export) {
			w := ex.Windows[0]
			w.Start = time.Date(start.Year(), start.Month(), start.Day(), 12, 0, 0, 0, time.UTC)
			w.End = w.Start.Add(24 * time.Hour)
			ex.Windows = append(ex.Windows, w)
		}, []string{"windows[1].start:", "is not on the grid of the window's length 1d"}},
	} {
		_, err := editedExport(t, ex, "e.json", tc.edit)
		wantRefusal(t, tc.name, err, "e.json", tc.want...)
	}

	// 11:00 for 90 minutes is off the 90-minute grid, but continues the
	// window before it.
	next := start.Add(time.Hour)
	if WindowStart(next, 90*time.Minute).Equal(next) {
		t.Fatalf("%s is on the 90-minute grid; pick another length", next)
	}
	cont, err := editedExport(t, ex, "c.json", func(ex *Export) {
		w := ex.Windows[0]
		w.Start, w.End = next, next.Add(90*time.Minute)
		ex.Windows = append(ex.Windows, w)
	})
	if err != nil {
		t.Fatalf("a window continuing the one before: %v", err)
	}
	if _, err := MergeExports(a, []*Export{cont}); err != nil {
		t.Error(err)
	}
	_, err = editedExport(t, ex, "d.json", func(ex *Export) {
		ex.Windows[0].Start, ex.Windows[0].End = next, next.Add(90*time.Minute)
	})
	wantRefusal(t, "off the grid, alone", err, "d.json", "windows[0].start:")

	// Two exports whose windows overlap with different lengths.
	day, err := editedExport(t, ex, "day.json", func(ex *Export) {
		s := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		ex.Windows[0].Start, ex.Windows[0].End = s, s.Add(24*time.Hour) // the hour's content, as a day
	})
	if err != nil {
		t.Fatal(err)
	}
	other := *ex
	other.Name = "hour.json"
	other.Windows = append([]ExportWindow{}, ex.Windows...)
	_, err = MergeExports(a, []*Export{day, &other})
	if err == nil || !strings.Contains(err.Error(), "overlaps window") || !strings.Contains(err.Error(), "day.json") || !strings.Contains(err.Error(), "hour.json") || !strings.Contains(err.Error(), "--window") {
		t.Errorf("windows of 1d and 1h overlapping: got %v, want a refusal naming both exports", err)
	}
}
