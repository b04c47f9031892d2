package validate

import (
	"errors"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// Data is a data set read for validation.
type Data struct {
	// Path names the source in messages.
	Path string
	// Header lists every column of the source, in file order.
	Header []string
	// Cols holds the artifact's input columns that the source has:
	// categorical ones as text, numeric ones as numbers, or as text when
	// some value is not a number (so that Check can count them).
	Cols []table.Column
	// Rows is the number of data rows.
	Rows int64
	// Vectors holds the artifact's vector columns that the source has,
	// read as they streamed by (vector.go); they are not in Cols.
	Vectors map[string]*VectorData
}

// Read reads the artifact's input columns of a data file (.csv, .parquet,
// .jsonl; see table.Open). A numeric input holding text is read again as
// text rather than failing, so its bad values can be counted.
func Read(path string, a *artifact.Artifact) (*Data, error) {
	text := map[string]bool{}
	for attempt := 0; ; attempt++ {
		d, err := readOnce(path, a, text)
		if col := NotNumberColumn(err); col != "" && !text[col] && attempt <= len(a.Inputs) {
			text[col] = true
			continue
		}
		if err != nil {
			return nil, err
		}
		return d, nil
	}
}

// NotNumberColumn returns the column a table reader's "not a number"
// error (table.ParseError, table.CellError) names, or "": the column to
// read again as text.
func NotNumberColumn(err error) string {
	var pe *table.ParseError
	if errors.As(err, &pe) {
		return pe.Column
	}
	var ce *table.CellError
	if errors.As(err, &ce) {
		return ce.Column
	}
	return ""
}

func readOnce(path string, a *artifact.Artifact, text map[string]bool) (*Data, error) {
	r, err := OpenFor(path, a) // a lone .npy is read as a's only vector column
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// The header may hold millions of columns the artifact does not read;
	// they cost their name and nothing more: inHeader holds only the
	// artifact's columns the header has (attack run 8 F6).
	d := &Data{Path: path, Header: r.Header()}
	inHeader := wantedInHeader(a, d.Header)
	if len(inHeader) == 0 && len(a.Embeddings) > 1 && isNPY(path) {
		// The stem names none of the vector columns: say so, rather
		// than "declare it a vector" (attack run 18 F6).
		return nil, MissingVectorColumn(path, a, a.Embeddings[0].Column)
	}
	var fields []table.Field
	for _, f := range a.Inputs {
		if !inHeader[f.Name] {
			continue
		}
		tf := f.TableField()
		if text[f.Name] {
			tf.Kind = table.String
		}
		fields = append(fields, tf)
	}
	var rd table.Reader = r
	tap := tapVectors(r, a, inHeader, d)
	if tap != nil {
		rd = tap
	}
	counter := false
	if len(fields) == 0 && len(d.Header) > 0 && tap == nil {
		// Read one column as text only to count the rows.
		fields, counter = []table.Field{{Name: d.Header[0], Kind: table.String}}, true
	}
	if len(fields) == 0 && tap == nil {
		return d, nil
	}
	if err := rd.Project(fields); err != nil {
		return nil, err
	}
	cols, rows, err := table.ReadAll(rd, fields)
	if err != nil {
		// The table's errors name the file, the column and the row; a
		// "validate:" prefix misled drift, diagnose and replay, which
		// read through here too.
		return nil, err
	}
	d.Rows = int64(rows)
	if !counter {
		d.Cols = cols
	}
	return d, nil
}

// wantedInHeader returns the set of the artifact's input and vector
// columns that header holds: a map the size of the artifact's inputs, not
// of the header.
func wantedInHeader(a *artifact.Artifact, header []string) map[string]bool {
	want := make(map[string]bool, len(a.Inputs)+len(a.Embeddings))
	for _, f := range a.Inputs {
		want[f.Name] = false
	}
	for _, e := range a.Embeddings {
		want[e.Column] = false
	}
	for _, h := range header {
		if _, ok := want[h]; ok {
			want[h] = true
		}
	}
	for n, in := range want {
		if !in {
			delete(want, n)
		}
	}
	return want
}
