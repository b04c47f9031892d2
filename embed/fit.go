package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// minHeldOut is the number of held-out vectors from which the variance
// share along the principal directions is measured (a fit of fewer than
// twice as many vectors stores share 0, and model_swapped then relies on
// canaries alone).
const minHeldOut = 50

// pcaSampleSize is the size of the seeded uniform samples the principal
// directions are computed on and their variance share measured on: the covariance of 2,000 vectors costs
// 2,000·d²/2 multiply-adds (0.6 G at d = 768), and at that size the
// variance captured by the leading directions is estimated within a few
// percent, far finer than the model_swapped test needs.
const pcaSampleSize = 2000

// Fitter accumulates vectors for a contract, batch by batch, so that a
// large file need not be held in memory at once (it keeps one norm per
// vector and two samples of pcaSampleSize vectors). The contract does not
// depend on how the rows are split into batches: every statistic is
// accumulated row by row in input order.
type Fitter struct {
	dim  int
	opt  FitOptions
	rows int
	// per dimension, sums of x − shift and of its square, shift = first row
	shift, sum, sumSq []float64
	norms             []float64
	zeros             int
	nonzero           int // non-zero values
	f16, bf16         int // non-zero values exact in float16, bfloat16
	// Two reservoirs of up to pcaSampleSize rows each: of the rows with
	// an even index (the principal directions are found on it) and of
	// those with an odd index (held out: the variance share along the
	// directions is measured on it).
	res [2]reservoir
}

// reservoir is a uniform sample of at most pcaSampleSize rows, kept by
// Algorithm R (Vitter 1985): the t-th row offered (from 0) replaces a
// uniformly chosen kept row with probability size/(t+1).
type reservoir struct {
	rng     *rand.Rand
	rows    []float64
	kept    int
	offered int
}

func (r *reservoir) offer(row []float64) {
	t := r.offered
	r.offered++
	d := len(row)
	if r.kept < pcaSampleSize {
		r.rows = append(r.rows, row...)
		r.kept++
		return
	}
	if j := r.rng.IntN(t + 1); j < pcaSampleSize {
		copy(r.rows[j*d:(j+1)*d], row)
	}
}

// NewFitter returns a Fitter for vectors of dimension dim; opt is checked
// here (an unknown dtype or metric is an error wrapping ErrInvalid).
func NewFitter(dim int, opt FitOptions) (*Fitter, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("embed fit: dimension %d: vectors need at least one value: %w", dim, ErrInvalid)
	}
	if opt.Dtype == "" {
		opt.Dtype = DtypeFloat64
	}
	if opt.Metric == "" {
		opt.Metric = MetricCosine
	}
	if !knownDtype(opt.Dtype) {
		return nil, fmt.Errorf("embed fit: dtype %q: want float64, float32, float16 or bfloat16: %w", opt.Dtype, ErrInvalid)
	}
	if !knownMetric(opt.Metric) {
		return nil, fmt.Errorf("embed fit: metric %q: want cosine, dot or l2: %w", opt.Metric, ErrInvalid)
	}
	if opt.UnitTolerance == 0 {
		opt.UnitTolerance = DefaultUnitTolerance
	}
	if !(opt.UnitTolerance > 0 && opt.UnitTolerance < 1) {
		return nil, fmt.Errorf("embed fit: unit tolerance %g: want a value in (0, 1), e.g. %g: %w", opt.UnitTolerance, DefaultUnitTolerance, ErrInvalid)
	}
	if opt.SampleSize == 0 {
		opt.SampleSize = DefaultSampleSize
	}
	if opt.SampleSize > pcaSampleSize {
		return nil, fmt.Errorf("embed fit: sample size %d: at most %d vectors are kept: %w", opt.SampleSize, pcaSampleSize, ErrInvalid)
	}
	if opt.Components == 0 {
		opt.Components = DefaultComponents
	}
	if opt.Components < 0 {
		return nil, fmt.Errorf("embed fit: %d components: want a positive number: %w", opt.Components, ErrInvalid)
	}
	for i, c := range opt.Canaries {
		if err := checkCanary(c, dim); err != nil {
			return nil, fmt.Errorf("embed fit: canary %d: %v: %w", i, err, ErrInvalid)
		}
	}
	return &Fitter{
		dim: dim, opt: opt,
		shift: make([]float64, dim), sum: make([]float64, dim), sumSq: make([]float64, dim),
		res: [2]reservoir{{rng: rand.New(rand.NewPCG(opt.Seed, 0x5eed))}, {rng: rand.New(rand.NewPCG(opt.Seed, 0x5eee))}},
	}, nil
}

