package diagnose

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// shareZ is how many standard errors apart an observed share of ones and
// a training share may be and still count as the same share.
const shareZ = 3.5

// unpairedOneHot looks again at the one-hot outputs unpaired mode found
// drifting or ok (the drift test's effect floor can pass a share that
// moved by a few points). Without raw rows, the only evidence of categories sent to the
// wrong column is how often each column is 1: when a column's share of
// ones differs from its own training share but matches the training share
// of exactly one other column of the same input, the columns look
// permuted, and the verdict becomes columns_swapped with that partner.
//
// Shares p (training, N rows) and q (observed, n rows) count as the same
// when |q - p| <= 3.5 sqrt(p (1 - p) (1/n + 1/N)). Categories of similar
// frequency cannot be told apart this way; the explanation says so.
func unpairedOneHot(a *artifact.Artifact, observed []table.Column, rep *Report) {
	at := map[string]int{}
	for i, v := range rep.Features {
		at[v.Name] = i
	}
	off := 0
	for _, g := range a.Groups {
		kind, widths, _, _, ok := encoderShape(g)
		width := 0
		if len(g.Steps) > 0 {
			width = len(g.Steps[len(g.Steps)-1].Fitted.Outputs())
		}
		if ok && kind == oneHot {
			start := off
			for i, w := range widths {
				oneHotBlockShares(a, g.Columns[i], start, w, observed, rep, at)
				start += w
			}
		}
		off += width
	}
}

// oneHotBlockShares judges the w outputs from index start, which encode
// input column input.
func oneHotBlockShares(a *artifact.Artifact, input string, start, w int, observed []table.Column, rep *Report, at map[string]int) {
	if w < 2 || start+w > len(a.Outputs) || start+w > len(a.Profile.Outputs) {
		return
	}
	obs := make([]float64, w)   // observed share of ones
	train := make([]float64, w) // training share of ones
	var n, trainN float64
	for k := range w {
		name := a.Outputs[start+k].Name
		c := find(observed, name)
		if c == nil || c.Kind != table.Numeric {
			return
		}
		ones := 0
		for _, x := range c.Num {
			switch x {
			case 1:
				ones++
			case 0:
			default:
				return // not an indicator: the per-column checks stand
			}
		}
		n = float64(len(c.Num))
		obs[k] = float64(ones) / n
		var ok bool
		if train[k], trainN, ok = shareOfOnes(&a.Profile.Outputs[start+k]); !ok {
			return
		}
	}
	if n == 0 || trainN == 0 {
		return
	}
	same := func(q, p float64) bool {
		return math.Abs(q-p) <= shareZ*math.Sqrt(p*(1-p)*(1/n+1/trainN))+1e-12
	}
	for k := range w {
		name := a.Outputs[start+k].Name
		i, judged := at[name]
		if !judged || (rep.Features[i].Verdict != Drift && rep.Features[i].Verdict != OK) || same(obs[k], train[k]) {
			continue
		}
		partner := -1
		for j := range w {
			if j != k && same(obs[k], train[j]) {
				if partner >= 0 {
					partner = -2 // two candidates: cannot tell
					break
				}
				partner = j
			}
		}
		if partner < 0 {
			continue
		}
		v := &rep.Features[i]
		pname := a.Outputs[start+partner].Name
		v.Verdict = ColumnsSwapped
		v.Evidence["partner"] = pname
		v.Evidence["input"] = input
		v.Evidence["observed_share"] = obs[k]
		v.Evidence["training_share"] = train[k]
		v.Evidence["partner_training_share"] = train[partner]
		v.explain(fmt.Sprintf("this column is 1 in %.1f%% of rows where the training output had %.1f%%, but column %q had %.1f%% in training, which matches (and no other column of %s does): the one-hot columns of %s look permuted; from frequencies alone, categories of similar frequency cannot be told apart",
			100*obs[k], 100*train[k], pname, 100*train[partner], input, input),
			"encode with the artifact's categories and select features by name; rerun with --raw to check the mapping row by row")
	}
}

// shareOfOnes reads a 0/1 output's share of ones and its count of present
// values off its profile.
func shareOfOnes(p *profile.Feature) (share, n float64, ok bool) {
	if p.Values == nil || p.Count == 0 {
		return 0, 0, false
	}
	ones := int64(0)
	for i, x := range p.Values.Numbers {
		switch x {
		case 1:
			if i >= len(p.Values.Counts) {
				return 0, 0, false
			}
			ones = p.Values.Counts[i]
		case 0:
		default:
			return 0, 0, false
		}
	}
	return float64(ones) / float64(p.Count), float64(p.Count), true
}
