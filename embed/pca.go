package embed

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// principal returns the k leading principal directions of the rows of x
// (n×d, row-major), their variances and the total variance (the trace of
// the population covariance), largest first.
//
// The covariance C = (1/n) Σ (xᵢ−x̄)(xᵢ−x̄)ᵀ is formed once; its leading
// invariant subspace is found by subspace iteration (block power method,
// Golub & Van Loan §8.2.4) on k+10 columns started from a seeded Gaussian
// block and re-orthonormalized by modified Gram–Schmidt each step, until
// the sum of the k leading Ritz values (Jacobi eigenvalues of VᵀCV, a
// Rayleigh–Ritz step each iteration) changes by less than 1e-12·tr(C)
// (at most 500 steps); the Ritz vectors are the directions. Each direction's sign makes its largest
// absolute entry positive. Deterministic for a given seed.
func principal(x []float64, n, d, k int, seed uint64) ([]Component, float64) {
	if n < 2 || d == 0 {
		return nil, 0
	}
	c := covariance(x, n, d)
	var total float64
	for a := 0; a < d; a++ {
		total += c[a*d+a]
	}
	k = min(k, d, n-1)
	if k <= 0 || total <= 0 {
		return nil, total
	}
	// The iteration runs on C / trace(C), whose entries are at most 1:
	// on C itself, vectors of values near 1e-80 gave products below
	// float64's normal range, the directions lost their orthogonality and
	// the leading variances summed past the trace. The directions are
	// those of C; the variances are scaled back.
	for i := range c {
		c[i] /= total
	}
	p := min(d, k+10)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	v := make([]float64, d*p) // column j is v[j*d:(j+1)*d]
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	orthonormalize(v, d, p)
	w := make([]float64, d*p)
	h := make([]float64, p*p)
	order := make([]int, p)
	var vals, vecs []float64
	prev := math.Inf(-1)
	for it := 0; ; it++ {
		// W = C·V, then the Rayleigh–Ritz step on span(V): H = VᵀCV = E·Λ·Eᵀ.
		mulBlock(c, d, v, w, p)
		for i := 0; i < p; i++ {
			for j := 0; j < p; j++ {
				h[i*p+j] = dot(v[i*d:(i+1)*d], w[j*d:(j+1)*d])
			}
		}
		vals, vecs = jacobiEigen(h, p)
		for i := range order {
			order[i] = i
		}
		sortByDesc(order, vals)
		lead := 0.0
		for _, e := range order[:k] {
			lead += vals[e]
		}
		if it == 500 || math.Abs(lead-prev) <= 1e-12 { // the trace is 1
			break
		}
		prev = lead
		// V ← orthonormalized W·E: the next power step in Ritz order.
		clear(v)
		for r, e := range order {
			col := v[r*d : (r+1)*d]
			for i := 0; i < p; i++ {
				axpy(col, vecs[i*p+e], w[i*d:(i+1)*d])
			}
		}
		orthonormalize(v, d, p)
	}
	out := make([]Component, k)
	for r := 0; r < k; r++ {
		e := order[r]
		dir := make([]float64, d)
		for i := 0; i < p; i++ {
			coef := vecs[i*p+e]
			for a, va := range v[i*d : (i+1)*d] {
				dir[a] += coef * va
			}
		}
		normalize(dir)
		big := 0
		for a := range dir {
			if math.Abs(dir[a]) > math.Abs(dir[big]) {
				big = a
			}
		}
		if dir[big] < 0 {
			for a := range dir {
				dir[a] = -dir[a]
			}
		}
		out[r] = Component{Direction: dir, Variance: max(vals[e], 0) * total}
	}
	return out, total
}

// varianceShare returns the share of the total variance of the n rows of
// x (n×d) that lies along the given orthonormal directions:
//
//	Σ_k Var(v_k·x) / Σ_a Var(x_a)    (population variances, ddof 0)
//
// 0 when x has no variance; at most 1.
func varianceShare(x []float64, n, d int, comps []Component) float64 {
	if n < 2 || len(comps) == 0 {
		return 0
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		axpy(mean, 1, x[i*d:(i+1)*d])
	}
	for a := range mean {
		mean[a] /= float64(n)
	}
	buf := make([]float64, d)
	var total, along float64
	for i := 0; i < n; i++ {
		for a, v := range x[i*d : (i+1)*d] {
			buf[a] = v - mean[a]
			total += buf[a] * buf[a]
		}
		for _, c := range comps {
			p := dot(c.Direction, buf)
			along += p * p
		}
	}
	if !(total > 0) {
		return 0
	}
	return min(along/total, 1) // all d directions: 1 up to rounding
}

// covariance returns the full d×d population covariance of the n rows of
// x. Row a of the result is summed by one worker over the rows of x in
// order, so the bits do not depend on the number of workers.
func covariance(x []float64, n, d int) []float64 {
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for a, v := range x[i*d : (i+1)*d] {
			mean[a] += v
		}
	}
	for a := range mean {
		mean[a] /= float64(n)
	}
	cx := make([]float64, n*d)
	for i := 0; i < n; i++ {
		for a, v := range x[i*d : (i+1)*d] {
			cx[i*d+a] = v - mean[a]
		}
	}
	c := make([]float64, d*d)
	workers := min(runtime.GOMAXPROCS(0), d)
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func(wk int) {
			defer wg.Done()
			for a := wk; a < d; a += workers {
				row := c[a*d+a : a*d+d]
				for i := 0; i < n; i++ {
					r := cx[i*d : (i+1)*d]
					xa := r[a]
					if xa == 0 {
						continue
					}
					axpy(row, xa, r[a:])
				}
			}
		}(wk)
	}
	wg.Wait()
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			c[a*d+b] /= float64(n)
			c[b*d+a] = c[a*d+b]
		}
	}
	return c
}

