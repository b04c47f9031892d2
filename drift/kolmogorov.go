package drift

import (
	"math"
)

// The two-sided one-sample Kolmogorov–Smirnov distribution of D_n
// (scipy.stats.kstwo), whose survival function scipy's ks_2samp uses as
// the asymptotic two-sample p-value with n = round(mn/(m+n)). The branch
// structure follows scipy 1.10's scipy/stats/_ksstats.py, itself after
// Simard & L'Ecuyer, "Computing the Two-Sided Kolmogorov-Smirnov
// Distribution", Journal of Statistical Software 39(11), 2011.

const (
	e128     = 128
	minLog   = -708.39641853226410622 // Cephes MINLOG
	minExpQ  = -708                   // _MIN_LOG in _ksstats.py
	logSqrt2 = 0.91893853320467274178 // log(sqrt(2π))
)

var (
	ep128 = math.Ldexp(1, e128)
	em128 = math.Ldexp(1, -e128)
)

func clip01(p float64) float64 { return math.Min(math.Max(p, 0), 1) }

// kstwoSF returns P(D_n > x), scipy.stats.kstwo.sf(x, n) for n >= 1.
func kstwoSF(n int, x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x >= 1:
		return 0
	case x <= 0:
		return 1
	}
	fn := float64(n)
	t := fn * x
	if t <= 1 { // Ruben-Gambino: 1/2n <= x <= 1/n
		if t <= 0.5 {
			return 1
		}
		var prob float64
		if n <= 140 {
			prob = 1
			for i := 1; i <= n; i++ {
				prob *= float64(i) * (1 / fn) * (2*t - 1)
			}
		} else {
			prob = math.Exp(logFactorialDivPow(fn) + fn*math.Log(2*t-1))
		}
		return clip01(1 - prob)
	}
	if t >= fn-1 { // Ruben-Gambino
		return clip01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 { // exact: twice the one-sided tail
		return clip01(2 * smirnovSF(n, x))
	}
	nxsq := t * x
	if n <= 140 {
		switch {
		case nxsq <= 0.754693:
			return clip01(1 - kolmogDMTW(n, x))
		case nxsq <= 4:
			return clip01(1 - kolmogPomeranz(n, x))
		}
		return clip01(2 * smirnovSF(n, x))
	}
	switch {
	case nxsq >= 370:
		return 0
	case nxsq >= 2.2:
		return clip01(2 * smirnovSF(n, x))
	case nxsq >= 18:
		return 0
	case n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4:
		return clip01(1 - kolmogDMTW(n, x))
	}
	return clip01(1 - kolmogPelzGood(n, x))
}

// logFactorialDivPow returns log(n!/n^n) by Stirling's series with the
// n log n term cancelled analytically (_log_nfactorial_div_n_pow_n).
func logFactorialDivPow(n float64) float64 {
	coeffs := [...]float64{-2.955065359477124183e-2, 6.4102564102564102564e-3,
		-1.9175269175269175269e-3, 8.4175084175084175084e-4,
		-5.952380952380952381e-4, 7.9365079365079365079e-4,
		-2.7777777777777777778e-3, 8.3333333333333333333e-2}
	rn := 1 / n
	u := rn / n
	p := 0.0
	for _, c := range coeffs {
		p = p*u + c
	}
	return math.Log(n)/2 - n + math.Log(2*math.Pi)/2 + rn*p
}

