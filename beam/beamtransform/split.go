package beamtransform

import (
	"bytes"
)

// lineState is the CSV reader's state at the start of a physical line:
// at the start of a record, or inside a quoted cell that a newline did
// not end.
type lineState uint8

const (
	atRecord lineState = iota // a record starts here
	inQuotes                  // the line continues a quoted cell
)

// cell states of the record scanner (scan), which follows the rules of
// the core CSV reader (table.CSVReader): a quote opens a quoted cell only
// as the cell's first byte; inside, a doubled quote is a quote and a
// single one closes the cell; text after the closing quote, up to the
// delimiter, belongs to the cell; a quote inside an unquoted cell is a
// literal character; a newline outside quotes ends the record.
const (
	cellStart = iota
	unquoted
	quoted
	quoteSeen // a quote met inside a quoted cell: closing, or the first of a pair
)

// lineScan is what scan learns of a run of whole lines, for each state the
// run may start in: the state after its last newline, where its first
// record starts (-1: none starts in the run) and how many newlines come
// before that point.
type lineScan struct {
	End      [2]lineState
	First    [2]int64
	NLBefore [2]int64
	// Newlines is the number of newlines in the run.
	Newlines int64
}

// scanLines scans data, a run of whole lines (it starts after a newline or
// at a record's start), from both line states. delim is the field
// delimiter; jsonl data has no multi-line records.
func scanLines(data []byte, delim byte, jsonl bool) lineScan {
	var s lineScan
	s.Newlines = int64(bytes.Count(data, []byte{'\n'}))
	s.End[atRecord], s.First[atRecord] = atRecord, 0
	if jsonl || bytes.IndexByte(data, '"') < 0 {
		// Without quotes every line starts a record, and a quoted cell
		// left open stays open.
		s.End[inQuotes], s.First[inQuotes] = inQuotes, -1
		if jsonl {
			s.End[inQuotes], s.First[inQuotes] = atRecord, 0
		}
		return s
	}
	s.End[atRecord], _, _ = scan(data, cellStart, delim)
	var first int64
	s.End[inQuotes], first, s.NLBefore[inQuotes] = scan(data, quoted, delim)
	s.First[inQuotes] = first
	return s
}

// scan runs the record scanner over data from state st. It returns the
// line state after the last newline (the state st leaves when data does
// not end in one is never used), the offset of the first line that
// starts a record (-1 if none; 0 when st is cellStart) and the newlines
// before it.
func scan(data []byte, st int, delim byte) (end lineState, first, nlBefore int64) {
	first = -1
	if st == cellStart {
		first = 0
	}
	var nl int64
	for i, c := range data {
		switch st {
		case cellStart:
			switch c {
			case '"':
				st = quoted
			case delim, '\n':
			default:
				st = unquoted
			}
		case unquoted:
			if c == delim || c == '\n' {
				st = cellStart
			}
		case quoted:
			if c == '"' {
				st = quoteSeen
			}
		case quoteSeen:
			switch c {
			case '"':
				st = quoted
			case delim, '\n':
				st = cellStart
			default:
				st = unquoted
			}
		}
		if c == '\n' {
			nl++
			if first < 0 && st == cellStart {
				first, nlBefore = int64(i)+1, nl
			}
		}
	}
	if st == quoted {
		return inQuotes, first, nlBefore
	}
	return atRecord, first, nlBefore
}

// Span is the part of a file one shard owns: the records that start in
// [Lo, Hi), and the number of newlines before Lo (for line numbers).
type Span struct {
	Lo, Hi   int64
	NLBefore int64
}

// spans turns the scans of a file's consecutive runs (starting at
// starts[k], the last ending at size) into the part each run owns: the
// records that start in it. The first run starts at a record, after nl
// newlines.
func spans(starts []int64, scans []lineScan, size, nl int64) []Span {
	out := make([]Span, len(scans))
	st := atRecord
	pending := 0 // runs before k whose first record is not found yet
	for k, s := range scans {
		if first := s.First[st]; first >= 0 {
			at := Span{Lo: starts[k] + first, NLBefore: nl + s.NLBefore[st]}
			for ; pending <= k; pending++ {
				out[pending].Lo, out[pending].NLBefore = at.Lo, at.NLBefore
			}
		}
		st = s.End[st]
		nl += s.Newlines
	}
	for ; pending < len(out); pending++ {
		out[pending].Lo, out[pending].NLBefore = size, nl
	}
	for k := range out {
		out[k].Hi = size
		if k+1 < len(out) {
			out[k].Hi = out[k+1].Lo
		}
	}
	return out
}
