package main

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newDiffCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed between two artifacts (exit 1 when they differ)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := artifact.Load(args[0])
			if err != nil {
				return err
			}
			b, err := artifact.Load(args[1])
			if err != nil {
				return err
			}
			changes, err := artifact.Diff(a, b)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(changes) == 0 {
				fmt.Fprintf(w, "identical: %s\n", a.Digest)
				return nil
			}
			fmt.Fprintf(w, "--- %s %s\n+++ %s %s\n", args[0], a.Digest, args[1], b.Digest)
			_, err = w.Write(renderChanges(changes, all))
			if err != nil {
				return err
			}
			return errFound
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every changed value (default: at most 5 per attribute)")
	return cmd
}

var lastIndex = regexp.MustCompile(`\[\d+\]$`)

// renderChanges prints changes grouped by section; values of one array
// attribute beyond the fifth are summarized unless all is set.
func renderChanges(changes []artifact.Change, all bool) []byte {
	var b bytes.Buffer
	section := ""
	perAttr := map[string]int{}
	flush := func() {
		for _, attr := range slices.Sorted(maps.Keys(perAttr)) {
			if n := perAttr[attr]; n > 5 && !all {
				fmt.Fprintf(&b, "  ... %s: %d more changed values (--all lists them)\n", attr, n-5)
			}
		}
		clear(perAttr)
	}
	for _, c := range changes {
		if c.Section != section {
			flush()
			section = c.Section
			fmt.Fprintf(&b, "%s:\n", section)
		}
		attr := lastIndex.ReplaceAllString(c.Path, "")
		perAttr[attr]++
		if perAttr[attr] > 5 && !all {
			continue
		}
		switch {
		case c.Old == "":
			fmt.Fprintf(&b, "  + %s: %s\n", c.Path, c.New)
		case c.New == "":
			fmt.Fprintf(&b, "  - %s: %s\n", c.Path, c.Old)
		default:
			fmt.Fprintf(&b, "  ~ %s: %s -> %s\n", c.Path, c.Old, c.New)
		}
	}
	flush()
	return b.Bytes()
}
