package table

import (
	"bytes"
	"sync"
)

// minSplitBytes is the smallest run of unquoted lines worth scanning on two
// goroutines.
const minSplitBytes = 256 << 10

// plainScan is what scanning a run of whole, unquoted lines found.
type plainScan struct {
	spans []span
	lines []int32 // per row: the line's index from the start of the run
	nline int     // lines consumed (rows and blank lines)
	bad   int     // index of the first ragged row's line, or -1
	got   int     // that row's field count
}

// scanSplit scans the complete rows at the buffer's position on two
// goroutines when the input ahead holds no quote: the lines are split in two
// at a line boundary and each half is scanned on its own, then the halves
// are joined in order. It scans at most limit rows. It returns the rows
// scanned and ok = false, having consumed nothing, when the input ahead is
// too short or holds a quote (the serial scan takes it then).
func (r *CSVReader) scanSplit(limit, want int) (rows int, ok bool, err error) {
	data := r.buf[r.pos:r.end]
	last := bytes.LastIndexByte(data, '\n')
	// Past MaxCellBytes a line may hold a cell over the bound, which the
	// serial scan names (scanRow).
	if last < minSplitBytes || last >= MaxCellBytes || limit <= 0 {
		return 0, false, nil
	}
	data = data[:last+1]
	if bytes.IndexByte(data, '"') >= 0 {
		return 0, false, nil
	}
	// Every row ends with a '\n' here, so a run of at most limit lines holds
	// at most limit rows.
	if bytes.Count(data, []byte{'\n'}) > limit {
		end := 0
		for range limit {
			end += bytes.IndexByte(data[end:], '\n') + 1
		}
		data = data[:end]
		if len(data) < minSplitBytes {
			return 0, false, nil
		}
	}
	mid := len(data) / 2
	mid += bytes.IndexByte(data[mid:], '\n') + 1 // data ends with '\n'
	var second plainScan
	var wg sync.WaitGroup
	wg.Go(func() {
		second = r.scanPlain(r.pos+mid, r.pos+len(data), want, r.split[1].spans[:0], r.split[1].lines[:0])
	})
	first := r.scanPlain(r.pos, r.pos+mid, want, r.spans, r.split[0].lines[:0])
	wg.Wait()
	r.split[0].lines, r.split[1].spans, r.split[1].lines = first.lines, second.spans, second.lines
	if first.bad >= 0 || second.bad >= 0 {
		// A ragged row: the serial scan reaches it and names it, with
		// what its text shows (checkFields). Nothing is consumed; the
		// spans appended past r.spans are dropped.
		return 0, false, nil
	}
	r.spans = first.spans
	r.spans = append(r.spans, second.spans...)
	for _, l := range first.lines {
		r.batch.Lines = append(r.batch.Lines, r.line+int64(l))
	}
	for _, l := range second.lines {
		r.batch.Lines = append(r.batch.Lines, r.line+int64(first.nline)+int64(l))
	}
	r.pos += len(data)
	r.line += int64(first.nline + second.nline)
	return len(first.lines) + len(second.lines), true, nil
}

// scanPlain scans the whole lines of r.buf[lo:hi] (hi just past a '\n', no
// quote inside) as scanRow's unquoted path does, appending cells to spans
// and each row's line index to lines.
// It stops at the first row whose field count is not want.
func (r *CSVReader) scanPlain(lo, hi, want int, spans []span, lines []int32) plainScan {
	s := plainScan{spans: spans, lines: lines, bad: -1}
	delim := r.delim
	for p := lo; p < hi; {
		k := bytes.IndexByte(r.buf[p:hi], '\n')
		line := r.buf[p : p+k]
		next := p + k + 1
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if r.isBlank(line) {
			s.nline++
			p = next
			continue
		}
		first := len(s.spans)
		start := 0
		for i, c := range line {
			if c == delim {
				s.spans = append(s.spans, span{int32(p + start), int32(p + i)})
				start = i + 1
			}
		}
		s.spans = append(s.spans, span{int32(p + start), int32(p + len(line))})
		if got := len(s.spans) - first; got != want {
			s.bad, s.got = s.nline, got
			return s
		}
		s.lines = append(s.lines, int32(s.nline))
		s.nline++
		p = next
	}
	return s
}
