package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
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

// groupColumns names a group's columns as inspect prints them: a vector
// column's dimension columns as emb[100], other columns joined by commas.
func groupColumns(a *artifact.Artifact, cols []string) string {
	for _, e := range a.Embeddings {
		if slices.Equal(e.Columns, cols) {
			return fmt.Sprintf("%s[%d]", e.Column, len(cols))
		}
	}
	return strings.Join(cols, ", ")
}

// writeVectorProfile prints the profile line of vector column e: its
// counts (those of its dimension columns, found in rest, the profile's
// inputs from the first dimension on) and its contract's norms, once for
// the whole vector.
func writeVectorProfile(b *bytes.Buffer, e *artifact.Embedding, rest []profile.Feature) {
	if e == nil {
		return
	}
	in := map[string]bool{}
	for _, c := range e.Columns {
		in[c] = true
	}
	var count, lo, hi int64 = 0, -1, -1
	for _, f := range rest {
		if !in[f.Name] {
			continue
		}
		count = max(count, f.Count)
		if lo < 0 || f.Missing < lo {
			lo = f.Missing
		}
		hi = max(hi, f.Missing)
	}
	missing := strconv.FormatInt(lo, 10)
	if hi != lo {
		missing += ".." + strconv.FormatInt(hi, 10)
	}
	name := fmt.Sprintf("%s[%d]", e.Column, len(e.Columns))
	fmt.Fprintf(b, "  %-24s %-11s n=%d missing=%s", name, "vector", count, missing)
	if c := e.Contract; c != nil {
		n := c.Profile.Norms
		fmt.Fprintf(b, " norms mean=%.4g std=%.4g min=%.4g max=%.4g (%d-d %s, metric %s; contract above)",
			n.Mean, n.Std, n.Min, n.Max, c.Dimension, c.Dtype, c.Metric)
	}
	b.WriteString("\n")
}

// vectorOutputs returns the vector column whose dimension columns are the
// outputs from index i on, in order (all of one type), or nil.
func vectorOutputs(a *artifact.Artifact, i int) *artifact.Embedding {
	for k := range a.Embeddings {
		e := &a.Embeddings[k]
		if len(e.Columns) < 2 || i+len(e.Columns) > len(a.Outputs) {
			continue
		}
		same := true
		for j, c := range e.Columns {
			o := a.Outputs[i+j]
			if o.Name != c || o.Type != a.Outputs[i].Type {
				same = false
				break
			}
		}
		if same {
			return e
		}
	}
	return nil
}
