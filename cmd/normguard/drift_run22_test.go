package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run22Spec is the spec of the attack run 22 fixtures: x standard
// scaled, c one-hot encoded.
const run22Spec = "version: 1\nremainder: drop\ncolumns:\n  - name: x\n    steps: [{standard_scaler: {}}]\n  - name: c\n    steps: [{one_hot_encoder: {}}]\n"

// run22Fit writes 400 training rows (x of N(5, 1), c of a and b) and
// the spec to dir, fits them and returns the training file and the
// artifact.
func run22Fit(t *testing.T, dir string) (train, art string) {
	t.Helper()
	r := rand.New(rand.NewPCG(22, 1))
	var b strings.Builder
	b.WriteString("x,c\n")
	for range 400 {
		fmt.Fprintf(&b, "%v,%s\n", 5+r.NormFloat64(), string("ab"[r.IntN(2)]))
	}
	train, art = filepath.Join(dir, "train.csv"), filepath.Join(dir, "a.json")
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(train, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte(run22Spec), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "fit", "-q", "--spec", spec, "--data", train, "--out", art)
	return train, art
}

// run22Week returns the lines "t,x,c" of a week of hourly rows from
// Monday 2026-01-05 (x of N(5, 1), c of a and b), x written by xOf(i, x)
// ("" missing).
func run22Week(seed uint64, xOf func(i int, x float64) string) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 168 {
		x := xOf(i, 5+r.NormFloat64())
		lines = append(lines, fmt.Sprintf("%s,%s,%s", t0.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), x, string("ab"[r.IntN(2)])))
	}
	return lines
}

// TestDriftInfinityRun22 checks attack run 22 finding 7 end to end: one
// inf in x of the current data passed drift --reference (auto) as "ok",
// exit 0, the effect written null. The Wasserstein distance to a sample
// holding +Inf is infinite by definition: auto drifts (exit 1), the JSON
// flags the infinite effect and the infinities; ks and psi, which rank
// or bin the values, need not drift, but the infinities are named below
// the table and found (exit 1); monitor replay of a week holding it
// judges x as drift --artifact does (drift, exit 1).
func TestDriftInfinityRun22(t *testing.T) {
	dir := t.TempDir()
	train, art := run22Fit(t, dir)
	lines := run22Week(3, func(i int, x float64) string {
		if i == 54 {
			return "inf"
		}
		return fmt.Sprint(x)
	})
	week, cur := filepath.Join(dir, "week.csv"), filepath.Join(dir, "cur.csv")
	writeLines(t, week, "t,x,c", lines)
	var noTime []string
	for _, l := range lines {
		noTime = append(noTime, l[strings.IndexByte(l, ',')+1:])
	}
	writeLines(t, cur, "x,c", noTime)

	code, out, errOut := runCLI(t, "drift", "--reference", train, "--current", cur, "--format", "json")
	if code != ExitFound {
		t.Fatalf("drift --reference: exit %d, want 1\n%s%s", code, out, errOut)
	}
	var rep struct {
		Features []struct {
			Name           string `json:"name"`
			Drift          bool   `json:"drift"`
			InfiniteValues string `json:"infinite_values"`
			Effect         struct {
				Value    *float64 `json:"value"`
				Infinite string   `json:"infinite"`
			} `json:"effect"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Features {
		if f.Name == "x" && (!f.Drift || f.InfiniteValues != "current" || f.Effect.Value != nil || f.Effect.Infinite != "+Inf") {
			t.Errorf("x: drift %v infinite_values %q effect %v %q; want drift, current, null flagged +Inf", f.Drift, f.InfiniteValues, f.Effect.Value, f.Effect.Infinite)
		}
	}
	for _, m := range []string{"ks", "psi"} {
		code, out, errOut := runCLI(t, "drift", "--reference", train, "--current", cur, "--method", m)
		if code != ExitFound || !strings.Contains(out, "infinite values:\n  x: the current data holds infinite values") {
			t.Errorf("drift --method %s: exit %d, want 1 and the infinities named\n%s%s", m, code, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, "monitor", "replay", "--artifact", art, "--data", week, "--time-column", "t", "--window", "7d", "--format", "json")
	if code != ExitFound {
		t.Fatalf("monitor replay: exit %d, want 1\n%s%s", code, out, errOut)
	}
	var tl struct {
		Windows []struct {
			Drifted []string        `json:"drifted"`
			Report  json.RawMessage `json:"report"`
		} `json:"windows"`
	}
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Windows) != 1 || !strings.Contains(strings.Join(tl.Windows[0].Drifted, ","), "x") ||
		!strings.Contains(string(tl.Windows[0].Report), `"infinite_values": "current"`) {
		t.Errorf("replay window: %s", out)
	}
}
