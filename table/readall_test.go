package table

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// readAllCSV is a CSV of n rows: x = i, y = i/4 (empty every 10th row),
// s = "s<i mod 3>".
func readAllCSV(n int) string {
	var sb strings.Builder
	sb.WriteString("x,y,s\n")
	for i := range n {
		y := ""
		if i%10 != 0 {
			y = strconv.FormatFloat(float64(i)/4, 'g', -1, 64)
		}
		fmt.Fprintf(&sb, "%d,%s,s%d\n", i, y, i%3)
	}
	return sb.String()
}

// checkReadAll checks ReadAll's columns against readAllCSV(n).
func checkReadAll(t *testing.T, cols []Column, rows, n int) {
	t.Helper()
	if rows != n {
		t.Fatalf("got %d rows, want %d", rows, n)
	}
	for i := range n {
		wantY := float64(i) / 4
		if i%10 == 0 {
			wantY = math.NaN()
		}
		if cols[0].Num[i] != float64(i) || math.Float64bits(cols[1].Num[i]) != math.Float64bits(wantY) || cols[2].Str[i] != "s"+strconv.Itoa(i%3) {
			t.Fatalf("row %d: got x=%v y=%v s=%q, want %d, %v, s%d", i, cols[0].Num[i], cols[1].Num[i], cols[2].Str[i], i, wantY, i%3)
		}
	}
}

var readAllFields = []Field{{Name: "x", Kind: Numeric}, {Name: "y", Kind: Numeric}, {Name: "s", Kind: String}}

