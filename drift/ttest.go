package drift

import "math"

// TTestWelch returns Welch's unequal-variance t test of ref against cur,
// scipy 1.10's scipy.stats.ttest_ind(ref, cur, equal_var=False):
//
//	t  = (mean_ref - mean_cur) / sqrt(v_ref/n_ref + v_cur/n_cur)
//	df = (v_ref/n_ref + v_cur/n_cur)² / ((v_ref/n_ref)²/(n_ref-1) + (v_cur/n_cur)²/(n_cur-1))
//	p  = 2 · P(T_df > |t|)
//
// with sample variances v (ddof = 1) computed as numpy does (pairwise
// sums, mean then squared deviations). df is NaN-safe as in scipy: when
// both variances are 0 it is taken as 1 (t is then ±Inf or NaN). The
// Student t tail uses the regularized incomplete beta function (see
// studentTSF). NaN values are dropped first; an empty sample is an error;
// a sample of one value gives NaN statistic and p-value, as in scipy.
// Result.DF holds df.
func TTestWelch(ref, cur []float64) (Result, error) {
	a, b := DropNaN(ref), DropNaN(cur)
	switch {
	case len(a) == 0:
		return Result{}, &SampleError{Method: "t_test", Sample: "reference", Err: ErrEmpty}
	case len(b) == 0:
		return Result{}, &SampleError{Method: "t_test", Sample: "current", Err: ErrEmpty}
	}
	n1, n2 := float64(len(a)), float64(len(b))
	m1, v1 := meanVar(a)
	m2, v2 := meanVar(b)
	v1 *= n1 / (n1 - 1)
	v2 *= n2 / (n2 - 1)
	vn1, vn2 := v1/n1, v2/n2
	df := (vn1 + vn2) * (vn1 + vn2) / (vn1*vn1/(n1-1) + vn2*vn2/(n2-1))
	if math.IsNaN(df) {
		df = 1
	}
	t := (m1 - m2) / math.Sqrt(vn1+vn2)
	p := 2 * studentTSF(df, math.Abs(t))
	return Result{Statistic: t, PValue: p, DF: df}, nil
}