// axpy adds a·x to y (len(y) == len(x)).
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// dot returns Σ aᵢbᵢ, four partial sums at a time.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// mulBlock sets the p columns of w (each of length d, stored one after
// another) to C times the columns of v, rows of C shared over the cores;
// each entry is one dot product, so the bits do not depend on the workers.
func mulBlock(c []float64, d int, v, w []float64, p int) {
	workers := min(runtime.GOMAXPROCS(0), d)
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func(wk int) {
			defer wg.Done()
			for a := wk * d / workers; a < (wk+1)*d/workers; a++ {
				row := c[a*d : (a+1)*d]
				j := 0
				for ; j+4 <= p; j += 4 {
					w[j*d+a], w[(j+1)*d+a], w[(j+2)*d+a], w[(j+3)*d+a] = dot4(row, v[j*d:(j+1)*d], v[(j+1)*d:(j+2)*d], v[(j+2)*d:(j+3)*d], v[(j+3)*d:(j+4)*d])
				}
				for ; j < p; j++ {
					w[j*d+a], _, _, _ = dot4(row, v[j*d:(j+1)*d], row, row, row)
				}
			}
		}(wk)
	}
	wg.Wait()
}

// normalize scales v to unit L2 norm (a zero vector stays zero).
func normalize(v []float64) {
	n := math.Sqrt(dot(v, v))
	if n == 0 {
		return
	}
	for i := range v {
		v[i] /= n
	}
}

// orthonormalize makes the p columns of length d stored one after
// another in v orthonormal, in order, by modified Gram–Schmidt applied
// twice ("twice is enough", Giraud et al. 2005). A column that loses all
// but 1e-10 of its norm to the earlier ones (it was in their span) is
// replaced by the first unit vector e_a that is not.
func orthonormalize(v []float64, d, p int) {
	for j := 0; j < p; j++ {
		col := v[j*d : (j+1)*d]
		n0 := math.Sqrt(dot(col, col))
		n1 := project(v, d, j, col)
		for a := 0; n1 <= 1e-10*n0 && a < d; a++ {
			clear(col)
			col[a] = 1
			n0 = 1
			n1 = project(v, d, j, col)
		}
		for i := range col {
			col[i] /= n1
		}
	}
}

// project removes from col, twice, its components along the first j
// columns of v, and returns its remaining norm.
func project(v []float64, d, j int, col []float64) float64 {
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < j; i++ {
			prev := v[i*d : (i+1)*d]
			axpy(col, -dot(prev, col), prev)
		}
	}
	return math.Sqrt(dot(col, col))
}

// jacobiEigen returns the eigenvalues and eigenvectors (column e of vecs,
// vecs[i*p+e]) of the symmetric p×p matrix a, by cyclic Jacobi rotations
// until the off-diagonal mass is below 1e-30 of the total (at most 100
// sweeps). a is overwritten.
func jacobiEigen(a []float64, p int) ([]float64, []float64) {
	vecs := make([]float64, p*p)
	for i := 0; i < p; i++ {
		vecs[i*p+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off, all := 0.0, 0.0
		for i := 0; i < p; i++ {
			for j := 0; j < p; j++ {
				all += a[i*p+j] * a[i*p+j]
				if i != j {
					off += a[i*p+j] * a[i*p+j]
				}
			}
		}
		if off <= 1e-30*all {
			break
		}
		for r := 0; r < p; r++ {
			for s := r + 1; s < p; s++ {
				ars := a[r*p+s]
				if ars == 0 {
					continue
				}
				theta := (a[s*p+s] - a[r*p+r]) / (2 * ars)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				cs := 1 / math.Sqrt(t*t+1)
				sn := t * cs
				for k := 0; k < p; k++ { // columns r, s
					akr, aks := a[k*p+r], a[k*p+s]
					a[k*p+r] = cs*akr - sn*aks
					a[k*p+s] = sn*akr + cs*aks
				}
				for k := 0; k < p; k++ { // rows r, s
					ark, ask := a[r*p+k], a[s*p+k]
					a[r*p+k] = cs*ark - sn*ask
					a[s*p+k] = sn*ark + cs*ask
				}
				for k := 0; k < p; k++ {
					vkr, vks := vecs[k*p+r], vecs[k*p+s]
					vecs[k*p+r] = cs*vkr - sn*vks
					vecs[k*p+s] = sn*vkr + cs*vks
				}
			}
		}
	}
	vals := make([]float64, p)
	for i := range vals {
		vals[i] = a[i*p+i]
	}
	return vals, vecs
}

// sortByDesc orders idx by vals[idx] descending (insertion sort; p is small).
func sortByDesc(idx []int, vals []float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && vals[idx[j]] > vals[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}
