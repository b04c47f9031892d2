package embed

import (
	"fmt"
	"slices"
)

// CheckerState is everything a Checker has accumulated, as plain JSON
// values: a service stores it with its window, or sends it to a peer that
// merges it (RestoreChecker, then Checker.Merge). Its size depends on the
// dimension, not on the number of vectors. The fields are the Checker's
// counters and sums: rows seen, NaN and zero rows (and the first row
// numbers of each), the norms' count, sum, sum of squares, extremes, unit
// count, off-unit sum and out-of-range count, the norm histogram, the
// non-zero and float16/bfloat16-exact value counts, per-dimension sums of
// x − mean and its square, per-component sums of the projection and its
// square.
type CheckerState struct {
	Dim      int   `json:"dim"`
	Rows     int   `json:"rows"`
	NaNRows  int   `json:"nan_rows"`
	ZeroRows int   `json:"zero_rows"`
	NaNAt    []int `json:"nan_at,omitempty"`
	ZeroAt   []int `json:"zero_at,omitempty"`
	// HugeRows and HugeAt: the vectors too large to compare (counted in
	// the norms too; absent from states written before they were kept).
	HugeRows  int       `json:"huge_rows,omitempty"`
	HugeAt    []int     `json:"huge_at,omitempty"`
	NormCount int       `json:"norm_count"`
	NormSum   float64   `json:"norm_sum"`
	SqSum     float64   `json:"sq_sum"`
	NormMin   float64   `json:"norm_min"` // 0 when NormCount is 0
	NormMax   float64   `json:"norm_max"`
	UnitCount int       `json:"unit_count"`
	OffSum    float64   `json:"off_sum"`
	Outside   int       `json:"outside"`
	Hist      []int     `json:"hist"`
	Nonzero   int       `json:"nonzero"`
	F16       int       `json:"f16"`
	BF16      int       `json:"bf16"`
	Sum       []float64 `json:"sum"`
	SumSq     []float64 `json:"sum_sq"`
	Proj      []float64 `json:"proj,omitempty"`
	ProjSq    []float64 `json:"proj_sq,omitempty"`
}

// State returns a copy of what k has accumulated.
func (k *Checker) State() CheckerState {
	s := CheckerState{Dim: k.dim, Rows: k.rows, NaNRows: k.nanRows, ZeroRows: k.zeroRows,
		NaNAt: slices.Clone(k.nanAt), ZeroAt: slices.Clone(k.zeroAt), HugeRows: k.hugeRows, HugeAt: slices.Clone(k.hugeAt),
		NormCount: k.normCount, NormSum: k.normSum, SqSum: k.sqSum,
		UnitCount: k.unitCount, OffSum: k.offSum, Outside: k.outside, Hist: slices.Clone(k.hist),
		Nonzero: k.nonzero, F16: k.f16, BF16: k.bf16,
		Sum: slices.Clone(k.sum), SumSq: slices.Clone(k.sumSq), Proj: slices.Clone(k.proj), ProjSq: slices.Clone(k.prSq)}
	if k.normCount > 0 {
		s.NormMin, s.NormMax = k.normMin, k.normMax
	}
	return s
}

// RestoreChecker returns a Checker against c holding the state s (taken
// by State from a Checker of the same contract). A state that does not
// fit c (lengths, counts, values) is an error wrapping ErrInvalid.
func RestoreChecker(c *Contract, s CheckerState, opt CheckOptions) (*Checker, error) {
	k, err := NewChecker(c, s.Dim, opt)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("embed check: restoring a check state: %s: %w", fmt.Sprintf(format, args...), ErrInvalid)
	}
	switch {
	case len(s.Hist) != normBins:
		return nil, bad("hist has %d bins, want %d", len(s.Hist), normBins)
	case len(s.Sum) != s.Dim || len(s.SumSq) != s.Dim:
		return nil, bad("sum and sum_sq have %d and %d values, want the dimension %d", len(s.Sum), len(s.SumSq), s.Dim)
	case len(s.Proj) != len(k.proj) || len(s.ProjSq) != len(k.prSq):
		return nil, bad("proj and proj_sq have %d and %d values, want %d (one per contract component, for the contract's dimension)", len(s.Proj), len(s.ProjSq), len(k.proj))
	case s.Rows < 0 || s.NaNRows < 0 || s.ZeroRows < 0 || s.NormCount < 0 || s.NaNRows+s.ZeroRows+s.NormCount != s.Rows:
		return nil, bad("rows %d are not nan_rows %d + zero_rows %d + norm_count %d", s.Rows, s.NaNRows, s.ZeroRows, s.NormCount)
	case s.UnitCount < 0 || s.UnitCount > s.NormCount || s.Outside < 0 || s.Outside > s.NormCount:
		return nil, bad("unit_count %d or outside %d out of [0, norm_count %d]", s.UnitCount, s.Outside, s.NormCount)
	case s.F16 < 0 || s.BF16 < 0 || s.F16 > s.Nonzero || s.BF16 > s.Nonzero:
		return nil, bad("f16 %d or bf16 %d out of [0, nonzero %d]", s.F16, s.BF16, s.Nonzero)
	case len(s.NaNAt) > keepRows || len(s.ZeroAt) > keepRows || len(s.HugeAt) > keepRows:
		return nil, bad("more than %d row numbers kept", keepRows)
	case s.HugeRows < 0 || s.HugeRows > s.NormCount || len(s.HugeAt) > s.HugeRows:
		return nil, bad("huge_rows %d out of [0, norm_count %d], or more row numbers (%d) than rows", s.HugeRows, s.NormCount, len(s.HugeAt))
	}
	total := 0
	for _, h := range s.Hist {
		if h < 0 {
			return nil, bad("negative histogram count")
		}
		total += h
	}
	if total != s.NormCount {
		return nil, bad("hist counts sum to %d, want norm_count %d", total, s.NormCount)
	}
	// What a live checker can hold: sums of finite values that pass the
	// float64 range are infinite, and a sum of both infinities is NaN
	// (sum, proj); sums of squares and of norms never go below 0 nor turn
	// NaN, and the norms' extremes are norms (+Inf past the range).
	for _, xs := range [][]float64{s.SumSq, s.ProjSq, {s.NormSum, s.SqSum, s.OffSum}} {
		for _, x := range xs {
			if !(x >= 0) {
				return nil, bad("a sum of squares or norms %v must not be negative or NaN", x)
			}
		}
	}
	if s.NormCount > 0 && !(0 <= s.NormMin && s.NormMin <= s.NormMax) {
		return nil, bad("norm_min %v and norm_max %v must be norms (0 <= norm_min <= norm_max)", s.NormMin, s.NormMax)
	}
	k.rows, k.nanRows, k.zeroRows = s.Rows, s.NaNRows, s.ZeroRows
	k.nanAt, k.zeroAt = slices.Clone(s.NaNAt), slices.Clone(s.ZeroAt)
	k.hugeRows, k.hugeAt = s.HugeRows, slices.Clone(s.HugeAt)
	k.normCount, k.normSum, k.sqSum = s.NormCount, s.NormSum, s.SqSum
	if s.NormCount > 0 {
		k.normMin, k.normMax = s.NormMin, s.NormMax
	}
	k.unitCount, k.offSum, k.outside = s.UnitCount, s.OffSum, s.Outside
	copy(k.hist, s.Hist)
	k.nonzero, k.f16, k.bf16 = s.Nonzero, s.F16, s.BF16
	copy(k.sum, s.Sum)
	copy(k.sumSq, s.SumSq)
	copy(k.proj, s.Proj)
	copy(k.prSq, s.ProjSq)
	return k, nil
}
