package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestDriftInfinityRun24 checks attack run 24 finding 1 end to end. A
// reference holding one inf gave wasserstein, wasserstein_normed, energy
// and t_test a statistic or threshold that is not a number, "ok", exit 0;
// a current of only infinities said "ok" with these methods while
// --artifact said +Inf DRIFT. By definition the threshold of wasserstein
// and energy (a multiple of the reference's standard deviation), the
// divisor of wasserstein_normed and Welch's t are not numbers when the
// reference holds an infinity: exit 2 naming x; the Wasserstein and
// energy distances to a current of infinities are +Inf: drift (exit 1),
// in both modes.
func TestDriftInfinityRun24(t *testing.T) {
	dir := t.TempDir()
	train, art := run22Fit(t, dir)
	r := rand.New(rand.NewPCG(24, 1))
	var refInf, shifted, allInf []string
	for i := range 400 {
		x := fmt.Sprint(5 + r.NormFloat64())
		if i == 7 {
			x = "inf"
		}
		refInf = append(refInf, x+",a")
	}
	for range 168 {
		shifted = append(shifted, fmt.Sprintf("%v,b", 7+r.NormFloat64()))
	}
	for i := range 20 {
		allInf = append(allInf, []string{"inf,a", "-inf,b"}[i%2])
	}
	refFile, curFile, infFile := filepath.Join(dir, "ref.csv"), filepath.Join(dir, "cur.csv"), filepath.Join(dir, "inf.csv")
	writeLines(t, refFile, "x,c", refInf)
	writeLines(t, curFile, "x,c", shifted)
	writeLines(t, infFile, "x,c", allInf)
	for _, m := range []string{"wasserstein", "wasserstein_normed", "energy", "t_test"} {
		code, out, errOut := runCLI(t, "drift", "--reference", refFile, "--current", curFile, "--method", m)
		if code != ExitError || !strings.Contains(errOut, "x: the reference holds infinite values") {
			t.Errorf("--reference with an inf, --method %s: exit %d, want 2 naming x's infinite values\n%s%s", m, code, out, errOut)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "x ") && strings.HasSuffix(strings.TrimSpace(line), "ok") {
				t.Errorf("--method %s: x says ok: %s", m, line)
			}
		}
	}
	for _, m := range []string{"wasserstein", "wasserstein_normed"} {
		for _, mode := range [][]string{{"--reference", train}, {"--artifact", art}} {
			args := append([]string{"drift"}, mode...)
			code, out, errOut := runCLI(t, append(args, "--current", infFile, "--method", m, "--format", "json")...)
			if code != ExitFound || !strings.Contains(out, `"statistic_infinite": "+Inf"`) || !strings.Contains(out, `"drift": true`) {
				t.Errorf("%s, a current of inf and -inf, --method %s: exit %d, want 1 and x drifting on +Inf\n%s%s", mode[0], m, code, out, errOut)
			}
		}
	}
	code, out, errOut := runCLI(t, "drift", "--reference", train, "--current", infFile, "--method", "energy")
	if code != ExitFound || !strings.Contains(out, "DRIFT") {
		t.Errorf("energy, a current of infinities: exit %d, want 1, DRIFT\n%s%s", code, out, errOut)
	}
}
