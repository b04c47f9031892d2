package diagnose

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// Comparing an observed output column with the training profile: drift
// statistics, point masses, the nearest scaler kind and the quantile fit.

// kindTol is how close, in units of the candidate's scale, the center and
// scale implied by the observed distribution (a quantile fit, so only
// approximate) must be to those of another scaler kind fitted on the
// training data for unpaired mode to name that kind (the fit of a few
// hundred rows of a skewed column is off by 10% and more), and at most half
// as far as the artifact's own kind, whose parameters a drifted input
// imitates.
const kindTol = 0.15

// nearKind returns the scaler kind (min_max, max_abs, robust, standard;
// not the artifact's own) whose parameters, fitted on the training data of
// the last step's input (read off the output profile p through the affine
// step m), are closest to the implied center ic and scale is, with those
// parameters and the other kinds about as close (within twice the
// distance: kinds whose parameters nearly coincide on this data, as
// robust and standard do on symmetric data, cannot be told apart). ok
// only when the distance
//
//	max(|ic - c0| / s0, |is / s0 - 1|)
//
// is at most kindTol and at most half the artifact's own kind's (an input
// that moved or stretched, scaled with the fitted scaler, stays nearer
// that kind and wrong_parameters).
func nearKind(p *profile.Feature, m *affineMap, ls *lastStep, ic, is float64) (kind string, c0, s0, d float64, also []string, ok bool) {
	st, found := backStats(p, m.intercept, m.slope)
	if !found {
		return "", 0, 0, 0, nil, false
	}
	own := ""
	if ls != nil {
		own = ownKind(ls.name)
	}
	kinds, centers, scales := kindParams(st)
	dist := make([]float64, len(kinds))
	best, ownDist := -1, math.Inf(1)
	for i, k := range kinds {
		dist[i] = math.Max(math.Abs(ic-centers[i])/math.Abs(scales[i]), math.Abs(is/scales[i]-1))
		if k == own {
			ownDist = dist[i]
			continue
		}
		if best < 0 || dist[i] < dist[best] {
			best = i
		}
	}
	if best < 0 || dist[best] > kindTol || !(dist[best] <= ownDist/2) {
		return "", 0, 0, 0, nil, false
	}
	for i, k := range kinds {
		if i != best && k != own && dist[i] <= 2*dist[best] {
			also = append(also, k)
		}
	}
	return kinds[best], centers[best], scales[best], dist[best], also, true
}

// compareBesideFill compares xs with p and, when that finds drift, again
// without the values equal to fill (the artifact's output for a missing
// input): how many values were missing says nothing of how the others
// were scaled. It returns the comparison that found no drift, if any.
func compareBesideFill(p *profile.Feature, xs []float64, fill float64) (drift.Feature, error) {
	d, err := compareWith(p, xs)
	if err != nil || !d.Drift || math.IsNaN(fill) {
		return d, err
	}
	lim := exactTol * scale(xs)
	rest := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !(math.Abs(x-fill) <= lim) {
			rest = append(rest, x)
		}
	}
	if len(rest) == len(xs) || len(rest) == 0 {
		return d, nil
	}
	return compareWith(p, rest)
}

// distributionPlot returns the training output's and xs's distributions
// for reports (nil when they cannot be drawn), without the cost of a
// p-value.
func distributionPlot(p *profile.Feature, xs []float64) *Plot {
	if len(xs) == 0 {
		return nil
	}
	rep, err := drift.CompareProfile([]profile.Feature{*p}, []table.Column{{Name: p.Name, Kind: table.Numeric, Num: xs}}, drift.Options{Method: "wasserstein"})
	if err != nil || rep.Features[0].Plot == nil {
		return nil
	}
	return &Plot{Distribution: rep.Features[0].Plot}
}

// compareWith runs drift.CompareProfile (auto) on xs against p, values
// within rounding of a point mass of p counted as on it (see onMasses).
func compareWith(p *profile.Feature, xs []float64) (drift.Feature, error) {
	xs = onMasses(p, xs)
	rep, err := drift.CompareProfile([]profile.Feature{*p}, []table.Column{{Name: p.Name, Kind: table.Numeric, Num: xs}}, drift.Options{})
	if err != nil {
		return drift.Feature{}, fmt.Errorf("diagnose: column %q: %w", p.Name, err)
	}
	// A statistic that could not be computed leaves Drift false: taken
	// for a match, it would pass the column (or pair it) unchecked.
	if f := rep.Features[0]; f.Error != "" {
		return drift.Feature{}, fmt.Errorf("diagnose: column %q: cannot compare with the training output: %s", p.Name, f.Error)
	}
	return rep.Features[0], nil
}

