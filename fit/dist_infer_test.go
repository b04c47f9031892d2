package fit

import (
	"errors"
	"testing"

	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// TestInferScannedMatchesLocalInference scans each column in pieces of
// every size, merges the scans in reverse order and checks the kind (and
// the infinite-value error) the local inference gives for the whole group.
func TestInferScannedMatchesLocalInference(t *testing.T) {
	col := func(name string, cells ...string) table.Column {
		c := table.Column{Name: name, Kind: table.String, Str: cells, Null: make([]bool, len(cells))}
		for i, s := range cells {
			c.Null[i] = s == ""
		}
		return c
	}
	cases := []struct {
		name    string
		cols    []table.Column
		want    table.Kind
		wantInf bool
	}{
		{"numbers", []table.Column{col("a", "1", "", "2.5"), col("b", "3", "4", "-1e3")}, table.Numeric, false},
		{"a word", []table.Column{col("a", "1", "x", "2")}, table.String, false},
		{"no value", []table.Column{col("a", "", "")}, table.String, false},
		{"word in second column", []table.Column{col("a", "1", "2", "3"), col("b", "1", "2", "y")}, table.String, false},
		{"inf before a word", []table.Column{col("a", "1", "inf", "x")}, table.KindUnknown, true},
		{"word before inf", []table.Column{col("a", "x", "inf", "1")}, table.String, false},
		{"inf after a categorical column", []table.Column{col("a", "x"), col("b", "inf")}, table.String, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			byName := map[string]*table.Column{}
			var names []string
			for i := range tc.cols {
				c := tc.cols[i]
				byName[c.Name] = &c
				names = append(names, c.Name)
			}
			localErr := inferGroup(names, byName, "d.csv")
			for piece := 1; piece <= 3; piece++ {
				scans := make([]NumericScan, len(tc.cols))
				for j, c := range tc.cols {
					scans[j] = NumericScan{Stop: -1}
					for at := len(c.Str); at > 0; at -= piece {
						lo := max(at-piece, 0)
						part := c.Slice(lo, at)
						s := ScanNumeric(&part, at-lo, int64(lo))
						scans[j].Merge(&s)
					}
				}
				got, err := InferScanned(names, scans, "d.csv")
				if tc.wantInf {
					if !errors.Is(err, transform.ErrInfinite) || !errors.Is(localErr, transform.ErrInfinite) || err.Error() != localErr.Error() {
						t.Errorf("pieces of %d: got error %v, want the local error %v", piece, err, localErr)
					}
					continue
				}
				if err != nil || localErr != nil || got != tc.want || byName[names[0]].Kind != tc.want {
					t.Errorf("pieces of %d: got %v (%v), want %v; local inference: %v (%v)", piece, got, err, tc.want, byName[names[0]].Kind, localErr)
				}
			}
		})
	}
}
