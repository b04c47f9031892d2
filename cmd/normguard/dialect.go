package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/table"
)

// addDelimiterFlag gives cmd a --delimiter flag that sets the field
// delimiter of the CSV/TSV files named by its flags pathFlags, for the
// length of one run (table.SetDialect): the library code that reads
// those paths sees it without taking an option.
func addDelimiterFlag(cmd *cobra.Command, pathFlags ...string) {
	var delim string
	cmd.Flags().StringVar(&delim, "delimiter", "",
		"field delimiter of CSV data files: one character such as ';' or '|', or tab (default: tab for .tsv, comma otherwise)")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if delim == "" {
			return run(c, args)
		}
		d, err := table.ParseDelimiter(delim)
		if err != nil {
			return fmt.Errorf("--delimiter: %w", err)
		}
		for _, name := range pathFlags {
			path, err := c.Flags().GetString(name)
			if err != nil || path == "" {
				continue
			}
			defer table.SetDialect(path, table.Dialect{Delimiter: d})()
		}
		return run(c, args)
	}
}
