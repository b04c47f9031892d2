package stats

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
)

// PairwiseAcc computes PairwiseSum (numpy's blocked pairwise float sum) of
// a sequence of N values that arrives in pieces — row ranges read on
// different machines, added and merged in any order — with the exact bits
// PairwiseSum gives for the whole sequence.
//
// numpy's summation tree depends only on N and on positions: the sequence
// is cut into blocks of 8192 values summed from left to right, each block
// is summed by a binary tree whose nodes split at half their length
// rounded down to a multiple of 8, and whose leaves (at most 128 values)
// are summed in a fixed order. So an accumulator that knows N and the
// position of every value it holds can keep the sum of every complete
// subtree within its ranges, and the raw values of the leaves it holds
// only part of; merging two accumulators adds sibling subtrees exactly as
// numpy would, and Sum folds the block sums from left to right. The state
// is O(log N) numbers per contiguous range, plus at most two partial leaves
// (under 256 values).
//
// NaN and ±Inf propagate as in PairwiseSum. Callers that skip missing
// values as np.nansum does pass them as 0. The zero value is the
// accumulator of an empty sequence; use NewPairwiseAcc for N > 0.
type PairwiseAcc struct {
	n      int64
	pieces []pairwisePiece // sorted by start, disjoint, reduced
}

// pairwisePiece is a complete subtree's sum (raw == nil) or the values of
// part of one leaf.
type pairwisePiece struct {
	start, len int64
	sum        float64
	raw        []float64
}

// NewPairwiseAcc returns an empty accumulator for a sequence of n values.
func NewPairwiseAcc(n int64) PairwiseAcc { return PairwiseAcc{n: n} }

// N returns the length of the whole sequence.
func (a *PairwiseAcc) N() int64 { return a.n }

// ErrPairwiseRange is returned for values outside the sequence or added
// twice.
var ErrPairwiseRange = errors.New("stats: values outside the sequence or added twice")

// Add adds the values xs at positions [start, start+len(xs)) of the
// sequence. Positions must lie in [0, N) and not have been added before.
func (a *PairwiseAcc) Add(start int64, xs []float64) error {
	hi := start + int64(len(xs))
	if start < 0 || hi > a.n {
		return ErrPairwiseRange
	}
	var add []pairwisePiece
	for b := start / npBlock * npBlock; b < hi; b += npBlock {
		a.cover(b, min(npBlock, a.n-b), start, hi, xs, &add)
	}
	return a.merge(add)
}

// addBlock adds the sum (as pairwise adds them) of the values of the
// whole block that starts at position start, of l values; start is a
// multiple of npBlock and l is min(npBlock, N-start). It is Add for a
// caller that summed the block itself.
func (a *PairwiseAcc) addBlock(start, l int64, sum float64) error {
	if start < 0 || start%npBlock != 0 || l <= 0 || l != min(npBlock, a.n-start) {
		return ErrPairwiseRange
	}
	add := [1]pairwisePiece{{start: start, len: l, sum: sum}}
	return a.merge(add[:])
}

// cover appends the maximal complete subtrees of the node [at, at+l)
// within [lo, hi), and the parts of leaves it holds only in part. xs holds
// the values of [lo, hi).
func (a *PairwiseAcc) cover(at, l, lo, hi int64, xs []float64, out *[]pairwisePiece) {
	end := at + l
	switch {
	case end <= lo || hi <= at:
	case lo <= at && end <= hi:
		*out = append(*out, pairwisePiece{start: at, len: l, sum: pairwise(xs[at-lo : end-lo])})
	case l <= npPairwiseBase:
		from, to := max(at, lo), min(end, hi)
		*out = append(*out, pairwisePiece{start: from, len: to - from, raw: slices.Clone(xs[from-lo : to-lo])})
	default:
		h := pairwiseSplit(l)
		a.cover(at, h, lo, hi, xs, out)
		a.cover(at+h, l-h, lo, hi, xs, out)
	}
}

// pairwiseSplit is where numpy's pairwise sum splits a node of l > 128
// values: half, rounded down to a multiple of 8.
func pairwiseSplit(l int64) int64 {
	h := l / 2
	return h - h%npUnroll
}

// Merge adds the values accumulated in o (of the same sequence) to a; o is
// not modified. The zero value merges with an accumulator of any length.
func (a *PairwiseAcc) Merge(o *PairwiseAcc) error {
	if a.n == 0 && len(a.pieces) == 0 {
		a.n = o.n // the zero value takes the length of what it merges
	}
	if o.n != a.n {
		return ErrPairwiseRange
	}
	return a.merge(o.pieces)
}