// Add accumulates the rows of m, which must have the Fitter's dimension
// and hold only finite values (a NaN or ±Inf is an error naming the row,
// counted from the first row ever added, and the dimension).
func (f *Fitter) Add(m Matrix) error {
	if err := m.valid(); err != nil {
		return err
	}
	if m.Rows > 0 && m.Dim != f.dim {
		return fmt.Errorf("embed fit: vectors of dimension %d, the first ones had %d; every vector of a column must have the same dimension: %w", m.Dim, f.dim, ErrInvalid)
	}
	for i := 0; i < m.Rows; i++ {
		row := m.Row(i)
		if ss := dot(row, row); ss <= MaxSquaredNorm {
			continue
		}
		for a, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("embed fit: row %d, dimension %d: value %v; drop or re-embed vectors with NaN or infinite values before fitting: %w", f.rows+i, a, v, ErrInvalid)
			}
		}
		return fmt.Errorf("embed fit: row %d: values too large to compare: ‖x‖² %s (largest |value| %.4g), past %.4g, beyond which distances between vectors overflow float64; rescale the vectors before fitting: %w",
			f.rows+i, squared(dot(row, row)), largestAbs(row), MaxSquaredNorm, ErrInvalid)
	}
	for i := 0; i < m.Rows; i++ {
		f.addRow(m.Row(i))
	}
	return nil
}

func (f *Fitter) addRow(row []float64) {
	if f.rows == 0 {
		copy(f.shift, row)
	}
	var ss float64
	for a, v := range row {
		d := v - f.shift[a]
		f.sum[a] += d
		f.sumSq[a] += d * d
		ss += v * v
		if v != 0 {
			f.nonzero++
			if exactFloat16(v) {
				f.f16++
			}
			if exactBFloat16(v) {
				f.bf16++
			}
		}
	}
	r := math.Sqrt(ss)
	f.norms = append(f.norms, r)
	if r == 0 {
		f.zeros++
	}
	f.res[f.rows%2].offer(row)
	f.rows++
}

// Contract returns the contract of every row added so far; an error when
// none was added.
func (f *Fitter) Contract() (*Contract, error) {
	if f.rows == 0 {
		return nil, fmt.Errorf("embed fit: no vectors to fit a contract on: %w", ErrInvalid)
	}
	n := float64(f.rows)
	p := Profile{Count: f.rows, ZeroCount: f.zeros, Seed: f.opt.Seed,
		Mean: make([]float64, f.dim), Std: make([]float64, f.dim)}
	for a := range p.Mean {
		m := f.sum[a] / n
		p.Mean[a] = f.shift[a] + m
		p.Std[a] = math.Sqrt(max(f.sumSq[a]/n-m*m, 0))
	}
	if f.nonzero > 0 {
		p.Float16Share = float64(f.f16) / float64(f.nonzero)
		p.BFloat16Share = float64(f.bf16) / float64(f.nonzero)
	}
	// A declared 16-bit dtype the values contradict is the caller's
	// mistake, said as such (Check refuses such a contract too).
	for _, d := range []struct {
		dtype string
		exact int
	}{{DtypeFloat16, f.f16}, {DtypeBFloat16, f.bf16}} {
		if f.opt.Dtype == d.dtype && d.exact < f.nonzero {
			return nil, fmt.Errorf("embed fit: dtype %s, but %d of the %d non-zero values are not %s values; give the dtype the vectors are stored in: %w",
				d.dtype, f.nonzero-d.exact, f.nonzero, d.dtype, ErrInvalid)
		}
	}
	var nonzero []float64
	unit := f.rows > f.zeros
	for _, r := range f.norms {
		if r > 0 {
			nonzero = append(nonzero, r)
			if math.Abs(r-1) > f.opt.UnitTolerance {
				unit = false
			}
		}
	}
	if f.opt.Unit != nil {
		unit = *f.opt.Unit
	}
	p.Norms = exactNormStats(nonzero, f.opt.UnitTolerance)
	// A declared unit_length the vectors contradict is refused (Quantiles[5]
	// is the median: NormQuantileProbs[5] = 0.5).
	if unit && (p.Norms.Count == 0 || p.Norms.UnitShare < MinUnitShare) {
		if p.Norms.Count == 0 {
			return nil, fmt.Errorf("embed fit: unit_length is declared true, but all %d vectors are zero, and a zero vector has no unit length; embed real inputs, or declare unit_length false: %w", f.rows, ErrInvalid)
		}
		return nil, fmt.Errorf("embed fit: unit_length is declared true, but only %d of %d non-zero vectors (%.4g%%) have a norm within %g of 1 (norms %.4g to %.4g, median %.4g), and a unit-length contract needs at least %g%%; L2-normalize the vectors (x / ‖x‖) before fitting, or declare unit_length false if the store keeps raw vectors: %w",
			int(math.Round(p.Norms.UnitShare*float64(p.Norms.Count))), p.Norms.Count, 100*p.Norms.UnitShare, f.opt.UnitTolerance,
			p.Norms.Min, p.Norms.Max, p.Norms.Quantiles[5], 100*MinUnitShare, ErrInvalid)
	}
	a, b := &f.res[0], &f.res[1]
	p.Components, p.TotalVariance = principal(a.rows, a.kept, f.dim, f.opt.Components, f.opt.Seed)
	if b.kept >= minHeldOut {
		p.ComponentShare = varianceShare(b.rows, b.kept, f.dim, p.Components)
	}
	if f.opt.SampleSize > 0 {
		pool := append(slices.Clone(a.rows), b.rows...)
		n := a.kept + b.kept
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		r := rand.New(rand.NewPCG(f.opt.Seed, 0x5a3b1e))
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:min(f.opt.SampleSize, n)]
		idx = idx[:sampleRowsWithin(pool, idx, f.dim)]
		slices.Sort(idx)
		for _, i := range idx {
			p.Sample = append(p.Sample, slices.Clone(pool[i*f.dim:(i+1)*f.dim]))
		}
	}
	c := &Contract{
		Dimension: f.dim, Dtype: f.opt.Dtype, Model: f.opt.Model, Revision: f.opt.Revision,
		Metric: f.opt.Metric, UnitLength: unit, UnitTolerance: f.opt.UnitTolerance,
		Profile: p, Canaries: f.opt.Canaries,
	}
	// Every vector is within MaxSquaredNorm, but sums over many rows (the
	// norms' and dimensions' spreads, the covariance of the principal
	// directions) may still pass the float64 range: no contract of such
	// statistics.
	if err := fittedFinite(&p); err != nil {
		return nil, err
	}
	// What Fit writes must load: the same meaning check as a decoded contract.
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("embed fit: the fitted contract fails its own check (%v); please report this with the data's shape", err)
	}
	return c, nil
}

