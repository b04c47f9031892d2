package stats

import "slices"

// selectMaxRanks is the largest number of ranks Sorted answers by
// selection; more ranks sort the values fully.
const selectMaxRanks = 16

// selectRanks reorders a (no NaN) so that a[k] holds the k-th smallest
// value for every k in ranks (ascending, distinct), as a full sort would
// place it. It runs quickselect (Hoare's FIND, 1961) with a median-of-three
// pivot and a three-way partition, so ties and sorted input stay linear;
// each rank searches only the part of a after the previous rank.
func selectRanks(a []float64, ranks []int) {
	lo := 0
	for _, k := range ranks {
		selectK(a, lo, len(a), k)
		lo = k + 1
	}
}

// selectK places the k-th smallest value of a[lo:hi] at a[k], smaller or
// equal values before it and greater or equal ones after it.
func selectK(a []float64, lo, hi, k int) {
	for hi-lo > 32 {
		p := medianOf3(a[lo], a[lo+(hi-lo)/2], a[hi-1])
		// Three-way partition: [lo, lt) < p, [lt, gt) == p, [gt, hi) > p.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch x := a[i]; {
			case x < p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case x > p:
				gt--
				a[gt], a[i] = a[i], a[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return // a[k] == p, in place
		}
	}
	slices.Sort(a[lo:hi])
}

func medianOf3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		b = a
	}
	return b
}
