package drift

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// TestParallelRecoversPanics: a panic in one item's work comes back as a
// PanicError naming the item, with a stack, and the other items still run.
func TestParallelRecoversPanics(t *testing.T) {
	done := make([]bool, 8)
	perr := parallel(len(done), func(i int) {
		if i == 5 {
			var xs []int
			_ = xs[i] // index out of range
		}
		done[i] = true
	})
	if perr == nil {
		t.Fatal("got no error, want the panic of item 5")
	}
	if perr.Item != 5 || len(perr.Stack) == 0 || !strings.Contains(perr.Error(), "index out of range") {
		t.Errorf("got item %d, %d stack bytes, %q; want item 5, a stack and the panic's text", perr.Item, len(perr.Stack), perr.Error())
	}
	var err error = perr
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Error("errors.As does not find the PanicError")
	}
	for i, d := range done {
		if !d && i != 5 {
			t.Errorf("item %d did not run", i)
		}
	}
	if perr := parallel(3, func(int) {}); perr != nil {
		t.Errorf("no panic: got %v", perr)
	}
}

// TestDamagedGridEndsWithAnError: a profile whose quantile grid holds a
// NaN, is out of order or is shorter than its CDF (a damaged artifact or
// state that got past the loader's check) gives the feature an error; the
// comparison ends instead of walking the grid for ever.
func TestDamagedGridEndsWithAnError(t *testing.T) {
	ref := make([]float64, 1000)
	cur := make([]float64, 300)
	for i := range ref {
		ref[i] = float64(i%97) * 1.5
	}
	for i := range cur {
		cur[i] = float64(i%89) * 1.5
	}
	for name, damage := range map[string]func(p *profile.Feature){
		"nan":       func(p *profile.Feature) { p.Quantiles[90] = math.NaN() },
		"unsorted":  func(p *profile.Feature) { p.Quantiles[10], p.Quantiles[100] = p.Quantiles[100], p.Quantiles[10] },
		"short cdf": func(p *profile.Feature) { p.CDF = p.CDF[:len(p.CDF)-1] },
		"cdf > 1":   func(p *profile.Feature) { p.CDF[50] = 1.5 },
	} {
		p := profile.Column(&table.Column{Name: "x", Kind: table.Numeric, Num: ref})
		p.Quantiles = append(step.Floats(nil), p.Quantiles...)
		p.CDF = append(step.Floats(nil), p.CDF...)
		damage(&p)
		done := make(chan *Report, 1)
		var err error
		go func() {
			var rep *Report
			rep, err = CompareProfile([]profile.Feature{p}, []table.Column{{Name: "x", Kind: table.Numeric, Num: cur}}, Options{})
			done <- rep
		}()
		select {
		case rep := <-done:
			if err == nil && (len(rep.Features) != 1 || rep.Features[0].Error == "") {
				t.Errorf("%s: got %+v, want the feature's error", name, rep.Features)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: CompareProfile still running after 10 s", name)
		}
	}
}