func putDrift(ev map[string]any, prefix string, f drift.Feature) {
	ev[prefix+"ks"] = float64(f.Statistic)
	ev[prefix+"p_value"] = float64(f.PValue)
	if f.Effect != nil {
		ev[prefix+"wasserstein_normed"] = float64(f.Effect.Value)
	}
	ev[prefix+"drift"] = f.Drift
}

// onMasses returns xs with every value within exactTol (relative to the
// largest magnitude of xs and the grid) of a point mass of p's quantile
// grid (a value the grid repeats) replaced by that point; xs itself when
// none is. The profile's CDF jumps at a point mass, so production's
// output of the same input, a few ulps off the artifact's (another
// summation order of the fitted mean and scale, say), would otherwise
// fall just below the jump and read as drift.
func onMasses(p *profile.Feature, xs []float64) []float64 {
	var masses []float64
	q := p.Quantiles
	for i := 1; i < len(q); i++ {
		if q[i] == q[i-1] && (len(masses) == 0 || masses[len(masses)-1] != q[i]) {
			masses = append(masses, q[i])
		}
	}
	if len(masses) == 0 {
		return xs
	}
	lim := exactTol * scale(xs, q)
	var out []float64
	for i, x := range xs {
		k := sort.SearchFloat64s(masses, x)
		for _, m := range masses[max(k-1, 0):min(k+1, len(masses))] {
			if x != m && math.Abs(x-m) <= lim {
				if out == nil {
					out = slices.Clone(xs)
				}
				out[i] = m
			}
		}
	}
	if out == nil {
		return xs
	}
	return out
}

// sharedMass returns the profile's point mass (a value its quantile grid
// repeats) that recurs most often in xs, to within one float32 rounding
// (float32Tol relative to the column's magnitude), and how often it does.
func sharedMass(p *profile.Feature, xs []float64) (float64, int) {
	// Within one float32 rounding: a pipeline computing in float32 (or
	// printing float32 values) still hits the artifact's values.
	lim := float32Tol * scale(xs, p.Quantiles)
	best, bestN := math.NaN(), 0
	q := p.Quantiles
	for i := 1; i < len(q); i++ {
		if q[i] != q[i-1] || (i > 1 && q[i-2] == q[i]) {
			continue
		}
		n := 0
		for _, x := range xs {
			if math.Abs(x-q[i]) <= lim {
				n++
			}
		}
		if n > bestN {
			best, bestN = q[i], n
		}
	}
	return best, bestN
}

// quantileFit fits q_p ≈ alpha + beta * o_p by least squares over the
// grid probabilities p in [interiorLo, interiorHi], q the profile's
// quantiles and o the observed ones (linear interpolation between order
// statistics, numpy's default). It fails when the observed quantiles are
// all equal.
func quantileFit(p *profile.Feature, xs []float64) (alpha, beta float64, ok bool) {
	if len(p.Quantiles) != len(profile.GridProbs) || len(xs) < 2 {
		return 0, 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var os, qs []float64
	for i, pr := range profile.GridProbs {
		if pr < interiorLo || pr > interiorHi {
			continue
		}
		h := pr * float64(len(s)-1)
		lo := int(math.Floor(h))
		hi := min(lo+1, len(s)-1)
		os = append(os, s[lo]+(h-float64(lo))*(s[hi]-s[lo]))
		qs = append(qs, p.Quantiles[i])
	}
	mo, _ := meanStd(os)
	mq, _ := meanStd(qs)
	var sxx, sxy float64
	for i, o := range os {
		sxx += (o - mo) * (o - mo)
		sxy += (o - mo) * (qs[i] - mq)
	}
	if sxx == 0 || sxy == 0 {
		return 0, 0, false
	}
	beta = sxy / sxx
	return mq - beta*mo, beta, true
}
