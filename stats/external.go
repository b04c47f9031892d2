package stats

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// SortOptions bounds the memory that order statistics use. The zero value
// sorts in memory whatever the size.
type SortOptions struct {
	// MaxInMemory is the largest number of values sorted in memory; above
	// it, values are sorted in runs of this size written to temporary
	// files and merged (0: no limit).
	MaxInMemory int
	// TempDir holds the runs ("" is os.TempDir()).
	TempDir string
	// Buffers, when set, lends the in-memory copy of a column that Sort
	// makes (given back on Close), so that a fit's medians and quantiles
	// reuse one scratch per worker instead of leaving a column-sized
	// garbage copy on the Go heap for every column (nil: allocate).
	Buffers Buffers
}

// Buffers lends scratch storage. Get returns a slice of length 0 and
// capacity at least n whose contents are unspecified, or nil when it has
// none (the caller then allocates); Put takes back a slice Get returned.
// Implementations are safe for concurrent use.
type Buffers interface {
	Get(n int) []float64
	Put([]float64)
}

// Sorted gives ordered access to the non-NaN values of a column: held in
// memory when they fit, or as sorted runs on disk merged on demand
// (external merge sort), so that exact order statistics never need more
// memory than SortOptions.MaxInMemory values.
type Sorted struct {
	n      int
	src    []float64       // the column, NaNs included, until mem is made
	mem    []float64       // the values, once a full sort needs a copy
	sorted bool            // mem is fully sorted
	cache  map[int]float64 // values of ranks found by selection
	runs   []*os.File
	sizes  []int
	lender Buffers // mem's, given back on Close
	lend   Buffers // where mem's storage comes from (nil: make)
}

// Sort prepares ordered access to the non-NaN values of xs. xs is not
// modified, and must not change until Close: in memory, a few order
// statistics (a median, percentiles) are selected from xs itself, and a
// copy is made only when a full sort is needed (many ranks, Scan, Mode).
// Close releases the runs and the copy.
func Sort(xs []float64, opt SortOptions) (*Sorted, error) {
	if opt.MaxInMemory <= 0 || len(xs) <= opt.MaxInMemory {
		n := 0
		for _, x := range xs {
			if x == x {
				n++
			}
		}
		return &Sorted{n: n, src: xs, lend: opt.Buffers}, nil
	}
	s := &Sorted{}
	buf := make([]float64, 0, opt.MaxInMemory)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		SortFloats(buf)
		f, err := os.CreateTemp(opt.TempDir, "normguard-run-*")
		if err != nil {
			return fmt.Errorf("external sort: %w", err)
		}
		os.Remove(f.Name()) // unlinked: the file lives until closed
		s.runs = append(s.runs, f)
		s.sizes = append(s.sizes, len(buf))
		w := bufio.NewWriterSize(f, 1<<20)
		var b [8]byte
		for _, x := range buf {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
			w.Write(b[:])
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("external sort: %w", err)
		}
		s.n += len(buf)
		buf = buf[:0]
		return nil
	}
	for _, x := range xs {
		if x != x {
			continue
		}
		buf = append(buf, x)
		if len(buf) == cap(buf) {
			if err := flush(); err != nil {
				s.Close()
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Len returns the number of values.
func (s *Sorted) Len() int { return s.n }

// Close removes the runs and gives a lent copy back; the Sorted must not
// be used afterwards.
func (s *Sorted) Close() error {
	for _, f := range s.runs {
		f.Close()
	}
	s.runs = nil
	if s.lender != nil {
		s.lender.Put(s.mem)
		s.lender = nil
	}
	s.mem, s.src = nil, nil
	return nil
}

// Scan calls fn with every value in ascending order; fn returns false to
// stop.
func (s *Sorted) Scan(fn func(x float64) bool) error {
	if s.runs == nil {
		s.sortAll()
		for _, x := range s.mem {
			if !fn(x) {
				return nil
			}
		}
		return nil
	}
	h := make(runHeap, 0, len(s.runs))
	for i, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("external sort: %w", err)
		}
		r := &runReader{r: bufio.NewReaderSize(f, 1<<20), left: s.sizes[i]}
		if r.next() {
			h = append(h, r)
		} else if r.err != nil {
			return r.err
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		r := h[0]
		if !fn(r.cur) {
			return nil
		}
		if r.next() {
			heap.Fix(&h, 0)
		} else {
			if r.err != nil {
				return r.err
			}
			heap.Pop(&h)
		}
	}
	return nil
}

// Percentiles returns numpy's linear percentiles (see Percentile) at ps
// (each in [0, 100]); NaN for an empty column.
func (s *Sorted) Percentiles(ps []float64) ([]float64, error) {
	out := make([]float64, len(ps))
	if s.n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out, nil
	}
	// Collect the values at the ranks the interpolation reads, then
	// interpolate on a small sorted slice with the same ranks.
	type pos struct{ i, g int } // floor index, and whether i+1 is needed
	need := map[int]float64{}
	for _, p := range ps {
		h := float64(s.n-1) * (p / 100)
		i := int(math.Floor(h))
		i = min(max(i, 0), s.n-1)
		need[i] = 0
		if i+1 < s.n {
			need[i+1] = 0
		}
	}
	ranks := make([]int, 0, len(need))
	for k := range need {
		ranks = append(ranks, k)
	}
	slices.Sort(ranks)
	if s.runs == nil {
		at := s.ranked(ranks)
		for i, p := range ps {
			out[i] = quantileAt(s.n, p/100, at)
		}
		return out, nil
	}
	next, rank := 0, 0
	err := s.Scan(func(x float64) bool {
		if rank == ranks[next] {
			need[rank] = x
			next++
			if next == len(ranks) {
				return false
			}
		}
		rank++
		return true
	})
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		out[i] = quantileAt(s.n, p/100, func(k int) float64 { return need[k] })
	}
	return out, nil
}

