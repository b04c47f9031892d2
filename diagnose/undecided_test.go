package diagnose

import "testing"

// TestUnpairedUndecidedNotOK: a column whose comparison with the training
// output cannot be computed (here a profile claiming no training values)
// must not be reported ok.
func TestUnpairedUndecidedNotOK(t *testing.T) {
	train := unpairedSample(1, 2000)
	a := fitSynth(t, train)
	prof := *a.Profile
	prof.Outputs = append(prof.Outputs[:0:0], prof.Outputs...)
	prof.Outputs[0].Count = 0
	a.Profile = &prof
	raw := unpairedSample(2, 1000)
	obs := make([][]float64, len(raw))
	for j := range raw {
		m, s := moments(train[j])
		for _, x := range raw[j] {
			obs[j] = append(obs[j], (x-m)/s)
		}
	}
	rep, err := Unpaired(a, numCols([]string{"u", "v", "w"}, obs), UnpairedOptions{})
	if err != nil {
		return
	}
	if v := rep.Features[0]; v.Verdict == OK {
		t.Errorf("column %s: got ok with no training values to compare against (%v)", v.Name, v.Evidence)
	}
}
