package table

// OwningWriter is a Writer that can take a batch over instead of being
// done with it when Write returns: WriteOwned queues the batch and calls
// release once it no longer reads it. A producer with a few batches of its
// own (transform.Stream) fills the next ones while the writer still
// formats the earlier, and recycles each batch when release is called.
// CSVWriter implements it.
type OwningWriter interface {
	Writer
	// WriteOwned appends b's rows as Write does, but b belongs to the
	// writer until release is called: the caller must not change it
	// before. release is called exactly once, from any goroutine; when
	// WriteOwned returns an error, before it returns.
	WriteOwned(b *Batch, release func()) error
}

var _ OwningWriter = (*CSVWriter)(nil)
