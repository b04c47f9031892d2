package main

import (
	"bytes"
	"fmt"

	"github.com/normguard/normguard/artifact"
)

// writeEmbeddings lists each vector column's embedding contract: what it
// promises and a summary of its profile.
func writeEmbeddings(b *bytes.Buffer, a *artifact.Artifact) {
	for _, e := range a.Embeddings {
		c := e.Contract
		model := c.Model
		if model == "" {
			model = "(not named)"
		} else if c.Revision != "" {
			model += "@" + c.Revision
		}
		unit := "no"
		if c.UnitLength {
			unit = "yes"
		}
		n := c.Profile.Norms
		fmt.Fprintf(b, "vector column %s (columns %s .. %s): %d-d %s, model %s, metric %s, unit length %s (tolerance %g)\n",
			e.Column, e.Columns[0], e.Columns[len(e.Columns)-1], c.Dimension, c.Dtype, model, c.Metric, unit, c.UnitTolerance)
		fmt.Fprintf(b, "  %d vectors (%d zero); norms mean %.4g std %.4g min %.4g max %.4g; %d principal directions; %d sampled vectors; %d canaries\n",
			c.Profile.Count, c.Profile.ZeroCount, n.Mean, n.Std, n.Min, n.Max, len(c.Profile.Components), len(c.Profile.Sample), len(c.Canaries))
	}
	if len(a.Embeddings) > 0 {
		b.WriteString("\n")
	}
}
