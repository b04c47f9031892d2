package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/table"
)

// TestPartitionRangesAdd: ranges that overlap or touch are joined, others
// kept apart in order; past MaxOffsetRanges the closest two are joined
// and the partition is marked coarse.
func TestPartitionRangesAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  [][2]int64
		want [][2]int64
	}{
		{"one", [][2]int64{{5, 9}}, [][2]int64{{5, 9}}},
		{"touching after", [][2]int64{{0, 9}, {10, 19}}, [][2]int64{{0, 19}}},
		{"touching before", [][2]int64{{10, 19}, {0, 9}}, [][2]int64{{0, 19}}},
		{"gap", [][2]int64{{0, 9}, {11, 19}}, [][2]int64{{0, 9}, {11, 19}}},
		{"between", [][2]int64{{0, 5}, {20, 25}, {10, 12}}, [][2]int64{{0, 5}, {10, 12}, {20, 25}}},
		{"bridging", [][2]int64{{0, 5}, {10, 15}, {20, 25}, {3, 22}}, [][2]int64{{0, 25}}},
		{"inside", [][2]int64{{0, 50}, {10, 20}}, [][2]int64{{0, 50}}},
		{"filling a gap", [][2]int64{{0, 5}, {10, 15}, {6, 9}}, [][2]int64{{0, 15}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var list []PartitionRanges
			for _, r := range tc.add {
				list = addRange(list, "s", 1, r[0], r[1])
			}
			if len(list) != 1 || !reflect.DeepEqual(list[0].Ranges, tc.want) || list[0].Coarse {
				t.Errorf("got %+v, want ranges %v, not coarse", list, tc.want)
			}
		})
	}

	// Every other offset: MaxOffsetRanges separate ranges, then the next
	// joins the closest pair (the first of equal gaps).
	var list []PartitionRanges
	for i := int64(0); i < MaxOffsetRanges; i++ {
		list = addRange(list, "s", 0, 3*i, 3*i)
	}
	if list[0].Coarse || len(list[0].Ranges) != MaxOffsetRanges {
		t.Fatalf("%d ranges, coarse %v; want %d, not coarse", len(list[0].Ranges), list[0].Coarse, MaxOffsetRanges)
	}
	list = addRange(list, "s", 0, 1000, 1000)
	got := list[0].Ranges
	if !list[0].Coarse || len(got) != MaxOffsetRanges || got[0] != [2]int64{0, 3} || got[len(got)-1] != [2]int64{1000, 1000} {
		t.Errorf("past the cap: coarse %v, %d ranges, first %v, last %v; want coarse, %d, [0 3], [1000 1000]",
			list[0].Coarse, len(got), got[0], got[len(got)-1], MaxOffsetRanges)
	}

	// Sources and partitions are kept apart, in order.
	list = nil
	for _, k := range []struct {
		s string
		p int32
	}{{"b", 0}, {"a", 2}, {"a", 0}, {"b", 0}} {
		list = addRange(list, k.s, k.p, 0, 0)
	}
	var keys []string
	for _, p := range list {
		keys = append(keys, fmt.Sprintf("%s/%d", p.Source, p.Partition))
	}
	if strings.Join(keys, " ") != "a/0 a/2 b/0" {
		t.Errorf("partitions %v, want a/0 a/2 b/0", keys)
	}
}

// observeRead commits n rows of model read from the given ranges of
// kafka:g/t, with the offsets past them.
func observeRead(t *testing.T, m *Monitor, model string, cols []table.Column, n int, read ...OffsetRange) {
	t.Helper()
	var offs []Offset
	for i := range read {
		read[i].Source = "kafka:g/t"
		offs = append(offs, Offset{Source: read[i].Source, Partition: read[i].Partition, Next: read[i].Last + 1})
	}
	refused, err := m.ObserveAt(context.Background(), []Batch{{Model: model, Artifact: testArtifact(t), Stage: StageInput, Cols: cols, N: n, Read: read}}, offs)
	if err != nil || refused[0] != nil {
		t.Fatalf("ObserveAt: %v %v", refused, err)
	}
}

