package embed

import (
	"math"
	"slices"
)

// Domain classifier settings (see doc.go): L2-regularized logistic
// regression with C = 1 on standardized features, solved by Newton's
// method with conjugate-gradient steps until max|∇| ≤ logisticTol.
const (
	logisticC       = 1.0
	logisticTol     = 1e-10
	logisticMaxIter = 100
)

// logistic fits the L2-regularized logistic regression
//
//	min_{w,b} ½‖w‖² + C Σᵢ log(1 + exp(−yᵢ(w·xᵢ + b))),  yᵢ ∈ {−1, +1}
//
// (scikit-learn 1.2's LogisticRegression(C=1) objective: the intercept is
// not penalized) on the n rows of x (n×d), by Newton–CG: each Newton
// step solves H·Δ = −∇ by conjugate gradients on Hessian–vector products
// (to a relative residual min(0.5, √‖∇‖)), then halves the step until the
// objective decreases enough (Armijo, c = 1e-4). It stops when
// max|∇| ≤ logisticTol (relative to max(1, C·n)) or after
// logisticMaxIter steps. It returns w and b.
func logistic(x []float64, y []float64, n, d int) ([]float64, float64) {
	p := d + 1 // parameters: w, then b
	theta := make([]float64, p)
	grad := make([]float64, p)
	s := make([]float64, n)   // scores
	wts := make([]float64, n) // σ(s)(1−σ(s))
	objective := func(th []float64) float64 {
		f := 0.5 * dot(th[:d], th[:d])
		for i := 0; i < n; i++ {
			z := y[i] * (dot(th[:d], x[i*d:(i+1)*d]) + th[d])
			f += logisticC * log1pExp(-z)
		}
		return f
	}
	scale := math.Max(1, logisticC*float64(n))
	f := objective(theta)
	dir := make([]float64, p)
	r := make([]float64, p)
	q := make([]float64, p)
	hp := make([]float64, p)
	trial := make([]float64, p)
	hess := func(v, out []float64) {
		copy(out[:d], v[:d])
		out[d] = 0
		for i := 0; i < n; i++ {
			xi := x[i*d : (i+1)*d]
			t := logisticC * wts[i] * (dot(xi, v[:d]) + v[d])
			axpy(out[:d], t, xi)
			out[d] += t
		}
	}
	for it := 0; it < logisticMaxIter; it++ {
		copy(grad[:d], theta[:d])
		grad[d] = 0
		for i := 0; i < n; i++ {
			xi := x[i*d : (i+1)*d]
			s[i] = dot(theta[:d], xi) + theta[d]
			sg := sigmoid(s[i])
			wts[i] = sg * (1 - sg)
			g := -logisticC * y[i] * sigmoid(-y[i]*s[i])
			axpy(grad[:d], g, xi)
			grad[d] += g
		}
		gmax := 0.0
		for _, g := range grad {
			gmax = math.Max(gmax, math.Abs(g))
		}
		if gmax <= logisticTol*scale {
			break
		}
		// conjugate gradients on H·dir = −grad
		clear(dir)
		for i := range r {
			r[i] = -grad[i]
		}
		copy(q, r)
		rr := dot(r, r)
		gnorm := math.Sqrt(rr)
		stop := math.Min(0.5, math.Sqrt(gnorm)) * gnorm
		for cg := 0; cg < 10*p && math.Sqrt(rr) > stop; cg++ {
			hess(q, hp)
			alpha := rr / dot(q, hp)
			axpy(dir, alpha, q)
			axpy(r, -alpha, hp)
			rr2 := dot(r, r)
			beta := rr2 / rr
			for i := range q {
				q[i] = r[i] + beta*q[i]
			}
			rr = rr2
		}
		slope := dot(grad, dir)
		step := 1.0
		for ls := 0; ls < 60; ls++ {
			for i := range trial {
				trial[i] = theta[i] + step*dir[i]
			}
			if ft := objective(trial); ft <= f+1e-4*step*slope {
				copy(theta, trial)
				f = ft
				break
			}
			step /= 2
		}
		if step < 1e-15 {
			break
		}
	}
	return theta[:d], theta[d]
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// log1pExp is log(1 + eᶻ) without overflow.
func log1pExp(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// rocAUC returns the area under the ROC curve of scores for the
// positives (pos[i] true) against the negatives, by the Mann–Whitney
// rank sum with midranks for ties:
//
//	AUC = (Σ_{positives} rank − n₁(n₁+1)/2) / (n₁ n₀)
//
// (equal to scikit-learn's roc_auc_score). NaN when a class is empty or a
// score is NaN (a standardization that overflowed: scikit-learn refuses
// such scores, and the tie loop below would never leave a NaN).
func rocAUC(scores []float64, pos []bool) float64 {
	if slices.ContainsFunc(scores, math.IsNaN) {
		return math.NaN()
	}
	n := len(scores)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	var rankSum float64
	n1 := 0
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1..j averaged
		for _, k := range idx[i:j] {
			if pos[k] {
				rankSum += mid
				n1++
			}
		}
		i = j
	}
	n0 := n - n1
	if n1 == 0 || n0 == 0 {
		return math.NaN()
	}
	return (rankSum - float64(n1)*float64(n1+1)/2) / (float64(n1) * float64(n0))
}

// domainAUC trains the domain classifier on train (label true = current)
// after standardizing every dimension by the training rows' mean and
// population standard deviation (1 where that is 0), and returns the ROC
// AUC of its scores w·x + b on the test rows, with w and b; NaN (and no
// w) when a dimension's mean or standard deviation overflowed float64.
func domainAUC(train []float64, trainPos []bool, test []float64, testPos []bool, d int) (float64, []float64, float64) {
	nt := len(trainPos)
	mean := make([]float64, d)
	sd := make([]float64, d)
	for i := 0; i < nt; i++ {
		for a, v := range train[i*d : (i+1)*d] {
			mean[a] += v
		}
	}
	for a := range mean {
		mean[a] /= float64(nt)
	}
	for i := 0; i < nt; i++ {
		for a, v := range train[i*d : (i+1)*d] {
			sd[a] += (v - mean[a]) * (v - mean[a])
		}
	}
	for a := range sd {
		sd[a] = math.Sqrt(sd[a] / float64(nt))
		if math.IsInf(sd[a], 0) || math.IsNaN(sd[a]) || math.IsInf(mean[a], 0) {
			// The sums overflowed float64: a standardization by +Inf would
			// silently drop the dimension. No AUC (Drift refuses).
			return math.NaN(), nil, 0
		}
		if sd[a] == 0 {
			sd[a] = 1
		}
	}
	std := func(src []float64, n int) []float64 {
		out := make([]float64, n*d)
		for i := 0; i < n; i++ {
			for a := 0; a < d; a++ {
				out[i*d+a] = (src[i*d+a] - mean[a]) / sd[a]
			}
		}
		return out
	}
	xs := std(train, nt)
	y := make([]float64, nt)
	for i, p := range trainPos {
		y[i] = -1
		if p {
			y[i] = 1
		}
	}
	w, b := logistic(xs, y, nt, d)
	ts := std(test, len(testPos))
	scores := make([]float64, len(testPos))
	for i := range scores {
		scores[i] = dot(w, ts[i*d:(i+1)*d]) + b
	}
	return rocAUC(scores, testPos), w, b
}
