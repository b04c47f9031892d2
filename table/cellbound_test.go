package table

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeatReader yields n copies of the byte c, then EOF, without holding
// them: a cell of hundreds of megabytes costs the test nothing.
type repeatReader struct {
	c byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), r.n))
	for i := range k {
		p[i] = r.c
	}
	r.n -= int64(k)
	return k, nil
}

// longCellInput is head, then n bytes of 'A', then tail.
func longCellInput(head string, n int64, tail string) io.Reader {
	return io.MultiReader(strings.NewReader(head), &repeatReader{c: 'A', n: n}, strings.NewReader(tail))
}

// readLong reads src with r's reader (CSV or JSONL by jsonl) and returns
// the error, the rows read and the bytes allocated meanwhile.
func readLong(t *testing.T, src io.Reader, jsonl bool, fields []Field) (error, int, uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var r Reader
	var err error
	if jsonl {
		r, err = NewJSONLReader(src, "data.jsonl", JSONLOptions{})
	} else {
		r, err = NewCSVReader(src, "data.csv", CSVOptions{})
	}
	rows := 0
	if err == nil {
		if fields != nil {
			err = r.Project(fields)
		}
		for err == nil && r.Next() {
			rows += r.Batch().Rows
		}
		if err == nil {
			err = r.Err()
		}
	}
	runtime.ReadMemStats(&after)
	return err, rows, after.TotalAlloc - before.TotalAlloc
}

// TestLongCellRefused checks that a cell over MaxCellBytes is refused
// with an error naming the file, the line and the column, whether the row
// ends (the cell is read whole, just past the bound) or not (a 512 MiB
// cell: the error comes while it is read, with a few tens of megabytes
// allocated; it took 8 times the cell before, issue 12 F1).
func TestLongCellRefused(t *testing.T) {
	const big = 512 << 20
	ab := []Field{{"a", Numeric}, {"b", String}}
	tests := []struct {
		name   string
		src    func() io.Reader
		jsonl  bool
		fields []Field
		want   string // the error's start
	}{
		{"csv unquoted, no line end", func() io.Reader { return longCellInput("a,b\n1,x\n2,", big, "") }, false, ab,
			`data.csv:3: column "b": cell too long: more than 16777216 bytes`},
		{"csv unquoted, just past the bound", func() io.Reader { return longCellInput("a,b\n1,x\n2,", MaxCellBytes+1, "\n3,y\n") }, false, ab,
			`data.csv:3: column "b": cell too long`},
		{"csv numeric column", func() io.Reader { return longCellInput("a,b\n1,x\n", MaxCellBytes+1, ",y\n") }, false, ab,
			`data.csv:3: column "a": cell too long`},
		{"csv quoted with line ends", func() io.Reader {
			return longCellInput("a,b\n1,x\n2,\"q\n\"\"\n", big, "\"\n")
		}, false, ab, `data.csv:3: column "b": cell too long`},
		{"csv quoted, just past the bound", func() io.Reader {
			return longCellInput("a,b\n1,\"x\ny\"\n2,\"", MaxCellBytes-1, "\"\n")
		}, false, ab, `data.csv:4: column "b": cell too long`},
		{"csv unbalanced quote", func() io.Reader { return longCellInput("a,b\n1,\"x\n", big, "") }, false, ab,
			`data.csv:2: column "b": cell too long`},
		{"csv unprojected column", func() io.Reader { return longCellInput("a,b,c\n1,x,", big, "\n") }, false, ab,
			`data.csv:2: column "c": cell too long`},
		{"csv header", func() io.Reader { return longCellInput("a,", big, "\n") }, false, nil,
			`data.csv:1: cell too long: field 2 holds more than 16777216 bytes`},
		{"jsonl string", func() io.Reader { return longCellInput(`{"a":1,"b":"x"}`+"\n"+`{"a":2,"b":"`, big, `"}`+"\n") }, true, ab,
			`data.jsonl:2: column "b": cell too long: the value holds more than 16777216 bytes`},
		{"jsonl string, just past the bound", func() io.Reader {
			return longCellInput(`{"a":1,"b":"x"}`+"\n"+`{"b":"`, MaxCellBytes-1, `","a":2}`+"\n")
		}, true, ab, `data.jsonl:2: column "b": cell too long`},
		{"jsonl array", func() io.Reader {
			return longCellInput(`{"a":1,"v":[1,2]}`+"\n"+`{"a":2,"v":[`, big, `]}`+"\n")
		}, true, []Field{{"a", Numeric}, {"v", Vector}}, `data.jsonl:2: column "v": cell too long: the value holds more than 16777216 bytes`},
		{"jsonl key", func() io.Reader { return longCellInput(`{"a":1,"`, big, `":2}`+"\n") }, true, nil,
			`data.jsonl:1: cell too long: a key holds more than 16777216 bytes`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err, _, alloc := readLong(t, tc.src(), tc.jsonl, tc.fields)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one starting %q", err, tc.want)
			}
			if !errors.Is(err, ErrCellTooLong) {
				t.Errorf("the error does not wrap ErrCellTooLong")
			}
			if len(err.Error()) > 400 {
				t.Errorf("the error is %d bytes long", len(err.Error()))
			}
			if alloc > 160<<20 {
				t.Errorf("reading allocated %d MB", alloc>>20)
			}
		})
	}
}

