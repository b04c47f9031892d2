package fit

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// TestFitRefusesAValueTooLongForAnArtifact fits a categorical column one
// of whose values passes artifact.MaxStringBytes in the artifact's JSON
// (plain, and as "<", which the encoding writes in 6 bytes), with and
// without an arena: fit refuses it before fitting, naming the file, the
// column, the data row,
// the value's lengths and what to do. A value just at the bound is
// fitted, and the artifact is accepted by Verify.
func TestFitRefusesAValueTooLongForAnArtifact(t *testing.T) {
	const text = "version: 1\ncolumns:\n  - names: [city]\n    type: categorical\n    steps: [ordinal_encoder]\n"
	fitWith := func(value string, arena bool) (*artifact.Artifact, error) {
		t.Helper()
		csv := "city,x\nlyon,1\nnice,2\n" + value + ",3\nlyon,4\n"
		sp, err := spec.Parse(strings.NewReader(text), "s.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := table.NewCSVReader(strings.NewReader(csv), "d.csv", table.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Source: "d.csv"}
		if arena {
			opt.Spill = NewArena()
			defer opt.Spill.Close()
		}
		return Fit(context.Background(), sp, r, opt)
	}
	bound := artifact.MaxStringBytes
	for _, arena := range []bool{false, true} {
		for _, c := range []struct {
			value        string
			raw, encoded int
		}{
			{strings.Repeat("z", bound+1), bound + 1, bound + 1},
			{"z" + strings.Repeat("<", bound/6+1), bound/6 + 2, (bound/6+1)*6 + 1},
		} {
			_, err := fitWith(c.value, arena)
			want := fmt.Sprintf("fit d.csv: column \"city\", data row 3 holds a value of %d bytes (%d in the artifact's JSON) starting %q, more than the %d bytes an artifact may hold of a string (artifact.MaxStringBytes)",
				c.raw, c.encoded, c.value[:40], bound)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("arena %v, a value of %d bytes: got %v\nwant %s...", arena, c.raw, err, want)
			}
		}
		a, err := fitWith(strings.Repeat("z", bound), arena)
		if err != nil {
			t.Fatalf("arena %v, a value of %d bytes: %v", arena, bound, err)
		}
		data, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Verify(bytes.NewReader(data), int64(len(data)), "a.json"); err != nil {
			t.Errorf("arena %v: Verify refuses the artifact of a value at the bound: %v", arena, err)
		}
	}
}

// TestFitRefusesAColumnNameTooLongForAnArtifact names a column in the
// spec with a name past artifact.MaxStringBytes: fit refuses the spec
// before reading the data, naming the name's place in the spec and its
// length.
func TestFitRefusesAColumnNameTooLongForAnArtifact(t *testing.T) {
	name := strings.Repeat("c", artifact.MaxStringBytes+10)
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - names: [x, "+name+"]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader("x,"+name+"\n1,2\n"), "d.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fit(context.Background(), sp, failingReader{r}, Options{Source: "d.csv"})
	want := fmt.Sprintf("fit d.csv: spec.columns[0].names[1]: a string of %d bytes in the artifact's JSON, more than the %d an artifact's string may hold", len(name), artifact.MaxStringBytes)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s...", err, want)
	}
}
