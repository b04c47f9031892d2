package main

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
)

// Vector columns in diff. artifact.Diff walks the embeddings section
// value by value (the contract's sample, its principal directions) and
// keys a vector group by all its dimension columns; the review instead
// names a vector group by its vector column, lists its fitted parameters
// one line per parameter (how many dimensions changed, by how much at
// most; every dimension with --verbose) and compares the contracts as a
// reviewer reads them: dimension, dtype, model, metric, unit length, the
// norms and the distance between the mean vectors.

// vectorKeys maps the key artifact.Diff gives a vector group (its
// dimension columns joined by commas) to the vector column, over both
// artifacts.
func vectorKeys(a, b *artifact.Artifact) map[string]string {
	out := map[string]string{}
	for _, x := range []*artifact.Artifact{a, b} {
		for _, e := range x.Embeddings {
			out[artifact.GroupKey(e.Columns)] = fmt.Sprintf("%s[%d]", e.Column, len(e.Columns))
		}
	}
	return out
}

// vectorChanges rewrites the changes about vector columns: the embeddings
// section's raw values are left out (writeVectors compares the
// contracts), a vector group is named by its vector column ("emb[d]"),
// and, unless verbose, the per-dimension changes of one fitted parameter
// become one line.
func vectorChanges(a, b *artifact.Artifact, changes []artifact.Change, verbose bool) []artifact.Change {
	keys := vectorKeys(a, b)
	if len(keys) == 0 {
		return changes
	}
	var out []artifact.Change
	type agg struct {
		at             int // index in out
		n, total       int
		maxDiff        float64
		oneSided       int
		old, new, path string
	}
	collapsed := map[string]*agg{}
	dims := vectorDims(a, b)
	for _, c := range changes {
		if c.Path == "embeddings" || strings.HasPrefix(c.Path, "embeddings[") || strings.HasPrefix(c.Path, "embeddings.") {
			continue
		}
		if c.Section == artifact.SectionProfile && dims[profiledName(c.Path)] {
			continue // counts only: the contracts say how the vectors moved
		}
		renamed := false
		for key, col := range keys {
			if strings.Contains(c.Path, key) {
				c.Path = strings.ReplaceAll(c.Path, key, col)
				renamed = true
			}
		}
		if !renamed || verbose || c.Section != artifact.SectionParameters || !strings.HasSuffix(c.Path, "]") {
			out = append(out, c)
			continue
		}
		base := c.Path[:strings.LastIndex(c.Path, "[")]
		g := collapsed[base]
		if g == nil {
			g = &agg{at: len(out), path: base}
			collapsed[base] = g
			out = append(out, artifact.Change{Section: c.Section, Path: base})
		}
		g.n++
		x, errX := strconv.ParseFloat(c.Old, 64)
		y, errY := strconv.ParseFloat(c.New, 64)
		if errX == nil && errY == nil {
			g.maxDiff = math.Max(g.maxDiff, math.Abs(y-x))
		} else {
			g.oneSided++
		}
	}
	for _, g := range collapsed {
		what := fmt.Sprintf("%d dimensions changed", g.n)
		if g.n > g.oneSided {
			what += fmt.Sprintf(", by at most %s", g2(g.maxDiff))
		}
		out[g.at].Old, out[g.at].New = "(per dimension)", what
	}
	return out
}

// vectorDims is the set of the dimension columns of the vector columns of
// a and b.
func vectorDims(a, b *artifact.Artifact) map[string]bool {
	out := map[string]bool{}
	for _, x := range []*artifact.Artifact{a, b} {
		for c := range x.VectorInputs() {
			out[c] = true
		}
	}
	return out
}

// profiledName returns the column a profile change is about:
// "profile.inputs[emb_3].count" gives "emb_3".
func profiledName(path string) string {
	for _, pre := range []string{"profile.inputs[", "profile.outputs["} {
		if rest, ok := strings.CutPrefix(path, pre); ok {
			if i := strings.Index(rest, "]"); i >= 0 {
				return rest[:i]
			}
		}
	}
	return ""
}

func g2(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }

// writeVectors compares the contracts of the vector columns of a and b
// and writes a "vectors:" section when they differ; it reports whether
// anything differed.
func writeVectors(buf *bytes.Buffer, a, b *artifact.Artifact) bool {
	var lines []string
	seen := map[string]bool{}
	for _, x := range [][2]*artifact.Artifact{{a, b}, {b, a}} {
		for _, e := range x[0].Embeddings {
			if seen[e.Column] {
				continue
			}
			seen[e.Column] = true
			other := x[1].Embedding(e.Column)
			switch {
			case other == nil && x[0] == a:
				lines = append(lines, fmt.Sprintf("  - %s: vector column (%d-d) removed", e.Column, e.Contract.Dimension))
			case other == nil:
				lines = append(lines, fmt.Sprintf("  + %s: vector column (%d-d) added", e.Column, e.Contract.Dimension))
			default:
				lines = append(lines, contractChanges(e.Column, e.Contract, other.Contract)...)
			}
		}
	}
	if len(lines) == 0 {
		return false
	}
	buf.WriteString("vectors:\n")
	for _, l := range lines {
		buf.WriteString(l + "\n")
	}
	return true
}

// contractChanges lists the differences of two contracts of column col.
func contractChanges(col string, x, y *embed.Contract) []string {
	var out []string
	add := func(field, old, new string) {
		if old != new {
			out = append(out, fmt.Sprintf("  ~ %s.%s: %s -> %s", col, field, old, new))
		}
	}
	model := func(c *embed.Contract) string {
		switch {
		case c.Model == "":
			return "(not named)"
		case c.Revision == "":
			return c.Model
		}
		return c.Model + "@" + c.Revision
	}
	add("dimension", strconv.Itoa(x.Dimension), strconv.Itoa(y.Dimension))
	add("dtype", x.Dtype, y.Dtype)
	add("model", model(x), model(y))
	add("metric", x.Metric, y.Metric)
	add("unit_length", strconv.FormatBool(x.UnitLength), strconv.FormatBool(y.UnitLength))
	add("vectors", strconv.Itoa(x.Profile.Count), strconv.Itoa(y.Profile.Count))
	add("norm_mean", g2(x.Profile.Norms.Mean), g2(y.Profile.Norms.Mean))
	add("norm_std", g2(x.Profile.Norms.Std), g2(y.Profile.Norms.Std))
	if len(x.Profile.Mean) == len(y.Profile.Mean) && len(x.Profile.Mean) > 0 {
		var d2 float64
		for k := range x.Profile.Mean {
			d := y.Profile.Mean[k] - x.Profile.Mean[k]
			d2 += d * d
		}
		if d2 > 0 {
			line := fmt.Sprintf("  ~ %s.mean_vector: moved %s (L2)", col, g2(math.Sqrt(d2)))
			if x.Profile.TotalVariance > 0 {
				line += fmt.Sprintf(", %s of A's spread (sqrt of total variance)", g2(math.Sqrt(d2/x.Profile.TotalVariance)))
			}
			out = append(out, line)
		}
	}
	return out
}
