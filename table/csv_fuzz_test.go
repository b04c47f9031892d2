package table

import (
	"bytes"
	"reflect"
	"testing"
)

// readAllStrings reads every column of data as String with the given
// delimiter, buffer size and batch size.
func readAllStrings(data []byte, delim byte, bufSize, batchRows int) (header []string, cols []Column, err error) {
	r, err := newCSVReader(bytes.NewReader(data), "fuzz.csv", CSVOptions{BatchRows: batchRows, Delimiter: delim}, bufSize)
	if err != nil {
		return nil, nil, err
	}
	header = r.Header()
	cols = make([]Column, len(header))
	for i, h := range header {
		cols[i] = Column{Name: h, Kind: String}
	}
	for r.Next() {
		b := r.Batch()
		for i := range b.Cols {
			for j := 0; j < b.Rows; j++ {
				cols[i].Str = append(cols[i].Str, b.Cols[i].Str[j])
				cols[i].Null = append(cols[i].Null, b.Cols[i].IsMissing(j))
			}
		}
	}
	return header, cols, r.Err()
}

// FuzzCSVReader checks that the reader never panics, that its result does
// not depend on buffer or batch size, and that writing what it read with
// CSVWriter and reading that again gives the same header and cells. Each
// input is read with commas and with a second delimiter (tab, semicolon or
// pipe, chosen by its length).
func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n"))
	f.Add([]byte("a\tb\n1\t\"x\ty\"\n\t\n"))
	f.Add([]byte("a;b\n1;2\n"))
	f.Add([]byte("a,b\n4_7.4,0x1p3\n1.e3,-Infinity\n\"NAN\",.5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCSVDialect(t, data, ',')
		checkCSVDialect(t, data, "\t;|"[len(data)%3])
	})
}

// checkCSVDialect is FuzzCSVReader's check for one delimiter.
func checkCSVDialect(t *testing.T, data []byte, delim byte) {
	t.Helper()
	{
		header, cols, err := readAllStrings(data, delim, 1<<16, 0)
		h2, cols2, err2 := readAllStrings(data, delim, 4+len(data)%13, 1+len(data)%5)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("buffer size changes the error: %v vs %v", err, err2)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(header, h2) || !reflect.DeepEqual(cols, cols2) {
			t.Fatalf("buffer size changes the result: %q %+v vs %q %+v", header, cols, h2, cols2)
		}

		fields := make([]Field, len(header))
		for i, h := range header {
			fields[i] = Field{Name: h, Kind: String}
		}
		var out bytes.Buffer
		w := NewCSVWriterDelimited(&out, fields, delim)
		b := &Batch{Cols: cols}
		if len(cols) > 0 {
			b.Rows = len(cols[0].Str)
		}
		if err := w.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		header3, cols3, err := readAllStrings(out.Bytes(), delim, 1<<16, 0)
		if err != nil {
			t.Fatalf("reading the re-encoded %q: %v", out.String(), err)
		}
		if !reflect.DeepEqual(header3, header) {
			t.Fatalf("re-encoded header: got %q, want %q (text %q)", header3, header, out.String())
		}
		if !reflect.DeepEqual(cols3, cols) {
			t.Fatalf("re-encoded cells: got %+v, want %+v (text %q)", cols3, cols, out.String())
		}
	}
}
