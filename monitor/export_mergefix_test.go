package monitor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
)

// manyWindows returns the one window of checkedExport copied to n
// consecutive hours before it (as attack run 8's make.py builds a large
// export from a real one: every window valid), without a digest.
func manyWindows(t *testing.T, n int) *Export {
	t.Helper()
	_, ex := checkedExport(t)
	if len(ex.Windows) != 1 {
		t.Fatalf("checkedExport has %d windows, want 1", len(ex.Windows))
	}
	w := ex.Windows[0]
	length := w.End.Sub(w.Start)
	out := &Export{Format: ex.Format, Bins: ex.Bins}
	for i := 0; i < n; i++ {
		c := w
		c.Start = w.Start.Add(-time.Duration(i) * length)
		c.End = c.Start.Add(length)
		out.Windows = append(out.Windows, c)
	}
	return out
}

// TestMergeManyWindowsMemory (attack run 8 F3): monitor merge of an export
// of many windows took about 300 KB of memory a window (20,000 windows ran
// out of memory): every window made its own summary plans (the merge kept
// each window's decoded summaries, which hold their plan), and the
// judgement made them again. Plans are made once per artifact and stage
// now and windows are merged one at a time: reading (with a digest),
// checking, merging and judging 2,000 windows allocates a bounded amount
// a window, each merged window is the window merged alone, and each
// window's verdict is the one window's.
func TestMergeManyWindowsMemory(t *testing.T) {
	a := testArtifact(t)
	const n = 2000
	big := manyWindows(t, n)
	b, err := json.Marshal(big) // with its digest, which ReadExport checks
	if err != nil {
		t.Fatal(err)
	}
	one := &Export{Format: big.Format, Bins: big.Bins, Windows: big.Windows[:1]}
	mergedOne, err := MergeExports(a, []*Export{one})
	if err != nil {
		t.Fatal(err)
	}
	tlOne, err := mergedOne.Judge(a, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantReport, err := json.Marshal(tlOne.Windows[0].Report)
	if err != nil {
		t.Fatal(err)
	}

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	ex, err := ReadExport(bytes.NewReader(b), "big.json")
	if err != nil {
		t.Fatal(err)
	}
	merged, err := MergeExports(a, []*Export{ex})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := merged.JudgeTimeline([]*artifact.Artifact{a}, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	perWindow := (m1.TotalAlloc - m0.TotalAlloc) / n
	t.Logf("read, check, merge and judge: %d bytes allocated a window (export %d bytes, %d a window)", perWindow, len(b), len(b)/n)
	// Measured: 210 KB a window (most of it summaries decoded and
	// dropped as it goes: each is checked, merged and judged); 650 KB
	// before (the plans made for every window, which the merge held
	// until its end, and every summary's counts decoded twice).
	if perWindow > 320<<10 {
		t.Errorf("%d bytes allocated a window, want at most %d (the summary plans made once, not per window)", perWindow, 320<<10)
	}

	if len(merged.Windows) != n || len(tl.Windows) != n {
		t.Fatalf("%d merged windows and %d judged, want %d", len(merged.Windows), len(tl.Windows), n)
	}
	for i, w := range merged.Windows {
		if !reflect.DeepEqual(w.Features, mergedOne.Windows[0].Features) || w.Rows != mergedOne.Windows[0].Rows {
			t.Fatalf("merged window %d (%s) differs from the window merged alone", i, w.Start)
		}
		got, err := json.Marshal(tl.Windows[i].Report)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantReport) {
			t.Fatalf("window %d judged %s, the window alone %s", i, got, wantReport)
		}
	}
	// Ordered by start: the oldest copy first.
	if !merged.Windows[0].Start.Equal(big.Windows[n-1].Start) {
		t.Errorf("first merged window starts %s, want %s", merged.Windows[0].Start, big.Windows[n-1].Start)
	}

	// Two replicas holding every other window, and one holding a window
	// of the other's too (merged with it): the same windows and counts.
	even, odd := &Export{Format: big.Format, Bins: big.Bins, Store: "s1"}, &Export{Format: big.Format, Bins: big.Bins, Store: "s2"}
	for i, w := range big.Windows {
		if i%2 == 0 {
			even.Windows = append(even.Windows, w)
		} else {
			odd.Windows = append(odd.Windows, w)
		}
	}
	odd.Windows = append(odd.Windows, big.Windows[0])
	m2, err := MergeExports(a, []*Export{even, odd})
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Windows) != n {
		t.Fatalf("%d windows merged from two replicas, want %d", len(m2.Windows), n)
	}
	last := m2.Windows[n-1] // big.Windows[0], in both replicas
	if last.Rows != 2*big.Windows[0].Rows || last.Features[0].Rows != 2*big.Windows[0].Features[0].Rows {
		t.Errorf("window in both replicas: %d rows (feature %d), want %d (%d)", last.Rows, last.Features[0].Rows, 2*big.Windows[0].Rows, 2*big.Windows[0].Features[0].Rows)
	}
	pl, err := stagePlans(a, StageInput, big.Bins)
	if err != nil {
		t.Fatal(err)
	}
	for j, f := range last.Features {
		s, err := pl[f.Name].UnmarshalSummary(f.Summary)
		if err != nil {
			t.Fatal(err)
		}
		alone, err := pl[f.Name].UnmarshalSummary(big.Windows[0].Features[j].Summary)
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows != 2*alone.Rows || s.Moments.N != 2*alone.Moments.N {
			t.Errorf("feature %q of the window in both replicas: summary of %d rows (%d values), want %d (%d)", f.Name, s.Rows, s.Moments.N, 2*alone.Rows, 2*alone.Moments.N)
		}
	}
}

