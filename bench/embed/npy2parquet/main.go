// Command npy2parquet writes the vectors of a 2-D .npy file as a Parquet
// file with one list column named after the .npy file's stem (emb.npy →
// "emb", float32 elements) and an "id" column, the layout pyarrow writes
// for a list of float32. bench/embed/scenarios.py uses it to run the
// held-out scenarios on Parquet without pyarrow.
//
//	npy2parquet IN.npy OUT.parquet
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/normguard/normguard/table"
)

type row struct {
	ID  int64     `parquet:"id"`
	Emb []float32 `parquet:"emb,list"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: npy2parquet IN.npy OUT.parquet")
		os.Exit(2)
	}
	if err := convert(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "npy2parquet:", err)
		os.Exit(2)
	}
}

func convert(in, out string) error {
	name := strings.TrimSuffix(filepath.Base(in), ".npy")
	if name != "emb" {
		return fmt.Errorf("%s: the Parquet column is named emb; name the file emb.npy", in)
	}
	r, err := table.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	fields := []table.Field{{Name: name, Kind: table.Vector}}
	if err := r.Project(fields); err != nil {
		return err
	}
	cols, n, err := table.ReadAll(r, fields)
	if err != nil {
		return err
	}
	c := &cols[0]
	rows := make([]row, n)
	for i := range rows {
		rows[i].ID = int64(i)
		for _, v := range c.Row(i) {
			rows[i].Emb = append(rows[i].Emb, float32(v)) // exact: the .npy holds float32
		}
	}
	return parquet.WriteFile(out, rows)
}
