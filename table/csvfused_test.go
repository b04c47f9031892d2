package table

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestDigitRun checks digitRun and digitsValue on every run length and
// on bytes around the digits' range.
func TestDigitRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	others := []byte{0, ' ', '\t', '\n', '\r', ',', '.', '-', '+', '/', ':', '@', 'e', 'E', 0x7f, 0xf9, 0xfa, 0xff}
	for range 200000 {
		var b [8]byte
		k := rng.IntN(9)
		want := uint64(0)
		for i := range k {
			d := rng.IntN(10)
			b[i] = byte('0' + d)
			want = want*10 + uint64(d)
		}
		for i := k; i < 8; i++ {
			if rng.IntN(2) == 0 {
				b[i] = byte('0' + rng.IntN(10))
			} else {
				b[i] = byte(rng.IntN(256))
			}
		}
		if k < 8 {
			b[k] = others[rng.IntN(len(others))]
		}
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(b[i])
		}
		if got := digitRun(x); got != k {
			t.Fatalf("digitRun(%q) = %d, want %d", b[:], got, k)
		}
		if got := digitsValue(x, k); got != want {
			t.Fatalf("digitsValue(%q, %d) = %d, want %d", b[:], k, got, want)
		}
	}
}

// numberText returns a cell text meant to exercise parseWide: plain
// decimals of every length (signs, no integer part, no fraction digits,
// runs of digits past eight and past nineteen), and text that is not a
// plain decimal.
func numberText(rng *rand.Rand) string {
	digits := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		return sb.String()
	}
	switch rng.IntN(12) {
	case 0:
		return strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(30)-15)), 'g', -1, 64)
	case 1:
		return []string{"", "NA", "nan", "-", "+", ".", "-.", "1e5", " 1.5", "1.5 ", "inf", "1..2", "0x10", "١",
			"4_7.4", "0x1p3", "NAN", "1e", "1.e3", "-Infinity"}[rng.IntN(20)]
	case 2:
		return strconv.FormatFloat(rng.Float64()*1000, 'f', rng.IntN(8), 64)
	}
	s := []string{"", "-", "+"}[rng.IntN(3)] + digits(rng.IntN(24))
	if rng.IntN(4) > 0 {
		s += "." + digits(rng.IntN(24))
	}
	return s
}

// TestParseWideMatchesParseSimple checks that where parseWide stops is
// where a cell would end for parseSimple, with the same verdict and the
// same bits, whatever bytes follow.
func TestParseWideMatchesParseSimple(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ends := []string{",", "\n", "\r\n", ";", "\t", "e5", "x", ".", "5", " "}
	accepted := 0
	for range 300000 {
		text := numberText(rng)
		end := ends[rng.IntN(len(ends))]
		pad := make([]byte, wideMargin)
		for i := range pad {
			pad[i] = byte(rng.IntN(256))
		}
		b := append(append([]byte(text), end...), pad...)
		v, e, ok := parseWide(b, 0)
		if !ok {
			// The caller then reads the cell the slow way; parseWide must
			// not refuse a plain cell that ends at a delimiter.
			if _, sok := parseSimple([]byte(text)); sok && (end == "," || end == "\n") {
				t.Fatalf("parseWide refuses %q (followed by %q), parseSimple takes it", text, end)
			}
			continue
		}
		if e > len(b)-1 {
			t.Fatalf("parseWide(%q) ends at %d, past the input", b, e)
		}
		want, sok := parseSimple(b[:e])
		if !sok || math.Float64bits(want) != math.Float64bits(v) {
			t.Fatalf("parseWide(%q) = %v up to %d; parseSimple(%q) = %v, %v", b, v, e, b[:e], want, sok)
		}
		if c := b[e]; c >= '0' && c <= '9' {
			t.Fatalf("parseWide(%q) stops at a digit (%d) and accepts", b, e)
		}
		if e == len(text) {
			accepted++
		}
	}
	if accepted < 50000 {
		t.Fatalf("only %d of the texts were read whole: the generator does not exercise the fast path", accepted)
	}
}

// csvCell returns a random cell for a column of the given kind; with bad,
// a numeric cell is now and then not a number.
func csvCell(rng *rand.Rand, numeric, bad bool) string {
	if numeric {
		for {
			text := numberText(rng)
			if _, ok := parseNumber([]byte(text)); ok || bad && rng.IntN(500) == 0 {
				return text
			}
		}
	}
	return []string{"", "NA", "a", "bb", "grp_01", "sku 2", "x-y", "null", " ", "3.5"}[rng.IntN(10)]
}

// readFused reads input as readCSV does, with the fused path on or off,
// and reports how many rows it read.
func readFused(t *testing.T, input string, fields []Field, opts CSVOptions, bufSize int, fused bool) (readResult, int64, error) {
	t.Helper()
	r, err := newCSVReader(strings.NewReader(input), "data.csv", opts, bufSize)
	if err != nil {
		return readResult{}, 0, err
	}
	defer r.Close()
	if !fused {
		r.fusedFails = maxFusedFails
	}
	if err := r.Project(fields); err != nil {
		return readResult{}, 0, err
	}
	var res readResult
	res.cols = make([]Column, len(fields))
	for r.Next() {
		b := r.Batch()
		for i := range b.Cols {
			c, out := &b.Cols[i], &res.cols[i]
			out.Name, out.Kind = c.Name, c.Kind
			if c.Kind == Numeric {
				out.Num = append(out.Num, c.Num[:b.Rows]...)
				continue
			}
			out.Str = append(out.Str, c.Str[:b.Rows]...)
			for j := range b.Rows {
				out.Null = append(out.Null, c.IsMissing(j))
			}
		}
		res.lines = append(res.lines, b.Lines...)
		res.starts = append(res.starts, b.Start)
		res.batches++
	}
	return res, r.fusedRows, r.Err()
}

