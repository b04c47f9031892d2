package parquetio

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/normguard/normguard/table"
)

type listRow32 struct {
	ID  int64     `parquet:"id"`
	Emb []float32 `parquet:"emb,list,optional"`
}

type repeatedRow64 struct {
	ID  int64     `parquet:"id"`
	Emb []float64 `parquet:"emb"`
}

// vec returns row i's vector: dim values k + i/8 (exact in float32).
func vec(i, dim int) []float64 {
	out := make([]float64, dim)
	for k := range out {
		out[k] = float64(k) + float64(i)/8
	}
	return out
}

func writeRows[T any](t *testing.T, rows []T, groupRows int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.MaxRowsPerRowGroup(int64(groupRows)), parquet.PageBufferSize(256))
	for lo := 0; lo < len(rows); lo += 7 {
		if _, err := w.Write(rows[lo:min(lo+7, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readVectorFile(t *testing.T, data []byte, batch int) (ids []float64, rows [][]float64, dtype string, err error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), "v.parquet", Options{BatchRows: batch})
	if err != nil {
		return nil, nil, "", err
	}
	if h := strings.Join(r.Header(), ","); h != "id,emb" {
		t.Fatalf("got header %q, want id,emb", h)
	}
	if err := r.Project([]table.Field{{Name: "emb", Kind: table.Vector}, {Name: "id", Kind: table.Numeric}}); err != nil {
		return nil, nil, "", err
	}
	for r.Next() {
		b := r.Batch()
		e, id := &b.Cols[0], &b.Cols[1]
		dtype = e.DType
		for i := 0; i < b.Rows; i++ {
			ids = append(ids, id.Num[i])
			if e.IsMissing(i) {
				rows = append(rows, nil)
				continue
			}
			rows = append(rows, append([]float64(nil), e.Row(i)...))
		}
	}
	return ids, rows, dtype, r.Err()
}

func TestParquetVectors(t *testing.T) {
	const n, dim = 50, 5
	var list []listRow32
	var rep []repeatedRow64
	want := make([][]float64, n)
	for i := range n {
		v := vec(i, dim)
		r32 := listRow32{ID: int64(i)}
		r64 := repeatedRow64{ID: int64(i)}
		if i%9 != 0 { // rows 0, 9, 18, ... have no vector
			want[i] = v
			for _, x := range v {
				r32.Emb = append(r32.Emb, float32(x))
			}
			r64.Emb = v
		}
		list, rep = append(list, r32), append(rep, r64)
	}
	files := map[string][]byte{
		"list float32":     writeRows(t, list, 16),
		"repeated float64": writeRows(t, rep, 1000),
	}
	dtypes := map[string]string{"list float32": table.DTypeFloat32, "repeated float64": table.DTypeFloat64}
	for name, data := range files {
		for _, batch := range []int{1, 4, 9, 100} {
			ids, rows, dtype, err := readVectorFile(t, data, batch)
			if err != nil {
				t.Fatalf("%s batch %d: %v", name, batch, err)
			}
			if len(rows) != n || dtype != dtypes[name] {
				t.Fatalf("%s batch %d: got %d rows dtype %q, want %d %q", name, batch, len(rows), dtype, n, dtypes[name])
			}
			for i := range n {
				if ids[i] != float64(i) {
					t.Fatalf("%s batch %d: row %d id %v", name, batch, i, ids[i])
				}
				if (want[i] == nil) != (rows[i] == nil) {
					t.Fatalf("%s batch %d: row %d: got %v, want %v", name, batch, i, rows[i], want[i])
				}
				for k := range want[i] {
					if rows[i][k] != want[i][k] {
						t.Fatalf("%s batch %d: row %d value %d: got %v, want %v", name, batch, i, k, rows[i][k], want[i][k])
					}
				}
			}
		}
	}
}

func TestParquetVectorErrors(t *testing.T) {
	rows := []repeatedRow64{{ID: 1, Emb: []float64{1, 2, 3}}, {ID: 2, Emb: []float64{1, 2}}}
	_, _, _, err := readVectorFile(t, writeRows(t, rows, 10), 10)
	var de *table.DimensionError
	if !errors.As(err, &de) || de.Line != 2 || de.Got != 2 || de.Want != 3 {
		t.Fatalf("got %v, want a DimensionError at row 2 with 2 vs 3", err)
	}
	data := writeRows(t, rows[:1], 10)
	r, _ := NewReader(bytes.NewReader(data), int64(len(data)), "v.parquet", Options{})
	err = r.Project([]table.Field{{Name: "emb", Kind: table.Numeric}})
	if table.VectorColumn(err) != "emb" || !strings.Contains(err.Error(), "declare it `type: vector`") {
		t.Fatalf("numeric projection of a list: got %v", err)
	}
}
