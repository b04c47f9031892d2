package diagnose

import (
	"os"
	"path/filepath"
	"testing"
)

func TestZZDbg(t *testing.T) {
	dir := os.Getenv("DBG_DIR")
	if dir == "" {
		t.Skip()
	}
	a := fitVariant(t, dir, "train.csv")
	obs := readAllNumeric(t, filepath.Join(dir, "observed.csv"))
	for _, o := range obs {
		for j, f := range a.Outputs {
			p := &a.Profile.Outputs[j]
			if p.Quantiles == nil {
				continue
			}
			d, _ := compareWith(p, dropNaN(o.Num))
			m, s := meanStd(dropNaN(o.Num))
			t.Logf("obs %s vs prof %s: drift=%v ks=%.4f p=%.3g mean %.3f/%.3f std %.3f/%.3f", o.Name, f.Name, d.Drift, d.Statistic, d.PValue, m, float64(*p.Mean), s, float64(*p.Std))
		}
	}
}
