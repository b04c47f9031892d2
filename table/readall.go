package table

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
)

// ReadOptions tune ReadAllWith. The zero value works.
type ReadOptions struct {
	// Context, when set, stops the read between batches with its error.
	Context context.Context
	// Alloc returns zeroed storage for n values of a numeric column (nil:
	// make). fit passes its Spill's, so big columns can live in
	// memory-mapped files.
	Alloc func(n int) ([]float64, error)
	// Free, when set, is given storage from Alloc that the read no longer
	// uses (a column's storage after it grew), so that storage outside
	// the Go heap can be returned at once.
	Free func([]float64)
	// Check, when set, is called on column j of every batch before its
	// rows are kept, for each column, concurrently for different columns
	// (see Workers); the error of the first column that has one ends the
	// read (fit refuses infinite values this way).
	Check func(b *Batch, j int) error
	// Strings, when set, returns a StringKeeper for each String column
	// (named for its errors),
	// which then holds the column's values instead of a heap slice
	// (fit's keep them outside the Go heap). Keepers of different columns
	// are called concurrently (see Workers).
	Strings func(column string) StringKeeper
	// Workers is how many goroutines check a batch's columns and keep its
	// String columns (0 or 1: the reading goroutine). Done there, that
	// work would leave the other cores idle between one batch's parallel
	// decoding and the next's.
	Workers int
}

// StringKeeper holds the values of one String column as ReadAllWith reads
// them.
type StringKeeper interface {
	// Keep appends xs to col, the column's values so far (nil before the
	// first batch), and returns the column; total is the estimated row
	// count of the whole table. xs belongs to the reader: Keep may keep
	// its values but not the slice.
	Keep(col, xs []string, total int) ([]string, error)
}

// Lender is implemented by readers that can decode numeric values straight
// into storage the caller lends, so that ReadAllWith writes every value
// once, into its final place, instead of into the reader's buffer and then
// again into the column. CSVReader, JSONLReader and parquetio's Reader
// implement it.
type Lender interface {
	// LendNumeric makes the next Next decode projected column j (a
	// Numeric field) into buf: the batch's column is then buf[:rows]. When
	// cap(buf) is too small for the batch the reader uses its own buffer,
	// as if nothing had been lent.
	LendNumeric(j int, buf []float64)
}

// ReadAll reads every remaining batch of r (already projected) into whole
// columns, one per projected field. It is ReadAllWith without options.
func ReadAll(r Reader, fields []Field) ([]Column, int, error) {
	return ReadAllWith(r, fields, ReadOptions{})
}

// ReadAllWith reads every remaining batch of r (already projected) into
// whole columns, one per projected field, and returns them with the row
// count. It is the one way normguard reads a whole table (fit, validate,
// diagnose, drift).
//
// Numeric columns are sized once from the reader's row count
// (RowCounter) or, after the first batch, from its extrapolation
// (RowEstimator, Progresser); when the reader is a Lender every
// later batch is decoded in place, so each value is written once. A
// column that outgrows its estimate grows by half (one copy). String
// columns are sized by the same estimate, or held by opt.Strings' keepers;
// vector columns are appended batch by batch.
func ReadAllWith(r Reader, fields []Field, opt ReadOptions) ([]Column, int, error) {
	cols := NewColumns(fields)
	alloc := opt.Alloc
	if alloc == nil {
		alloc = func(n int) ([]float64, error) { return make([]float64, n), nil }
	}
	lender, _ := r.(Lender)
	var keepers []StringKeeper // by column, for String columns when opt.Strings is set
	if opt.Strings != nil {
		keepers = make([]StringKeeper, len(fields))
		for j, f := range fields {
			if f.Kind == String {
				keepers[j] = opt.Strings(f.Name)
			}
		}
	}
	rows, total := 0, 0
	sized := false
	checkErrs, keepErrs := make([]error, len(fields)), make([]error, len(fields))
	for {
		if opt.Context != nil {
			if err := opt.Context.Err(); err != nil {
				return nil, 0, err
			}
		}
		if sized && lender != nil {
			for j, f := range fields {
				if f.Kind == Numeric {
					lender.LendNumeric(j, cols[j].Num[rows:cap(cols[j].Num)])
				}
			}
		}
		if !r.Next() {
			break
		}
		b := r.Batch()
		if !sized {
			total = estimateRows(r, b.Rows)
			for j, f := range fields {
				switch {
				case f.Kind == Numeric:
					buf, err := alloc(total)
					if err != nil {
						return nil, 0, err
					}
					cols[j].Num = buf[:0]
				case f.Kind == String && keepers == nil:
					cols[j].Str = make([]string, 0, total)
				}
			}
			sized = true
		}
		// The checks and the kept String columns, column by column.
		eachColumn(len(b.Cols), opt.Workers, b.Rows, func(j int) {
			checkErrs[j], keepErrs[j] = nil, nil
			if opt.Check != nil {
				if checkErrs[j] = opt.Check(b, j); checkErrs[j] != nil {
					return
				}
			}
			if dst, src := &cols[j], &b.Cols[j]; keepers != nil && dst.Kind == String {
				dst.Str, keepErrs[j] = keepers[j].Keep(dst.Str, src.Str[:b.Rows], total)
				keepNull(dst, src, rows, b.Rows)
			}
		})
		for _, errs := range [][]error{checkErrs, keepErrs} {
			for _, err := range errs {
				if err != nil {
					return nil, 0, err
				}
			}
		}
		for j := range b.Cols {
			dst, src := &cols[j], &b.Cols[j]
			var err error
			switch {
			case dst.Kind == Numeric:
				err = keepNumeric(dst, src, rows, b.Rows, alloc, opt.Free)
			case dst.Kind == Vector:
				err = keepVectors(dst, src, rows, b.Rows)
			case keepers != nil:
				// Kept above.
			default:
				dst.Str = append(dst.Str, src.Str[:b.Rows]...)
				keepNull(dst, src, rows, b.Rows)
			}
			if err != nil {
				return nil, 0, err
			}
		}
		rows += b.Rows
	}
	return cols, rows, r.Err()
}

