package table

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func readVectors(t *testing.T, text string, batch int) (Column, error) {
	t.Helper()
	r, err := NewJSONLReader(strings.NewReader(text), "v.jsonl", JSONLOptions{BatchRows: batch})
	if err != nil {
		return Column{}, err
	}
	if err := r.Project([]Field{{Name: "id", Kind: Numeric}, {Name: "emb", Kind: Vector}}); err != nil {
		return Column{}, err
	}
	all := Column{Name: "emb", Kind: Vector}
	var rows [][]float64
	for r.Next() {
		c := r.Batch().Col("emb")
		if c.Dim == 0 && len(c.Vec) != 0 {
			t.Fatalf("a batch with dimension 0 holds %d values", len(c.Vec))
		}
		all.Dim = c.Dim
		for i := 0; i < r.Batch().Rows; i++ {
			all.Null = append(all.Null, c.IsMissing(i))
			if c.Dim == 0 {
				rows = append(rows, nil) // all missing, dimension not yet known
				continue
			}
			rows = append(rows, append([]float64(nil), c.Row(i)...))
		}
	}
	for _, row := range rows {
		if row == nil {
			row = make([]float64, all.Dim)
			for k := range row {
				row[k] = math.NaN()
			}
		}
		all.Vec = append(all.Vec, row...)
	}
	return all, r.Err()
}

func TestJSONLVectors(t *testing.T) {
	text := `{"id": 1, "emb": null}
{"id": 2, "emb": [0.5, -1e-3, "2", null]}
{"id": 3}
{"id": 4, "emb": [ 1 , 2 ,3,4 ]}
`
	for _, batch := range []int{1, 2, 3, 100} {
		c, err := readVectors(t, text, batch)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if c.Dim != 4 {
			t.Fatalf("batch %d: got dim %d, want 4", batch, c.Dim)
		}
		wantNull := []bool{true, false, true, false}
		for i, w := range wantNull {
			if c.Null[i] != w {
				t.Errorf("batch %d: row %d: got missing %v, want %v", batch, i, c.Null[i], w)
			}
		}
		got := c.Vec[4:8]
		want := []float64{0.5, -1e-3, 2, math.NaN()}
		for k := range want {
			if got[k] != want[k] && !(math.IsNaN(got[k]) && math.IsNaN(want[k])) {
				t.Errorf("batch %d: element %d: got %v, want %v", batch, k, got[k], want[k])
			}
		}
		if c.Vec[12] != 1 || c.Vec[15] != 4 || !math.IsNaN(c.Vec[0]) {
			t.Errorf("batch %d: got %v", batch, c.Vec)
		}
	}
}

func TestJSONLVectorErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"dimension change", `{"id":1,"emb":[1,2,3]}` + "\n" + `{"id":2,"emb":[1,2]}` + "\n",
			`v.jsonl: line 2: column "emb": vector has 2 values, but the column's first vector (line 1) has 3`},
		{"nested", `{"id":1,"emb":[[1],[2]]}` + "\n", `a vector element is '['`},
		{"scalar", `{"id":1,"emb":[1]}` + "\n" + `{"id":2,"emb":3}` + "\n", `a vector column holds a number, not an array`},
		{"word", `{"id":1,"emb":["x"]}` + "\n", `cannot parse "x" as a number`},
		{"empty", `{"id":1,"emb":[]}` + "\n", `the vector is empty`},
		{"unterminated", `{"id":1,"emb":[1,2`, `expected ',' or ']'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readVectors(t, tc.text, 10)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	_, err := readVectors(t, `{"id":1,"emb":[1,2,3]}`+"\n"+`{"id":2,"emb":[1,2]}`+"\n", 1)
	var de *DimensionError
	if !errors.As(err, &de) || de.Got != 2 || de.Want != 3 || de.Line != 2 {
		t.Fatalf("got %#v, want a DimensionError at line 2 with 2 vs 3", err)
	}
}

// FuzzJSONLVectors reads arbitrary lines with every column projected as a
// vector: an error or consistent batches, never a panic.
func FuzzJSONLVectors(f *testing.F) {
	f.Add("{\"emb\": [1, 2.5e3, null, \"4\"]}\n{\"emb\": null}\n{}\n")
	f.Add("{\"emb\": [[1]]}\n")
	f.Add("{\"emb\": [1,2]}\n{\"emb\": [1]}\n")
	f.Add("{\"emb\": [ ]}\n{\"emb\": [-0.0, 1e400]}\n")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := NewJSONLReader(strings.NewReader(text), "f.jsonl", JSONLOptions{BatchRows: 2})
		if err != nil {
			return
		}
		var fields []Field
		for _, h := range r.Header() {
			fields = append(fields, Field{Name: h, Kind: Vector})
		}
		if err := r.Project(fields); err != nil {
			return
		}
		for r.Next() {
			b := r.Batch()
			for _, c := range b.Cols {
				if len(c.Vec) != b.Rows*c.Dim || c.Null != nil && len(c.Null) != b.Rows {
					t.Fatalf("batch of %d rows: %d values of dimension %d, %d null flags", b.Rows, len(c.Vec), c.Dim, len(c.Null))
				}
			}
		}
	})
}
