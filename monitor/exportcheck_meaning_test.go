package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
)

// checkedExport returns an export of a monitor fed rows with missing,
// out-of-range and unseen values, read back through JSON.
func checkedExport(t *testing.T) (*artifact.Artifact, *Export) {
	t.Helper()
	a := testArtifact(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	for i := 0; i < 6; i++ {
		cols := normalRows(uint64(i+1), 41+i, trainMean+0.3)
		for r := 0; r < 10; r++ {
			switch r % 3 {
			case 0:
				cols[0].Num[r] = 1e6 + float64(r) // out of range
			case 1:
				cols[0].Num[r] = math.NaN() // missing
			}
			cols[2].Str[r] = "zz-new" // unseen
		}
		observe(t, m, "m", a, StageInput, cols, cols[0].Len())
	}
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadExport(bytes.NewReader(b), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	return a, back
}

// plainJSON encodes an export as a normguard before digests wrote it.
func plainJSON(t *testing.T, ex *Export) []byte {
	t.Helper()
	p := exportPlain(*ex)
	p.Digest = ""
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportDigest: every encoded export carries the digest of its
// content, which ReadExport verifies whatever the layout (indented or
// not); one edited byte of content is refused by the path "digest"; an
// export without a digest (before digests) is read.
func TestExportDigest(t *testing.T) {
	a, ex := checkedExport(t)
	b, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"digest": "sha256:`)) {
		t.Fatalf("export carries no digest:\n%.300s", b)
	}
	compact, _ := json.Marshal(ex)
	back, err := ReadExport(bytes.NewReader(b), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(again, compact) {
		t.Errorf("an export read back encodes differently")
	}
	rows := []byte(`"rows": ` + itoa(ex.Windows[0].Rows))
	if !bytes.Contains(b, rows) {
		t.Fatalf("no %s in the export", rows)
	}
	edited := bytes.Replace(b, rows, []byte(`"rows": `+itoa(ex.Windows[0].Rows+1)), 1)
	_, err = ReadExport(bytes.NewReader(edited), "x.json")
	if !errors.Is(err, ErrInvalidExport) || !strings.Contains(err.Error(), "x.json: digest: sha256:") {
		t.Errorf("edited export: got %v, want a refusal by its digest", err)
	}
	old, err := ReadExport(bytes.NewReader(plainJSON(t, ex)), "old.json")
	if err != nil {
		t.Fatalf("an export without a digest: %v", err)
	}
	if _, err := MergeExports(a, []*Export{old}); err != nil {
		t.Fatal(err)
	}
	// With and without its digest it is one export: given twice, its
	// rows would count twice.
	if _, err := MergeExports(a, []*Export{old, back}); !errors.Is(err, ErrDuplicateExport) {
		t.Errorf("the export with and without its digest: got %v, want ErrDuplicateExport", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestExportCheckRefuses: an export whose content is not consistent is
// refused by ReadExport or MergeExports with the JSON path of the field,
// also without a digest (an export written before digests).
func TestExportCheckRefuses(t *testing.T) {
	a, _ := checkedExport(t)
	feature := func(ex *Export, name string) int {
		for i, f := range ex.Windows[0].Features {
			if f.Name == name {
				return i
			}
		}
		t.Fatalf("no feature %q", name)
		return -1
	}
	summary := func(t *testing.T, ex *Export, j int, edit func(s *summaryEdit)) {
		plans, err := stagePlans(a, StageInput, ex.Bins)
		if err != nil {
			t.Fatal(err)
		}
		f := &ex.Windows[0].Features[j]
		s, err := plans[f.Name].UnmarshalSummary(f.Summary)
		if err != nil {
			t.Fatal(err)
		}
		edit(&summaryEdit{below: s.Below, equal: s.Equal, min: &s.Moments.Min, unknown: &s.Unknown})
		if f.Summary, err = s.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, want string
		edit       func(t *testing.T, ex *Export)
	}{
		{"window rows negative", "windows[0].rows: -5 must be >= 0", func(t *testing.T, ex *Export) { ex.Windows[0].Rows = -5 }},
		{"bins", "bins: 0 must be between 1", func(t *testing.T, ex *Export) { ex.Bins = 0 }},
		{"end before start", "windows[0].end:", func(t *testing.T, ex *Export) { ex.Windows[0].End = ex.Windows[0].Start.Add(-time.Second) }},
		{"stage", `windows[0].stage: "middle"`, func(t *testing.T, ex *Export) { ex.Windows[0].Stage = "middle" }},
		{"window twice", "windows[1].start: windows[0] is also the window", func(t *testing.T, ex *Export) {
			ex.Windows = append(ex.Windows, ex.Windows[0])
		}},
		{"feature twice", `.name: "c" is listed twice`, func(t *testing.T, ex *Export) {
			w := &ex.Windows[0]
			w.Features = append(w.Features, w.Features[feature(ex, "c")])
		}},
		{"unseen negative", ".unseen: -1 must be >= 0", func(t *testing.T, ex *Export) { ex.Windows[0].Features[feature(ex, "c")].Unseen = -1 }},
		{"feature rows above the window's", ".rows: 1000000000000000000 must be at most the window's rows", func(t *testing.T, ex *Export) {
			ex.Windows[0].Features[feature(ex, "x")].Rows = 1e18
		}},
		{"missing above rows", ".missing:", func(t *testing.T, ex *Export) {
			f := &ex.Windows[0].Features[feature(ex, "x")]
			f.Missing = f.Rows + 1
		}},
		{"missing against the summary", "but its summary of the same", func(t *testing.T, ex *Export) {
			ex.Windows[0].Features[feature(ex, "x")].Missing++
		}},
		{"out of range against the summary", ".out_of_range: 0, but its summary counts", func(t *testing.T, ex *Export) {
			ex.Windows[0].Features[feature(ex, "x")].OutOfRange = 0
		}},
		{"unseen against the summary", ".unseen: 0, but its summary counts", func(t *testing.T, ex *Export) {
			ex.Windows[0].Features[feature(ex, "c")].Unseen = 0
		}},
		{"kind", `.numeric: true, but artifact`, func(t *testing.T, ex *Export) { ex.Windows[0].Features[feature(ex, "d")].Numeric = true }},
		{"feature not profiled", `.name: "zzz" is not a feature`, func(t *testing.T, ex *Export) { ex.Windows[0].Features[feature(ex, "x")].Name = "zzz" }},
		{"summary bytes", ".summary: drift: summary of", func(t *testing.T, ex *Export) {
			f := &ex.Windows[0].Features[feature(ex, "x")]
			f.Summary = f.Summary[:len(f.Summary)-3]
		}},
		{"point counts", "counts at and between its points add up to", func(t *testing.T, ex *Export) {
			summary(t, ex, feature(ex, "x"), func(s *summaryEdit) { s.below[len(s.below)/2]++ })
		}},
		{"least value", "its least value", func(t *testing.T, ex *Export) {
			summary(t, ex, feature(ex, "x"), func(s *summaryEdit) { *s.min = 3 })
		}},
		{"category counts", "category counts and other values add up to", func(t *testing.T, ex *Export) {
			summary(t, ex, feature(ex, "c"), func(s *summaryEdit) { *s.unknown += 2 })
			ex.Windows[0].Features[feature(ex, "c")].Unseen += 2
		}},
		{"offsets", ".offsets[0].ranges[0]: [5, 2]", func(t *testing.T, ex *Export) {
			ex.Format = ExportFormat
			ex.Windows[0].Offsets = []PartitionRanges{{Source: "kafka:g/t", Partition: 0, Ranges: [][2]int64{{5, 2}}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ex := checkedExport(t)
			tc.edit(t, ex)
			// without a digest, as an export from before digests
			read, err := ReadExport(bytes.NewReader(plainJSON(t, ex)), "e.json")
			if err == nil {
				_, err = MergeExports(a, []*Export{read})
			}
			if !errors.Is(err, ErrInvalidExport) || !strings.Contains(err.Error(), "e.json: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an ErrInvalidExport naming e.json and %q", err, tc.want)
			}
		})
	}
}

// summaryEdit points at fields of a decoded summary a test damages.
type summaryEdit struct {
	below, equal []int64
	min          *float64
	unknown      *int64
}

// TestExportMergeRowsOverflow: windows whose rows add up past the int64
// range are refused by the merge, not wrapped around.
func TestExportMergeRowsOverflow(t *testing.T) {
	a, ex := checkedExport(t)
	w := &ex.Windows[0]
	w.Rows = math.MaxInt64 - 1
	w.Unprofiled = w.Rows - w.Features[0].Rows // consistent: rows no feature counts
	ex.Store = "s1"
	other := *ex
	other.Name, other.Store = "y.json", "s2" // two replicas
	_, err := MergeExports(a, []*Export{ex, &other})
	if !errors.Is(err, ErrInvalidExport) || !strings.Contains(err.Error(), "y.json: windows[0].rows: 9223372036854775806, added to the 9223372036854775806 rows") {
		t.Errorf("got %v, want the second export's rows refused", err)
	}
}
