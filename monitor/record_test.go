package monitor

import (
	"bytes"
	"reflect"
	"testing"
)

// seedBytes returns a real log entry and window state.
func seedBytes(t testing.TB) (entry, state []byte) {
	t.Helper()
	a := testArtifact(t)
	ref, err := newReference(a)
	if err != nil {
		t.Fatal(err)
	}
	rs := &ref.stages[0]
	rec, _ := encodeRecord(nil, rs, countRows(), 5)
	// The second record was read from a partitioned log: it carries its
	// offset ranges.
	read := appendRanges(bytes.Clone(rec), seedRanges)
	entry = encodeEntry(7, [][]featureDesc{rs.descs()}, []entryRecord{{0, rec}, {0, read}})
	w := newWindow("m", StageInput, 0, 3600e9, 4)
	var scratch []float64
	for _, r := range [][]byte{rec, read, rec} {
		if err := w.apply(rs.descs(), r, &scratch); err != nil {
			t.Fatal(err)
		}
	}
	state, err = w.encode()
	if err != nil {
		t.Fatal(err)
	}
	return entry, state
}

// seedRanges are the offset ranges of seedBytes' second record.
var seedRanges = []OffsetRange{{"kafka:g/t", 2, 5, 20}, {"kafka:g/t", 0, 0, 9}, {"kafka:g/t", 0, 10, 10}}

func TestEncodingRoundTrip(t *testing.T) {
	entry, state := seedBytes(t)
	var seqs []uint64
	w := newWindow("m", StageInput, 0, 3600e9, 4)
	var scratch []float64
	err := decodeEntry(entry, func(seq uint64, feats []featureDesc, rec []byte) error {
		seqs = append(seqs, seq)
		return w.apply(feats, rec, &scratch)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 2 || seqs[0] != 7 || seqs[1] != 8 {
		t.Errorf("sequence numbers: got %v, want [7 8]", seqs)
	}
	if last, _ := entryLastSeq(entry); last != 8 {
		t.Errorf("last seq: got %d, want 8", last)
	}
	if w.rows != 10 || w.byName["x"].missing != 2 || w.byName["c"].unseen != 4 {
		t.Errorf("decoded rows %d, x missing %d, c unseen %d; want 10, 2, 4", w.rows, w.byName["x"].missing, w.byName["c"].unseen)
	}
	wantRanges := []PartitionRanges{{Source: "kafka:g/t", Partition: 0, Ranges: [][2]int64{{0, 10}}}, {Source: "kafka:g/t", Partition: 2, Ranges: [][2]int64{{5, 20}}}}
	if !reflect.DeepEqual(w.offsets, wantRanges) {
		t.Errorf("decoded offset ranges %+v, want %+v", w.offsets, wantRanges)
	}
	w2, err := decodeWindow("m", StageInput, state)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w2.offsets, wantRanges) {
		t.Errorf("window state offset ranges %+v, want %+v", w2.offsets, wantRanges)
	}
	again, err := w2.encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, state) {
		t.Error("window state: decode then encode changed the bytes")
	}
	// Truncations are errors, never panics.
	for i := 0; i < len(state); i++ {
		if _, err := decodeWindow("m", StageInput, state[:i]); err == nil {
			t.Fatalf("window state cut at %d of %d bytes: got no error", i, len(state))
		}
	}
}

// FuzzDecode checks that corrupt log entries and window states give errors,
// never panics or unbounded allocations.
func FuzzDecode(f *testing.F) {
	entry, state := seedBytes(f)
	f.Add(entry)
	f.Add(state)
	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWindow("m", StageInput, 0, 3600e9, 4)
		var scratch []float64
		decodeEntry(data, func(seq uint64, feats []featureDesc, rec []byte) error {
			return w.apply(feats, rec, &scratch)
		})
		decodeWindow("m", StageInput, data)
	})
}