// TestReadAllDecodesInPlace reads a CSV file in many batches and checks
// the values, that each numeric column was allocated once (sized by the
// reader's estimate) and that every later batch was decoded straight into
// it (the reader's own buffer was never used after the first batch).
func TestReadAllDecodesInPlace(t *testing.T) {
	const n = 20000
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte(readAllCSV(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenCSV(path, CSVOptions{BatchRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Project(readAllFields); err != nil {
		t.Fatal(err)
	}
	allocs := 0
	var starts []*float64 // where each batch's x values lie
	cols, rows, err := ReadAllWith(r, readAllFields, ReadOptions{
		Alloc: func(k int) ([]float64, error) { allocs++; return make([]float64, k), nil },
		Check: func(b *Batch, j int) error {
			if j == 0 {
				starts = append(starts, &b.Cols[0].Num[0])
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReadAll(t, cols, rows, n)
	if allocs != 2 {
		t.Errorf("got %d allocations, want 2 (one per numeric column, no growth)", allocs)
	}
	if len(starts) != n/1000 {
		t.Fatalf("got %d batches, want %d", len(starts), n/1000)
	}
	for k, p := range starts[1:] {
		if p != &cols[0].Num[(k+1)*1000] {
			t.Errorf("batch %d was not decoded into the column's storage", k+1)
		}
	}
}

// noLend hides a reader's Lender method, so ReadAll must copy.
type noLend struct{ Reader }

// TestReadAllGrowsAndCopies reads from a stream (no size: the estimate is
// the first batch) through a reader that does not lend, so columns grow
// and batches are copied; the values must be the same.
func TestReadAllGrowsAndCopies(t *testing.T) {
	const n = 5000
	for _, lend := range []bool{true, false} {
		var r Reader
		cr, err := NewCSVReader(strings.NewReader(readAllCSV(n)), "d.csv", CSVOptions{BatchRows: 300})
		if err != nil {
			t.Fatal(err)
		}
		r = cr
		if !lend {
			r = noLend{cr}
		}
		if err := r.Project(readAllFields); err != nil {
			t.Fatal(err)
		}
		// Every storage a column grows out of must be given to Free, and
		// only those: what is left allocated is the columns' own.
		live := map[*float64]bool{}
		frees := 0
		cols, rows, err := ReadAllWith(r, readAllFields, ReadOptions{
			Alloc: func(k int) ([]float64, error) {
				b := make([]float64, k)
				live[&b[0]] = true
				return b, nil
			},
			Free: func(b []float64) {
				if !live[&b[:1][0]] {
					t.Fatalf("Free of storage that is not allocated or freed twice")
				}
				delete(live, &b[:1][0])
				frees++
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkReadAll(t, cols, rows, n)
		kept := 0
		for j := range cols {
			if cols[j].Kind == Numeric {
				kept++
				if !live[&cols[j].Num[0]] {
					t.Fatalf("column %s's storage was freed", cols[j].Name)
				}
			}
		}
		if len(live) != kept || frees == 0 {
			t.Fatalf("lend=%v: %d storages allocated at the end for %d numeric columns, %d freed (want some: the columns grew)", lend, len(live), kept, frees)
		}
	}
}

// copyKeeper is a StringKeeper that copies each batch into its own
// storage, recording the totals it is given and its error.
type copyKeeper struct {
	totals []int
	err    error
}

func (k *copyKeeper) Keep(col, xs []string, total int) ([]string, error) {
	k.totals = append(k.totals, total)
	if k.err != nil {
		return nil, k.err
	}
	return append(col, slices.Clone(xs)...), nil
}

// TestReadAllStringKeepers reads string columns through ReadOptions.Strings:
// one keeper per String column, given every batch with the estimated
// total, and its error ends the read.
func TestReadAllStringKeepers(t *testing.T) {
	const n = 3000
	open := func() Reader {
		r, err := NewCSVReader(strings.NewReader(readAllCSV(n)), "d.csv", CSVOptions{BatchRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Project(readAllFields); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var keepers []*copyKeeper
	cols, rows, err := ReadAllWith(open(), readAllFields, ReadOptions{Strings: func(string) StringKeeper {
		k := &copyKeeper{}
		keepers = append(keepers, k)
		return k
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkReadAll(t, cols, rows, n)
	if len(keepers) != 1 {
		t.Fatalf("got %d keepers, want 1 (one String column)", len(keepers))
	}
	if got := keepers[0].totals; len(got) != n/100 || got[0] < 100 || slices.Min(got) != slices.Max(got) {
		t.Errorf("keeper given totals %v, want %d equal estimates of at least one batch", got, n/100)
	}
	bad := errors.New("no room")
	_, _, err = ReadAllWith(open(), readAllFields, ReadOptions{Strings: func(string) StringKeeper { return &copyKeeper{err: bad} }})
	if !errors.Is(err, bad) {
		t.Errorf("got %v, want the keeper's error", err)
	}
}

// TestReadAllStops checks that a Check error and a cancelled context end
// the read with that error.
func TestReadAllStops(t *testing.T) {
	bad := errors.New("bad batch")
	open := func() Reader {
		r, err := NewCSVReader(strings.NewReader(readAllCSV(3000)), "d.csv", CSVOptions{BatchRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Project(readAllFields); err != nil {
			t.Fatal(err)
		}
		return r
	}
	calls := 0
	_, _, err := ReadAllWith(open(), readAllFields, ReadOptions{Check: func(_ *Batch, j int) error {
		if j > 0 {
			return nil
		}
		if calls++; calls == 3 {
			return bad
		}
		return nil
	}})
	if !errors.Is(err, bad) {
		t.Errorf("got %v, want the Check error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ReadAllWith(open(), readAllFields, ReadOptions{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestCSVReaderReleasesBuffersAtEnd checks that a CSV reader read to its
// end holds none of its buffers any more (fit keeps the reader open while
// it works on the columns), and that it stays at its end.
func TestCSVReaderReleasesBuffersAtEnd(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader(readAllCSV(3000)), "d.csv", CSVOptions{BatchRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Project(readAllFields); err != nil {
		t.Fatal(err)
	}
	cols, rows, err := ReadAll(r, readAllFields)
	if err != nil {
		t.Fatal(err)
	}
	checkReadAll(t, cols, rows, 3000)
	if r.buf != nil || r.spans != nil || r.batch.Lines != nil {
		t.Fatalf("after the end: text block %d bytes, %d spans, %d lines still held", cap(r.buf), cap(r.spans), cap(r.batch.Lines))
	}
	for j, c := range r.batch.Cols {
		if c.Num != nil || c.Str != nil || c.Null != nil {
			t.Fatalf("after the end: batch column %d still holds its buffers", j)
		}
	}
	if r.Next() || r.Err() != nil {
		t.Fatalf("Next after the end: true or error %v", r.Err())
	}
}

// TestReadAllWorkers reads with the checks and the string keepers on
// several goroutines: the same columns as on one, every column of every
// batch checked once, and of two columns failing the check in one batch,
// the error of the first (then, of a check and a keeper failing, the
// check's), as a serial read gives.
func TestReadAllWorkers(t *testing.T) {
	const n = 50000
	open := func() Reader {
		r, err := NewCSVReader(strings.NewReader(readAllCSV(n)), "d.csv", CSVOptions{BatchRows: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Project(readAllFields); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, workers := range []int{1, 2, 4} {
		var checked [3]atomic.Int64
		cols, rows, err := ReadAllWith(open(), readAllFields, ReadOptions{
			Workers: workers,
			Check:   func(_ *Batch, j int) error { checked[j].Add(1); return nil },
			Strings: func(string) StringKeeper { return &copyKeeper{} },
		})
		if err != nil {
			t.Fatal(err)
		}
		checkReadAll(t, cols, rows, n)
		for j := range checked {
			if got := checked[j].Load(); got != n/5000 {
				t.Errorf("%d workers: column %d checked %d times, want %d", workers, j, got, n/5000)
			}
		}
		first, second := errors.New("column 1"), errors.New("column 2")
		_, _, err = ReadAllWith(open(), readAllFields, ReadOptions{
			Workers: workers,
			Check: func(b *Batch, j int) error {
				switch {
				case b.Start < 20000:
					return nil
				case j == 1:
					return first
				case j == 2:
					return second
				}
				return nil
			},
		})
		if !errors.Is(err, first) {
			t.Errorf("%d workers: got %v, want the first column's error", workers, err)
		}
		_, _, err = ReadAllWith(open(), readAllFields, ReadOptions{
			Workers: workers,
			Check: func(b *Batch, j int) error {
				if b.Start >= 20000 && j == 1 {
					return first
				}
				return nil
			},
			Strings: func(string) StringKeeper { return &copyKeeper{err: second} },
		})
		if !errors.Is(err, second) {
			// The keeper fails on the first batch, before any check does.
			t.Errorf("%d workers: got %v, want the keeper's error", workers, err)
		}
	}
}

// TestInferNumericPandasSyntax checks that a String column is taken for
// numbers only when the readers would parse every value: "4_7.4" and
// "0x1p3", which strconv.ParseFloat reads, are text to pandas and here.
func TestInferNumericPandasSyntax(t *testing.T) {
	tests := []struct {
		values []string
		ok     bool
	}{
		{[]string{"1", " 2.5 ", "-3e2", "inf"}, true},
		{[]string{"1", "4_7.4"}, false},
		{[]string{"1", "0x1p3"}, false},
		{[]string{"1", "NAN"}, false},
	}
	for _, tc := range tests {
		c := Column{Name: "a", Kind: String, Str: tc.values}
		got, ok := InferNumeric(&c)
		if ok != tc.ok {
			t.Errorf("InferNumeric(%q): ok %v, want %v", tc.values, ok, tc.ok)
			continue
		}
		if ok && (len(got.Num) != len(tc.values) || got.Num[1] != 2.5) {
			t.Errorf("InferNumeric(%q): got %v", tc.values, got.Num)
		}
	}
}
