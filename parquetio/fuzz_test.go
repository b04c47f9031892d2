package parquetio

import "testing"

// FuzzParquetReader checks that no input makes the Parquet reader panic:
// every byte string either reads (as numbers and as text) or gives an
// error. The seed corpus in testdata/fuzz/FuzzParquetReader holds a small
// valid file with optional, dictionary-encoded and required columns.
func FuzzParquetReader(f *testing.F) {
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(data)
	})
}
