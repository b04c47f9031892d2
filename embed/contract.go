package embed

import (
	"fmt"
	"math"
)

// FieldError is a meaningless field of a loaded contract: Field is its
// path relative to the contract ("profile.mean[3]"), Problem what is
// wrong with it. It wraps ErrInvalid.
type FieldError struct {
	Field   string
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Check reports the first meaningless field of a loaded contract as a
// *FieldError whose text starts with the field's path relative to the
// contract (for example "profile.mean[3]: must be finite"); nil when the
// contract can be used by Check, Drift and the Checker.
func (c *Contract) Check() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	d := c.Dimension
	switch {
	case d <= 0:
		return bad("dimension", "%d: must be a positive number of values per vector", d)
	case !knownDtype(c.Dtype):
		return bad("dtype", "%q: must be float64, float32, float16 or bfloat16", c.Dtype)
	case !knownMetric(c.Metric):
		return bad("metric", "%q: must be cosine, dot or l2", c.Metric)
	case !(c.UnitTolerance > 0 && c.UnitTolerance < 1):
		return bad("unit_tolerance", "%v: must be in (0, 1)", c.UnitTolerance)
	}
	p := &c.Profile
	switch {
	case p.Count < 1:
		return bad("profile.count", "%d: a contract is fitted on at least one vector", p.Count)
	case p.ZeroCount < 0 || p.ZeroCount > p.Count:
		return bad("profile.zero_count", "%d: must be between 0 and profile.count (%d)", p.ZeroCount, p.Count)
	case !isShare(p.Float16Share):
		return bad("profile.float16_share", "%v: must be a share in [0, 1]", p.Float16Share)
	case !isShare(p.BFloat16Share):
		return bad("profile.bfloat16_share", "%v: must be a share in [0, 1]", p.BFloat16Share)
	case !isShare(p.ComponentShare):
		return bad("profile.component_share", "%v: must be a share in [0, 1]", p.ComponentShare)
	case !(p.TotalVariance >= 0) || math.IsInf(p.TotalVariance, 0):
		return bad("profile.total_variance", "%v: must be finite and not negative", p.TotalVariance)
	}
	if err := checkVector("profile.mean", p.Mean, d); err != nil {
		return err
	}
	if err := checkVector("profile.std", p.Std, d); err != nil {
		return err
	}
	for a, s := range p.Std {
		if s < 0 {
			return bad(fmt.Sprintf("profile.std[%d]", a), "%v: must not be negative", s)
		}
	}
	if err := checkNorms("profile.norms", &p.Norms, p.Count-p.ZeroCount); err != nil {
		return err
	}
	for i, cp := range p.Components {
		f := fmt.Sprintf("profile.components[%d]", i)
		if err := checkVector(f+".direction", cp.Direction, d); err != nil {
			return err
		}
		if n := math.Sqrt(dot(cp.Direction, cp.Direction)); math.Abs(n-1) > 1e-6 {
			return bad(f+".direction", "norm %v: must be a unit vector", n)
		}
		if !(cp.Variance >= 0) || math.IsInf(cp.Variance, 0) {
			return bad(f+".variance", "%v: must be finite and not negative", cp.Variance)
		}
	}
	for i, row := range p.Sample {
		if err := checkVector(fmt.Sprintf("profile.sample[%d]", i), row, d); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, cn := range c.Canaries {
		if err := checkCanary(cn, d); err != nil {
			return bad(fmt.Sprintf("canaries[%d]", i), "%v", err)
		}
		if seen[cn.ID] {
			return bad(fmt.Sprintf("canaries[%d].id", i), "%q appears twice; canary ids must be unique", cn.ID)
		}
		seen[cn.ID] = true
	}
	return nil
}

func checkVector(field string, v []float64, d int) error {
	if len(v) != d {
		return &FieldError{Field: field, Problem: fmt.Sprintf("%d values: must have the contract's dimension, %d", len(v), d)}
	}
	for a, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &FieldError{Field: fmt.Sprintf("%s[%d]", field, a), Problem: fmt.Sprintf("%v: must be finite", x)}
		}
	}
	return nil
}

func checkNorms(field string, s *NormStats, want int) error {
	bad := func(f, format string, args ...any) error {
		return &FieldError{Field: field + f, Problem: fmt.Sprintf(format, args...)}
	}
	if s.Count != want {
		return bad(".count", "%d: must be the number of non-zero vectors, %d", s.Count, want)
	}
	for _, x := range []struct {
		name string
		v    float64
	}{{".min", s.Min}, {".max", s.Max}, {".mean", s.Mean}, {".std", s.Std}} {
		if !(x.v >= 0) || math.IsInf(x.v, 0) {
			return bad(x.name, "%v: must be finite and not negative", x.v)
		}
	}
	if !isShare(s.UnitShare) {
		return bad(".unit_share", "%v: must be a share in [0, 1]", s.UnitShare)
	}
	if s.Count > 0 && len(s.Quantiles) != len(NormQuantileProbs) {
		return bad(".quantiles", "%d values: must hold one per probability of NormQuantileProbs (%d)", len(s.Quantiles), len(NormQuantileProbs))
	}
	prev := 0.0
	for i, q := range s.Quantiles {
		if !(q >= prev) || math.IsInf(q, 0) {
			return bad(fmt.Sprintf(".quantiles[%d]", i), "%v: must be finite and not below the previous quantile", q)
		}
		prev = q
	}
	total := 0
	for i, b := range s.Histogram {
		if b.Count < 0 || !(b.Lo < b.Hi) {
			return bad(fmt.Sprintf(".histogram[%d]", i), "[%v, %v) with %d: must be a bin with lo < hi and a count ≥ 0", b.Lo, b.Hi, b.Count)
		}
		total += b.Count
	}
	if len(s.Histogram) > 0 && total != s.Count {
		return bad(".histogram", "counts sum to %d: must sum to the norm count, %d", total, s.Count)
	}
	return nil
}

func isShare(x float64) bool { return x >= 0 && x <= 1 }
