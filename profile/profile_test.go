package profile

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

func TestGridIndexMatchesSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	grids := [][]float64{
		{1, 2, 3},
		{0, 0, 0, 1, 1, 5, 5, 5, 9},
		{-1e300, 0, 1e300},
	}
	sk := make([]float64, 201)
	for i := range sk {
		sk[i] = math.Exp(rng.NormFloat64() * 3)
	}
	sort.Float64s(sk)
	grids = append(grids, sk)
	for _, g := range grids {
		gi := newGridIndex(g)
		probe := append([]float64{g[0] - 1, g[len(g)-1] + 1}, g...)
		for i := 0; i < 2000; i++ {
			probe = append(probe, g[0]+(g[len(g)-1]-g[0])*rng.Float64())
		}
		for _, x := range probe {
			if got, want := gi.find(x), sort.SearchFloat64s(g, x); got != want {
				t.Fatalf("grid %v x=%v: got %d, want %d", g[:3], x, got, want)
			}
		}
	}
}

// TestNumericProfile checks the profile against exact computations.
func TestNumericProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{10, 1000, 200000} {
		xs := make([]float64, n)
		for i := range xs {
			if i%50 == 0 {
				xs[i] = math.NaN()
			} else {
				xs[i] = math.Exp(rng.NormFloat64())
			}
		}
		p := Column(&table.Column{Name: "x", Kind: table.Numeric, Num: xs})
		present := stats.SortedFinite(xs)
		if p.Count != int64(len(present)) || p.Missing != int64(n-len(present)) {
			t.Fatalf("n=%d: count %d missing %d", n, p.Count, p.Missing)
		}
		if float64(*p.Min) != present[0] || float64(*p.Max) != present[len(present)-1] {
			t.Fatalf("n=%d: min/max %v %v", n, *p.Min, *p.Max)
		}
		for i, q := range p.Quantiles {
			k := sort.Search(len(present), func(j int) bool { return present[j] > q })
			if want := float64(k) / float64(len(present)); p.CDF[i] != want {
				t.Fatalf("n=%d: cdf at %v: got %v, want %v", n, q, p.CDF[i], want)
			}
			if n <= sampleMax && q != stats.Quantile(present, GridProbs[i]) {
				t.Fatalf("n=%d: grid point %d not the exact quantile", n, i)
			}
		}
		if p.MaxCDFGap <= 0 || (n >= 1000 && p.MaxCDFGap > 0.02) {
			t.Errorf("n=%d: max cdf gap %v", n, p.MaxCDFGap)
		}
		var total int64
		for _, c := range p.Histogram.Counts {
			total += c
		}
		if total != p.Count {
			t.Errorf("n=%d: histogram holds %d values, want %d", n, total, p.Count)
		}
	}
}

// TestGridIndexFindsLikeBinarySearch checks the cell table against
// sort.SearchFloat64s for every grid point, its neighbours and random
// values, on grids whose points fall on cell boundaries after rounding
// (the case diagnose's variants hit: x = -0.10965683698100481).
func TestGridIndexFindsLikeBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	grids := [][]float64{
		{-2.4, -0.10965683698100481, -0.10965683698100481, 0.3, 1.9},
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
	}
	for k := 0; k < 200; k++ {
		n := 2 + rng.IntN(300)
		g := make([]float64, n)
		for i := range g {
			switch k % 3 {
			case 0:
				g[i] = rng.NormFloat64()
			case 1:
				g[i] = math.Round(rng.NormFloat64() * 5) // ties
			default:
				g[i] = math.Exp(rng.NormFloat64() * 3)
			}
		}
		slices.Sort(g)
		grids = append(grids, g)
	}
	// Grids with points just below a cell's computed start that the cell
	// formula still puts in that cell.
	for k := 0; k < 300; k++ {
		lo, hi := -rng.Float64()*3, rng.Float64()*3
		scale := gridCells / (hi - lo)
		g := []float64{lo, hi}
		for c := 1; c < gridCells; c += 1 + rng.IntN(40) {
			x := lo + float64(c)/scale
			for d := 0; d < 4; d++ {
				x = math.Nextafter(x, math.Inf(-1))
				if int((x-lo)*scale) == c {
					g = append(g, x)
				}
			}
		}
		slices.Sort(g)
		grids = append(grids, g)
	}
	for gn, g := range grids {
		gi := newGridIndex(g)
		probe := func(x float64) {
			if got, want := gi.find(x), sort.SearchFloat64s(g, x); got != want {
				t.Fatalf("grid %d: find(%v) = %d, want %d", gn, x, got, want)
			}
		}
		for _, x := range g {
			probe(x)
			probe(math.Nextafter(x, math.Inf(-1)))
			probe(math.Nextafter(x, math.Inf(1)))
		}
		for k := 0; k < 2000; k++ {
			probe(g[0] + (g[len(g)-1]-g[0])*rng.Float64())
		}
	}
}