// TestLongCellsWithinBound checks that cells up to MaxCellBytes are read,
// and that a row longer than the bound made of shorter cells is not
// refused (the bound is on a cell, not a row).
func TestLongCellsWithinBound(t *testing.T) {
	six := strings.Repeat("B", 6<<20)
	exact := strings.Repeat("C", MaxCellBytes)
	var sb strings.Builder
	sb.WriteString("a,b,c\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "%d,x,y\n", i)
	}
	sb.WriteString("1," + six + "," + six + "\n")
	sb.WriteString("2,\"" + exact[2:] + "\",z\n")
	sb.WriteString("3," + exact + ",z\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "%d,x,y\n", i)
	}
	err, rows, _ := readLong(t, strings.NewReader(sb.String()), false, []Field{{"a", Numeric}, {"b", String}, {"c", String}})
	if err != nil || rows != 2003 {
		t.Fatalf("got %d rows, error %v; want 2003 rows", rows, err)
	}
	jl := `{"a":1,"b":"x"}` + "\n" + `{"a":2,"b":"` + exact[2:] + `"}` + "\n" + `{"b":"` + six + `","a":3}` + "\n"
	err, rows, _ = readLong(t, strings.NewReader(jl), true, []Field{{"a", Numeric}, {"b", String}})
	if err != nil || rows != 3 {
		t.Fatalf("jsonl: got %d rows, error %v; want 3 rows", rows, err)
	}
}

// TestLongRowTooManyFields checks that a long row with more fields than
// the header is refused while it is read (a 60 MB line of empty cells took
// 1.2 GB before), as is a JSON Lines object with more keys than the first.
func TestLongRowTooManyFields(t *testing.T) {
	commas := func(n int) io.Reader { return &repeatReader{c: ',', n: int64(n)} }
	keys := func(n int) io.Reader {
		return io.MultiReader(strings.NewReader(`{"a":1}`+"\n{"), strings.NewReader(strings.Repeat(`"a":1,`, n)))
	}
	tests := []struct {
		name  string
		src   io.Reader
		jsonl bool
		want  string
	}{
		{"csv, no line end", io.MultiReader(strings.NewReader("a,b\n1,2\n"), commas(256<<20)), false,
			"data.csv:3: csv syntax error: row has more fields than the header's 2"},
		{"csv, whole row", io.MultiReader(strings.NewReader("a,b\n1,2\n"), commas(MaxCellBytes+1), strings.NewReader("\n")), false,
			"data.csv:3: csv syntax error: row has more fields than the header's 2"},
		{"jsonl", keys(6 << 20), true, "data.jsonl:2: jsonl syntax error: the object has more keys than the first row's 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err, _, alloc := readLong(t, tc.src, tc.jsonl, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one starting %q", err, tc.want)
			}
			if alloc > 160<<20 {
				t.Errorf("reading allocated %d MB", alloc>>20)
			}
		})
	}
}
