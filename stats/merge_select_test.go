package stats

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// selectData returns n values with ties, NaN, ±0, subnormals, ±Inf and
// values of many magnitudes.
func selectData(rng *rand.Rand, n int) []float64 {
	pool := []float64{0, math.Copysign(0, -1), 5e-324, -5e-324, 2.2e-308, math.Inf(1), math.Inf(-1), 1, -1, 1.5}
	xs := make([]float64, n)
	for i := range xs {
		switch rng.IntN(6) {
		case 0:
			xs[i] = pool[rng.IntN(len(pool))]
		case 1:
			xs[i] = math.NaN()
		case 2:
			xs[i] = float64(rng.IntN(5)) // heavy ties
		default:
			xs[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		}
	}
	return xs
}

// selectPieces runs a distributed selection of ranks over xs cut into
// pieces of at most maxPiece values, each pass's histograms merged in a
// random order.
func selectPieces(t *testing.T, rng *rand.Rand, xs []float64, maxPiece int, ranksOf func(n int64) []int64) (*Selection, int64) {
	t.Helper()
	var pieces [][]float64
	for at := 0; at < len(xs); {
		k := min(1+rng.IntN(maxPiece), len(xs)-at)
		pieces = append(pieces, xs[at:at+k])
		at += k
	}
	pass := func(empty SelectHist) SelectHist {
		hs := make([]SelectHist, len(pieces))
		for i, p := range pieces {
			hs[i] = SelectHist{Bits: empty.Bits, Prefixes: empty.Prefixes}
			hs[i].Add(p)
		}
		rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
		var total SelectHist // the zero value merges with any pass
		for i := range hs {
			if err := total.Merge(&hs[i]); err != nil {
				t.Fatal(err)
			}
		}
		return total
	}
	first := pass(FirstSelectPass())
	n := first.Total()
	sel, err := NewSelection(&first, ranksOf(n))
	if err != nil {
		t.Fatal(err)
	}
	for !sel.Done() {
		h := pass(sel.Pass())
		if err := sel.Narrow(&h); err != nil {
			t.Fatal(err)
		}
	}
	return sel, n
}

func TestSelectionMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 2, 7, 100, 1000, 20000} {
		for _, maxPiece := range []int{1, 13, 5000} {
			if maxPiece == 1 && n > 1000 {
				continue
			}
			xs := selectData(rng, n)
			// The reference order is the keys' (-0 before +0), which
			// slices.Sort leaves unspecified.
			want := SortedFinite(xs)
			slices.SortFunc(want, func(a, b float64) int { return cmp.Compare(orderKey(a), orderKey(b)) })
			all := func(m int64) []int64 {
				r := make([]int64, m)
				for i := range r {
					r[i] = int64(i)
				}
				return r
			}
			sel, m := selectPieces(t, rng, xs, maxPiece, all)
			if m != int64(len(want)) {
				t.Fatalf("n=%d: got %d values, want %d", n, m, len(want))
			}
			got := sel.Values()
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("n=%d pieces<=%d: rank %d: got %v (bits %x), want %v (bits %x)",
						n, maxPiece, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
				}
			}
		}
	}
}

// TestSelectionPercentilesMatchSorted checks percentiles and the median
// built on a distributed selection against Sorted's, bit for bit.
func TestSelectionPercentilesMatchSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ps := []float64{0, 1, 12.5, 25, 33.3, 50, 75, 99.9, 100}
	for _, n := range []int{1, 2, 3, 10, 999, 50000} {
		xs := selectData(rng, n)
		for i, x := range xs {
			if math.IsInf(x, 0) {
				xs[i] = 3 // interpolating across ±Inf gives NaN either way
			}
		}
		s, err := Sort(xs, SortOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantMed, _ := s.Median()
		wantP, _ := s.Percentiles(ps)
		sel, m := selectPieces(t, rng, xs, 700, func(m int64) []int64 { return PercentileRanks(m, ps, true) })
		at := sel.At()
		if got := MedianAt(m, at); !sameFloat(got, wantMed) {
			t.Errorf("n=%d: median: got %v, want %v", n, got, wantMed)
		}
		for i, p := range ps {
			if got := PercentileAt(m, p, at); !sameFloat(got, wantP[i]) {
				t.Errorf("n=%d: percentile %v: got %v, want %v", n, p, got, wantP[i])
			}
		}
	}
}

// sameFloat reports whether a and b have the same bits or are both NaN.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func TestSelectionRefusesBadRanks(t *testing.T) {
	h := FirstSelectPass()
	h.Add([]float64{1, 2, math.NaN()})
	for _, ranks := range [][]int64{{2}, {-1}, {1, 1}, {1, 0}} {
		if _, err := NewSelection(&h, ranks); err == nil {
			t.Errorf("ranks %v of 2 values: got no error, want ErrSelect", ranks)
		}
	}
	other := SelectHist{Bits: 16, Prefixes: []uint64{1}}
	if err := h.Merge(&other); err == nil {
		t.Error("merging histograms of different passes: got no error, want ErrSelect")
	}
}

func TestValueCountsModeMatchesSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{0, 1, 5, 100, 3000} {
		xs := selectData(rng, n)
		s, _ := Sort(xs, SortOptions{})
		want, _ := s.Mode()
		var total ValueCounts
		for at := 0; at < n; {
			k := min(1+rng.IntN(50), n-at)
			var c ValueCounts
			c.Add(xs[at : at+k])
			total.Merge(&c)
			at += k
		}
		if got := total.Mode(); !sameFloat(got, want) {
			t.Errorf("n=%d: got %v, want %v", n, got, want)
		}
	}
	// -0 and +0 are one value, reported as -0; 2 has as many but is larger.
	var c ValueCounts
	c.Add([]float64{0, 2, math.Copysign(0, -1), 2})
	if got := c.Mode(); math.Float64bits(got) != math.Float64bits(math.Copysign(0, -1)) {
		t.Errorf("mode of {0, 2, -0, 2}: got %v, want -0", got)
	}
}

func TestColumnAccMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 50, 1000} {
		xs := selectData(rng, n)
		// The left-to-right scan the steps do (strict comparisons).
		wantLo, wantHi, wantAbs := math.NaN(), math.NaN(), math.NaN()
		var wantNaN, wantInf int64
		for _, x := range xs {
			if x != x {
				wantNaN++
				continue
			}
			if math.IsInf(x, 0) {
				wantInf++
			}
			if !(x >= wantLo) {
				wantLo = x
			}
			if !(x <= wantHi) {
				wantHi = x
			}
			if a := math.Abs(x); a > wantAbs || wantAbs != wantAbs {
				wantAbs = a
			}
		}
		var accs []ColumnAcc
		for at := 0; at < n; {
			k := min(1+rng.IntN(7), n-at)
			var a ColumnAcc
			a.Add(int64(at), xs[at:at+k])
			accs = append(accs, a)
			at += k
		}
		rng.Shuffle(len(accs), func(i, j int) { accs[i], accs[j] = accs[j], accs[i] })
		var total ColumnAcc
		for i := range accs {
			total.Merge(&accs[i])
		}
		lo, hi := total.MinMax()
		if !sameFloat(lo, wantLo) || !sameFloat(hi, wantHi) || !sameFloat(total.AbsMax(), wantAbs) {
			t.Errorf("n=%d: got min %v max %v maxabs %v, want %v %v %v", n, lo, hi, total.AbsMax(), wantLo, wantHi, wantAbs)
		}
		if total.Rows != int64(n) || total.NaN != wantNaN || total.Inf != wantInf {
			t.Errorf("n=%d: got rows %d NaN %d Inf %d, want %d %d %d", n, total.Rows, total.NaN, total.Inf, n, wantNaN, wantInf)
		}
	}
}

func TestNanSumAccMatchesNanSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 129, 8193, 20000} {
		xs := selectData(rng, n)
		for i, x := range xs {
			if math.IsInf(x, 0) {
				xs[i] = 1
			}
		}
		wantSum, wantN := NanSum(xs)
		var accs []NanSumAcc
		for at := 0; at < n; {
			k := min(1+rng.IntN(3000), n-at)
			a := NewNanSumAcc(int64(n))
			if err := a.Add(int64(at), xs[at:at+k]); err != nil {
				t.Fatal(err)
			}
			accs = append(accs, a)
			at += k
		}
		rng.Shuffle(len(accs), func(i, j int) { accs[i], accs[j] = accs[j], accs[i] })
		var total NanSumAcc
		for i := range accs {
			if err := total.Merge(&accs[i]); err != nil {
				t.Fatal(err)
			}
		}
		sum, m, ok := total.NanSum()
		if !ok || !sameFloat(sum, wantSum) || m != int64(wantN) {
			t.Errorf("n=%d: got %v (%d values, complete %v), want %v (%d)", n, sum, m, ok, wantSum, wantN)
		}
	}
}

// TestColumnAccAddMatchesStrictScan checks Add on whole slices (the
// vector pass and the search for the first rows) against the left-to-right
// scan with strict comparisons its doc describes: rows and bits of Min
// and Max (the first of -0 and +0), MaxAbs, and the NaN and ±Inf counts.
func TestColumnAccAddMatchesStrictScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	vals := []float64{math.NaN(), math.Copysign(0, -1), 0, 1, -1, 2.5, math.Inf(1), math.Inf(-1), 1e300, -1e300}
	for trial := 0; trial < 3000; trial++ {
		n := rng.IntN(70)
		if trial%100 == 0 {
			n = 5000 + rng.IntN(9)
		}
		k := 1 + rng.IntN(len(vals))
		xs := make([]float64, n)
		for i := range xs {
			if rng.IntN(4) == 0 {
				xs[i] = rng.NormFloat64()
			} else {
				xs[i] = vals[rng.IntN(k)]
			}
		}
		var want ColumnAcc
		want.Rows = int64(n)
		first := true
		for i, x := range xs {
			if x != x {
				want.NaN++
				continue
			}
			if math.IsInf(x, 0) {
				want.Inf++
			}
			if first || x < want.Min {
				want.Min, want.MinAt = x, int64(i)
			}
			if first || x > want.Max {
				want.Max, want.MaxAt = x, int64(i)
			}
			if a := math.Abs(x); first || a > want.MaxAbs {
				want.MaxAbs = a
			}
			first = false
		}
		var got ColumnAcc
		got.Add(0, xs)
		same := got.Rows == want.Rows && got.NaN == want.NaN && got.Inf == want.Inf
		if want.Count() > 0 {
			same = same && math.Float64bits(got.Min) == math.Float64bits(want.Min) && got.MinAt == want.MinAt &&
				math.Float64bits(got.Max) == math.Float64bits(want.Max) && got.MaxAt == want.MaxAt &&
				math.Float64bits(got.MaxAbs) == math.Float64bits(want.MaxAbs)
		}
		if !same {
			t.Fatalf("%v: got %+v, want %+v", xs, got, want)
		}
	}
}
