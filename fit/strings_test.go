package fit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/arena"
	"github.com/normguard/normguard/table"
)

// TestStringKeeperInternsOrLeaves reads a category column (50 labels, every
// 13th cell empty) and an identifier column (a distinct value a row, more
// than maxDistinct) through an arena's string keepers, from a stream in
// small batches so that the arena storage grows: the values must be the
// heap read's, the category column must hold only interned values (no
// header in arena storage may point into the Go heap), and the identifier
// column must have left the arena for the heap.
func TestStringKeeperInternsOrLeaves(t *testing.T) {
	const n = maxDistinct + 3000
	var sb strings.Builder
	sb.WriteString("cat,id\n")
	for i := range n {
		cat := fmt.Sprintf("label_%d", i%50)
		if i%13 == 0 {
			cat = ""
		}
		fmt.Fprintf(&sb, "%s,id-%d\n", cat, i)
	}
	fields := []table.Field{{Name: "cat", Kind: table.String}, {Name: "id", Kind: table.String}}
	read := func(opt table.ReadOptions) []table.Column {
		t.Helper()
		r, err := table.NewCSVReader(strings.NewReader(sb.String()), "d.csv", table.CSVOptions{BatchRows: 97})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Project(fields); err != nil {
			t.Fatal(err)
		}
		cols, rows, err := table.ReadAllWith(r, fields, opt)
		if err != nil || rows != n {
			t.Fatalf("read %d rows, %v; want %d", rows, err, n)
		}
		return cols
	}
	want := read(table.ReadOptions{})
	s := NewArena()
	defer s.Close()
	var keepers []*stringKeeper
	newKeeper := s.stringKeeper("test.csv")
	got := read(table.ReadOptions{Strings: func(column string) table.StringKeeper {
		k := newKeeper(column)
		keepers = append(keepers, k.(*stringKeeper))
		return k
	}})
	for j := range want {
		for i := range n {
			if got[j].Str[i] != want[j].Str[i] || (got[j].Null != nil && got[j].Null[i]) != (want[j].Null != nil && want[j].Null[i]) {
				t.Fatalf("%s row %d: got %q, want %q", want[j].Name, i, got[j].Str[i], want[j].Str[i])
			}
		}
	}
	if keepers[0].heap || !keepers[1].heap {
		t.Errorf("on the heap: cat %v, id %v; want false, true", keepers[0].heap, keepers[1].heap)
	}
	if s.mem.Mapped() == 0 {
		t.Skip("no arena mappings on this system: string columns stay on the heap")
	}
	if s.mem.Mapped() < 16*n {
		t.Errorf("arena maps %d bytes, want the cat column's %d", s.mem.Mapped(), 16*n)
	}
	for i, v := range got[0].Str {
		if !arena.Interned(v) {
			t.Fatalf("cat row %d (%q) in arena storage is not interned", i, v)
		}
	}
}
