package diagnose

import (
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
			return cmpFloat(float64(x.d.Statistic), float64(y.d.Statistic))
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
	// partner[i] is the mutual match of lowest KS, else the best match.
	partner := make([]*swapMatch, len(rep.Features))
	paired := make([]bool, len(rep.Features))
	for i := range rep.Features {
		for j := range matches[i] {
			if mutual(i, matches[i][j].k) {
				partner[i], paired[i] = &matches[i][j], true
				break
			}
		}
		if partner[i] == nil && len(matches[i]) > 0 {
			partner[i] = &matches[i][0]
		}
	}
	// A column counts as swapped when its partner holds its values in
	// turn (a pair) or when following best matches leads back to it (a
	// cycle of three or more columns fed in rotated order); a match that
	// leads elsewhere is a coincidence of shapes.
	inCycle := func(i int) bool {
		at := i
		for range rep.Features {
			if partner[at] == nil {
				return false
			}
			if at = partner[at].k; at == i {
				return true
			}
		}
		return false
	}
	for i := range rep.Features {
		best := partner[i]
		if best == nil || !paired[i] && !inCycle(i) {
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
			how = "a sampling-size difference"
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

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