// oldDigest is the digest as it was computed before it was streamed: the
// SHA-256 of json.Marshal of the export without its digest.
func oldDigest(t *testing.T, p exportPlain, roundTrip bool) string {
	t.Helper()
	p.Digest = ""
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if roundTrip {
		var back exportPlain
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if b, err = json.Marshal(back); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// streamCases are exports whose encoding the streamed digest, WriteJSON
// and decodeExport must treat as encoding/json does whole.
func streamCases(t *testing.T) map[string]*Export {
	_, ex := checkedExport(t)
	w := ex.Windows[0]
	odd := w
	odd.Model = "m<&>\u2028\xff" // escaped, and not UTF-8 (changed by a round trip)
	odd.Start = w.Start.In(time.FixedZone("X", 3600))
	odd.End = w.End.In(time.FixedZone("X", 3600))
	odd.Offsets = []PartitionRanges{{Source: "kafka:g/t", Partition: 3, Ranges: [][2]int64{{0, 9}, {20, 29}}}}
	later := w
	later.Start, later.End = w.End, w.End.Add(w.End.Sub(w.Start))
	return map[string]*Export{
		"one window":  ex,
		"no windows":  {Format: 1, Bins: 10, Windows: []ExportWindow{}},
		"nil windows": {Format: 1, Bins: 10},
		"everything": {Format: 2, Bins: 7, Windows: []ExportWindow{odd, later}, Store: "st\"ore", Instance: "i</script>",
			Skipped: []SkippedWindow{{Model: "m", Stage: StageInput, Start: w.Start, End: w.End, Rows: 3, Reason: "r"}}},
	}
}

// TestExportStreamedEncodings (attack run 8 F3): the digest is hashed
// window by window, WriteJSON writes window by window and ReadExport
// decodes window by window, without holding an export's encoding whole;
// each gives the bytes, digest and value encoding/json gives on the
// whole export.
func TestExportStreamedEncodings(t *testing.T) {
	for name, ex := range streamCases(t) {
		p := exportPlain(*ex)
		for _, rt := range []bool{false, true} {
			got, err := hashExport(p, rt)
			if err != nil {
				t.Fatal(err)
			}
			if want := oldDigest(t, p, rt); got != want {
				t.Errorf("%s: digest (round trip %v) %s, encoding/json on the whole export gives %s", name, rt, got, want)
			}
		}
		want, err := json.MarshalIndent(ex, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		var got bytes.Buffer
		if err := ex.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: WriteJSON wrote\n%s\njson.MarshalIndent\n%s", name, got.Bytes(), want)
		}
		// What is written reads back (its digest matches).
		if _, err := ReadExport(bytes.NewReader(got.Bytes()), name); err != nil {
			t.Errorf("%s: written export does not read back: %v", name, err)
		}
	}
}

// TestDecodeExportAsEncodingJSON: decodeExport decodes what
// json.Decoder.Decode decodes from the same bytes, for keys in another
// case, keys given twice, other keys, null and error answers.
func TestDecodeExportAsEncodingJSON(t *testing.T) {
	_, ex := checkedExport(t)
	wb, err := json.Marshal(ex.Windows[0])
	if err != nil {
		t.Fatal(err)
	}
	win := string(wb)
	inputs := []string{
		`{"format":1,"bins":10,"windows":[` + win + `,` + win + `]}`,
		` 	
 {"FORMAT":2,"Bins":10,"WINDOWS":[` + win + `],"digest":"sha256:00","store":"s","instance":"i"} trailing`,
		`{"format":1,"format":2,"bins":10,"windows":[],"windows":[` + win + `]}`,
		`{"format":1,"other":{"a":[1,2,{"b":null}]},"windows":null,"skipped":[{"model":"m","rows":4}]}`,
		`{"windows":[` + win + `],"windows":null}`,
		`{"error":{"code":"x","message":"down"}}`,
		`{}`,
		`null`,
	}
	for _, in := range inputs {
		var want exportAnswer
		werr := json.NewDecoder(strings.NewReader(in)).Decode(&want)
		got, gerr := decodeExport(strings.NewReader(in))
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%.60s: error %v, encoding/json %v", in, gerr, werr)
			continue
		}
		if werr != nil {
			continue
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%.60s: decoded %+v, encoding/json %+v", in, *got, want)
		}
	}
	// Not an object, or not JSON: refused, as encoding/json refuses it.
	for _, in := range []string{``, `   `, `[1]`, `5`, `"x"`, `date,delay`, `{"format":1,"windows":{}}`, `{"format":1,"windows":[1]}`, `{"format":"1"}`, `{"format":1,`, `{"format":1,"windows":[` + win} {
		var want exportAnswer
		werr := json.NewDecoder(strings.NewReader(in)).Decode(&want)
		_, gerr := decodeExport(strings.NewReader(in))
		if werr == nil || gerr == nil {
			t.Errorf("%.60s: error %v, encoding/json %v; want both to refuse it", in, gerr, werr)
		}
	}
}