// kolmogDMTW returns P(D_n <= d) by Durbin's matrix method as Marsaglia,
// Tsang and Wang (2003) compute it: the k-th diagonal entry of
// (n!/n^n) H^n for a (2k-1)-square matrix H, k = ceil(nd), with powers by
// repeated squaring and binary exponent tracking.
func kolmogDMTW(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	nd := float64(n) * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1
	H := make([]float64, m*m)
	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		v[j-1] = 1 - math.Pow(h, float64(j))
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] *= fac
	}
	tt := math.Pow(math.Max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac
	for i := 1; i < m; i++ {
		for r := i - 1; r < m; r++ {
			H[r*m+i] = w[r-(i-1)]
		}
	}
	for r := 0; r < m; r++ {
		H[r*m] = v[r]
	}
	for c := 0; c < m; c++ {
		H[(m-1)*m+c] = v[m-1-c]
	}
	pw := make([]float64, m*m)
	for i := 0; i < m; i++ {
		pw[i*m+i] = 1
	}
	tmp := make([]float64, m*m)
	expnt, hexpnt := 0, 0
	for nn := n; nn > 0; nn /= 2 {
		if nn%2 == 1 {
			matMul(tmp, pw, H, m)
			pw, tmp = tmp, pw
			expnt += hexpnt
		}
		matMul(tmp, H, H, m)
		H, tmp = tmp, H
		hexpnt *= 2
		if math.Abs(H[(k-1)*m+k-1]) > ep128 {
			for i := range H {
				H[i] /= ep128
			}
			hexpnt += e128
		}
	}
	p := pw[(k-1)*m+k-1]
	fn := float64(n)
	for i := 1; i <= n; i++ {
		p = float64(i) * p / fn
		if math.Abs(p) < em128 {
			p *= ep128
			expnt -= e128
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clip01(p)
}

// matMul sets dst = a·b for m×m row-major matrices.
func matMul(dst, a, b []float64, m int) {
	clear(dst)
	for i := 0; i < m; i++ {
		row := dst[i*m : (i+1)*m]
		for l := 0; l < m; l++ {
			ail := a[i*m+l]
			if ail == 0 {
				continue
			}
			bl := b[l*m : (l+1)*m]
			for j, blj := range bl {
				row[j] += ail * blj
			}
		}
	}
}

// pomeranzJ returns the column range of row i (_pomeranz_compute_j1j2).
func pomeranzJ(i, n, ll, ceilf, roundf int) (int, int) {
	var j1, j2 int
	if i == 0 {
		j1, j2 = -ll-ceilf-1, ll+ceilf-1
	} else {
		ip1div2, ip1mod2 := (i+1)/2, (i+1)%2
		if ip1mod2 == 0 {
			if ip1div2 == n+1 {
				j1, j2 = n-ll-ceilf-1, n+ll+ceilf-1
			} else {
				j1, j2 = ip1div2-1-ll-roundf-1, ip1div2+ll-1+ceilf-1
			}
		} else {
			j1, j2 = ip1div2-1-ll-1, ip1div2+ll+roundf-1
		}
	}
	return max(j1+2, 0), min(j2, n)
}

// kolmogPomeranz returns P(D_n <= x) by Pomeranz's recursion (1974): rows
// of a 2n+2 step recursion, each the convolution of the previous row with
// truncated Poisson weights, rescaled by 2^±128 against underflow.
func kolmogPomeranz(n int, x float64) float64 {
	fn := float64(n)
	t := fn * x
	ll := int(math.Floor(t))
	f := t - float64(ll)
	g := math.Min(f, 1-f)
	ceilf, roundf := 0, 0
	if f > 0 {
		ceilf = 1
	}
	if f > 0.5 {
		roundf = 1
	}
	npwrs := 2 * (ll + 1)
	gp := make([]float64, npwrs)
	twogp := make([]float64, npwrs)
	onem2gp := make([]float64, npwrs)
	gp[0], twogp[0], onem2gp[0] = 1, 1, 1
	gOverN, twoGOverN, oneM2GOverN := g/fn, 2*g/fn, (1-2*g)/fn
	for m := 1; m < npwrs; m++ {
		fm := float64(m)
		gp[m] = gp[m-1] * gOverN / fm
		twogp[m] = twogp[m-1] * twoGOverN / fm
		onem2gp[m] = onem2gp[m-1] * oneM2GOverN / fm
	}
	V0 := make([]float64, npwrs)
	V1 := make([]float64, npwrs)
	V1[0] = 1
	v0s, v1s := 0, 0
	expnt := 0
	j1, j2 := pomeranzJ(0, n, ll, ceilf, roundf)
	for i := 1; i < 2*n+2; i++ {
		k1 := j1
		V0, V1 = V1, V0
		v0s, v1s = v1s, v0s
		clear(V1)
		j1, j2 = pomeranzJ(i, n, ll, ceilf, roundf)
		pwrs := onem2gp
		switch {
		case i == 1 || i == 2*n+1:
			pwrs = gp
		case i%2 == 1:
			pwrs = twogp
		}
		ln2 := j2 - k1 + 1
		if ln2 <= 0 {
			continue
		}
		// conv = np.convolve(V0[k1-v0s : k1-v0s+ln2], pwrs[:ln2]); keep
		// conv[j1-k1 : j1-k1+(j2-j1+1)].
		src := V0[k1-v0s : k1-v0s+ln2]
		start, length := j1-k1, j2-j1+1
		vmax := 0.0
		for o := 0; o < length; o++ {
			idx := start + o
			s := 0.0
			for a := max(0, idx-ln2+1); a <= min(idx, ln2-1); a++ {
				s += src[a] * pwrs[idx-a]
			}
			V1[o] = s
			vmax = math.Max(vmax, s)
		}
		if vmax > 0 && vmax < em128 {
			for o := range V1 {
				V1[o] *= ep128
			}
			expnt -= e128
		}
		v1s = v0s + j1 - k1
	}
	ans := V1[n-v1s]
	for m := 1; m <= n; m++ {
		if math.Abs(ans) > ep128 {
			ans *= em128
			expnt += e128
		}
		ans *= float64(m)
	}
	if expnt != 0 {
		ans = math.Ldexp(ans, expnt)
	}
	return clip01(ans)
}

// kolmogPelzGood returns the Pelz–Good (1976) asymptotic approximation of
// P(D_n <= x): the Li-Chien / Korolyuk expansion
// K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^1.5, z = x√n, with each term in
// its Jacobi-theta form for small z.
func kolmogPelzGood(n int, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	fn := float64(n)
	z := math.Sqrt(fn) * x
	z2, z3, z4, z6 := z*z, z*z*z, math.Pow(z, 4), math.Pow(z, 6)
	pi2 := math.Pi * math.Pi
	pi4, pi6 := pi2*pi2, pi2*pi2*pi2
	qlog := -pi2 / 8 / z2
	if qlog < minExpQ {
		return 0
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)
	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2 := m * m
		m4, m6 := m2*m2, m2*m2*m2
		qp := math.Pow(q, float64(8*k))
		c := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range K {
			K[i] = K[i]*qp + c[i]
		}
	}
	sqrt2pi := math.Sqrt(2 * math.Pi)
	div := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sqrt2pi / div[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	sqrt3z := math.Sqrt(3) * z
	var k2extra, k3extra float64
	for k := maxk; k > 0; k-- {
		fk := float64(k)
		k2 := fk * fk
		qp := math.Pow(q, k2)
		kspi := math.Pi * fk
		k2extra += k2 * qp
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
	sum := 0.0
	for i := range K {
		sum += K[i] / math.Pow(fn, float64(i)/2)
	}
	return sum
}

// smirnovSF returns the one-sided Smirnov survival function
// P(D_n^+ > x) (scipy.special.smirnov) by the Birnbaum–Tingey sum
//
//	P = x Σ_{v=0}^{⌊n(1-x)⌋} T_v,  T_v = C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)
//
// with terms where x + v/n = 1 left out and each term evaluated in logs,
// n·x split exactly (with FMA) into integer and fractional parts so that
// x + v/n and 1 - x - v/n keep full precision. Cephes' smirnov adds the
// terms one by one in double-double and stops once the rest cannot change
// the sum; for n < 2000 this function does the same in float64.
//
// For n >= 2000 it sums smirnovSumSmooth instead: T_v is a smooth
// unimodal function of v whose width grows like √n/x, so the sum over
// the ~n(1-x) integers equals the trapezoidal rule on a coarser grid up to
// an error that decays like exp(-c·width²/step²) (Trefethen & Weideman,
// "The exponentially convergent trapezoidal rule", SIAM Review 56(3),
// 2014): a few hundred terms give the sum of 500000 to rounding. n > 10^6
// uses Cephes' asymptotic form exp(-(6nx+1)²/(18n)), as Cephes does.
// Agrees with scipy to about 1e-12 relative (see TestSmirnovSF).
func smirnovSF(n int, x float64) float64 {
	switch {
	case math.IsNaN(x) || n <= 0 || x < 0 || x > 1:
		return math.NaN()
	case n == 1:
		return 1 - x
	case x == 0:
		return 1
	case x == 1:
		return 0
	}
	fn := float64(n)
	// n·x = nxfl + alpha exactly (alpha in [0,1) up to one rounding).
	hi := fn * x
	lo := math.FMA(fn, x, -hi)
	nxflF := math.Floor(hi)
	alpha := (hi - nxflF) + lo
	if alpha < 0 {
		nxflF--
		alpha++
	}
	if alpha >= 1 {
		nxflF++
		alpha = 0
	}
	nxfl := int(nxflF)
	if nxfl == 0 || (nxfl == 1 && alpha == 0) { // x <= 1/n
		return 1 - x*math.Pow(1+x, fn-1)
	}
	if -2*fn*x*x < minLog {
		return 0
	}
	if nxfl >= n-1 {
		return math.Pow(1-x, fn)
	}
	if n > 1000000 {
		logp := -math.Pow(6*fn*x+1, 2) / 18 / fn
		if logp < -math.Ln2 {
			return math.Exp(logp)
		}
		return 1 + math.Expm1(logp)
	}
	t := smirnovTerms{n: n, nxfl: nxfl, alpha: alpha}
	if n >= smirnovSmoothMinN {
		return clip01(x * t.sumSmooth())
	}
	last := t.last()
	sum := 0.0
	nTerms := last + 1
	// log C(n, v), accumulated term by term with Kahan compensation.
	logC, logCErr := 0.0, 0.0
	for v := 0; v <= last; v++ {
		a := math.Exp(t.logTermGivenBinom(v, logC) - logCErr)
		sum += a
		if a != 0 {
			if 4*float64(nTerms-v)*a < 0x1p-52*sum && v != nTerms-1 {
				break
			}
		} else if v > n/2 {
			break
		}
		fv := float64(v)
		y := math.Log((fn-fv)/(fv+1)) - logCErr
		next := logC + y
		logCErr = (next - logC) - y
		logC = next
	}
	return clip01(x * sum)
}

const (
	// smirnovSmoothMinN is the smallest n whose Smirnov sum is evaluated
	// on a coarse grid (smirnovTerms.sumSmooth).
	smirnovSmoothMinN = 2000
	// smirnovGridMin is the number of grid points of the coarsest grid.
	smirnovGridMin = 64
	// smirnovGridTol is the relative change between two grids, one the
	// halving of the other, at which the finer one is accepted. The
	// trapezoidal error falls like exp(-c/step²), so when halving changes
	// the sum by less than this, the finer grid's own error is far below
	// the rounding of the terms.
	smirnovGridTol = 1e-12
	// smirnovCut is how far below the largest log-term (plus ln n) the
	// summed range is cut: e^-60 is below the precision of any sum.
	smirnovCut = 60
)

// smirnovTerms are the Birnbaum–Tingey terms T_v for one n and
// n·x = nxfl + alpha.
type smirnovTerms struct {
	n, nxfl int
	alpha   float64
}

// last returns the largest v with x + v/n < 1.
func (t smirnovTerms) last() int { return t.n - t.nxfl - 1 }

// logTermGivenBinom returns log T_v given logC = log C(n, v).
func (t smirnovTerms) logTermGivenBinom(v int, logC float64) float64 {
	fn, fv := float64(t.n), float64(v)
	up := (float64(t.nxfl+v) + t.alpha) / fn       // x + v/n
	down := (float64(t.n-t.nxfl-v) - t.alpha) / fn // 1 - x - v/n
	return logC + ((fv-1)*math.Log(up) + (fn-fv)*math.Log(down))
}

// logTerm returns log T_v. Away from the ends (v and n-v >= 100) it
// folds Stirling's series for log C(n, v) into the powers so that the
// terms of size n·ln n cancel analytically (u = v/n):
//
//	log T_v = v ln(1 + nx/v) + (n-v) ln(1 - nx/(n-v)) - ln(x + u)
//	          + ½ ln(n / (2π v (n-v))) + s(n) - s(v) - s(n-v)
//
// whose largest parts are of size n·x, so the result keeps about 1e-13
// relative precision where the direct form keeps 1e-10.
func (t smirnovTerms) logTerm(v int) float64 {
	n := t.n
	if v < 100 || n-v < 100 {
		return t.logTermGivenBinom(v, logBinom(n, v))
	}
	fn, fv, fw := float64(n), float64(v), float64(n-v)
	nx := float64(t.nxfl) + t.alpha
	main := fv*math.Log1p(nx/fv) + fw*math.Log1p(-nx/fw) - math.Log((nx+fv)/fn)
	return main + 0.5*math.Log(fn/(2*math.Pi*fv*fw)) + stirlingCorr(fn) - stirlingCorr(fv) - stirlingCorr(fw)
}

// sumSmooth returns Σ_v T_v over the v whose log-term is within
// smirnovCut + ln n of the largest (the rest cannot change a float64
// sum), by the trapezoidal rule on grids of step h = 2^k: it starts with
// about smirnovGridMin points and halves the step until two successive
// grids agree to smirnovGridTol, down to h = 1, the plain sum. The terms
// are scaled by the largest before exponentiation.
func (t smirnovTerms) sumSmooth() float64 {
	start, end, peakLog := smirnovRange(t.n, t.last(), t.logTerm)
	f := func(v int) float64 { return math.Exp(t.logTerm(v) - peakLog) }
	h := 1
	for (end-start)/(2*h) >= smirnovGridMin {
		h *= 2
	}
	s := 0.0
	for v := start; v <= end; v += h {
		s += f(v)
	}
	for h > 1 {
		half := h / 2
		add := 0.0
		for v := start + half; v <= end; v += h {
			add += f(v)
		}
		coarse, fine := s*float64(h), (s+add)*float64(half)
		s, h = s+add, half
		if math.Abs(fine-coarse) <= smirnovGridTol*fine {
			break
		}
	}
	return s * float64(h) * math.Exp(peakLog)
}

// smirnovRange returns the range [start, end] of v in [0, last] whose
// log-term logT(v) is within smirnovCut + ln n of the largest, and that
// largest value, for a unimodal logT: the peak by ternary search, then
// each end by bisection.
func smirnovRange(n, last int, logT func(int) float64) (start, end int, peakLog float64) {
	lo, hi := 0, last
	for hi-lo > 2 {
		m1, m2 := lo+(hi-lo)/3, hi-(hi-lo)/3
		if logT(m1) < logT(m2) {
			lo = m1 + 1
		} else {
			hi = m2 - 1
		}
	}
	peak, peakLog := lo, logT(lo)
	for v := lo + 1; v <= hi; v++ {
		if l := logT(v); l > peakLog {
			peak, peakLog = v, l
		}
	}
	cut := peakLog - smirnovCut - math.Log(float64(n))
	// below reports whether v is outside the range, on v's side of peak.
	below := func(v int) bool { return logT(v) < cut }
	start, end = 0, last
	if below(0) {
		lo, hi := 0, peak // below(lo), !below(hi)
		for hi-lo > 1 {
			if m := lo + (hi-lo)/2; below(m) {
				lo = m
			} else {
				hi = m
			}
		}
		start = hi
	}
	if below(last) {
		lo, hi := peak, last // !below(lo), below(hi)
		for hi-lo > 1 {
			if m := lo + (hi-lo)/2; below(m) {
				hi = m
			} else {
				lo = m
			}
		}
		end = lo
	}
	return start, end, peakLog
}

// logBinom returns log C(n, v) to about 1e-15·n absolute: a sum of logs
// for small min(v, n-v), otherwise Stirling's series with the n log n
// terms cancelled analytically,
//
//	log C(n,v) = -v ln(v/n) - (n-v) ln(1-v/n) + ½ ln(n / (2π v (n-v))) + s(n) - s(v) - s(n-v)
//
// where s is the Stirling correction 1/(12x) - 1/(360x³) + 1/(1260x⁵) - 1/(1680x⁷).
func logBinom(n, v int) float64 {
	v = min(v, n-v)
	fn, fv := float64(n), float64(v)
	if v < 100 {
		s := 0.0
		for i := 0; i < v; i++ {
			s += math.Log((fn - float64(i)) / float64(i+1))
		}
		return s
	}
	fm := fn - fv
	p := fv / fn
	main := -fv*math.Log(p) - fm*math.Log1p(-p) + 0.5*math.Log(fn/(2*math.Pi*fv*fm))
	return main + stirlingCorr(fn) - stirlingCorr(fv) - stirlingCorr(fm)
}

func stirlingCorr(x float64) float64 {
	r := 1 / x
	r2 := r * r
	return r * (1.0/12 - r2*(1.0/360-r2*(1.0/1260-r2/1680)))
}
