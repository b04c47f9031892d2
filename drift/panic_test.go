package drift

import (
	"errors"
	"strings"
	"testing"
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
