package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// MaxDriftSampleSize caps DriftOptions.SampleSize: two samples of 5,000
// make 50 million pairs, 400 MB of kernel values (and as much again
// while their median is found).
const MaxDriftSampleSize = 5000

// Drift defaults (doc.go says why).
const (
	defaultAlpha        = 0.05
	defaultDimThreshold = 0.1
)

func (o DriftOptions) withDefaults() (DriftOptions, error) {
	if o.SampleSize == 0 {
		o.SampleSize = DefaultDriftSampleSize
	}
	if o.Permutations == 0 {
		o.Permutations = DefaultPermutations
	}
	if o.Alpha == 0 {
		o.Alpha = defaultAlpha
	}
	if o.DimThreshold == 0 {
		o.DimThreshold = defaultDimThreshold
	}
	switch {
	case o.SampleSize < 2 || o.SampleSize > MaxDriftSampleSize:
		return o, fmt.Errorf("embed drift: sample size %d: want 2 to %d vectors per side (the MMD's pairwise matrix grows with the square): %w", o.SampleSize, MaxDriftSampleSize, ErrInvalid)
	case o.Permutations < 0:
		return o, fmt.Errorf("embed drift: %d permutations: want a positive number, e.g. %d: %w", o.Permutations, DefaultPermutations, ErrInvalid)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return o, fmt.Errorf("embed drift: alpha %g: want a level in (0, 1), e.g. 0.05: %w", o.Alpha, ErrInvalid)
	case !(o.DimThreshold > 0) || math.IsInf(o.DimThreshold, 0):
		return o, fmt.Errorf("embed drift: dimension threshold %g: want a positive number, e.g. 0.1: %w", o.DimThreshold, ErrInvalid)
	}
	return o, nil
}

// Drift compares a reference and a current set of vectors of the same
// dimension (at least 2 finite vectors each) with the methods doc.go
// defines: MMD² with its permutation p-value, the share of drifted
// dimensions and the domain classifier's AUC on seeded samples of at
// most opt.SampleSize vectors per side, the mean-vector distances on all
// vectors. Deterministic for a given opt.Seed.
func Drift(ref, cur Matrix, opt DriftOptions) (DriftResult, error) {
	if err := driftInputs(ref, cur); err != nil {
		return DriftResult{}, err
	}
	return drift(ref, meanVector(ref), cur, opt)
}

// DriftFromContract compares cur with the contract's profile: its stored
// sample stands for the reference in MMD, the dimension share and the
// classifier, its mean vector (over every fitted vector) in the mean
// distances. A contract without a sample is an error.
func DriftFromContract(c *Contract, cur Matrix, opt DriftOptions) (DriftResult, error) {
	if c == nil {
		return DriftResult{}, fmt.Errorf("embed drift: no contract: %w", ErrInvalid)
	}
	if err := c.Check(); err != nil {
		return DriftResult{}, fmt.Errorf("embed drift: contract: %w", err)
	}
	if len(c.Profile.Sample) < 2 {
		return DriftResult{}, fmt.Errorf("embed drift: the contract keeps no reference sample (at least 2 vectors); refit it with a sample size above 1: %w", ErrInvalid)
	}
	ref := Matrix{Rows: len(c.Profile.Sample), Dim: c.Dimension}
	for i, row := range c.Profile.Sample {
		if len(row) != c.Dimension {
			return DriftResult{}, fmt.Errorf("embed drift: profile.sample[%d]: %d values, want %d: %w", i, len(row), c.Dimension, ErrInvalid)
		}
		ref.Data = append(ref.Data, row...)
	}
	// cur is a seeded sample of the data's vectors (drift --artifact,
	// monitor replay): its row numbers are not the data's, so an invalid
	// current vector is named without one (attack run 20 F6: "current
	// row 674" named a clean row of the file; the bad one was 4321).
	if err := driftInputsSampled(ref, cur, true); err != nil {
		return DriftResult{}, err
	}
	return drift(ref, c.Profile.Mean, cur, opt)
}

func driftInputs(ref, cur Matrix) error { return driftInputsSampled(ref, cur, false) }

