package table

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// readEverything reads every batch of data with the given options and
// returns the rows as text (values, missing marks and source lines), or the
// error.
func readEverything(t *testing.T, data []byte, fields []Field, opts CSVOptions) (string, error) {
	t.Helper()
	r, err := NewCSVReader(bytes.NewReader(data), "split.csv", opts)
	if err != nil {
		return "", err
	}
	if err := r.Project(fields); err != nil {
		return "", err
	}
	var sb strings.Builder
	for r.Next() {
		b := r.Batch()
		for i := range b.Rows {
			fmt.Fprintf(&sb, "%d:", b.Line(i))
			for _, c := range b.Cols {
				if c.Num != nil {
					fmt.Fprintf(&sb, " %x", math.Float64bits(c.Num[i]))
				} else {
					fmt.Fprintf(&sb, " %q/%v", c.Str[i], c.Null != nil && c.Null[i])
				}
			}
			sb.WriteByte('\n')
		}
	}
	return sb.String(), r.Err()
}

// TestScanSplitMatchesSerial reads inputs large enough for the two-goroutine
// scan (blank lines, CRLF endings, a quote late in the file, ragged rows in
// either half, small batches) and checks that every value, missing mark,
// source line and error is the same as with one worker, which scans serially.
func TestScanSplitMatchesSerial(t *testing.T) {
	base, fields := benchCSV(20000) // about 3.4 MB
	lines := bytes.SplitAfter(base, []byte{'\n'})
	lines = lines[:len(lines)-1] // the empty tail after the last '\n'
	join := func(edit func(i int, l []byte) []byte) []byte {
		var out []byte
		for i, l := range lines {
			out = append(out, edit(i, l)...)
		}
		return out
	}
	ragged := func(at int) []byte {
		return join(func(i int, l []byte) []byte {
			if i == at {
				return []byte("1,2,3\n")
			}
			return l
		})
	}
	cases := map[string][]byte{
		"plain": base,
		"blank lines": join(func(i int, l []byte) []byte {
			if i > 0 && i%997 == 0 {
				return append([]byte("\n  \n"), l...)
			}
			return l
		}),
		"crlf": join(func(i int, l []byte) []byte {
			return append(bytes.TrimSuffix(l, []byte{'\n'}), '\r', '\n')
		}),
		"quote late": join(func(i int, l []byte) []byte {
			if i == 15000 {
				return bytes.Replace(l, []byte(",Paris,"), []byte(",\"Pa\nris\","), 1)
			}
			return l
		}),
		"no final newline": bytes.TrimSuffix(base, []byte{'\n'}),
		"ragged early":     ragged(3000),
		"ragged late":      ragged(19000),
		"ragged middle":    ragged(11000),
	}
	for name, data := range cases {
		for _, batch := range []int{0, 5000} {
			want, wantErr := readEverything(t, data, fields, CSVOptions{Workers: 1, BatchRows: batch})
			got, gotErr := readEverything(t, data, fields, CSVOptions{Workers: 2, BatchRows: batch})
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%s, batch %d: error %v, serial scan gives %v", name, batch, gotErr, wantErr)
			}
			if got != want {
				t.Errorf("%s, batch %d: rows differ from the serial scan's (%d against %d bytes of text)", name, batch, len(got), len(want))
			}
			if strings.HasPrefix(name, "ragged") && gotErr == nil {
				t.Errorf("%s: a ragged row was accepted", name)
			}
			if !strings.HasPrefix(name, "ragged") && strings.Count(got, "\n") != 20000 {
				t.Errorf("%s, batch %d: %d rows, want 20000", name, batch, strings.Count(got, "\n"))
			}
		}
	}
}
