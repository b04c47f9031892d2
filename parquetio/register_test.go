package parquetio

import (
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/table"
)

// TestRegisteredWithTable writes and reads back a .parquet table through
// table.Create and table.Open, which reach this package's writer and
// reader only through the registration in init.
func TestRegisteredWithTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	fields := []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "s", Kind: table.String}}
	w, err := table.Create(path, fields)
	if err != nil {
		t.Fatalf("table.Create: %v", err)
	}
	if _, ok := w.(*Writer); !ok {
		t.Fatalf("table.Create gave a %T, want *parquetio.Writer", w)
	}
	b := &table.Batch{Rows: 2, Cols: []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{4, math.NaN()}},
		{Name: "s", Kind: table.String, Str: []string{"a,b", ""}, Null: []bool{false, true}},
	}}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := table.Open(path)
	if err != nil {
		t.Fatalf("table.Open: %v", err)
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		t.Fatal(err)
	}
	if !r.Next() {
		t.Fatalf("no rows back (err %v)", r.Err())
	}
	got := r.Batch()
	if got.Rows != 2 || got.Cols[0].Num[0] != 4 || !math.IsNaN(got.Cols[0].Num[1]) ||
		got.Cols[1].Str[0] != "a,b" || !got.Cols[1].IsMissing(1) {
		t.Errorf("got %+v back, want x = [4 NaN], s = [a,b <missing>]", got.Cols)
	}
	if rc, ok := r.(table.RowCounter); !ok || rc.NumRows() != 2 {
		t.Errorf("got RowCounter %v, want one counting 2 rows", ok)
	}
}

// TestTableDoesNotImportParquet checks that the core table package no
// longer depends on parquet-go: only this package does.
func TestTableDoesNotImportParquet(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/normguard/normguard/table").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if strings.Contains(string(out), "parquet-go") {
		t.Errorf("table depends on parquet-go:\n%s", out)
	}
}
