package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxCellBytes bounds one cell of a CSV, TSV or JSON Lines file: its text
// in the file (quotes and escapes included; in JSON Lines, a key or a
// value, an array of a vector column whole). A longer cell is an error
// wrapping ErrCellTooLong, found while the row is read, before it is held
// whole: a cell costs several times its size on its way through a command
// (a 100 MB category took 0.6-1.1 GB, a 500 MB one in a 15 KB .zst 4 GB),
// so the buffer holding a row grows at most to twice the bound before an
// over-long cell is refused.
//
// 16 MiB is the longest string normguard keeps anywhere (an embedding's
// reference sample, artifact.MaxSampleBytes); a category or a column name
// an artifact keeps is bounded far lower (artifact.MaxStringBytes, 64 KiB,
// which fit checks with its own message), as is a categorical value a
// monitor window keeps (monitor.MaxValueBytes). The bound here is for
// the cells a command reads past, such as a free-text column the spec
// leaves out.
const MaxCellBytes = 16 << 20

// ErrCellTooLong is wrapped by the error a CSV or JSON Lines reader
// returns for a cell longer than MaxCellBytes.
var ErrCellTooLong = errors.New("cell too long")

// textInput is what the CSV and JSON Lines readers share: the source, what
// closes it and counts its bytes, and a buffer of unread input refilled in
// blocks. Both readers embed it and set it up with openText and
// startText.
type textInput struct {
	name    string
	src     io.Reader
	closer  io.Closer       // the file an Open function opened, or nil
	counter *countingReader // counts bytes read from a file, for Progress
	size    int64           // the file's size, 0 when unknown
	plain   bool            // the file is not compressed (see estimateRows)

	// buf[pos:end] is the unread input; eof means src has no more.
	block    int // the buffer size to grow to
	buf      []byte
	pos, end int
	eof      bool
	line     int64 // line number of buf[pos]

	// noBOM names the UTF-16 encoding the input looks like without a
	// byte order mark ("UTF-16LE", "UTF-16BE"), or "": its NUL bytes are
	// read as data, but a parse error says what the file looks like
	// (see encodingHint).
	noBOM string

	// What a too long row is called in errors, the error it wraps and the
	// hint given.
	rowWord string
	rowErr  error
	rowHint string

	// longCell returns the error for the first cell over MaxCellBytes in
	// data, rows from the one at line (data may end inside a row, or a
	// cell), or nil when there is none. fill calls it on the unread input
	// before growing the buffer past MaxCellBytes.
	longCell func(data []byte, line int64) error
}

// startText sets t up to read src (named name in errors) in blocks of up to
// block bytes, reads the first block and skips a UTF-8 byte order mark.
func (t *textInput) startText(src io.Reader, name string, block int) error {
	block = max(block, 4) // room for a byte order mark
	t.name, t.src, t.block = name, src, block
	t.buf = make([]byte, min(block, firstBlock))
	t.line = 1
	if err := t.fill(); err != nil {
		return err
	}
	if bytes.HasPrefix(t.buf[:t.end], []byte("\xEF\xBB\xBF")) {
		t.pos = 3
	}
	if enc := wideEncoding(t.buf[:t.end]); enc != "" {
		// Read as UTF-8, every other byte is a NUL: the rows split at
		// line numbers past the file's end, with no word of why (attack
		// run 16: "u16.csv:16742: row has 1 fields").
		return fmt.Errorf("%s: the file is %s text; normguard reads UTF-8: save it as UTF-8 (in Excel, \"CSV UTF-8\") or convert it, e.g. iconv -f %s -t UTF-8", name, enc, enc)
	}
	// The look is taken at the same 64 bytes whatever the block size (a
	// first block of a few bytes made the hint, and so the error, depend
	// on it: CI fuzz smoke, FuzzCSVReader).
	for t.end-t.pos < wideLook && !t.eof {
		if err := t.fill(); err != nil {
			return err
		}
	}
	t.noBOM = wideWithoutBOM(t.buf[t.pos:t.end])
	return nil
}

// wideLook is how many bytes at the start of a file wideWithoutBOM looks
// at.
const wideLook = 64

// wideWithoutBOM names the UTF-16 encoding b looks like when it has no
// byte order mark (pandas' to_csv(encoding="utf-16-le") writes none): its
// first bytes (up to 64, at least 4) alternate NUL and ASCII text, the NUL
// second (UTF-16LE) or first (UTF-16BE). "" for anything else. It decides
// nothing about reading: NUL bytes are data (a CSV may hold them; a
// heuristic refusing such input refused valid files); it only explains a
// parse error.
func wideWithoutBOM(b []byte) string {
	n := min(len(b), wideLook) &^ 1
	if n < 4 {
		return ""
	}
	text := func(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c >= 0x20 && c < 0x7f }
	le, be := true, true
	for i := 0; i < n; i += 2 {
		le = le && b[i+1] == 0 && text(b[i])
		be = be && b[i] == 0 && text(b[i+1])
	}
	switch {
	case le:
		return "UTF-16LE"
	case be:
		return "UTF-16BE"
	}
	return ""
}

