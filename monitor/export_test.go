package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
)

// TestReplicasMergeExactly feeds batches to two replicas (alternating)
// and all of them to a third monitor: the merged exports of the two hold
// the third's summaries byte for byte and counts, and judge to the same
// drift report as the third's /drift, which equals drift.CompareProfile
// on all the rows.
func TestReplicasMergeExactly(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	ma, mb, all := openTest(t, "", testOptions(c)), openTest(t, "", testOptions(c)), openTest(t, "", testOptions(c))
	var rows []table.Column
	for i := 0; i < 12; i++ {
		cols := normalRows(uint64(i+1), 37+i, trainMean+0.4)
		if i%3 == 0 {
			for r := 0; r < 12; r++ {
				cols[2].Str[r] = []string{"zz-new", "zz-other"}[r%2] // values the encoder never saw
				cols[0].Num[r] = 1e6 + float64(r)                    // out of range
			}
		}
		n := cols[0].Len()
		replica := ma
		if i%2 == 1 {
			replica = mb
		}
		observe(t, replica, "m", a, StageInput, cols, n)
		observe(t, all, "m", a, StageInput, cols, n)
		if rows == nil {
			rows = make([]table.Column, len(cols))
			for k := range cols {
				rows[k] = table.Column{Name: cols[k].Name, Kind: cols[k].Kind}
			}
		}
		for k := range cols {
			rows[k].Num = append(rows[k].Num, cols[k].Num...)
			rows[k].Str = append(rows[k].Str, cols[k].Str...)
		}
	}
	exports := make([]*Export, 3)
	for i, m := range []*Monitor{ma, mb, all} {
		ex, err := m.Export("m")
		if err != nil {
			t.Fatal(err)
		}
		// through JSON, as the command and the peers endpoint move it
		b, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		if exports[i], err = ReadExport(bytes.NewReader(b), "export"); err != nil {
			t.Fatal(err)
		}
	}
	for _, order := range [][]*Export{{exports[0], exports[1]}, {exports[1], exports[0]}} {
		merged, err := MergeExports(a, order)
		if err != nil {
			t.Fatal(err)
		}
		want := exports[2]
		if len(merged.Windows) != 1 || len(want.Windows) != 1 {
			t.Fatalf("got %d merged windows and %d of one monitor, want 1 and 1", len(merged.Windows), len(want.Windows))
		}
		gw, ww := merged.Windows[0], want.Windows[0]
		if gw.Rows != ww.Rows || !gw.Start.Equal(ww.Start) || len(gw.Features) != len(ww.Features) {
			t.Fatalf("merged window %v rows %d features %d, want %v rows %d features %d", gw.Start, gw.Rows, len(gw.Features), ww.Start, ww.Rows, len(ww.Features))
		}
		for i := range gw.Features {
			g, w := gw.Features[i], ww.Features[i]
			if g.Name != w.Name || g.Rows != w.Rows || g.Missing != w.Missing || g.OutOfRange != w.OutOfRange || g.Unseen != w.Unseen {
				t.Errorf("feature %s: merged counts %+v, want %+v", w.Name, g, w)
			}
			if !bytes.Equal(g.Summary, w.Summary) {
				t.Errorf("feature %s: merged summary differs from the one monitor's", w.Name)
			}
		}
		tl, err := merged.Judge(a, drift.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, win, err := all.Drift("m", StageInput)
		if err != nil {
			t.Fatal(err)
		}
		// The merged window's anomalies are the one monitor's.
		an, err := merged.Windows[0].Anomalies(a, merged.Bins)
		if err != nil {
			t.Fatal(err)
		}
		ga, _ := json.Marshal(an)
		wa, _ := json.Marshal(win.Anomalies)
		if !bytes.Equal(ga, wa) {
			t.Errorf("merged replicas' anomalies\n%s\none monitor's\n%s", ga, wa)
		}
		if !bytes.Contains(wa, []byte(`"zz-new"`)) || !bytes.Contains(wa, []byte(`"out_of_range"`)) {
			t.Errorf("anomalies %s: want the unseen value zz-new and out_of_range", wa)
		}
		local, err := drift.CompareProfile(a.Profile.Inputs, rows, drift.Options{})
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(tl.Windows[0].Report)
		wj, _ := json.Marshal(rep)
		lj, _ := json.Marshal(local)
		if !bytes.Equal(gj, wj) {
			t.Errorf("merged replicas judge\n%s\none monitor\n%s", gj, wj)
		}
		if !bytes.Equal(wj, lj) {
			t.Errorf("one monitor judges\n%s\nCompareProfile on the rows\n%s", wj, lj)
		}
	}
}

// TestReadExportErrors: what is not an export is refused with a message
// saying what the file holds instead.
func TestReadExportErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`date,delay`, "is not a window-state export (normguard monitor export"},
		{`{}`, `no "format"`},
		{`{"error":{"code":"unauthorized","message":"missing or wrong token"}}`, "holds a service's error, not a window-state export: missing or wrong token"},
		{`{"format":3,"windows":[]}`, "export format 3, this normguard reads 1 to 2"},
		{`{"format":1,"windows":[{"model":"m","offsets":[{"source":"kafka:g/t","partition":0,"ranges":[[0,9]]}]}]}`, "format 1 but carries offsets"},
	} {
		_, err := ReadExport(bytes.NewReader([]byte(tc.in)), "x.json")
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// TestExportHistoryAcrossArtifacts: a store's export covers its closed
// windows, each with the digest of the artifact it was judged with; merging
// it needs every such artifact (the message names the one missing), and
// with them each window is judged against its own.
func TestExportHistoryAcrossArtifacts(t *testing.T) {
	a := testArtifact(t)
	b := *a // the same profile under another digest, as a refit would be
	b.Digest = "sha256:" + strings.Repeat("b", 64)
	c := newClock(t0)
	opt := testOptions(c)
	opt.Window, opt.TimeColumn = 24*time.Hour, "ts"
	m := openTest(t, "", opt)
	day := func(d int) []string { return []string{fmt.Sprintf("2023-05-%02d 10:00:00", d)} }
	for d, art := range []*artifact.Artifact{a, a, &b} {
		cols := normalRows(uint64(d+1), 1, trainMean)
		cols = append(cols, table.Column{Name: "ts", Kind: table.String, Str: day(d + 1)})
		observe(t, m, "m", art, StageInput, cols, 1)
		evaluate(t, m) // May 1 closes judged with a, May 2 with b
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openTest(t, m.path, opt)
	ex, err := m.ExportHistory("m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ex.Windows {
		got = append(got, w.Start.Format(time.DateOnly)+" "+w.ArtifactDigest[:8])
	}
	if want := "2023-05-01 sha256:d 2023-05-02 sha256:b 2023-05-03 sha256:b"; strings.Join(got, " ") != strings.Replace(want, "sha256:d", a.Digest[:8], 1) {
		t.Fatalf("export windows %v, want %s", got, want)
	}
	if _, err := MergeExports(a, []*Export{ex}); err == nil || !strings.Contains(err.Error(), b.Digest) || !strings.Contains(err.Error(), "pass that artifact too") {
		t.Errorf("merge with one artifact: %v; want an error naming %s", err, b.Digest)
	}
	merged, err := MergeExportsOf([]*artifact.Artifact{a, &b}, []*Export{ex})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := merged.JudgeOf([]*artifact.Artifact{a, &b}, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Windows) != 3 || tl.ArtifactDigest != "" || tl.Windows[0].ArtifactDigest != a.Digest || tl.Windows[2].ArtifactDigest != b.Digest {
		t.Errorf("timeline: %d windows, digest %q, windows' %q and %q", len(tl.Windows), tl.ArtifactDigest, tl.Windows[0].ArtifactDigest, tl.Windows[2].ArtifactDigest)
	}
}
