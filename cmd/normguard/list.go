package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/registry"
)

type listOptions struct {
	registry, format string
}

func newListCmd() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list --registry DIR|URL",
		Short: "List a registry's models and versions (* marks the current one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "registry"); err != nil {
				return err
			}
			if o.format != "table" && o.format != "json" {
				return fmt.Errorf("list: --format must be table or json, got %q", o.format)
			}
			s, err := openRegistry(o.registry, false)
			if err != nil {
				return err
			}
			models, err := s.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("list %s: %w", o.registry, err)
			}
			if o.format == "json" {
				err = writeListJSON(cmd.OutOrStdout(), models)
			} else {
				err = writeListTable(cmd.OutOrStdout(), o.registry, models)
			}
			if err != nil {
				return err
			}
			// The others are listed; a damaged model is not a silent gap.
			for _, m := range models {
				if m.Damaged != "" {
					return fmt.Errorf("list %s: model %s cannot be read: %s", o.registry, m.Name, m.Damaged)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.registry, "registry", "", "registry folder or server URL (http://HOST:PORT)")
	f.StringVar(&o.format, "format", "table", "table or json (the JSON of GET /v1/models)")
	return cmd
}

// writeListJSON writes {"models": [...]}, the shape of GET /v1/models.
func writeListJSON(w io.Writer, models []registry.Model) error {
	b, err := json.MarshalIndent(struct {
		Models []registry.Model `json:"models"`
	}{models}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeListTable writes one row per version, oldest first within a model.
func writeListTable(w io.Writer, target string, models []registry.Model) error {
	if len(models) == 0 {
		_, err := fmt.Fprintf(w, "no models in %s\n", target)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tVERSION\tCURRENT\tDIGEST\tCREATED")
	for _, m := range models {
		if m.Damaged != "" {
			fmt.Fprintf(tw, "%s\t(damaged)\t\t\t\n", m.Name)
			continue
		}
		if len(m.Versions) == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t\n", m.Name)
		}
		for _, v := range m.Versions {
			cur := ""
			if v.Current {
				cur = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, v.Version, cur, shortDigest(v.Digest), v.Created.UTC().Format(time.RFC3339))
		}
	}
	return tw.Flush()
}

// shortDigest shortens "sha256:<64 hex>" to its first 12 hex digits, as
// container tools show image ids.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
