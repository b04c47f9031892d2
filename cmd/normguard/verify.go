package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify A",
		Short: "Check an artifact's integrity (digest, canonical form, consistency)",
		Args:  cobra.ExactArgs(1),
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