// keepNumeric appends the n rows of src to dst, which holds rows rows: in
// place when src was decoded into dst's storage. A column that grows gives
// its old storage to free (when set).
func keepNumeric(dst, src *Column, rows, n int, alloc func(int) ([]float64, error), free func([]float64)) error {
	xs := src.Num[:n]
	if n > 0 && rows < cap(dst.Num) && &xs[0] == &dst.Num[:rows+1][rows] {
		dst.Num = dst.Num[:rows+n] // decoded in place
		return nil
	}
	if rows+n > cap(dst.Num) {
		bigger, err := alloc(max(rows+n, cap(dst.Num)*3/2))
		if err != nil {
			return err
		}
		old := dst.Num
		dst.Num = bigger[:copy(bigger, old)]
		if free != nil {
			free(old)
		}
	}
	dst.Num = append(dst.Num, xs...)
	return nil
}

// keepNull appends src's missing mask for n rows to dst (holding rows
// rows), allocating dst's on the first missing value.
func keepNull(dst, src *Column, rows, n int) {
	if src.Null != nil && dst.Null == nil {
		dst.Null = make([]bool, rows, rows+n)
	}
	if dst.Null == nil {
		return
	}
	if src.Null != nil {
		dst.Null = append(dst.Null, src.Null[:n]...)
	} else {
		dst.Null = append(dst.Null, make([]bool, n)...)
	}
}

// RowEstimator is implemented by readers of text files that can
// extrapolate the rows read so far to the whole file by the bytes they
// consumed (CSVReader, JSONLReader; 0 when they cannot tell).
type RowEstimator interface {
	EstimateRows() int64
}

// estimateRows guesses the total row count of r after a first batch of n
// rows: the reader's own count (RowCounter), else its extrapolation
// (RowEstimator) with 2% to spare, else its progress through a file
// (Progresser; the bytes read include read-ahead) with 5%, else n.
func estimateRows(r Reader, n int) int {
	if rc, ok := r.(RowCounter); ok {
		return int(rc.NumRows())
	}
	if re, ok := r.(RowEstimator); ok {
		if est := re.EstimateRows(); est > 0 {
			return int(min(float64(est)*1.02, 1<<34))
		}
	}
	p, ok := r.(Progresser)
	if !ok {
		return n
	}
	done, total := p.Progress()
	if done <= 0 || total <= 0 {
		return n
	}
	est := float64(total) / float64(done) * float64(n) * 1.05
	return int(min(est, 1<<34))
}

// InferNumeric returns a String column as a Numeric one when every present
// value is a number as the readers parse one (ParseNumber: spaces around
// it allowed, pandas' syntax, not strconv's wider one) and at least one is
// present; ok is false otherwise.
func InferNumeric(c *Column) (Column, bool) {
	if c.Kind == Numeric {
		return *c, true
	}
	nums := make([]float64, len(c.Str))
	present := 0
	for i, s := range c.Str {
		if c.Null != nil && c.Null[i] {
			nums[i] = math.NaN()
			continue
		}
		t := strings.TrimSpace(s)
		v, ok := parseNumber([]byte(t))
		if !ok {
			return Column{}, false
		}
		nums[i] = v
		if !isNAString(t) {
			present++
		}
	}
	if present == 0 {
		return Column{}, false
	}
	return Column{Name: c.Name, Kind: Numeric, Num: nums}, true
}

// minEachRows is the smallest batch whose columns eachColumn hands to
// other goroutines.
const minEachRows = 4096

// eachColumn calls fn(j) for j in [0, n), on up to workers goroutines when
// the batch (rows) is worth it.
func eachColumn(n, workers, rows int, fn func(j int)) {
	if workers <= 1 || n <= 1 || rows < minEachRows {
		for j := range n {
			fn(j)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) - 1 {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
				fn(j)
			}
		})
	}
	for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
		fn(j)
	}
	wg.Wait()
}
