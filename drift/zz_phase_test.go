package drift

import (
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	ref, cur := benchSamples(1_000_000)
	for r := 0; r < 3; r++ {
		t0 := time.Now()
		a, b := DropNaN(ref), DropNaN(cur)
		t1 := time.Now()
		sortBoth(a, b)
		t2 := time.Now()
		d := ksStatistic(a, b)
		t3 := time.Now()
		p := ksPValue(d, len(a), len(b))
		t4 := time.Now()
		w := cdfDistance(a, b, 1)
		t5 := time.Now()
		t.Logf("drop %v sort %v stat %v p %v (d=%v p=%v) wass %v %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), d, p.PValue, t5.Sub(t4), w)
	}
}