// sampleRowsWithin returns how many of the rows of pool (dim values
// each) that idx picks, taken in idx's order, Vectors' JSON holds within
// MaxSampleText: all of them, unless the dimension is in the thousands
// (a base64 text holds 3 bytes in 4, and the values take 4 bytes each when
// every picked value is a float32 value, else 8).
func sampleRowsWithin(pool []float64, idx []int, dim int) int {
	size := 4
	for _, i := range idx {
		for _, x := range pool[i*dim : (i+1)*dim] {
			if math.Float64bits(float64(float32(x))) != math.Float64bits(x) {
				size = 8
			}
		}
	}
	if dim == 0 {
		return len(idx)
	}
	return min(len(idx), MaxSampleText/4*3/(dim*size))
}

// Fit returns the contract of the vectors in m (see Fitter). NaN or
// infinite values are an error naming the row.
func Fit(m Matrix, opt FitOptions) (*Contract, error) {
	f, err := NewFitter(m.Dim, opt)
	if err != nil {
		return nil, err
	}
	if err := f.Add(m); err != nil {
		return nil, err
	}
	return f.Contract()
}

func knownDtype(s string) bool {
	return s == DtypeFloat64 || s == DtypeFloat32 || s == DtypeFloat16 || s == DtypeBFloat16
}

func knownMetric(s string) bool { return s == MetricCosine || s == MetricDot || s == MetricL2 }

// checkCanary reports what is wrong with a canary of a contract of
// dimension dim.
func checkCanary(c Canary, dim int) error {
	if c.ID == "" {
		return fmt.Errorf("empty id; name each canary (e.g. by a hash of its input)")
	}
	if len(c.Vector) != dim {
		return fmt.Errorf("id %q: %d values, want %d", c.ID, len(c.Vector), dim)
	}
	for a, v := range c.Vector {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("id %q: value %v at dimension %d must be finite", c.ID, v, a)
		}
	}
	// A canary without a direction, or one too large to compare, matches
	// nothing, not even itself: Check would report model_swapped for the
	// very same vector (attack run 15 finding 12).
	switch ss := dot(c.Vector, c.Vector); {
	case largestAbs(c.Vector) == 0:
		return fmt.Errorf("id %q: every value is 0, and a zero vector has no direction to compare; give the model's vector for a real input", c.ID)
	case tooLarge(ss):
		return fmt.Errorf("id %q: values too large to compare: ‖x‖² %s (largest |value| %.4g), past %.4g; give the vector as the model writes it", c.ID, squared(ss), largestAbs(c.Vector), MaxSquaredNorm)
	}
	return nil
}

// fittedFinite refuses a profile whose statistics overflowed float64.
func fittedFinite(p *Profile) error {
	nm := p.Norms
	ok := finiteAll(nm.Min, nm.Max, nm.Mean, nm.Std, p.TotalVariance, p.ComponentShare) &&
		finiteAll(nm.Quantiles...) && finiteAll(p.Mean...) && finiteAll(p.Std...)
	for _, c := range p.Components {
		ok = ok && finiteAll(c.Variance) && finiteAll(c.Direction...)
	}
	if !ok {
		return fmt.Errorf("embed fit: values too large to compare: a statistic of the vectors (norm mean or spread, a dimension's mean or standard deviation, the principal directions) overflowed float64; rescale the vectors before fitting: %w", ErrInvalid)
	}
	return nil
}
