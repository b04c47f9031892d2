package table

// Reader streams a table as batches of columns.
//
// A Reader is opened on a source (its header is read at open time), then
// told with Project which columns to materialize and as which kinds, then
// iterated:
//
//	for r.Next() {
//		b := r.Batch() // valid until the next call to Next
//	}
//	if err := r.Err(); err != nil { ... }
type Reader interface {
	// Header returns the source's column names in file order.
	Header() []string
	// Project selects the columns to read, in the order batches will hold
	// them, and the kind to parse each as. A String field keeps the text;
	// a Numeric field parses it as float64 (missing-value tokens give NaN;
	// other non-numbers are an error naming file, line and column). It
	// returns an error naming any field absent from the header.
	Project(fields []Field) error
	// Next reads the next batch; it returns false at the end or on error.
	Next() bool
	// Batch returns the current batch. Its buffers are reused by Next.
	Batch() *Batch
	// Err returns the first error met, if any (sticky).
	Err() error
	// Close releases the source.
	Close() error
}

// Writer writes batches to a table.
//
// Output files are written to a temporary file beside the destination and
// renamed into place by Close, so a failed run never leaves a partial file;
// Abort discards the temporary file.
type Writer interface {
	// Write appends the batch's rows. Its columns must match the fields the
	// writer was created with, in order.
	Write(b *Batch) error
	// Close flushes and commits the output.
	Close() error
	// Abort discards everything written. It is safe after Close (no-op).
	Abort() error
}
