package diagnose

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/table"
)

// swapMoments bound the prefilter of unpairedSwaps: a column can hold
// another column's output only when its mean lies within swapMean
// standard deviations of that output's training mean and its standard
// deviation within a factor swapStd of the training one. Only the
// distribution test decides; the bounds merely skip hopeless pairs.
const (
	swapMean = 1.0
	swapStd  = 3.0
)

// A column's values match another column's training output when the
// drift test finds no drift, or when their KS statistic is at most swapKS
// and swapBetter times smaller than against the column's own training
// output: with thousands of rows the test flags the few percent by which
// a fresh sample and the profile's grid differ, while a swapped column
// stands far from its own output.
const (
	swapKS     = 0.15
	swapBetter = 4.0
)

// swapMatch is one other column whose training output an observed
// column's values match.
type swapMatch struct {
	k int // index into rep.Features
	d drift.Feature
}

// unpairedSwaps looks again at the numeric columns unpaired mode called
// drift, wrong_parameters or wrong_transform (all read off approximate
// maps of the distribution): when a column's observed values are
// distributed like the training output of another column (no drift by
// drift.CompareProfile, auto, or a KS statistic small and far below the
// one against its own output, see swapKS) while they drifted from their
// own, the
// columns were fed in the wrong order, and the verdict becomes
// columns_swapped naming the partner. The partner's own observed values
// must match this column's training output in turn (a swapped pair), or
// the best matches must lead back to the column (a rotation of three or
// more): a single match that leads elsewhere is taken for a coincidence
// of shapes (a column scaled with another kind of scaler can look like
// another column's output).
// Columns without a quantile grid (indicators, one-hot outputs) are left
// to unpairedOneHot.
func unpairedSwaps(a *artifact.Artifact, observed []table.Column, rep *Report) error {
	prof := map[string]int{}
	for j, f := range a.Outputs {
		if j < len(a.Profile.Outputs) && a.Profile.Outputs[j].Quantiles != nil &&
			a.Profile.Outputs[j].Mean != nil && a.Profile.Outputs[j].Std != nil {
			prof[f.Name] = j
		}
	}
	values := make([][]float64, len(rep.Features))
	for i, v := range rep.Features {
		if _, ok := prof[v.Name]; ok {
			if c := find(observed, v.Name); c != nil && c.Kind == table.Numeric {
				values[i] = dropNaN(c.Num)
			}
		}
	}
	suspect := func(i int) bool {
		vd := rep.Features[i].Verdict
		return values[i] != nil && len(values[i]) > 0 && (vd == Drift || vd == WrongParameters || vd == WrongTransform)
	}
	matches := make([][]swapMatch, len(rep.Features))
	for i := range rep.Features {
		if !suspect(i) {
			continue
		}
		mean, std := meanStd(values[i])
		own, _ := rep.Features[i].Evidence["ks"].(float64)
		for k, w := range rep.Features {
			pj, ok := prof[w.Name]
			if k == i || !ok {
				continue
			}
			p := &a.Profile.Outputs[pj]
			pm, ps := float64(*p.Mean), float64(*p.Std)
			if !(ps > 0) || math.Abs(mean-pm) > swapMean*ps || !(std <= ps*swapStd && std >= ps/swapStd) {
				continue
			}
			d, err := compareWith(p, values[i])
			if err != nil {
				return err
			}
			if ks := float64(d.Statistic); !d.Drift || ks <= swapKS && ks*swapBetter <= own {
				matches[i] = append(matches[i], swapMatch{k: k, d: d})
			}
		}
		slices.SortFunc(matches[i], func(x, y swapMatch) int {
			return cmp.Compare(x.d.Statistic, y.d.Statistic)
		})
	}
	mutual := func(i, k int) bool {
		for _, m := range matches[k] {
			if m.k == i {
				return true
			}
		}
		return false
	}
	// partner[i] is the mutual match of lowest KS (a swapped pair), else
	// the next column on the shortest cycle of matches through i (columns
	// fed in rotated order); a match that leads nowhere back is taken for
	// a coincidence of shapes.
	partner := make([]*swapMatch, len(rep.Features))
	paired := make([]bool, len(rep.Features))
	for i := range rep.Features {
		for j := range matches[i] {
			if mutual(i, matches[i][j].k) {
				partner[i], paired[i] = &matches[i][j], true
				break
			}
		}
	}
	for i := range rep.Features {
		if partner[i] != nil {
			continue
		}
		for _, cycle := range matchCycles(matches, i) {
			// cycle[0] == i; each column matches the next one's output.
			ok := true
			for _, at := range cycle {
				ok = ok && partner[at] == nil
			}
			if !ok {
				continue
			}
			for c, at := range cycle {
				next := cycle[(c+1)%len(cycle)]
				for j := range matches[at] {
					if matches[at][j].k == next {
						partner[at] = &matches[at][j]
					}
				}
			}
			break
		}
	}
	for i := range rep.Features {
		best := partner[i]
		if best == nil {
			continue
		}
		v := &rep.Features[i]
		partner := rep.Features[best.k].Name
		own, _ := v.Evidence["ks"].(float64)
		v.Verdict = ColumnsSwapped
		v.Evidence["partner"] = partner
		putDrift(v.Evidence, "partner_", best.d)
		how := "no drift"
		if best.d.Drift {
			how = "a difference only the sample size makes significant"
		}
		what := fmt.Sprintf("the observed values are distributed like the artifact's output for column %q (KS %s against its training output, %s) and not like this column's own (KS %s)",
			partner, fmtNum(float64(best.d.Statistic)), how, fmtNum(own))
		if paired[i] {
			what += fmt.Sprintf(", while column %q holds values distributed like this column's", partner)
		}
		v.explain(what, "the columns were fed in the wrong order; select features by name (rerun with --raw to confirm row by row)")
	}
	return nil
}

// maxCycle bounds the columns a rotation found by matchCycles may span.
const maxCycle = 4

// matchCycles returns the simple cycles of 3 to maxCycle columns through i
// in the match graph (an edge from a column to each column whose training
// output its values match), shortest first and, among equal lengths, in
// the order of lowest KS along the way.
func matchCycles(matches [][]swapMatch, i int) [][]int {
	var found [][]int
	var walk func(path []int)
	walk = func(path []int) {
		last := path[len(path)-1]
		for _, m := range matches[last] {
			switch {
			case m.k == i && len(path) >= 3:
				found = append(found, slices.Clone(path))
			case m.k != i && !slices.Contains(path, m.k) && len(path) < maxCycle:
				walk(append(path, m.k))
			}
		}
	}
	walk([]int{i})
	slices.SortStableFunc(found, func(a, b []int) int { return len(a) - len(b) })
	return found
}
