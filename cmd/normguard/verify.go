package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify A",
		Short: "Check an artifact's integrity (digest, canonical form) and meaning (schema, fitted parameters, training profile)",
		Long: `verify checks A as every command does when it loads it: the digest and the
canonical form, then the meaning of the content (artifact.Check): the spec,
groups, steps, inputs and outputs agree; every fitted parameter is usable
(lengths, scales finite and > 0, sorted quantiles and bin edges, unique
categories); the training profile's arrays have the right lengths, sorted
grids, CDFs non-decreasing in [0, 1] and counts that add up. A refusal names
the field by its JSON path, e.g. groups[0].steps[1].fitted.scale_[3], and
exits 2. The file is read as a stream (as the registry reads an upload), so
verify's memory does not grow with the artifact's size.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			digest, err := verifyFile(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok %s %s\n", digest, args[0])
			return nil
		},
	}
}

// verifyFile checks the artifact at path with artifact.Verify and returns
// its digest. What is not a regular file is left to artifact.Load, whose
// refusal names it as every other command's does.
func verifyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("load artifact: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		a, err := artifact.Load(path)
		if err != nil {
			return "", err
		}
		return a.Digest, nil
	}
	v, err := artifact.Verify(f, fi.Size(), path)
	if err != nil {
		return "", err
	}
	return v.Digest, nil
}
