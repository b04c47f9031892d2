// Package parquetio reads and writes Parquet files as table batches. It is
// the only package that imports parquet-go: importing it (blank, if need
// be) registers Parquet with table.Open and table.Create, so every command
// and library call that opens a data file by name handles .parquet; files
// opened that way decode a batch's columns on every core.
package parquetio

import (
	"runtime"

	"github.com/normguard/normguard/table"
)

func init() {
	table.RegisterFormat(table.FormatParquet, table.FileFormat{
		Open: func(path string, opts table.OpenOptions) (table.Reader, error) {
			r, err := Open(path, Options{BatchRows: opts.BatchRows, Workers: runtime.GOMAXPROCS(0)})
			if err != nil {
				return nil, err
			}
			return r, nil
		},
		Create: func(path string, fields []table.Field) (table.Writer, error) {
			w, err := Create(path, fields)
			if err != nil {
				return nil, err
			}
			return w, nil
		},
	})
}
