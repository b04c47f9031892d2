package table

import (
	"reflect"
	"testing"
)

// headerReader is a Reader of a header only.
type headerReader struct{ header []string }

func (r headerReader) Header() []string      { return r.header }
func (r headerReader) Project([]Field) error { return nil }
func (r headerReader) Next() bool            { return false }
func (r headerReader) Batch() *Batch         { return &Batch{} }
func (r headerReader) Err() error            { return nil }
func (r headerReader) Close() error          { return nil }

// TestSplitVectorsHeader: only the columns split are replaced by their
// dimension columns; a vector column whose dimension columns the header
// already holds is read as it is.
func TestSplitVectorsHeader(t *testing.T) {
	vectors := map[string][]string{"emb": VectorNames("emb", 2), "img": VectorNames("img", 2)}
	r := SplitVectors(headerReader{[]string{"emb", "img", "img_0", "img_1", "x"}}, vectors)
	want := []string{"emb_0", "emb_1", "img", "img_0", "img_1", "x"}
	if got := r.Header(); !reflect.DeepEqual(got, want) {
		t.Fatalf("header %q, want %q", got, want)
	}
}
