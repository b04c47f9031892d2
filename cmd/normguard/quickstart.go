package main

import (
	"github.com/spf13/cobra"

	"github.com/normguard/normguard/quickstart"
)

func newQuickstartCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole story on a real data set shipped inside the binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := quickstart.Run(cmd.Context(), dir, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "normguard-quickstart", "folder to write the data, spec, artifact and features to")
	return cmd
}