// driftInputsSampled is driftInputs; with curSampled, cur's rows are a
// sample whose row numbers are not the data's, and an invalid current
// vector's error names no row (sampledRowError).
func driftInputsSampled(ref, cur Matrix, curSampled bool) error {
	for _, s := range []struct {
		name    string
		m       Matrix
		sampled bool
	}{{"reference", ref, false}, {"current", cur, curSampled}} {
		if err := s.m.valid(); err != nil {
			return fmt.Errorf("embed drift: %s: %w", s.name, err)
		}
		if s.m.Rows < 2 {
			return fmt.Errorf("embed drift: the %s has %d vectors; drift needs at least 2 per side: %w", s.name, s.m.Rows, ErrInvalid)
		}
		for i := 0; i < s.m.Rows; i++ {
			if err := rowValues("embed drift", s.name, i, s.m.Row(i)); err != nil {
				if s.sampled {
					return sampledRowError(s.m.Row(i))
				}
				return err
			}
		}
	}
	if ref.Dim != cur.Dim {
		return fmt.Errorf("embed drift: reference vectors have %d dimensions, current ones %d; drift compares vectors of one dimension (check reports dimension_mismatch): %w", ref.Dim, cur.Dim, ErrInvalid)
	}
	return nil
}

func drift(ref Matrix, refMean []float64, cur Matrix, opt DriftOptions) (DriftResult, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return DriftResult{}, err
	}
	d := ref.Dim
	res := DriftResult{Dimension: d, Permutations: opt.Permutations}
	curMean := meanVector(cur)
	var e2 float64
	for a := range curMean {
		e2 += (curMean[a] - refMean[a]) * (curMean[a] - refMean[a])
	}
	res.MeanEuclidean = math.Sqrt(e2)
	res.MeanCosine = cosineDistance(refMean, curMean)

	rng := rand.New(rand.NewPCG(opt.Seed, 0xd41f7))
	xs := sampleRows(ref, opt.SampleSize, rng)
	ys := sampleRows(cur, opt.SampleSize, rng)
	res.RefSize, res.CurSize = xs.Rows, ys.Rows

	t, h := buildMMD(xs, ys, 0)
	res.Bandwidth = math.Sqrt(h / 2)
	res.MMD2 = t.stat(seq(xs.Rows, xs.Rows+ys.Rows))
	res.MMDPValue = t.pValue(res.MMD2, opt.Permutations, opt.Seed)
	res.Drift = res.MMDPValue < opt.Alpha

	var dimsOK bool
	res.DriftedDims, dimsOK = driftedDims(xs, ys, opt.DimThreshold)
	res.DriftedDimShare = float64(res.DriftedDims) / float64(d)

	train, trainPos, test, testPos := splitHalves(xs, ys, rng)
	res.DomainAUC, _, _ = domainAUC(train, trainPos, test, testPos, d)
	// Every vector's squared norm is within MaxSquaredNorm, so distances,
	// means and the kernel are finite; sums over many rows (a dimension's
	// variance, the classifier's standardization) may still overflow. No
	// verdict rests on a statistic that did.
	if !dimsOK || !finiteAll(res.MMD2, res.MMDPValue, res.Bandwidth, res.MeanEuclidean, res.MeanCosine, res.DomainAUC) {
		which := fmt.Sprintf("MMD² %v, mean distance %v, mean cosine distance %v, domain AUC %v", res.MMD2, res.MeanEuclidean, res.MeanCosine, res.DomainAUC)
		if !dimsOK {
			which += ", a dimension's standard deviation or Wasserstein distance"
		}
		return DriftResult{}, fmt.Errorf("embed drift: values too large to compare: a statistic overflowed float64 (%s); rescale the vectors: %w", which, ErrInvalid)
	}
	return res, nil
}

// meanVector returns the per-dimension mean of the rows of m.
func meanVector(m Matrix) []float64 {
	mean := make([]float64, m.Dim)
	for i := 0; i < m.Rows; i++ {
		for a, v := range m.Row(i) {
			mean[a] += v
		}
	}
	for a := range mean {
		mean[a] /= float64(m.Rows)
	}
	return mean
}

// cosineDistance is 1 − a·b/(‖a‖‖b‖); 0 when both are zero vectors, 1
// when only one is.
func cosineDistance(a, b []float64) float64 {
	na, nb := math.Sqrt(dot(a, a)), math.Sqrt(dot(b, b))
	switch {
	case na == 0 && nb == 0:
		return 0
	case na == 0 || nb == 0:
		return 1
	}
	return 1 - dot(a, b)/(na*nb)
}

