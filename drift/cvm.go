package drift

import (
	"math"
	"math/big"
	"sort"
)

// cvmMaxExactN is the largest sample size for which CramerVonMises
// computes the exact p-value (scipy's method="auto" rule).
const cvmMaxExactN = 20

// CramerVonMises returns the two-sample Cramér–von Mises test of ref
// against cur, scipy 1.10's scipy.stats.cramervonmises_2samp(ref, cur,
// method="auto"). With average ranks r of the pooled sample (ties share
// their mean rank), n = len(ref), m = len(cur), k = nm, N = n+m:
//
//	U = n Σ_i (r_ref,i - i)² + m Σ_j (r_cur,j - j)²
//	T = U/(kN) - (4k-1)/(6N)
//
// The p-value is exact when max(n, m) <= 20 (the distribution of U
// enumerated over all C(N, n) splits by the recursion of Xiao, Gordon and
// Yakovlev, J. Stat. Softw. 17(8), 2007), otherwise from the limiting
// distribution after standardizing T with its finite-sample mean and
// variance (Anderson 1962; series of Csörgő & Faraway 1996, summed until
// a term is below 1e-7 as scipy does); 1 when the standardized statistic
// is below 0.003. NaN values are dropped first; each sample needs at least
// two values (ErrTooFew).
func CramerVonMises(ref, cur []float64) (Result, error) {
	a, b, err := sortedPair("cramer_von_mises", ref, cur, 2)
	if err != nil {
		return Result{}, err
	}
	nx, ny := len(a), len(b)
	var sx, sy blockSum
	// Walk the pooled sample a tie group at a time; every member of the
	// group at 0-based positions [pos, pos+cnt) has rank pos + (cnt+1)/2.
	i, j, pos := 0, 0, 0
	for i < nx || j < ny {
		var v float64
		switch {
		case j >= ny:
			v = a[i]
		case i >= nx:
			v = b[j]
		default:
			v = math.Min(a[i], b[j])
		}
		i0, j0 := i, j
		for i < nx && a[i] == v {
			i++
		}
		for j < ny && b[j] == v {
			j++
		}
		cnt := (i - i0) + (j - j0)
		r := 0.5 * float64(2*pos+cnt+1) // rankdata's 0.5*(count[k] + count[k-1] + 1)
		for k := i0; k < i; k++ {
			d := r - float64(k+1)
			sx.add(d * d)
		}
		for k := j0; k < j; k++ {
			d := r - float64(k+1)
			sy.add(d * d)
		}
		pos += cnt
	}
	u := float64(nx)*sx.total() + float64(ny)*sy.total()
	k, N := int64(nx)*int64(ny), int64(nx+ny)
	t := u/float64(k*N) - ratio(big.NewInt(4*k-1), big.NewInt(6*N))
	if max(nx, ny) <= cvmMaxExactN {
		return Result{Statistic: t, PValue: cvmExactSF(u, nx, ny), Exact: true}, nil
	}
	fN := float64(N)
	et := (1 + 1/fN) / 6
	// vt = (N+1)(4kN - 3(nx²+ny²) - 2k) / (45 N² 4k), exact integers then
	// one correctly rounded division, as Python's int / int.
	bk, bN := big.NewInt(k), big.NewInt(N)
	num := new(big.Int).Mul(big.NewInt(4*k), bN)
	num.Sub(num, big.NewInt(3*(int64(nx)*int64(nx)+int64(ny)*int64(ny))))
	num.Sub(num, big.NewInt(2*k))
	num.Mul(num, big.NewInt(N+1))
	den := new(big.Int).Mul(bN, bN)
	den.Mul(den, big.NewInt(180))
	den.Mul(den, bk)
	vt := ratio(num, den)
	tn := 1.0/6 + (t-et)/math.Sqrt(45*vt)
	p := 1.0
	if tn >= 0.003 {
		p = math.Max(0, 1-cvmLimitCDF(tn))
	}
	return Result{Statistic: t, PValue: p}, nil
}

// ratio returns num/den correctly rounded to float64.
func ratio(num, den *big.Int) float64 {
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// cvmLimitCDF returns the CDF of the limiting Cramér–von Mises
// distribution (Csörgő & Faraway 1996, eq. 1.7):
//
//	F(x) = Σ_k Γ(k+½)/(Γ(k+1) π^{3/2} √x) √(4k+1) e^{-q} K_{1/4}(q),  q = (4k+1)²/(16x)
//
// summed until a term is below 1e-7 (that term included), as scipy's
// _cdf_cvm_inf does.
func cvmLimitCDF(x float64) float64 {
	tot := 0.0
	for k := 0; ; k++ {
		fk := float64(k)
		lg1, _ := math.Lgamma(fk + 0.5)
		lg2, _ := math.Lgamma(fk + 1)
		u := math.Exp(lg1-lg2) / (math.Pow(math.Pi, 1.5) * math.Sqrt(x))
		y := 4*fk + 1
		q := y * y / (16 * x)
		z := u * math.Sqrt(y) * math.Exp(-q) * besselK(0.25, q)
		tot += z
		if !(math.Abs(z) >= 1e-7) {
			return tot
		}
	}
}

// cvmExactSF returns P(U >= u) under the null for samples of sizes m and
// n (scipy's _pval_cvm_2samp_exact): the distribution of
// ζ = Σ (a·v - b·w)² along lattice paths, a = lcm/m, b = lcm/n, built a
// column at a time with exact integer counts, and compared with
// ζ(u) = lcm²(m+n)(6u - mn(4mn-1)) // (6(mn)²) in float64 floor division.
func cvmExactSF(u float64, m, n int) float64 {
	l := m / gcd(m, n) * n
	a, b := int64(l/m), int64(l/n)
	mn := int64(m) * int64(n)
	lhs := float64(int64(l)*int64(l)*int64(m+n)) * (6*u - float64(mn*(4*mn-1)))
	zeta := pyFloorDiv(lhs, float64(6*mn*mn))
	// gs[v] maps ζ-value -> number of paths to (w, v) for the current w.
	gs := make([]map[int64]uint64, m+1)
	for v := range gs {
		gs[v] = map[int64]uint64{}
	}
	gs[0][0] = 1
	for w := 0; w <= n; w++ {
		next := make([]map[int64]uint64, m+1)
		var tmp map[int64]uint64
		for v := 0; v <= m; v++ {
			merged := make(map[int64]uint64, len(tmp)+len(gs[v]))
			shift := (a*int64(v) - b*int64(w)) * (a*int64(v) - b*int64(w))
			for val, c := range tmp {
				merged[val+shift] += c
			}
			for val, c := range gs[v] {
				merged[val+shift] += c
			}
			next[v] = merged
			tmp = merged
		}
		gs = next
	}
	var hits uint64
	for val, c := range gs[m] {
		if float64(val) >= zeta {
			hits += c
		}
	}
	total := new(big.Int).Binomial(int64(m+n), int64(m))
	tf, _ := new(big.Float).SetInt(total).Float64()
	return float64(hits) / tf
}

// pyFloorDiv returns x // y for float64 as Python and numpy compute it.
func pyFloorDiv(x, y float64) float64 {
	mod := math.Mod(x, y)
	div := (x - mod) / y
	if mod != 0 && (y < 0) != (mod < 0) {
		div--
	}
	fl := math.Floor(div)
	if div-fl > 0.5 {
		fl++
	}
	return fl
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