// offsetsJSON is the offsets of an export's windows, as JSON.
func offsetsJSON(t *testing.T, ex *Export) string {
	t.Helper()
	var out []string
	for _, w := range ex.Windows {
		b, err := json.Marshal(w.Offsets)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return strings.Join(out, " ")
}

// TestRangesKeptWithWindow: the ranges of the records a window's rows
// were read from are in its export, joined when they touch; they survive
// a restart whether the window comes back from the log (a crash before a
// checkpoint) or from a checkpoint, and stay with the window's history
// entry once it closes.
func TestRangesKeptWithWindow(t *testing.T) {
	c := newClock(t0)
	opt := testOptions(c)
	path := filepath.Join(t.TempDir(), "m.db")
	m := openTest(t, path, opt)
	observeRead(t, m, "m", normalRows(1, 20, trainMean), 20, OffsetRange{Partition: 0, First: 0, Last: 9}, OffsetRange{Partition: 1, First: 0, Last: 9})
	observeRead(t, m, "m", normalRows(2, 20, trainMean), 20, OffsetRange{Partition: 0, First: 10, Last: 19}, OffsetRange{Partition: 1, First: 15, Last: 24})
	const want = `[{"source":"kafka:g/t","partition":0,"ranges":[[0,19]]},{"source":"kafka:g/t","partition":1,"ranges":[[0,9],[15,24]]}]`
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	if got := offsetsJSON(t, ex); got != want || ex.Format != ExportFormat {
		t.Fatalf("export offsets %s format %d, want %s format %d", got, ex.Format, want, ExportFormat)
	}

	// A crash: no final commit nor checkpoint; the log brings them back.
	m.abandon = true
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openTest(t, path, opt)
	if ex, err = m.Export("m"); err != nil || offsetsJSON(t, ex) != want {
		t.Fatalf("after a crash: %s %v, want %s", offsetsJSON(t, ex), err, want)
	}
	// A clean stop checkpoints; the checkpoint brings them back.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openTest(t, path, opt)
	if ex, err = m.Export("m"); err != nil || offsetsJSON(t, ex) != want {
		t.Fatalf("after a restart: %s %v, want %s", offsetsJSON(t, ex), err, want)
	}
	// The window closes: its history entry keeps them.
	c.Set(t0.Add(time.Hour))
	observeRead(t, m, "m", normalRows(3, 5, trainMean), 5, OffsetRange{Partition: 0, First: 20, Last: 24})
	evaluate(t, m)
	if ex, err = m.ExportHistory("m"); err != nil {
		t.Fatal(err)
	}
	want2 := want + ` [{"source":"kafka:g/t","partition":0,"ranges":[[20,24]]}]`
	if got := offsetsJSON(t, ex); got != want2 {
		t.Errorf("history export offsets %s, want %s", got, want2)
	}
}

// TestObserveAtRefusesBadRanges: a batch whose ranges cannot be stored is
// refused (ErrInvalid), the others committed.
func TestObserveAtRefusesBadRanges(t *testing.T) {
	m := openTest(t, "", testOptions(newClock(t0)))
	a := testArtifact(t)
	bad := []OffsetRange{
		{Source: "", Partition: 0, First: 0, Last: 1},
		{Source: "s\x00", Partition: 0, First: 0, Last: 1},
		{Source: "s", Partition: -1, First: 0, Last: 1},
		{Source: "s", Partition: 0, First: 5, Last: 4},
		{Source: "s", Partition: 0, First: -1, Last: 4},
	}
	batches := []Batch{{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(1, 3, trainMean), N: 3}}
	for _, r := range bad {
		batches = append(batches, Batch{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(1, 3, trainMean), N: 3, Read: []OffsetRange{r}})
	}
	refused, err := m.ObserveAt(context.Background(), batches, nil)
	if err != nil || refused[0] != nil {
		t.Fatalf("ObserveAt: %v %v", refused, err)
	}
	for i, r := range bad {
		if !errors.Is(refused[i+1], ErrInvalid) {
			t.Errorf("range %+v: got %v, want ErrInvalid", r, refused[i+1])
		}
	}
	if got := windowRowsOf(t, m, "m"); got != 3 {
		t.Errorf("window rows %d, want the good batch's 3", got)
	}
}

// replicaExport is the export of a fresh monitor fed one batch read from
// ranges.
func replicaExport(t *testing.T, seed uint64, read ...OffsetRange) *Export {
	t.Helper()
	m := openTest(t, "", testOptions(newClock(t0)))
	observeRead(t, m, "m", normalRows(seed, 10, trainMean), 10, read...)
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestMergeRefusesOverlappingOffsets: two replicas' windows that read the
// same records of a partition are refused, naming the source, partition,
// the offsets both read and the two exports; disjoint ranges merge into
// their union, and the merged export merges again; an export read from a
// file is named by it.
func TestMergeRefusesOverlappingOffsets(t *testing.T) {
	a := testArtifact(t)
	exA := replicaExport(t, 1, OffsetRange{Partition: 0, First: 0, Last: 99}, OffsetRange{Partition: 1, First: 0, Last: 9})
	exB := replicaExport(t, 2, OffsetRange{Partition: 1, First: 10, Last: 19}, OffsetRange{Partition: 0, First: 60, Last: 149})
	_, err := MergeExports(a, []*Export{exA, exB})
	var oe *OverlapError
	if !errors.As(err, &oe) || !errors.Is(err, ErrOverlap) {
		t.Fatalf("got %v, want an *OverlapError", err)
	}
	want := OverlapError{Source: "kafka:g/t", Partition: 0, First: 60, Last: 99, Exports: [2]string{"export 1", "export 2"},
		Windows: [2]time.Time{t0.Truncate(time.Hour), t0.Truncate(time.Hour)}}
	if !reflect.DeepEqual(*oe, want) {
		t.Errorf("got %+v, want %+v", *oe, want)
	}
	for _, s := range []string{"offsets 60-99 of partition 0 of kafka:g/t were read by both export 1", "counted twice", "--kafka-instance-id",
		"the topic was deleted and created again between the two windows' reads"} { // a recreation too (attack run 19 F4)
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}

	// Named by their files when read from them; the order of the exports
	// does not matter.
	read := func(ex *Export, name string) *Export {
		b, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ReadExport(bytes.NewReader(b), name)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	_, err = MergeExports(a, []*Export{read(exB, "b.json"), read(exA, "a.json")})
	if !errors.As(err, &oe) || oe.First != 60 || oe.Last != 99 || oe.Exports != [2]string{"a.json", "b.json"} {
		t.Errorf("files: got %v, want offsets 60-99 of a.json and b.json", err)
	}

	// Disjoint: the union, in one window; merged again with a third.
	exB = replicaExport(t, 2, OffsetRange{Partition: 1, First: 10, Last: 19}, OffsetRange{Partition: 0, First: 100, Last: 149})
	merged, err := MergeExports(a, []*Export{exA, exB})
	if err != nil {
		t.Fatal(err)
	}
	const union = `[{"source":"kafka:g/t","partition":0,"ranges":[[0,149]]},{"source":"kafka:g/t","partition":1,"ranges":[[0,19]]}]`
	if got := offsetsJSON(t, merged); got != union || merged.Format != ExportFormat {
		t.Errorf("merged offsets %s format %d, want %s format %d", got, merged.Format, union, ExportFormat)
	}
	exC := replicaExport(t, 3, OffsetRange{Partition: 1, First: 19, Last: 30})
	if _, err := MergeExports(a, []*Export{merged, exC}); !errors.As(err, &oe) || oe.Partition != 1 || oe.First != 19 || oe.Last != 19 {
		t.Errorf("merged with an overlapping third: got %v, want offset 19-19 of partition 1", err)
	}
	// The same export twice counts its records twice.
	if _, err := MergeExports(a, []*Export{exA, exA}); !errors.As(err, &oe) || oe.First != 0 || oe.Last != 99 {
		t.Errorf("an export merged with itself: got %v, want offsets 0-99 of partition 0", err)
	}
}

// TestOneReplicaNeverOverlapsItself: with event time, one poll's rows
// fall in several windows, each keeping the poll's range; one replica's
// export (and its history) merges, as does a store without offsets
// (format 1).
func TestOneReplicaNeverOverlapsItself(t *testing.T) {
	a := testArtifact(t)
	opt := testOptions(newClock(t0))
	opt.Window, opt.TimeColumn = 24*time.Hour, "ts"
	m := openTest(t, "", opt)
	cols := normalRows(1, 4, trainMean)
	cols = append(cols, table.Column{Name: "ts", Kind: table.String, Str: []string{"2023-05-01 10:00:00", "2023-05-02 10:00:00", "2023-05-01 11:00:00", "2023-05-02 12:00:00"}})
	observeRead(t, m, "m", cols, 4, OffsetRange{Partition: 0, First: 0, Last: 3})
	ex, err := m.ExportHistory("m")
	if err != nil {
		t.Fatal(err)
	}
	const one = `[{"source":"kafka:g/t","partition":0,"ranges":[[0,3]]}]`
	if len(ex.Windows) != 2 || offsetsJSON(t, ex) != one+" "+one {
		t.Fatalf("windows %d, offsets %s; want 2 windows each with [0,3]", len(ex.Windows), offsetsJSON(t, ex))
	}
	if _, err := MergeExports(a, []*Export{ex}); err != nil {
		t.Errorf("one replica's windows: %v", err)
	}

	plain := openTest(t, "", testOptions(newClock(t0)))
	observe(t, plain, "m", a, StageInput, normalRows(1, 5, trainMean), 5)
	ex, err = plain.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Format != 1 || strings.Contains(string(b), "offsets") {
		t.Errorf("an export without offsets is format %d: %s; want format 1 without offsets", ex.Format, b)
	}
}

// TestRecoverKeepsOffsets: a state whose stored position of a partition
// is damaged is refused at Open; Recover keeps every position that
// verifies and sets the damaged one past the last offset the rows kept
// were read from, so that the consumer reads none of them again, and
// says so in its report. The windows keep their ranges.
func TestRecoverKeepsOffsets(t *testing.T) {
	opt := testOptions(newClock(t0))
	path := filepath.Join(t.TempDir(), "m.db")
	m := openTest(t, path, opt)
	observeRead(t, m, "m", normalRows(1, 20, trainMean), 20, OffsetRange{Partition: 0, First: 0, Last: 9}, OffsetRange{Partition: 1, First: 0, Last: 9})
	observeRead(t, m, "m", normalRows(2, 20, trainMean), 20, OffsetRange{Partition: 0, First: 10, Last: 39}, OffsetRange{Partition: 1, First: 10, Last: 29})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	damageStoredOffset(t, path, "kafka:g/t", 1)
	if _, err := Open(path, opt); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of a damaged offset: %v, want ErrDamaged", err)
	}
	rep, err := Recover(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	wantOffs := []RecoveredOffset{{Source: "kafka:g/t", Partition: 0, Next: 40, From: "kept"}, {Source: "kafka:g/t", Partition: 1, Next: 30, From: "ranges"}}
	if !reflect.DeepEqual(rep.Offsets, wantOffs) || rep.Kept["offsets"] != 1 || rep.Lost["offsets"] != 1 {
		t.Errorf("report offsets %+v, kept %v, lost %v; want %+v, 1 kept and 1 lost", rep.Offsets, rep.Kept, rep.Lost, wantOffs)
	}
	if s := rep.String(); !strings.Contains(s, "kafka:g/t partition 1 resumes at offset 30 (ranges)") {
		t.Errorf("report:\n%s\nlacks the restored offset", s)
	}
	m = openTest(t, path, opt)
	if got := offsetsOf(t, m, "kafka:g/t"); !reflect.DeepEqual(got, map[int32]int64{0: 40, 1: 30}) {
		t.Errorf("offsets after the recovery %v, want 0:40 1:30", got)
	}
	ex, err := m.Export("m")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsJSON(t, ex), `[{"source":"kafka:g/t","partition":0,"ranges":[[0,39]]},{"source":"kafka:g/t","partition":1,"ranges":[[0,29]]}]`; got != want {
		t.Errorf("ranges after the recovery %s, want %s", got, want)
	}
}

// damageOffset flips a bit of the position stored for source's partition
// p.
func damageOffset(tx *bolt.Tx, source string, p int32) error {
	b := tx.Bucket(bucketOffsets)
	key := offsetKey(source, p)
	v := append([]byte(nil), b.Get(key)...)
	v[len(v)-1] ^= 1
	return b.Put(key, v)
}

// damageStoredOffset damages the position stored for source's partition
// p in the closed state at path.
func damageStoredOffset(t *testing.T, path, source string, p int32) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return damageOffset(tx, source, p) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMergeRefusesOneTopicTwoGroups (attack run 23 F1b): two replicas
// given different consumer groups each read every partition of the
// topic, and their windows were merged (by /drift with --peers and
// `monitor merge`) with every record counted twice: ranges were compared
// per group. They are compared per topic: the overlap is refused naming
// both groups and what to do; disjoint ranges of two groups, and the
// same offsets of another topic, still merge.
func TestMergeRefusesOneTopicTwoGroups(t *testing.T) {
	a := testArtifact(t)
	export := func(seed uint64, source string, first, last int64) *Export {
		t.Helper()
		m := openTest(t, "", testOptions(newClock(t0)))
		read := []OffsetRange{{Source: source, Partition: 0, First: first, Last: last}}
		refused, err := m.ObserveAt(context.Background(), []Batch{{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(seed, 10, trainMean), N: 10, Read: read}},
			[]Offset{{Source: source, Partition: 0, Next: last + 1}})
		if err != nil || refused[0] != nil {
			t.Fatalf("ObserveAt: %v %v", refused, err)
		}
		ex, err := m.Export("m")
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}
	exA := export(1, "kafka:gA/t", 0, 8)
	_, err := MergeExports(a, []*Export{exA, export(2, "kafka:gB/t", 0, 8)})
	var oe *OverlapError
	if !errors.As(err, &oe) || !errors.Is(err, ErrOverlap) {
		t.Fatalf("one topic read under groups gA and gB: got %v, want an *OverlapError", err)
	}
	if oe.Source != "kafka:gA/t" || oe.OtherSource != "kafka:gB/t" || oe.Partition != 0 || oe.First != 0 || oe.Last != 8 {
		t.Errorf("got %+v, want offsets 0-8 of partition 0 of kafka:gA/t and kafka:gB/t", *oe)
	}
	for _, s := range []string{"offsets 0-8 of partition 0 of topic t were read by both export 1", "as kafka:gA/t", "as kafka:gB/t", "counted twice",
		`two consumer groups, "gA" and "gB"`, "Give the replicas one --kafka-group"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
	for name, ex := range map[string]*Export{"disjoint offsets of another group": export(2, "kafka:gB/t", 9, 17), "another topic": export(2, "kafka:gB/u", 0, 8)} {
		if _, err := MergeExports(a, []*Export{exA, ex}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for src, want := range map[string]string{"kafka:g/t": "kafka:t", "kafka:a/b/t": "kafka:t", "kafka:t": "kafka:t", "file:x/y": "file:x/y"} {
		if got := Stream(src); got != want {
			t.Errorf("Stream(%q) = %q, want %q", src, got, want)
		}
	}
}
