package drift

// Categorical is the comparison of two categorical samples from their
// category counts.
type Categorical struct {
	// Categories is the union of the categories of both samples, sorted.
	Categories []string
	// RefCounts and CurCounts are the counts per category (0 when absent).
	RefCounts, CurCounts []int64
	// Chi2 is Chi2Contingency on the 2 × k table of counts.
	Chi2 Result
	// LInfinity, JensenShannon and PSI are those distances on the
	// category proportions (see the functions of the same names).
	LInfinity, JensenShannon, PSI float64
	// NewCategories lists the categories seen in the current sample but
	// never in the reference, sorted.
	NewCategories []string
}

// CompareCategories compares category counts of a reference and a
// current sample (missing values are not categories: leave them out of
// the maps). Categories are aligned over the sorted union of both key
// sets; zero and negative counts are treated as absent and as errors
// respectively. Either sample with no counts at all is an error.
func CompareCategories(ref, cur map[string]int64) (Categorical, error) {
	union := map[string]int64{}
	for k := range ref {
		union[k] = 0
	}
	for k := range cur {
		union[k] = 0
	}
	cats := sortedKeys(union)
	out := Categorical{Categories: cats, RefCounts: make([]int64, len(cats)), CurCounts: make([]int64, len(cats))}
	for i, k := range cats {
		out.RefCounts[i], out.CurCounts[i] = ref[k], cur[k]
		if ref[k] == 0 && cur[k] > 0 {
			out.NewCategories = append(out.NewCategories, k)
		}
	}
	var err error
	if out.Chi2, err = Chi2Contingency(out.RefCounts, out.CurCounts); err != nil {
		return Categorical{}, err
	}
	for _, m := range []struct {
		dst *float64
		f   func(ref, cur []int64) (Result, error)
	}{{&out.LInfinity, LInfinity}, {&out.JensenShannon, JensenShannon}, {&out.PSI, PSI}} {
		r, err := m.f(out.RefCounts, out.CurCounts)
		if err != nil {
			return Categorical{}, err
		}
		*m.dst = r.Statistic
	}
	return out, nil
}
