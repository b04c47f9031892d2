package monitor

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/normguard/normguard/table"
)

func windowRowsOf(t *testing.T, m *Monitor, model string) int64 {
	t.Helper()
	_, w, err := m.Drift(model, StageInput)
	if err != nil {
		t.Fatal(err)
	}
	return w.Rows
}

func offsetsOf(t *testing.T, m *Monitor, source string) map[int32]int64 {
	t.Helper()
	got, err := m.Offsets(source)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestObserveAtKeepsOffsetsWithRows commits two models' rows with the
// offsets that cover them; after a reopen both are there, each source's
// offsets apart.
func TestObserveAtKeepsOffsetsWithRows(t *testing.T) {
	a := testArtifact(t)
	c := newClock(t0)
	path := filepath.Join(t.TempDir(), "monitor.db")
	m := openTest(t, path, testOptions(c))
	batches := []Batch{
		{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(1, 30, trainMean), N: 30},
		{Model: "m2", Artifact: a, Stage: StageInput, Cols: normalRows(2, 12, trainMean), N: 12},
	}
	offs := []Offset{{Source: "kafka:g/t", Partition: 0, Next: 17}, {Source: "kafka:g/t", Partition: 2, Next: 25}, {Source: "other", Partition: 0, Next: 3}}
	refused, err := m.ObserveAt(context.Background(), batches, offs)
	if err != nil || refused[0] != nil || refused[1] != nil {
		t.Fatalf("ObserveAt: %v %v", refused, err)
	}
	// A later position of a partition replaces the earlier one.
	if _, err := m.ObserveAt(context.Background(), nil, []Offset{{Source: "kafka:g/t", Partition: 0, Next: 40}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openTest(t, path, testOptions(c))
	if got, want := offsetsOf(t, m, "kafka:g/t"), map[int32]int64{0: 40, 2: 25}; !maps.Equal(got, want) {
		t.Errorf("offsets of kafka:g/t: got %v, want %v", got, want)
	}
	if got, want := offsetsOf(t, m, "other"), map[int32]int64{0: 3}; !maps.Equal(got, want) {
		t.Errorf("offsets of other: got %v, want %v", got, want)
	}
	if got := offsetsOf(t, m, "kafka:g/none"); len(got) != 0 {
		t.Errorf("offsets of a source never observed: got %v, want none", got)
	}
	if n := windowRowsOf(t, m, "m"); n != 30 {
		t.Errorf("model m holds %d rows, want 30", n)
	}
	if n := windowRowsOf(t, m, "m2"); n != 12 {
		t.Errorf("model m2 holds %d rows, want 12", n)
	}
}

// TestObserveAtRefusedBatch leaves out a batch the monitor refuses and
// still commits the others and the offsets: a consumer moves past rows it
// cannot use.
func TestObserveAtRefusedBatch(t *testing.T) {
	a := testArtifact(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	wrongKind := []table.Column{{Name: "x", Kind: table.String, Str: []string{"1", "2"}}}
	batches := []Batch{
		{Model: "m", Artifact: a, Stage: StageInput, Cols: wrongKind, N: 2},
		{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(3, 5, trainMean), N: 5},
		{Model: "", Artifact: a, Stage: StageInput, Cols: normalRows(3, 5, trainMean), N: 5},
		{Model: "m", Artifact: a, Stage: StageInput, N: 0},
	}
	refused, err := m.ObserveAt(context.Background(), batches, []Offset{{Source: "s", Partition: 1, Next: 9}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true, false} {
		if got := refused[i] != nil; got != want || (got && !errors.Is(refused[i], ErrInvalid)) {
			t.Errorf("batch %d: refused %v, want refused %v wrapping ErrInvalid", i, refused[i], want)
		}
	}
	if n := windowRowsOf(t, m, "m"); n != 5 {
		t.Errorf("model m holds %d rows, want 5", n)
	}
	if got := offsetsOf(t, m, "s"); !maps.Equal(got, map[int32]int64{1: 9}) {
		t.Errorf("offsets: got %v, want partition 1 at 9", got)
	}
}

// TestObserveAtRefusesBadOffsets refuses offsets it could not key or that
// point nowhere, committing nothing.
func TestObserveAtRefusesBadOffsets(t *testing.T) {
	a := testArtifact(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	batch := []Batch{{Model: "m", Artifact: a, Stage: StageInput, Cols: normalRows(4, 5, trainMean), N: 5}}
	for _, o := range []Offset{{Source: "", Next: 1}, {Source: "a\x00b", Next: 1}, {Source: "s", Next: -1}, {Source: "s", Partition: -1}} {
		if _, err := m.ObserveAt(context.Background(), batch, []Offset{o}); !errors.Is(err, ErrInvalid) {
			t.Errorf("offset %+v: got %v, want an error wrapping ErrInvalid", o, err)
		}
	}
	if _, _, err := m.Drift("m", StageInput); !errors.Is(err, ErrNoObservations) {
		t.Errorf("rows were committed with refused offsets: %v", err)
	}
}

// TestOffsetsDamaged refuses to guess a damaged offset.
func TestOffsetsDamaged(t *testing.T) {
	m := openTest(t, "", testOptions(newClock(t0)))
	if _, err := m.ObserveAt(context.Background(), nil, []Offset{{Source: "s", Partition: 0, Next: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := m.db.Update(func(tx *bolt.Tx) error { return damageOffset(tx, "s", 0) }); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Offsets("s"); !errors.Is(err, ErrDamaged) {
		t.Errorf("a damaged offset: got %v, want an error wrapping ErrDamaged", err)
	}
}

// TestObserveAtClosed answers ErrClosed once the monitor is closed.
func TestObserveAtClosed(t *testing.T) {
	m := openTest(t, "", testOptions(newClock(t0)))
	m.Close()
	if _, err := m.ObserveAt(context.Background(), nil, []Offset{{Source: "s", Next: 1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}
