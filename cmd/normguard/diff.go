package main

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
)

func newDiffCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed between two artifacts, as a review (exit 1 when they differ)",
		Long: `diff compares two artifacts the way a reviewer reads a change: the model link,
the spec, the fitted parameters and the input/output schema first (columns matched
by name, so a one-hot category added or removed is one line), then the training
data facts, then a summary of the training profile: which features moved and by
how much (mean shift and std ratio in A's training standard deviations, missing
rate, category shares). --verbose lists every difference, profile included.

Exit status: 0 identical, 1 different, 2 error.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := artifact.Load(args[0])
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			b, err := artifact.Load(args[1])
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			changes, err := artifact.Diff(a, b)
			if err != nil {
				return fmt.Errorf("diff: %w", err)
			}
			w := cmd.OutOrStdout()
			if len(changes) == 0 {
				fmt.Fprintf(w, "identical: %s\n", a.Digest)
				return nil
			}
			fmt.Fprintf(w, "--- %s %s\n+++ %s %s\n", args[0], a.Digest, args[1], b.Digest)
			if _, err := w.Write(terminalSafe(renderReview(a, b, changes, verbose))); err != nil {
				return err
			}
			return errFound
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every difference, each profile value included, and every element of long lists")
	cmd.Flags().BoolVar(&verbose, "all", false, "same as --verbose")
	_ = cmd.Flags().MarkHidden("all")
	return cmd
}

// listShown is how many elements of one list (categories added, ...) the
// review names before counting the rest.
const listShown = 8

// sharesShown is how many category share changes a moved feature lists.
const sharesShown = 4

// renderReview prints the changes section by section: model, spec,
// parameters and schema in full (long lists cut unless verbose), the
// training facts, then the profile summarised per feature, or every
// profile change when verbose.
func renderReview(a, b *artifact.Artifact, changes []artifact.Change, verbose bool) []byte {
	var buf bytes.Buffer
	changes = vectorChanges(a, b, changes, verbose)
	bySection := map[string][]artifact.Change{}
	for _, c := range changes {
		bySection[c.Section] = append(bySection[c.Section], c)
	}
	sortByChain(bySection[artifact.SectionParameters], a, b)
	for _, sec := range []string{artifact.SectionModel, artifact.SectionSpec, artifact.SectionParameters} {
		cs := bySection[sec]
		if len(cs) == 0 {
			fmt.Fprintf(&buf, "%s: no change\n", sec)
			continue
		}
		fmt.Fprintf(&buf, "%s:\n", sec)
		writeChanges(&buf, cs, verbose)
	}
	writeSchema(&buf, a, b, bySection[artifact.SectionSchema], verbose)
	writeVectors(&buf, a, b)
	if cs := bySection[artifact.SectionTraining]; len(cs) > 0 {
		fmt.Fprintf(&buf, "training data:\n")
		writeChanges(&buf, cs, true)
	}
	if cs := bySection[artifact.SectionProfile]; len(cs) > 0 {
		if verbose {
			fmt.Fprintf(&buf, "profile (%d differences):\n", len(cs))
			writeChanges(&buf, cs, true)
		} else {
			writeProfileSummary(&buf, a, b, len(cs))
		}
	}
	return buf.Bytes()
}

// sortByChain orders fitted-parameter changes as the chains run: groups
// in spec order, steps in chain order (a's, then b's new ones), keeping
// the path order within a step.
func sortByChain(cs []artifact.Change, a, b *artifact.Artifact) {
	rank := map[string]int{}
	for _, art := range []*artifact.Artifact{a, b} {
		for _, g := range art.Groups {
			names := make([]string, len(g.Steps))
			for i, st := range g.Steps {
				names[i] = st.Name
			}
			for _, k := range artifact.StepKeys(names) {
				key := artifact.GroupKey(g.Columns) + "." + k
				if _, ok := rank[key]; !ok {
					rank[key] = len(rank)
				}
			}
		}
	}
	rankOf := func(path string) int {
		best, r := -1, len(rank)
		for k, v := range rank {
			if strings.HasPrefix(path, k+".") && len(k) > best {
				best, r = len(k), v
			}
		}
		return r
	}
	sort.SliceStable(cs, func(i, j int) bool { return rankOf(cs[i].Path) < rankOf(cs[j].Path) })
}

// writeChanges prints changed values one per line, and the elements added
// to or removed from one list together on one line each.
func writeChanges(buf *bytes.Buffer, cs []artifact.Change, verbose bool) {
	for i := 0; i < len(cs); {
		c := cs[i]
		if c.Old != "" && c.New != "" {
			fmt.Fprintf(buf, "  ~ %s: %s -> %s\n", c.Path, shortValue(c.Old, verbose), shortValue(c.New, verbose))
			i++
			continue
		}
		// A run of one-sided changes of the same path: a list's elements
		// (or one value that appeared or disappeared).
		var gone, added []string
		j := i
		for ; j < len(cs) && cs[j].Path == c.Path && (cs[j].Old == "" || cs[j].New == ""); j++ {
			if cs[j].New == "" {
				gone = append(gone, cs[j].Old)
			} else {
				added = append(added, cs[j].New)
			}
		}
		if len(gone) > 0 {
			fmt.Fprintf(buf, "  - %s: %s\n", c.Path, listOf(gone, verbose))
		}
		if len(added) > 0 {
			fmt.Fprintf(buf, "  + %s: %s\n", c.Path, listOf(added, verbose))
		}
		i = j
	}
}

// listOf joins values, naming at most listShown unless verbose.
func listOf(xs []string, verbose bool) string {
	if verbose || len(xs) <= listShown {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more (--verbose lists them)", strings.Join(xs[:listShown], ", "), len(xs)-listShown)
}

// shortValue shows a JSON number with 6 significant digits unless verbose.
func shortValue(s string, verbose bool) string {
	if verbose {
		return s
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// writeSchema prints the output and input schema changes by column name;
// an output column that is a one-hot category of an input is named as a
// category added or removed.
func writeSchema(buf *bytes.Buffer, a, b *artifact.Artifact, cs []artifact.Change, verbose bool) {
	if len(cs) == 0 {
		fmt.Fprintf(buf, "schema: no change\n")
		return
	}
	fmt.Fprintf(buf, "schema: %d -> %d output columns, %d -> %d input columns\n", len(a.Outputs), len(b.Outputs), len(a.Inputs), len(b.Inputs))
	oneHot := oneHotInputs(a)
	for k := range oneHotInputs(b) {
		oneHot[k] = true
	}
	var rest []artifact.Change
	for _, c := range cs {
		if c.Path != "outputs" {
			rest = append(rest, c)
			continue
		}
		sign, v := "+", c.New
		what := "added"
		if c.New == "" {
			sign, v, what = "-", c.Old, "removed"
		}
		name, _ := strconv.Unquote(v)
		if col, cat, ok := oneHotCategory(name, oneHot); ok {
			fmt.Fprintf(buf, "  %s outputs: %s  (one-hot category %q of %s %s)\n", sign, name, cat, col, what)
		} else {
			fmt.Fprintf(buf, "  %s outputs: %s\n", sign, name)
		}
	}
	writeChanges(buf, rest, verbose)
}

// oneHotInputs are the columns of a's groups with a one_hot_encoder step.
func oneHotInputs(a *artifact.Artifact) map[string]bool {
	out := map[string]bool{}
	for _, g := range a.Groups {
		for _, s := range g.Steps {
			if s.Name == "one_hot_encoder" {
				for _, c := range g.Columns {
					out[c] = true
				}
			}
		}
	}
	return out
}

// oneHotCategory splits an output name <col>_<category> for the longest
// one-hot input col it starts with.
func oneHotCategory(name string, cols map[string]bool) (col, cat string, ok bool) {
	for c := range cols {
		if strings.HasPrefix(name, c+"_") && len(c) > len(col) {
			col, cat, ok = c, name[len(c)+1:], true
		}
	}
	return col, cat, ok
}

// writeProfileSummary prints one line per profiled feature that moved
// (see artifact.ProfileShifts), and names the inputs that did not.
// Features on one side only are in the schema section already.
func writeProfileSummary(buf *bytes.Buffer, a, b *artifact.Artifact, n int) {
	var shifts []artifact.FeatureShift
	moved := map[string]int{}
	both := map[string]int{}
	var still []string
	dims := vectorDims(a, b)
	for _, s := range artifact.ProfileShifts(a, b) {
		if s.TypeA == "" || s.TypeB == "" || dims[s.Name] {
			continue
		}
		both[s.Stage]++
		if s.Moved {
			moved[s.Stage]++
			shifts = append(shifts, s)
		} else if s.Stage == "inputs" {
			still = append(still, s.Name)
		}
	}
	fmt.Fprintf(buf, "profile: %d of %d inputs and %d of %d outputs moved (%d -> %d training rows; --verbose lists all %d profile differences)\n",
		moved["inputs"], both["inputs"], moved["outputs"], both["outputs"], a.Training.Rows, b.Training.Rows, n)
	width := 0
	for _, s := range shifts {
		width = max(width, len(s.Name))
	}
	for _, s := range shifts {
		fmt.Fprintf(buf, "  %-6s %-*s  %s\n", strings.TrimSuffix(s.Stage, "s"), width, s.Name, describeShift(s))
	}
	if len(still) > 0 {
		fmt.Fprintf(buf, "  inputs within the floors (mean %g sd, std ×%g, missing rate and category shares %g point): %s\n",
			artifact.MovedMeanShift, artifact.MovedStdRatio, artifact.MovedRate*100, strings.Join(still, ", "))
	}
}

// describeShift says how a moved feature moved: mean shift and std ratio
// (numeric), missing rate (when not 0 on both sides), range, and the
// category shares that moved by a point or more, appeared or disappeared.
func describeShift(s artifact.FeatureShift) string {
	if s.TypeA != s.TypeB {
		return fmt.Sprintf("type %s -> %s", s.TypeA, s.TypeB)
	}
	var parts []string
	if s.KindA != s.KindB {
		parts = append(parts, fmt.Sprintf("kind %s -> %s", kindName(s.KindA), kindName(s.KindB)))
	}
	if s.TimeA != s.TimeB && s.TimeA[0] != "" && s.TimeB[0] != "" {
		parts = append(parts, fmt.Sprintf("time range %s .. %s -> %s .. %s", s.TimeA[0], s.TimeA[1], s.TimeB[0], s.TimeB[1]))
	}
	if s.KindA == s.KindB && (s.KindA == "time" || s.KindA == "identifier") && s.DistinctA != s.DistinctB {
		parts = append(parts, fmt.Sprintf("distinct values %d -> %d", s.DistinctA, s.DistinctB))
	}
	if !math.IsNaN(s.MeanShift) {
		parts = append(parts, fmt.Sprintf("mean %+.2f sd", s.MeanShift), fmt.Sprintf("std ×%.2f", s.StdRatio))
	}
	if s.MissingA > 0 || s.MissingB > 0 {
		parts = append(parts, fmt.Sprintf("missing %s -> %s", pct(s.MissingA, false), pct(s.MissingB, false)))
	}
	if !math.IsNaN(s.MinA) && !math.IsNaN(s.MinB) && (s.MinA != s.MinB || s.MaxA != s.MaxB) && len(s.Shares) == 0 {
		parts = append(parts, fmt.Sprintf("range [%s, %s] -> [%s, %s]", g(s.MinA), g(s.MaxA), g(s.MinB), g(s.MaxB)))
	}
	var sh []string
	more := 0
	for _, c := range s.Shares {
		newCat := c.A == 0 && !c.AUpper && c.B > 0
		gone := c.B == 0 && !c.BUpper && c.A > 0
		if !newCat && !gone && c.MinChange() < artifact.MovedRate {
			continue
		}
		if len(sh) == sharesShown {
			more++
			continue
		}
		switch {
		case newCat:
			sh = append(sh, fmt.Sprintf("%s new (%s)", c.Value, pct(c.B, false)))
		case gone:
			sh = append(sh, fmt.Sprintf("%s gone (was %s)", c.Value, pct(c.A, false)))
		default:
			sh = append(sh, fmt.Sprintf("%s %s -> %s", c.Value, pct(c.A, c.AUpper), pct(c.B, c.BUpper)))
		}
	}
	if more > 0 {
		sh = append(sh, fmt.Sprintf("%d more", more))
	}
	if len(sh) > 0 {
		parts = append(parts, "shares: "+strings.Join(sh, ", "))
	}
	return strings.Join(parts, "; ")
}

// kindName names a profile kind ("" is an ordinary categorical column).
func kindName(k string) string {
	if k == "" {
		return "categories"
	}
	return k
}

// pct formats a share as a percentage ("≤" before an upper bound, "?"
// for NaN).
func pct(x float64, upper bool) string {
	if math.IsNaN(x) {
		return "?"
	}
	s := strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
	if upper {
		s = "≤" + s
	}
	return s
}

// g formats a number with 6 significant digits.
func g(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
