package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedExternalMatchesInMemory checks that order statistics from
// sorted runs on disk equal the in-memory ones exactly.
func TestSortedExternalMatchesInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ps := []float64{0, 0.1, 1, 25, 33.3, 50, 75, 99.9, 100}
	for _, n := range []int{0, 1, 2, 7, 1000, 12345} {
		xs := make([]float64, n)
		for i := range xs {
			switch i % 5 {
			case 0:
				xs[i] = math.NaN()
			case 1:
				xs[i] = float64(rng.IntN(5)) // ties
			default:
				xs[i] = rng.NormFloat64()
			}
		}
		mem, err := Sort(xs, SortOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{3, 100, 5000} {
			if limit == 3 && n > 1000 {
				continue
			}
			ext, err := Sort(xs, SortOptions{MaxInMemory: limit, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if ext.Len() != mem.Len() {
				t.Fatalf("n=%d limit=%d: Len %d, want %d", n, limit, ext.Len(), mem.Len())
			}
			got, _ := ext.Percentiles(ps)
			want, _ := mem.Percentiles(ps)
			for i := range ps {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d limit=%d p=%v: got %v, want %v", n, limit, ps[i], got[i], want[i])
				}
			}
			gm, _ := ext.Median()
			wm, _ := mem.Median()
			if gm != wm && !(math.IsNaN(gm) && math.IsNaN(wm)) {
				t.Fatalf("n=%d limit=%d median: got %v, want %v", n, limit, gm, wm)
			}
			gmo, _ := ext.Mode()
			wmo, _ := mem.Mode()
			if gmo != wmo && !(math.IsNaN(gmo) && math.IsNaN(wmo)) {
				t.Fatalf("n=%d limit=%d mode: got %v, want %v", n, limit, gmo, wmo)
			}
			ext.Close()
		}
	}
}

// TestRadixSelectMatchesSort checks radix selection against a full sort on
// spread, clustered, tied and signed-zero data.
func TestRadixSelectMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	gens := map[string]func() float64{
		"normal":  func() float64 { return rng.NormFloat64() },
		"ties":    func() float64 { return float64(rng.IntN(3)) },
		"zeros":   func() float64 { return []float64{0, math.Copysign(0, -1), 1e-300, -1e-300}[rng.IntN(4)] },
		"wide":    func() float64 { return math.Ldexp(rng.Float64(), rng.IntN(600)-300) },
		"cluster": func() float64 { return 1e6 + rng.Float64()*1e-6 },
		"counts":  func() float64 { return math.Round(120 + 11*rng.NormFloat64()) },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 3, 100, 4097, 100_000, 400_000} {
			for _, withNaN := range []bool{false, true} {
				radixSelectCase(t, name, n, withNaN, gen)
			}
		}
	}
}

// radixSelectCase checks radixSelect on n values of gen against a full
// sort; withNaN adds a NaN (of either sign) after every fourth value,
// which radixSelect must skip.
func radixSelectCase(t *testing.T, name string, n int, withNaN bool, gen func() float64) {
	t.Helper()
	var xs, sorted []float64
	for i := range n {
		x := gen()
		xs = append(xs, x)
		sorted = append(sorted, x)
		if withNaN && i%4 == 3 {
			xs = append(xs, math.Copysign(math.NaN(), float64(i%8-4)))
		}
	}
	SortFloats(sorted)
	ranks := slices.Compact([]int{0, n / 4, n / 2, n - 1})
	got := radixSelect(xs, ranks)
	for i, k := range ranks {
		if got[i] != sorted[k] { // -0 == 0: small sorts leave their order open
			t.Fatalf("%s n=%d NaNs %v rank %d: got %v, want %v", name, n, withNaN, k, got[i], sorted[k])
		}
	}
}

func TestQuantilesOfMatchesSortedPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	ps := make([]float64, 201)
	for i := range ps {
		ps[i] = float64(i) / 200
	}
	for _, n := range []int{0, 1, 5, 1000, 70000} {
		xs := make([]float64, n)
		for i := range xs {
			switch i % 7 {
			case 0:
				xs[i] = math.NaN()
			case 1:
				xs[i] = float64(rng.IntN(4))
			default:
				xs[i] = 50 + 10*rng.NormFloat64()
			}
		}
		got := QuantilesOf(xs, ps)
		sorted := SortedFinite(xs)
		for i, p := range ps {
			want := Quantile(sorted, p)
			if got[i] != want && !(math.IsNaN(got[i]) && math.IsNaN(want)) {
				t.Fatalf("n=%d p=%v: got %v, want %v", n, p, got[i], want)
			}
		}
	}
}

// countingBuffers lends fresh buffers filled with junk and counts what is
// lent and given back; Put overwrites the buffer, so a Sorted reading its
// copy after Close would give wrong answers.
type countingBuffers struct{ got, put int }

func (b *countingBuffers) Get(n int) []float64 {
	b.got++
	buf := make([]float64, n+3)
	for i := range buf {
		buf[i] = -1e300
	}
	return buf[:0]
}

func (b *countingBuffers) Put(buf []float64) {
	b.put++
	for i := range buf[:cap(buf)] {
		buf[:cap(buf)][i] = math.NaN()
	}
}

// TestSortedWithLentBuffers checks that order statistics from a lent copy
// equal those from Sort's own, that a few ranks are selected from the
// column without a copy, and that a copy is given back on Close.
func TestSortedWithLentBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	ps := []float64{0, 12.5, 50, 99, 100}
	for _, n := range []int{1, 2, 1000, 100_000} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = rng.NormFloat64()
			if i%7 == 3 {
				xs[i] = math.NaN()
			}
		}
		own, err := Sort(xs, SortOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var b countingBuffers
		lent, err := Sort(xs, SortOptions{Buffers: &b})
		if err != nil {
			t.Fatal(err)
		}
		wm, _ := own.Median()
		gm, _ := lent.Median()
		want, _ := own.Percentiles(ps)
		got, _ := lent.Percentiles(ps)
		if math.Float64bits(gm) != math.Float64bits(wm) || !slices.Equal(got, want) {
			t.Fatalf("n=%d: lent copy gives median %v percentiles %v, own copy %v %v", n, gm, got, wm, want)
		}
		if b.got != 0 {
			t.Fatalf("n=%d: a median and 5 percentiles borrowed %d buffers, want none (selected from the column)", n, b.got)
		}
		wmo, _ := own.Mode() // a full sort: a copy
		gmo, _ := lent.Mode()
		if math.Float64bits(gmo) != math.Float64bits(wmo) {
			t.Fatalf("n=%d: lent copy gives mode %v, own copy %v", n, gmo, wmo)
		}
		lent.Close()
		lent.Close()
		if b.got != 1 || b.put != 1 {
			t.Fatalf("n=%d: %d buffers lent, %d given back, want 1 and 1", n, b.got, b.put)
		}
	}
	// Too large for memory: sorted on disk, nothing lent.
	var b countingBuffers
	s, err := Sort(make([]float64, 100), SortOptions{MaxInMemory: 10, TempDir: t.TempDir(), Buffers: &b})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if b.got != 0 || b.put != 0 {
		t.Fatalf("external sort borrowed %d buffers", b.got)
	}
}