func (a *PairwiseAcc) merge(add []pairwisePiece) error {
	if a.appendable(add) {
		// Rows arriving in order (a whole column added block by block):
		// the pieces held are reduced, so the left-to-right pass below
		// would leave them as they are; only the new tail can combine.
		for _, p := range add {
			a.pieces = append(a.pieces, p)
			for len(a.pieces) >= 2 {
				joined, ok := a.join(&a.pieces[len(a.pieces)-2], &a.pieces[len(a.pieces)-1])
				if !ok {
					break
				}
				a.pieces = append(a.pieces[:len(a.pieces)-2], joined)
			}
		}
		return nil
	}
	all := make([]pairwisePiece, 0, len(a.pieces)+len(add))
	all = append(all, a.pieces...)
	all = append(all, add...)
	slices.SortFunc(all, func(x, y pairwisePiece) int { return cmp.Compare(x.start, y.start) })
	for i := 1; i < len(all); i++ {
		if all[i-1].start+all[i-1].len > all[i].start {
			return ErrPairwiseRange
		}
	}
	// One pass left to right: a piece can only combine with its neighbours,
	// and a combined parent only with the piece left of it on the stack or
	// the next one to come.
	stack := make([]pairwisePiece, 0, len(all))
	for _, p := range all {
		stack = append(stack, p)
		for len(stack) >= 2 {
			l, r := &stack[len(stack)-2], &stack[len(stack)-1]
			joined, ok := a.join(l, r)
			if !ok {
				break
			}
			stack = stack[:len(stack)-2]
			stack = append(stack, joined)
		}
	}
	a.pieces = stack
	return nil
}

// appendable reports whether add is in order, disjoint and entirely after
// the pieces held.
func (a *PairwiseAcc) appendable(add []pairwisePiece) bool {
	end := int64(0)
	if n := len(a.pieces); n > 0 {
		end = a.pieces[n-1].start + a.pieces[n-1].len
	}
	for _, p := range add {
		if p.start < end {
			return false
		}
		end = p.start + p.len
	}
	return true
}

// join combines two adjacent pieces: two parts of one leaf into one part
// (or the leaf's sum once complete), or two sibling subtrees into their
// parent, left + right as numpy adds them.
func (a *PairwiseAcc) join(l, r *pairwisePiece) (pairwisePiece, bool) {
	if l.start+l.len != r.start {
		return pairwisePiece{}, false
	}
	if l.raw != nil && r.raw != nil {
		at, n := a.leafOf(l.start)
		if r.start+r.len > at+n {
			return pairwisePiece{}, false
		}
		p := pairwisePiece{start: l.start, len: l.len + r.len, raw: append(slices.Clip(l.raw), r.raw...)}
		if p.start == at && p.len == n {
			p = pairwisePiece{start: at, len: n, sum: pairwise(p.raw)}
		}
		return p, true
	}
	if l.raw != nil || r.raw != nil {
		return pairwisePiece{}, false
	}
	at, n, ok := a.parentOf(l.start, l.len)
	if !ok || at != l.start || n != l.len+r.len {
		return pairwisePiece{}, false
	}
	return pairwisePiece{start: at, len: n, sum: l.sum + r.sum}, true
}

// leafOf returns the leaf holding position pos.
func (a *PairwiseAcc) leafOf(pos int64) (at, l int64) {
	at = pos / npBlock * npBlock
	l = min(npBlock, a.n-at)
	for l > npPairwiseBase {
		h := pairwiseSplit(l)
		if pos < at+h {
			l = h
		} else {
			at, l = at+h, l-h
		}
	}
	return at, l
}

// parentOf returns the node whose child is the node [start, start+l);
// ok is false for a block (the root of its tree) or a range that is no
// node.
func (a *PairwiseAcc) parentOf(start, l int64) (pat, pl int64, ok bool) {
	at := start / npBlock * npBlock
	n := min(npBlock, a.n-at)
	for n > npPairwiseBase {
		h := pairwiseSplit(n)
		if start == at && l == h || start == at+h && l == n-h {
			return at, n, true
		}
		if start < at+h {
			n = h
		} else {
			at, n = at+h, n-h
		}
	}
	return 0, 0, false
}

// Sum returns PairwiseSum of the whole sequence; ok is false until every
// position has been added.
func (a *PairwiseAcc) Sum() (sum float64, ok bool) {
	s := 0.0
	var at int64
	for _, p := range a.pieces {
		if p.raw != nil || p.start != at || p.len != min(npBlock, a.n-at) {
			return 0, false
		}
		s += p.sum
		at += p.len
	}
	return s, at == a.n
}

// MarshalBinary encodes the accumulator exactly.
func (a *PairwiseAcc) MarshalBinary() ([]byte, error) {
	out := binary.AppendUvarint(nil, uint64(a.n))
	out = binary.AppendUvarint(out, uint64(len(a.pieces)))
	for _, p := range a.pieces {
		out = binary.AppendUvarint(out, uint64(p.start))
		out = binary.AppendUvarint(out, uint64(p.len))
		if p.raw == nil {
			out = append(out, 0)
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(p.sum))
			continue
		}
		out = append(out, 1)
		for _, x := range p.raw {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
		}
	}
	return out, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, replacing a; it
