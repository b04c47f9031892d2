package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect A",
		Short: "Show an artifact for people: model, training data, steps, parameters, schema",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := artifact.Load(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				b, err := artifact.Encode(a)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return writeInspect(cmd.OutOrStdout(), args[0], a)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the canonical JSON instead")
	return cmd
}

// writeInspect prints a readable summary of a.
func writeInspect(w io.Writer, path string, a *artifact.Artifact) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "artifact   %s\n", path)
	fmt.Fprintf(&b, "digest     %s\n", a.Digest)
	fmt.Fprintf(&b, "format     %s v%d\n", a.Format, a.FormatVersion)
	if a.Model != nil {
		fmt.Fprintf(&b, "model      %s %s\n", a.Model.Name, a.Model.Version)
	}
	fmt.Fprintf(&b, "training   %d rows, fingerprint %s\n", a.Training.Rows, a.Training.Fingerprint)
	fmt.Fprintf(&b, "remainder  %s", a.Spec.Remainder)
	if len(a.Passthrough) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(a.Passthrough, ", "))
	}
	b.WriteString("\n\n")
	writeEmbeddings(&b, a)
	for gi, g := range a.Groups {
		fmt.Fprintf(&b, "group %d: %s (%s)\n", gi, groupColumns(a, g.Columns), g.Type)
		for _, s := range g.Steps {
			fmt.Fprintf(&b, "  %s", s.Name)
			if p := compactParams(s.Params); p != "" {
				fmt.Fprintf(&b, "  %s", p)
			}
			b.WriteString("\n")
			for _, line := range fittedLines(s.Fitted) {
				fmt.Fprintf(&b, "      %s\n", line)
			}
		}
	}
	if a.Profile != nil {
		b.WriteString("\ntraining profile (raw inputs)\n")
		dims := a.VectorInputs()
		for i, f := range a.Profile.Inputs {
			if d, ok := dims[f.Name]; ok {
				// A vector is judged as a whole: one line, at its first
				// dimension, instead of one per dimension.
				if d.Index == 0 {
					writeVectorProfile(&b, a.Embedding(d.Column), a.Profile.Inputs[i:])
				}
				continue
			}
			fmt.Fprintf(&b, "  %-24s %-11s n=%d missing=%d", f.Name, f.Type, f.Count, f.Missing)
			if f.Mean != nil {
				fmt.Fprintf(&b, " mean=%.4g std=%.4g min=%.4g max=%.4g", float64(*f.Mean), float64(*f.Std), float64(*f.Min), float64(*f.Max))
			}
			if f.Quantiles != nil {
				fmt.Fprintf(&b, " (%d-point CDF, max gap %.3g)", len(f.Quantiles), f.MaxCDFGap)
			}
			if c := f.Categories; c != nil {
				top := c.Values
				if len(top) > 3 {
					top = top[:3]
				}
				fmt.Fprintf(&b, " %d distinct, top %s", c.Distinct, strings.Join(top, ", "))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\noutputs\n")
	for i := 0; i < len(a.Outputs); i++ {
		f := a.Outputs[i]
		if e := vectorOutputs(a, i); e != nil {
			// A vector's dimension columns, in order: one line.
			last := i + len(e.Columns) - 1
			name := fmt.Sprintf("%s .. %s (%s[%d])", f.Name, a.Outputs[last].Name, e.Column, len(e.Columns))
			fmt.Fprintf(&b, "  %3d  %-32s %s (outputs %d..%d)\n", i, name, f.Type, i, last)
			i = last
			continue
		}
		fmt.Fprintf(&b, "  %3d  %-32s %s\n", i, f.Name, f.Type)
	}
	_, err := w.Write(terminalSafe(b.Bytes()))
	return err
}

// compactParams renders a parameter struct as k=v pairs.
func compactParams(p any) string {
	m := jsonMap(p)
	keys := sortedKeys(m)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+string(m[k]))
	}
	return strings.Join(parts, " ")
}

// fittedLines renders fitted attributes, long arrays shortened.
func fittedLines(f any) []string {
	m := jsonMap(f)
	var out []string
	for _, k := range sortedKeys(m) {
		if k == "feature_names_in_" {
			continue
		}
		out = append(out, fmt.Sprintf("%-20s %s", k, shorten(m[k], 8)))
	}
	return out
}

func jsonMap(v any) map[string]json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shorten prints a JSON array with at most n elements (nested arrays
// shortened too), e.g. [1, 2, 3, ... 997 more].
func shorten(raw json.RawMessage, n int) string {
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) != nil {
		return string(raw)
	}
	parts := make([]string, 0, n+1)
	for i, e := range arr {
		if i == n {
			parts = append(parts, fmt.Sprintf("... %d more", len(arr)-n))
			break
		}
		parts = append(parts, shorten(e, n))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
