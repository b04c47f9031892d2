package fit

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// TestArenaFitSameAsHeap fits every scikit-learn parity case with its
// columns and sort copies on the Go heap and in an arena (NewArena): the
// artifacts must be byte for byte the same and the transformed training
// data bit for bit. The arena's artifact is encoded again after the arena
// is unmapped, so any fitted value still pointing into a column would
// fault here instead of reaching a user's artifact.
func TestArenaFitSameAsHeap(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/peer-vectors/transform/*")
	if len(dirs) == 0 {
		t.Fatal("no parity cases")
	}
	fitted := 0
	for _, d := range dirs {
		sp, err := spec.ParseFile(filepath.Join(d, "spec.json"))
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(d, "train.csv"))
		if err != nil {
			t.Fatal(err)
		}
		fitOnce := func(spill *Spill) (*artifact.Artifact, *table.Batch, error) {
			r, err := table.NewCSVReader(strings.NewReader(string(data)), "train.csv", table.CSVOptions{BatchRows: 7})
			if err != nil {
				t.Fatal(err)
			}
			return FitTransform(context.Background(), sp, r, Options{Workers: 2, Spill: spill})
		}
		ha, hb, herr := fitOnce(nil)
		ar := NewArena()
		aa, ab, aerr := fitOnce(ar)
		if (herr == nil) != (aerr == nil) {
			t.Fatalf("%s: heap fit error %v, arena fit error %v", d, herr, aerr)
		}
		if herr != nil {
			ar.Close()
			continue
		}
		fitted++
		for j := range hb.Cols {
			h, a := &hb.Cols[j], &ab.Cols[j]
			for i := range h.Num {
				if math.Float64bits(h.Num[i]) != math.Float64bits(a.Num[i]) {
					t.Fatalf("%s: column %s row %d: heap %v, arena %v", d, h.Name, i, h.Num[i], a.Num[i])
				}
			}
		}
		want, err := artifact.Encode(ha)
		if err != nil {
			t.Fatal(err)
		}
		if err := ar.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := artifact.Encode(aa)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the arena's artifact differs from the heap's", d)
		}
	}
	if fitted == 0 {
		t.Fatal("no parity case could be fitted")
	}
	t.Logf("%d of %d cases fitted, artifacts identical", fitted, len(dirs))
}

// TestArenaLendsSortCopies checks that an arena's scratch buffers are
// reused: a second Get after a Put of the same size returns the same
// storage, and a larger request gets new storage.
func TestArenaLendsSortCopies(t *testing.T) {
	s := NewArena()
	defer s.Close()
	b := s.sortBuffers()
	if b == nil {
		t.Fatal("an arena lends no sort buffers")
	}
	x := b.Get(1000)
	if len(x) != 0 || cap(x) < 1000 {
		t.Fatalf("Get(1000): len %d cap %d", len(x), cap(x))
	}
	x = append(x, 1, 2, 3)
	b.Put(x)
	y := b.Get(900)
	if &y[:1][0] != &x[0] {
		t.Fatal("Get after Put did not reuse the buffer")
	}
	z := b.Get(5000)
	if cap(z) < 5000 {
		t.Fatalf("Get(5000): cap %d", cap(z))
	}
	if NewSpill(t.TempDir()).sortBuffers() != nil || (*Spill)(nil).sortBuffers() != nil {
		t.Fatal("file spills and the heap should lend no sort buffers")
	}
}
