package fit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// checkDense refuses, before it is applied to the training data, a step
// (steps[si], named name, of the spec group at path, reading the columns
// inputs) whose numeric outputs would take more than half of
// opt.Memory as columns of the training rows: fit holds a step's outputs
// so (8 bytes a value) when they are returned (FitTransform, fit
// --transform-out) or read by a later step, and a one-hot encoding of
// many categories or bins is rows × outputs values. Without the check
// such a fit failed mapping its storage ("cannot allocate memory") or
// was killed. nSpare columns of storage are reused; an output that
// overwrites its input (inPlace) costs nothing. Columns spilled to files
// page to disk, so no bound applies to them; nor when opt.Memory is
// unknown (0).
func checkDense(opt Options, path string, si int, name string, inputs []string, f step.Fitted, rows int, inPlace bool, nSpare int, batch bool) error {
	if inPlace || opt.Memory <= 0 || (opt.Spill != nil && !opt.Spill.InMemory()) {
		return nil
	}
	mem := memoryLimit(opt.Memory)
	k := 0
	for _, o := range f.Outputs() {
		if o.Kind == table.Numeric {
			k++
		}
	}
	k -= nSpare
	need := float64(k) * float64(rows) * 8
	if k <= 0 || need <= float64(mem/2) {
		return nil
	}
	why := "for the group's next step"
	hint := "move the step to the end of its group (fit then profiles one-hot outputs from their counts, without holding them)"
	if batch {
		why = "for the transformed training data (--transform-out)"
		hint = "leave out --transform-out (fit alone profiles one-hot outputs from their counts, without holding them)"
	}
	fewer := "give the step fewer output columns"
	switch name {
	case "one_hot_encoder":
		fewer = "group rare categories (one_hot_encoder max_categories or min_frequency)"
	case "kbins_discretizer":
		fewer = "ask for fewer bins (kbins_discretizer n_bins)"
	}
	return fmt.Errorf("fit %s: %s.steps[%d].%s gives %d output columns for %s; holding them as columns of the %d training rows %s takes %s, more than half of the memory fit may use (%s); %s, fit on a sample of the rows, or %s",
		opt.Source, path, si, name, k+nSpare, errtext.List(inputs), rows, why, gib(need), gib(float64(mem)), fewer, hint)
}

// memoryLimit is the memory fit may use: the machine's (mem), or less
// when the process's address space (ulimit -v) or its control group
// (memory.max) allows less.
func memoryLimit(mem int64) int64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_AS, &rl) == nil && rl.Cur > 0 && rl.Cur < uint64(mem) {
		mem = int64(rl.Cur)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < mem {
			mem = v
		}
	}
	return mem
}

// gib formats a size in bytes as GB (10^9 bytes), or MB when smaller.
func gib(b float64) string {
	if b < 1e9 {
		return fmt.Sprintf("%.0f MB", b/1e6)
	}
	return fmt.Sprintf("%.1f GB", b/1e9)
}
