package drift

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/normguard/normguard/stats"
)

// emptyBinProportion replaces a zero proportion in PSI and KLDivergence,
// whose logarithms are otherwise infinite.
const emptyBinProportion = 1e-4

// DefaultBins is the number of reference-quantile bins the binned methods
// use (deciles).
const DefaultBins = 10

// ErrCounts is wrapped by errors about count vectors (different lengths,
// negative counts, a zero total).
var ErrCounts = errors.New("invalid counts")

// QuantileEdges returns histogram edges from the quantiles of ref (NaN
// dropped): the interior edges are numpy.quantile(ref, q) (linear
// interpolation) at q_i = i·(1/bins), i = 1 .. bins-1 (the values of
// numpy.linspace(0, 1, bins+1)[1:-1]), de-duplicated and sorted as
// numpy.unique does, with -Inf and +Inf added at the ends. Ties in ref
// therefore give fewer than bins bins. bins < 1 is taken as 1; an empty
// ref gives [-Inf, +Inf].
func QuantileEdges(ref []float64, bins int) []float64 {
	bins = max(bins, 1)
	sorted := DropNaN(ref)
	stats.SortFloats(sorted)
	edges := []float64{math.Inf(-1)}
	if len(sorted) > 0 {
		step := 1 / float64(bins)
		for i := 1; i < bins; i++ {
			e := stats.Quantile(sorted, float64(i)*step)
			if e != edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
	}
	if edges[len(edges)-1] != math.Inf(1) {
		edges = append(edges, math.Inf(1))
	}
	return edges
}

// Histogram returns the number of values of x in each bin
// [edges[i], edges[i+1]) as numpy.histogram(x, bins=edges) counts them:
// the last bin is closed on the right, values outside [edges[0],
// edges[len-1]] and NaN are not counted. edges must be sorted ascending;
// fewer than two edges give no bins.
func Histogram(x, edges []float64) []int64 {
	if len(edges) < 2 {
		return nil
	}
	counts := make([]int64, len(edges)-1)
	first, last := edges[0], edges[len(edges)-1]
	for _, v := range x {
		if !(v >= first && v <= last) {
			continue
		}
		// index of the first edge > v, minus one
		k := sort.SearchFloat64s(edges, math.Nextafter(v, math.Inf(1))) - 1
		if v == last {
			k = len(counts) - 1
		}
		counts[k]++
	}
	return counts
}

// Binned holds the binned comparison of two numeric samples.
type Binned struct {
	Edges     []float64 // QuantileEdges of the reference
	RefCounts []int64   // Histogram of the reference
	CurCounts []int64   // Histogram of the current sample
}

// BinNumeric drops NaN, bins both samples on the reference's quantile
// edges (QuantileEdges(ref, bins)) and returns the edges and counts the
// binned methods compare. An empty sample is an error.
func BinNumeric(method string, ref, cur []float64, bins int) (Binned, error) {
	r, c := DropNaN(ref), DropNaN(cur)
	switch {
	case len(r) == 0:
		return Binned{}, &SampleError{Method: method, Sample: "reference", Err: ErrEmpty}
	case len(c) == 0:
		return Binned{}, &SampleError{Method: method, Sample: "current", Err: ErrEmpty}
	}
	edges := QuantileEdges(r, bins)
	return Binned{Edges: edges, RefCounts: Histogram(r, edges), CurCounts: Histogram(c, edges)}, nil
}

// proportions returns counts / total for both count vectors after
// checking them.
func proportions(method string, ref, cur []int64) (p, q []float64, err error) {
	if len(ref) != len(cur) {
		return nil, nil, fmt.Errorf("drift %s: %w: %d reference counts but %d current counts", method, ErrCounts, len(ref), len(cur))
	}
	var tr, tc int64
	for i := range ref {
		if ref[i] < 0 || cur[i] < 0 {
			return nil, nil, fmt.Errorf("drift %s: %w: negative count in bin %d", method, ErrCounts, i)
		}
		tr += ref[i]
		tc += cur[i]
	}
	if tr == 0 {
		return nil, nil, &SampleError{Method: method, Sample: "reference", Err: ErrEmpty}
	}
	if tc == 0 {
		return nil, nil, &SampleError{Method: method, Sample: "current", Err: ErrEmpty}
	}
	p, q = make([]float64, len(ref)), make([]float64, len(cur))
	for i := range ref {
		p[i] = float64(ref[i]) / float64(tr)
		q[i] = float64(cur[i]) / float64(tc)
	}
	return p, q, nil
}

// floorEmpty replaces zero proportions by emptyBinProportion in place
// (no renormalization).
func floorEmpty(p []float64) {
	for i, x := range p {
		if x == 0 {
			p[i] = emptyBinProportion
		}
	}
}

// PSI returns the population stability index of the current counts
// against the reference counts (bins or categories, same order):
//
//	PSI = Σ_i (q_i - p_i) · ln(q_i / p_i)
//
// with p = ref/Σref, q = cur/Σcur and every zero proportion replaced by
// 1e-4 (not renormalized), summed as np.sum does. 0 for identical
// proportions. PValue is NaN. Errors: different lengths, negative counts,
// a zero total.
func PSI(ref, cur []int64) (Result, error) {
	p, q, err := proportions("psi", ref, cur)
	if err != nil {
		return Result{}, err
	}
	floorEmpty(p)
	floorEmpty(q)
	terms := make([]float64, len(p))
	for i := range p {
		terms[i] = (q[i] - p[i]) * math.Log(q[i]/p[i])
	}
	return distance(stats.PairwiseSum(terms)), nil
}

// KLDivergence returns the Kullback–Leibler divergence of the current
// proportions from the reference proportions, in nats:
//
//	KL(q ‖ p) = Σ_i q_i · ln(q_i / p_i)
//
// with zero proportions replaced by 1e-4 as in PSI. PValue is NaN.
func KLDivergence(ref, cur []int64) (Result, error) {
	p, q, err := proportions("kl_div", ref, cur)
	if err != nil {
		return Result{}, err
	}
	floorEmpty(p)
	floorEmpty(q)
	terms := make([]float64, len(p))
	for i := range p {
		terms[i] = q[i] * math.Log(q[i]/p[i])
	}
	return distance(stats.PairwiseSum(terms)), nil
}

// JensenShannon returns the Jensen–Shannon distance (base 2, in [0, 1])
// between the reference and current proportions,
// scipy.spatial.distance.jensenshannon(p, q, base=2):
//
//	m  = (p + q)/2
//	JS = sqrt( (Σ rel_entr(p, m) + Σ rel_entr(q, m)) / (2 ln 2) )
//
// where rel_entr(x, y) = x ln(x/y), 0 for x = 0. Empty bins need no
// replacement. PValue is NaN.
func JensenShannon(ref, cur []int64) (Result, error) {
	p, q, err := proportions("jensenshannon", ref, cur)
	if err != nil {
		return Result{}, err
	}
	p, q = renormalize(p), renormalize(q)
	left, right := make([]float64, len(p)), make([]float64, len(p))
	for i := range p {
		m := (p[i] + q[i]) / 2
		left[i], right[i] = relEntr(p[i], m), relEntr(q[i], m)
	}
	js := stats.PairwiseSum(left) + stats.PairwiseSum(right)
	js /= math.Log(2)
	return distance(math.Sqrt(js / 2)), nil
}

// renormalize returns p / np.sum(p) as jensenshannon does.
func renormalize(p []float64) []float64 {
	s := stats.PairwiseSum(p)
	out := make([]float64, len(p))
	for i, x := range p {
		out[i] = x / s
	}
	return out
}

// relEntr is scipy.special.rel_entr for x, y >= 0.
func relEntr(x, y float64) float64 {
	switch {
	case x > 0 && y > 0:
		return x * math.Log(x/y)
	case x == 0 && y >= 0:
		return 0
	}
	return math.Inf(1)
}

// Hellinger returns the Hellinger distance (in [0, 1]) between the
// reference and current proportions:
//
//	H = sqrt( Σ_i (√p_i - √q_i)² / 2 )
//
// PValue is NaN.
func Hellinger(ref, cur []int64) (Result, error) {
	p, q, err := proportions("hellinger", ref, cur)
	if err != nil {
		return Result{}, err
	}
	terms := make([]float64, len(p))
	for i := range p {
		d := math.Sqrt(p[i]) - math.Sqrt(q[i])
		terms[i] = d * d
	}
	return distance(math.Sqrt(0.5 * stats.PairwiseSum(terms))), nil
}

// LInfinity returns the largest absolute difference between the
// reference and current proportions, max_i |p_i - q_i|. PValue is NaN.
func LInfinity(ref, cur []int64) (Result, error) {
	p, q, err := proportions("l_infinity", ref, cur)
	if err != nil {
		return Result{}, err
	}
	d := 0.0
	for i := range p {
		d = math.Max(d, math.Abs(p[i]-q[i]))
	}
	return distance(d), nil
}

// Chi2Contingency returns Pearson's chi-square test of independence on the
// 2 × k contingency table [ref; cur], scipy 1.10's
// scipy.stats.chi2_contingency(table) after leaving out the columns
// (bins or categories) that are empty in both rows:
//
//	E_rc = row_r · col_c / total
//	X²   = Σ (O_rc - E_rc)² / E_rc,   df = k - 1
//	p    = Q(df/2, X²/2)   (chi-square survival)
//
// with Yates' continuity correction (|O - E| reduced by min(0.5, |O - E|))
// only when df = 1, as scipy applies it. A single non-empty column gives
// X² = 0, p = 1, df = 0. Result.DF holds df. Errors: different lengths,
// negative counts, a zero total.
func Chi2Contingency(ref, cur []int64) (Result, error) {
	if _, _, err := proportions("chisquare", ref, cur); err != nil {
		return Result{}, err
	}
	var r, c []float64
	for i := range ref {
		if ref[i] != 0 || cur[i] != 0 {
			r = append(r, float64(ref[i]))
			c = append(c, float64(cur[i]))
		}
	}
	k := len(r)
	dof := k - 1
	if dof == 0 {
		return Result{Statistic: 0, PValue: 1}, nil
	}
	// expected = outer(row sums, column sums) / total, as
	// scipy.stats.contingency.expected_freq computes it.
	rowR, rowC := stats.PairwiseSum(r), stats.PairwiseSum(c)
	total := stats.PairwiseSum([]float64{rowR, rowC})
	terms := make([]float64, 0, 2*k)
	for row, obs := range [][]float64{r, c} {
		rs := rowR
		if row == 1 {
			rs = rowC
		}
		for i, o := range obs {
			e := rs * (r[i] + c[i]) / total
			if dof == 1 {
				diff := e - o
				o += math.Copysign(math.Min(0.5, math.Abs(diff)), diff)
			}
			d := o - e
			terms = append(terms, d*d/e)
		}
	}
	x2 := stats.PairwiseSum(terms)
	return Result{Statistic: x2, PValue: chi2SF(float64(dof), x2), DF: float64(dof)}, nil
}