// refuses bytes MarshalBinary cannot have written.
func (a *PairwiseAcc) UnmarshalBinary(data []byte) error {
	bad := errors.New("stats: invalid PairwiseAcc encoding")
	next := func() (uint64, bool) {
		v, k := binary.Uvarint(data)
		if k <= 0 {
			return 0, false
		}
		data = data[k:]
		return v, true
	}
	n, ok1 := next()
	count, ok2 := next()
	if !ok1 || !ok2 || n > math.MaxInt64 || count > uint64(len(data)) {
		return bad
	}
	d := PairwiseAcc{n: int64(n)}
	var at int64
	for range count {
		start, ok1 := next()
		l, ok2 := next()
		if !ok1 || !ok2 || len(data) < 1 || start < uint64(at) || l == 0 || l > n || start > n-l {
			return bad
		}
		p := pairwisePiece{start: int64(start), len: int64(l)}
		kind := data[0]
		data = data[1:]
		switch {
		case kind == 0 && len(data) >= 8:
			p.sum = math.Float64frombits(binary.LittleEndian.Uint64(data))
			data = data[8:]
		case kind == 1 && l <= npPairwiseBase && uint64(len(data)) >= 8*l:
			p.raw = make([]float64, l)
			for i := range p.raw {
				p.raw[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
			data = data[8*l:]
		default:
			return bad
		}
		d.pieces = append(d.pieces, p)
		at = p.start + p.len
	}
	if len(data) != 0 {
		return bad
	}
	*a = d
	return nil
}

// NanShiftedAcc is the mergeable form of NanShiftedSums: it accumulates
// np.nansum(x - shift) and np.nansum((x - shift)**2) of a column of N rows
// from row ranges added and merged in any order, with the bits
// NanShiftedSums gives for the whole column, and counts the non-NaN
// values. The zero value merges with any accumulator.
type NanShiftedAcc struct {
	Shift      float64
	Count      int64 // non-NaN values
	Sum, SumSq PairwiseAcc
}

// blockPair is NanShiftedAcc.Add's scratch: one block's shifted values
// and their squares.
type blockPair struct{ d, d2 [npBlock]float64 }

var blockPairs = sync.Pool{New: func() any { return new(blockPair) }}

// NewNanShiftedAcc returns an empty accumulator for a column of n rows.
func NewNanShiftedAcc(n int64, shift float64) NanShiftedAcc {
	return NanShiftedAcc{Shift: shift, Sum: NewPairwiseAcc(n), SumSq: NewPairwiseAcc(n)}
}

// Add adds rows [start, start+len(xs)) of the column.
func (a *NanShiftedAcc) Add(start int64, xs []float64) error {
	if start < 0 {
		return ErrPairwiseRange
	}
	// Work in pieces that end on numpy's 8192-value block boundaries, so
	// the scratch space is fixed whatever the input's length. The scratch
	// is pooled: as local arrays it was 128 KiB of stack zeroed on every
	// call, and the profile calls once per block.
	//
	// A whole block (all of a column added at once, or in pieces cut on
	// block boundaries) is summed straight from xs (pairwiseShifted).
	var bp *blockPair
	defer func() {
		if bp != nil {
			blockPairs.Put(bp)
		}
	}()
	for len(xs) > 0 {
		k := min(len(xs), int(npBlock-start%npBlock))
		if start%npBlock == 0 && int64(k) == min(npBlock, a.Sum.n-start) && a.SumSq.n == a.Sum.n {
			s, q, present := pairwiseShifted(xs[:k], a.Shift)
			a.Count += int64(present)
			if err := a.Sum.addBlock(start, int64(k), s); err != nil {
				return err
			}
			if err := a.SumSq.addBlock(start, int64(k), q); err != nil {
				return err
			}
			start += int64(k)
			xs = xs[k:]
			continue
		}
		if bp == nil {
			bp = blockPairs.Get().(*blockPair)
		}
		d, d2 := &bp.d, &bp.d2
		for i, x := range xs[:k] {
			if x == x {
				a.Count++
			}
			v := nanShifted(x, a.Shift)
			d[i], d2[i] = v, v*v
		}
		if err := a.Sum.Add(start, d[:k]); err != nil {
			return err
		}
		if err := a.SumSq.Add(start, d2[:k]); err != nil {
			return err
		}
		start += int64(k)
		xs = xs[k:]
	}
	return nil
}

// Merge adds the rows accumulated in o (same column, same shift).
func (a *NanShiftedAcc) Merge(o *NanShiftedAcc) error {
	if a.Count == 0 && a.Sum.n == 0 && len(a.Sum.pieces) == 0 {
		a.Shift = o.Shift // the zero value takes the shift of what it merges
	}
	a.Count += o.Count
	if err := a.Sum.Merge(&o.Sum); err != nil {
		return err
	}
	return a.SumSq.Merge(&o.SumSq)
}

// Sums returns NanShiftedSums of the whole column; ok is false until
// every row has been added.
func (a *NanShiftedAcc) Sums() (sum, sumSq float64, ok bool) {
	sum, ok1 := a.Sum.Sum()
	sumSq, ok2 := a.SumSq.Sum()
	return sum, sumSq, ok1 && ok2
}
