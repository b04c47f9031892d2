package drift

import (
	"math"
	"math/big"
)

// AndersonKSamp returns the two-sample Anderson–Darling test of ref
// against cur with midranks, scipy 1.10's
// scipy.stats.anderson_ksamp([ref, cur], midrank=True). With the pooled
// sorted sample of size N, its distinct values z_j with multiplicities l_j,
// B_j = #{pooled < z_j} + l_j/2 and, per sample i of size n_i,
// M_ij = #{sample i < z_j} + #{sample i == z_j}/2 (Scholz & Stephens 1987,
// eq. 7):
//
//	A²_akN = (N-1)/N Σ_i 1/n_i Σ_j l_j/N (N M_ij - B_j n_i)² / (B_j (N - B_j) - N l_j/4)
//	A²     = (A²_akN - (k-1)) / σ_N
//
// where σ_N² is the finite-sample variance of A²_akN (k = 2). Statistic is
// the standardized A²; PValue is scipy's significance level: interpolated
// from a quadratic fit of log(level) against the tabulated critical values
// (Scholz & Stephens Table 2), capped to 0.25 above and floored to 0.001
// below. NaN values are dropped first; an empty sample is an error, as are
// fewer than three values in all (σ_N is undefined) and a pooled sample
// with a single distinct value (ErrConstant).
func AndersonKSamp(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("anderson", ref, cur, 1)
	if err != nil {
		return Result{}, err
	}
	n1, n2 := len(a), len(b)
	N := n1 + n2
	if N < 3 {
		return Result{}, &SampleError{Method: "anderson", Sample: "both", N: N, Err: ErrTooFew}
	}
	if a[0] == a[n1-1] && b[0] == b[n2-1] && a[0] == b[0] {
		return Result{}, &SampleError{Method: "anderson", Sample: "both", N: N, Err: ErrConstant}
	}
	fN := float64(N)
	fn := [2]float64{float64(n1), float64(n2)}
	var sums [2]blockSum
	i, j := 0, 0
	for i < n1 || j < n2 {
		var v float64
		switch {
		case j >= n2:
			v = a[i]
		case i >= n1:
			v = b[j]
		default:
			v = math.Min(a[i], b[j])
		}
		i0, j0 := i, j
		for i < n1 && a[i] == v {
			i++
		}
		for j < n2 && b[j] == v {
			j++
		}
		lj := float64(i - i0 + j - j0)
		bj := float64(i0+j0) + lj/2
		den := bj*(fN-bj) - fN*lj/4
		mij := [2]float64{float64(i) - float64(i-i0)/2, float64(j) - float64(j-j0)/2}
		for s := range sums {
			d := fN*mij[s] - bj*fn[s]
			sums[s].add(lj / fN * (d * d) / den)
		}
	}
	a2kN := 0.0
	for s := range sums {
		a2kN += sums[s].total() / fn[s]
	}
	a2kN *= (fN - 1) / fN
	const k = 2.0
	H := 1/fn[0] + 1/fn[1]
	// hs_cs = cumsum(1/[N-1, N-2, ..., 2]); h = hs_cs[-1] + 1;
	// g = Σ hs_cs[i] / (i+2).
	var gs blockSum
	c := 0.0
	for t := 0; t < N-2; t++ {
		c += 1 / float64(N-1-t)
		gs.add(c / float64(t+2))
	}
	h := c + 1
	g := gs.total()
	aa := (4*g-6)*(k-1) + (10-6*g)*H
	bb := (2*g-4)*k*k + 8*h*k + (2*g-14*h-4)*H - 8*h + 4*g - 6
	cc := (6*h+2*g-2)*k*k + (4*h-4*g+6)*k + (2*h-6)*H + 4*h
	dd := (2*h+6)*k*k - 4*h*k
	sigmasq := (aa*intPow(N, 3) + bb*intPow(N, 2) + cc*fN + dd) / ((fN - 1) * (fN - 2) * (fN - 3))
	a2 := (a2kN - (k - 1)) / math.Sqrt(sigmasq)
	return Result{Statistic: a2, PValue: andersonLevel(a2)}, nil
}

// intPow returns n^p (an exact integer) rounded once to float64, as
// Python converts int ** int.
func intPow(n, p int) float64 {
	z := new(big.Int).Exp(big.NewInt(int64(n)), big.NewInt(int64(p)), nil)
	f, _ := new(big.Float).SetInt(z).Float64()
	return f
}

// andersonLevel returns anderson_ksamp's significance level for two
// samples (m = k-1 = 1): the critical values b0 + b1/√m + b2/m at levels
// 25% ... 0.1%, a least-squares quadratic of log(level) on them evaluated
// at a2, capped at 0.25 and floored at 0.001.
func andersonLevel(a2 float64) float64 {
	b0 := [7]float64{0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085}
	b1 := [7]float64{-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615}
	b2 := [7]float64{-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154}
	sig := [7]float64{0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001}
	var crit [7]float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range crit {
		crit[i] = b0[i] + b1[i]/math.Sqrt(1) + b2[i]/1
		lo, hi = math.Min(lo, crit[i]), math.Max(hi, crit[i])
	}
	switch {
	case math.IsNaN(a2):
		return math.NaN()
	case a2 < lo:
		return 0.25
	case a2 > hi:
		return 0.001
	}
	// Normal equations of the quadratic least-squares fit, solved by
	// Gaussian elimination with partial pivoting (numpy.polyfit solves the
	// same problem by SVD; the 7 points are well conditioned).
	var M [3][4]float64
	for i := range crit {
		x, y := crit[i], math.Log(sig[i])
		pw := [5]float64{1, x, x * x, x * x * x, x * x * x * x}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				M[r][c] += pw[r+c]
			}
			M[r][3] += pw[r] * y
		}
	}
	for col := 0; col < 3; col++ {
		piv := col
		for r := col + 1; r < 3; r++ {
			if math.Abs(M[r][col]) > math.Abs(M[piv][col]) {
				piv = r
			}
		}
		M[col], M[piv] = M[piv], M[col]
		for r := col + 1; r < 3; r++ {
			f := M[r][col] / M[col][col]
			for c := col; c < 4; c++ {
				M[r][c] -= f * M[col][c]
			}
		}
	}
	var coef [3]float64
	for r := 2; r >= 0; r-- {
		s := M[r][3]
		for c := r + 1; c < 3; c++ {
			s -= M[r][c] * coef[c]
		}
		coef[r] = s / M[r][r]
	}
	return math.Exp(coef[0] + coef[1]*a2 + coef[2]*a2*a2)
}