// TestCountsMatchSearch checks the grid counts (by distinct grid value,
// with the lookup inlined) against a binary search over the grid itself,
// on grids with runs of equal points (integer data), wide and narrow
// ranges, and values beyond the grid's ends, infinities included.
func TestCountsMatchSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	gens := map[string]func() float64{
		"poisson-like": func() float64 { return float64(rng.IntN(4) + rng.IntN(4)) },
		"lognormal":    func() float64 { return math.Exp(3 * rng.NormFloat64()) },
		"normal":       func() float64 { return rng.NormFloat64() },
		"two-scales":   func() float64 { return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(3)*100)) },
		"counts":       func() float64 { return math.Round(120 + 11*rng.NormFloat64()) },
		"heavy-tail":   func() float64 { return math.Round(math.Exp(1.5+0.9*rng.NormFloat64())*1e4) / 1e4 },
	}
	for name, gen := range gens {
		g := make([]float64, GridSize)
		for i := range g {
			g[i] = gen()
		}
		slices.Sort(g)
		xs := []float64{math.Inf(-1), math.Inf(1), math.NaN(), g[0], g[len(g)-1],
			math.Nextafter(g[0], math.Inf(-1)), math.Nextafter(g[len(g)-1], math.Inf(1))}
		for i := 0; i < 20000; i++ {
			xs = append(xs, gen())
		}
		for _, x := range g {
			xs = append(xs, x, math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1)))
		}
		if h := histogramOf(g); h.ok {
			// Around the histogram's bin edges, where a cell may hold two bins.
			for k := 0; k <= HistogramBins; k++ {
				e := h.lo + h.w*float64(k)
				for _, x := range []float64{e, math.Nextafter(e, math.Inf(-1)), math.Nextafter(e, math.Inf(1)), e - h.w/gridCells, e + h.w/gridCells} {
					xs = append(xs, x, x)
				}
			}
		}
		// An odd length too: count takes values in pairs.
		for _, xs := range [][]float64{xs, xs[:len(xs)-1]} {
			h := histogramOf(g)
			c := NumericCounts{Grid: g, Below: make([]int64, len(g)+1), Equal: make([]int64, len(g)+1)}
			if h.ok {
				c.Hist = make([]int64, HistogramBins)
			}
			c.count(xs)
			below := make([]int64, len(g)+1)
			equal := make([]int64, len(g)+1)
			hist := make([]int64, len(c.Hist))
			for _, x := range xs {
				if x != x {
					continue
				}
				i := sort.SearchFloat64s(g, x)
				below[i]++
				if i < len(g) && g[i] == x {
					equal[i]++
				}
				if h.ok {
					hist[min(max(int((x-h.lo)*h.inv), 0), HistogramBins-1)]++
				}
			}
			if !slices.Equal(c.Below, below) || !slices.Equal(c.Equal, equal) {
				t.Fatalf("%s, %d values: counts differ from a binary search:\nbelow %v\nwant  %v\nequal %v\nwant  %v", name, len(xs), c.Below, below, c.Equal, equal)
			}
			if !slices.Equal(c.Hist, hist) {
				t.Fatalf("%s, %d values: histogram %v, want %v", name, len(xs), c.Hist, hist)
			}
		}
	}
}
