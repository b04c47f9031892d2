package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify A",
		Short: "Check an artifact's integrity (digest, canonical form) and meaning (schema, fitted parameters, training profile)",
		Long: `verify loads A as every command does: it checks the digest and the canonical
form, then the meaning of the content (artifact.Check): the spec, groups, steps,
inputs and outputs agree; every fitted parameter is usable (lengths, scales
finite and > 0, sorted quantiles and bin edges, unique categories); the
training profile's arrays have the right lengths, sorted grids, CDFs
non-decreasing in [0, 1] and counts that add up. A refusal names the field
by its JSON path, e.g. groups[0].steps[1].fitted.scale_[3], and exits 2.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := artifact.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok %s %s\n", a.Digest, args[0])
			return nil
		},
	}
}
