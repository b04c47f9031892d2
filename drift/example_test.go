package drift_test

import (
	"fmt"

	"github.com/normguard/normguard/drift"
)

// scipy.stats.ks_2samp(ref, cur) gives statistic 0.6666666666666666 and
// p-value 0.10822510822510821 (exact); wasserstein_distance(ref, cur)
// gives 2.5800000000000005.
func ExampleKS() {
	ref := []float64{1.2, 2.5, 3.1, 4.8, 5.0}
	cur := []float64{3.3, 4.1, 5.5, 6.2, 7.9, 8.4}
	r, err := drift.KS(ref, cur)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("D = %.4f, p = %.4f, exact = %v\n", r.Statistic, r.PValue, r.Exact)
	// Output: D = 0.6667, p = 0.1082, exact = true
}

func ExampleMethod_CompareNumeric() {
	ref := []float64{1.2, 2.5, 3.1, 4.8, 5.0}
	cur := []float64{3.3, 4.1, 5.5, 6.2, 7.9, 8.4}
	m, _ := drift.Lookup("wasserstein")
	// 0.5 reference standard deviations: 0.5 * numpy.std(ref) = 0.7151...
	v, err := m.CompareNumeric(ref, cur, 0.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("W = %.2f, threshold = %.3f, drift = %v\n", v.Statistic, v.Threshold, v.Drift)
	// Output: W = 2.58, threshold = 0.715, drift = true
}
