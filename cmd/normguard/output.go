package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

// colorOutput reports whether a report bound for out ("" = standard
// output) goes to a terminal, where tables are coloured.
func colorOutput(cmd *cobra.Command, out string) bool {
	f, ok := cmd.OutOrStdout().(*os.File)
	return out == "" && ok && isTerminal(f)
}

// writeOutput writes a rendered report to out (artifact.WriteFileAtomic:
// a temporary file renamed into place; a device, FIFO or /dev/stdout is
// written in place), or to standard output when out is "".
func writeOutput(cmd *cobra.Command, out string, b []byte) error {
	if out != "" {
		return artifact.WriteFileAtomic(out, b)
	}
	_, err := cmd.OutOrStdout().Write(b)
	return err
}