// sampleRows returns m when it has at most size rows, else size rows
// drawn uniformly without replacement (a partial Fisher–Yates shuffle of
// the row numbers), kept in their original order.
func sampleRows(m Matrix, size int, rng *rand.Rand) Matrix {
	if m.Rows <= size {
		return m
	}
	idx := make([]int, m.Rows)
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < size; i++ {
		j := i + rng.IntN(m.Rows-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:size]
	slices.Sort(idx)
	out := Matrix{Rows: size, Dim: m.Dim, Data: make([]float64, 0, size*m.Dim)}
	for _, i := range idx {
		out.Data = append(out.Data, m.Row(i)...)
	}
	return out
}

// splitHalves splits each sample at random into a training part (the
// first ⌈size/2⌉ of a seeded shuffle) and a held-out part, and pools the
// two samples' parts, labelled true for current.
func splitHalves(x, y Matrix, rng *rand.Rand) (train []float64, trainPos []bool, test []float64, testPos []bool) {
	for _, s := range []struct {
		m   Matrix
		pos bool
	}{{x, false}, {y, true}} {
		perm := rng.Perm(s.m.Rows)
		cut := (s.m.Rows + 1) / 2
		for k, i := range perm {
			if k < cut {
				train = append(train, s.m.Row(i)...)
				trainPos = append(trainPos, s.pos)
			} else {
				test = append(test, s.m.Row(i)...)
				testPos = append(testPos, s.pos)
			}
		}
	}
	return
}

// driftedDims counts the dimensions whose wasserstein_normed, W₁(x_a,
// y_a)/σ(x_a) with σ the reference's population standard deviation,
// exceeds threshold; a constant reference dimension counts when W₁ > 0.
// ok is false when a dimension's W₁ or σ overflowed float64.
func driftedDims(x, y Matrix, threshold float64) (int, bool) {
	a := make([]float64, x.Rows)
	b := make([]float64, y.Rows)
	count := 0
	for dim := 0; dim < x.Dim; dim++ {
		for i := range a {
			a[i] = x.Data[i*x.Dim+dim]
		}
		for i := range b {
			b[i] = y.Data[i*y.Dim+dim]
		}
		w := wassersteinNormed(a, b)
		if math.IsNaN(w) {
			return 0, false
		}
		if w > threshold {
			count++
		}
	}
	return count, true
}

// wassersteinNormed returns W₁(a, b)/σ(a), scipy 1.10's
// wasserstein_distance(a, b) / numpy.std(a), the drift package's
// wasserstein_normed; +Inf when σ(a) = 0 < W₁, 0 when both are 0, NaN
// when σ(a) or W₁ overflowed float64. a and b are sorted in place.
func wassersteinNormed(a, b []float64) float64 {
	var mean float64
	for _, v := range a {
		mean += v
	}
	mean /= float64(len(a))
	var ss float64
	for _, v := range a {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(a)))
	slices.Sort(a)
	slices.Sort(b)
	w := w1Sorted(a, b)
	switch {
	case math.IsInf(sd, 0) || math.IsNaN(sd) || math.IsInf(w, 0) || math.IsNaN(w):
		return math.NaN() // overflowed: values too large to compare
	case w == 0:
		return 0
	case sd == 0:
		return math.Inf(1)
	}
	return w / sd
}

// w1Sorted is ∫|F_a − F_b| over the merged sorted samples, as scipy's
// _cdf_distance with p = 1.
func w1Sorted(a, b []float64) float64 {
	n1, n2 := float64(len(a)), float64(len(b))
	i, j := 0, 0
	var s, prev float64
	first := true
	for i < len(a) || j < len(b) {
		var next float64
		if j >= len(b) || (i < len(a) && a[i] <= b[j]) {
			next = a[i]
		} else {
			next = b[j]
		}
		if !first {
			s += math.Abs(float64(i)/n1-float64(j)/n2) * (next - prev)
		}
		first = false
		prev = next
		if j >= len(b) || (i < len(a) && a[i] <= b[j]) {
			i++
		} else {
			j++
		}
	}
	return s
}

// sampledRowError is rowValues' error for an invalid vector of a current
// sample (DriftFromContract): the sample's row numbers are not the
// data's, so it names no row and points to the check that lists the
// data's rows (normguard validate's nan_vectors).
func sampledRowError(row []float64) error {
	const where = "embed drift: a current vector (drawn into the seeded sample drift compares: its row in the data is not known here)"
	for a, v := range row {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s, dimension %d: value %v; drop vectors with NaN or infinite values first (normguard validate lists their rows in the data as nan_vectors): %w", where, a, v, ErrInvalid)
		}
	}
	ss := dot(row, row)
	return fmt.Errorf("%s: values too large to compare: ‖x‖² %s (largest |value| %.4g), past %.4g, beyond which distances between vectors overflow float64; rescale the vectors (normguard validate lists their rows in the data as nan_vectors): %w",
		where, squared(ss), largestAbs(row), MaxSquaredNorm, ErrInvalid)
}