// quantileAt is Quantile over n sorted values read through at.
func quantileAt(n int, q float64, at func(int) float64) float64 {
	h := float64(n-1) * q
	fi := math.Floor(h)
	g := h - fi
	i := int(fi)
	if i < 0 {
		i, g = 0, 0
	}
	if i >= n-1 {
		return at(n - 1)
	}
	return lerp(at(i), at(i+1), g)
}

// Median returns numpy's median of the values (NaN when empty).
func (s *Sorted) Median() (float64, error) {
	if s.n == 0 {
		return math.NaN(), nil
	}
	if s.runs == nil {
		return medianAt(s.n, s.ranked(slices.Compact([]int{(s.n - 1) / 2, s.n / 2}))), nil
	}
	var a, b float64
	rank := 0
	err := s.Scan(func(x float64) bool {
		if rank == (s.n-1)/2 {
			a = x
		}
		if rank == s.n/2 {
			b = x
			return false
		}
		rank++
		return true
	})
	if s.n%2 == 1 {
		return b, err
	}
	return (a + b) / 2, err
}

// Mode returns the most frequent value, the smallest on ties (NaN when
// empty), as scipy.stats.mode and scikit-learn's most_frequent choose it.
func (s *Sorted) Mode() (float64, error) {
	best, bestN := math.NaN(), 0
	cur, curN := math.NaN(), 0
	err := s.Scan(func(x float64) bool {
		if x == cur {
			curN++
		} else {
			cur, curN = x, 1
		}
		if curN > bestN { // strictly more: the first (smallest) wins ties
			best, bestN = cur, curN
		}
		return true
	})
	return best, err
}

// sortAll sorts the in-memory values, copying them out of the column
// first (into a lent buffer when there is a lender).
func (s *Sorted) sortAll() {
	if s.sorted {
		return
	}
	if s.mem == nil {
		if s.lend != nil {
			if s.mem = s.lend.Get(len(s.src)); s.mem != nil {
				s.lender = s.lend
			}
		}
		if s.mem == nil {
			s.mem = make([]float64, 0, s.n)
		}
		for _, x := range s.src {
			if x == x {
				s.mem = append(s.mem, x)
			}
		}
	}
	SortFloats(s.mem)
	s.sorted = true
}

// ranked returns a function giving the value at each of the given ranks
// (ascending, distinct) of the in-memory values: read from the sorted
// values when they are sorted, found by radix selection for a few ranks,
// or after a full sort for many.
func (s *Sorted) ranked(ranks []int) func(int) float64 {
	if s.sorted || len(ranks) > selectMaxRanks {
		s.sortAll()
		return func(k int) float64 { return s.mem[k] }
	}
	var missing []int
	for _, k := range ranks {
		if _, ok := s.cache[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		vals := radixSelect(s.src, missing) // skips NaNs: no copy
		if s.cache == nil {
			s.cache = map[int]float64{}
		}
		for i, k := range missing {
			s.cache[k] = vals[i]
		}
	}
	return func(k int) float64 { return s.cache[k] }
}

// Prepare finds in one pass the values that later calls to Median and to
// Percentiles(ps) will read (in-memory values only; a no-op otherwise).
func (s *Sorted) Prepare(ps []float64, median bool) {
	if s.runs != nil || s.n == 0 {
		return
	}
	set := map[int]bool{}
	for _, p := range ps {
		i := min(max(int(math.Floor(float64(s.n-1)*(p/100))), 0), s.n-1)
		set[i] = true
		if i+1 < s.n {
			set[i+1] = true
		}
	}
	if median {
		set[(s.n-1)/2], set[s.n/2] = true, true
	}
	ranks := make([]int, 0, len(set))
	for k := range set {
		ranks = append(ranks, k)
	}
	slices.Sort(ranks)
	s.ranked(ranks)
}

// runReader reads one sorted run.
type runReader struct {
	r    *bufio.Reader
	left int
	cur  float64
	err  error
}

func (r *runReader) next() bool {
	if r.left == 0 {
		return false
	}
	var b [8]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		r.err = fmt.Errorf("external sort: reading a run: %w", err)
		return false
	}
	r.left--
	r.cur = math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
	return true
}

// runHeap is a min-heap of runs by their current value.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur < h[j].cur }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