// encodingHint adds to a parse error of input that looks like UTF-16
// without a byte order mark what it looks like and how to convert it, in
// place of the hint about the text (quotes, JSON), which does not apply
// (attack run 18 F7a). Other errors are returned as they are.
func (t *textInput) encodingHint(err error) error {
	var pe *ParseError
	if t.noBOM == "" || !errors.As(err, &pe) || strings.HasPrefix(pe.Hint, "the file looks like UTF-16") {
		return err
	}
	out := "converted.csv"
	if strings.Contains(t.name, ".jsonl") {
		out = "converted.jsonl"
	}
	pe.Hint = fmt.Sprintf("the file looks like %s text without a byte order mark (NUL bytes alternate with ASCII at its start), which is read as UTF-8 with its NUL bytes as data: convert it to UTF-8, e.g. iconv -f %s -t UTF-8 %s > %s",
		t.noBOM, t.noBOM, t.name, out)
	return err
}

// wideEncoding names the UTF-16 or UTF-32 encoding b starts in, by its
// byte order mark (what Excel's "Unicode text" writes); "" for anything
// else. Without a mark, NUL bytes are data: a CSV may hold them.
func wideEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return "UTF-32LE"
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return "UTF-32BE"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return "UTF-16LE"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return "UTF-16BE"
	}
	return ""
}

// openText opens the text file at path ("-" is standard input) and hands
// the decompressed stream to newReader, then gives the reader the file to
// close and count. On error the file is closed.
func openText[R interface{ input() *textInput }](path string, newReader func(src io.Reader, name string) (R, error)) (R, error) {
	if path == "-" {
		return newReader(os.Stdin, "stdin")
	}
	src, err := openSource(path)
	if err != nil {
		var zero R
		return zero, err
	}
	r, err := newReader(src.r, path)
	if err != nil {
		src.closer.Close()
		var zero R
		return zero, err
	}
	t := r.input()
	t.closer, t.counter, t.size = src.closer, src.counter, src.size
	c, _ := CompressionOf(path)
	t.plain = c == CompressionNone
	return r, nil
}

// fill moves the unread input to the front of the buffer and reads more,
// growing the buffer when one row fills it.
func (t *textInput) fill() error {
	if t.eof {
		return nil
	}
	if t.pos > 0 {
		t.end = copy(t.buf, t.buf[t.pos:t.end])
		t.pos = 0
	}
	if t.end == len(t.buf) {
		// The buffer holds part of one row (or line): a cell over the
		// bound is refused before the buffer grows to hold it.
		if len(t.buf) >= MaxCellBytes && t.longCell != nil {
			if err := t.longCell(t.buf[t.pos:t.end], t.line); err != nil {
				return err
			}
		}
		if len(t.buf) >= maxRowBytes {
			return &ParseError{File: t.name, Line: t.line,
				Err:  fmt.Errorf("%w: %s longer than %d bytes", t.rowErr, t.rowWord, maxRowBytes),
				Hint: t.rowHint}
		}
		t.buf = append(t.buf, make([]byte, len(t.buf))...)
	} else if len(t.buf) < t.block {
		t.buf = append(t.buf, make([]byte, min(len(t.buf), t.block-len(t.buf)))...)
	}
	n, err := io.ReadFull(t.src, t.buf[t.end:])
	t.end += n
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		t.eof = true
	default:
		return fmt.Errorf("%s: read: %w", t.name, err)
	}
	return nil
}

// Progress implements Progresser: bytes read from the file and its size
// (0 for standard input and other streams).
func (t *textInput) Progress() (done, total int64) {
	if t.counter == nil {
		return 0, 0
	}
	return t.counter.n.Load(), t.size
}

// estimateRows extrapolates rows, the rows read so far, to the whole file
// by the bytes consumed (read less the unread buffer), or returns 0 when
// that cannot be told (a stream, or a compressed file, whose counted bytes
// are not the text's). It must be called from the reading goroutine.
func (t *textInput) estimateRows(rows int64) int64 {
	if t.counter == nil || !t.plain || t.size <= 0 {
		return 0
	}
	consumed := t.counter.n.Load() - int64(t.end-t.pos)
	if consumed <= 0 || rows <= 0 {
		return 0
	}
	return int64(float64(rows) * float64(t.size) / float64(consumed))
}

// closeText closes the file an Open function opened, once.
func (t *textInput) closeText() error {
	if t.closer == nil {
		return nil
	}
	c := t.closer
	t.closer = nil
	return c.Close()
}