// sameResult reports how two reads differ, or "" (numbers compared bit for
// bit, so that NaN equals NaN).
func sameResult(a, b readResult) string {
	if len(a.cols) != len(b.cols) || a.batches != b.batches {
		return fmt.Sprintf("%d columns in %d batches vs %d in %d", len(a.cols), a.batches, len(b.cols), b.batches)
	}
	for i := range a.cols {
		x, y := &a.cols[i], &b.cols[i]
		if len(x.Num) != len(y.Num) || len(x.Str) != len(y.Str) {
			return fmt.Sprintf("column %d: lengths differ", i)
		}
		for j := range x.Num {
			if math.Float64bits(x.Num[j]) != math.Float64bits(y.Num[j]) {
				return fmt.Sprintf("column %d row %d: %v vs %v", i, j, x.Num[j], y.Num[j])
			}
		}
		for j := range x.Str {
			if x.Str[j] != y.Str[j] || x.Null[j] != y.Null[j] {
				return fmt.Sprintf("column %d row %d: %q/%v vs %q/%v", i, j, x.Str[j], x.Null[j], y.Str[j], y.Null[j])
			}
		}
	}
	if fmt.Sprint(a.lines) != fmt.Sprint(b.lines) || fmt.Sprint(a.starts) != fmt.Sprint(b.starts) {
		return "line numbers or batch starts differ"
	}
	return ""
}

// TestFusedMatchesTwoPass reads generated files with the fused path and
// with the two-pass path alone — buffer sizes from a few bytes to a whole
// block, one and two workers, several batch sizes, projections of some
// columns in another order, CRLF line ends, blank lines, ragged rows and
// cells that are not numbers — and requires the same values, line numbers
// and errors.
func TestFusedMatchesTwoPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var fusedRows int64
	errs := 0
	for file := range 60 {
		nf := 2 + rng.IntN(5)
		numeric := make([]bool, nf)
		header := make([]string, nf)
		for j := range nf {
			numeric[j] = rng.IntN(3) > 0
			header[j] = fmt.Sprintf("c%d", j)
		}
		rows := rng.IntN(3000)
		if file%10 == 0 {
			rows = 40000 // more than a split's worth of text
		}
		crlf := rng.IntN(4) == 0
		blank := rng.IntN(5) == 0
		ragged := rng.IntN(8) == 0
		bad := rng.IntN(8) == 0
		var sb strings.Builder
		sb.WriteString(strings.Join(header, ","))
		sb.WriteString("\n")
		for i := range rows {
			n := nf
			if ragged && i == rows/2 {
				n += 1 - 2*rng.IntN(2)
			}
			for j := range n {
				if j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(csvCell(rng, j < nf && numeric[j], bad))
			}
			if crlf {
				sb.WriteString("\r\n")
			} else {
				sb.WriteString("\n")
			}
			if blank && rng.IntN(50) == 0 {
				sb.WriteString("  \n")
			}
		}
		input := sb.String()
		// Some of the columns, in another order; a numeric column read as
		// String now and then.
		var fields []Field
		for _, j := range rng.Perm(nf)[:1+rng.IntN(nf)] {
			kind := String
			if numeric[j] && rng.IntN(6) > 0 {
				kind = Numeric
			}
			fields = append(fields, Field{Name: header[j], Kind: kind})
		}
		for _, buf := range []int{64, 1000, 1 << 16, blockSize} {
			for _, workers := range []int{1, 2} {
				opts := CSVOptions{Workers: workers, BatchRows: []int{7, 1000, DefaultBatchRows}[rng.IntN(3)]}
				want, _, werr := readFused(t, input, fields, opts, buf, false)
				got, n, gerr := readFused(t, input, fields, opts, buf, true)
				fusedRows += n
				if fmt.Sprint(werr) != fmt.Sprint(gerr) {
					t.Fatalf("file %d, buffer %d, %d workers: error %v, two-pass %v", file, buf, workers, gerr, werr)
				}
				if werr != nil {
					errs++
					continue
				}
				if d := sameResult(want, got); d != "" {
					t.Fatalf("file %d (%d rows, fields %v), buffer %d, %d workers, batches of %d: %s", file, rows, fields, buf, workers, opts.BatchRows, d)
				}
			}
		}
	}
	if fusedRows == 0 {
		t.Fatal("the fused path read no row")
	}
	if errs > 60*8/2 {
		t.Fatalf("%d of %d reads ended in an error: the generator makes too few good files", errs, 60*8)
	}
	t.Logf("%d rows read by the fused path; %d of %d reads ended in an error", fusedRows, errs, 60*8)
}

// TestFusedReadsPlainFiles checks that a plain file (no blank line, no
// quote) is read by the fused path, split on two workers.
func TestFusedReadsPlainFiles(t *testing.T) {
	var sb bytes.Buffer
	sb.WriteString("a,b,c\n")
	rows := 100000
	for i := range rows {
		fmt.Fprintf(&sb, "%d.%d,g%d,-%d\n", i, i%977, i%13, i)
	}
	_, n, err := readFused(t, sb.String(), []Field{{Name: "c", Kind: Numeric}, {Name: "b", Kind: String}, {Name: "a", Kind: Numeric}},
		CSVOptions{Workers: 2}, blockSize, true)
	if err != nil {
		t.Fatal(err)
	}
	// The last rows of each block are read on the two-pass path when the
	// block ends inside a row; all the others are fused.
	if n < int64(rows)*9/10 {
		t.Fatalf("the fused path read %d of %d rows", n, rows)
	}
}
