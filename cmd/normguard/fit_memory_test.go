package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// fitMemoryFactor bounds fit's peak memory (resident set above what the
// process held before it started) as a multiple of the size of the
// columns it reads: 8 bytes per numeric value and 16 per string value.
// Measured on this test's 600,000 x 11 table (57.6 MB of columns; median
// imputation then standardization, applied in place, and the input and
// output profiles): 1.50-1.58x in 22 runs on 2026-12-05, with the numeric
// columns in an arena outside the Go heap, medians selected from the
// columns without a copy, and the CSV reader's buffers let go at the end
// of the input (2.0-2.35x before, when the peak depended on when the
// collector ran). The part above 1x is the reader's buffers (about 15 MB
// until the end of the input), the Go heap's garbage at GOGC 25 and the
// runtime. On bench/gendata's 1,000,000 x 22 table (192 MB of columns) the
// whole process peaks at 244-251 MB (1.3x). The bound leaves 0.07x above
// the highest run.
const fitMemoryFactor = 1.65

// memRows and memNumeric shape the generated table: memNumeric numeric
// columns with 1% empty cells and one categorical column.
const (
	memRows    = 600_000
	memNumeric = 10
)

// TestFitPeakMemory fits a generated 600,000-row table in a child process
// (so that nothing else in the test binary counts) and checks its peak
// resident set (VmHWM) less its resident set before the fit against
// fitMemoryFactor times the columns' size.
func TestFitPeakMemory(t *testing.T) {
	dir := t.TempDir()
	writeMemoryTable(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFitPeakMemoryChild$", "-test.v")
	cmd.Env = append(os.Environ(), "NORMGUARD_MEMORY_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child fit: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`before_kb=(\d+) peak_kb=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child printed no measurement:\n%s", out)
	}
	before, _ := strconv.ParseFloat(string(m[1]), 64)
	peak, _ := strconv.ParseFloat(string(m[2]), 64)
	columns := float64(memRows * (8*memNumeric + 16))
	factor := (peak - before) * 1024 / columns
	t.Logf("columns %.1f MB; resident before fit %.1f MB, peak %.1f MB: %.2fx the columns", columns/1e6, before*1024/1e6, peak*1024/1e6, factor)
	if factor > fitMemoryFactor {
		t.Errorf("fit's peak memory is %.2fx its columns' size, want at most %.2fx", factor, fitMemoryFactor)
	}
}

// TestFitPeakMemoryChild is TestFitPeakMemory's child process: it runs
// `normguard fit` on the table in $NORMGUARD_MEMORY_CHILD and prints its
// resident set before and its peak after.
func TestFitPeakMemoryChild(t *testing.T) {
	dir := os.Getenv("NORMGUARD_MEMORY_CHILD")
	if dir == "" {
		t.Skip("the child of TestFitPeakMemory")
	}
	before := procStatusKB(t, "VmRSS")
	mustRun(t, "fit", "-q", "--spec", filepath.Join(dir, "spec.yaml"), "--data", filepath.Join(dir, "data.csv"),
		"--out", filepath.Join(dir, "a.json"))
	fmt.Printf("before_kb=%d peak_kb=%d\n", before, procStatusKB(t, "VmHWM"))
}

// procStatusKB returns a kB field of /proc/self/status.
func procStatusKB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("memory is measured from /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// writeMemoryTable writes dir/data.csv (memRows rows of memNumeric normal
// columns with 1% empty cells and a 50-label column) and dir/spec.yaml
// (median imputation then standardization, the label passed through).
func writeMemoryTable(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	names := make([]string, memNumeric)
	for j := range names {
		names[j] = fmt.Sprintf("x%d", j)
	}
	fmt.Fprintf(w, "%s,label\n", strings.Join(names, ","))
	rng := rand.New(rand.NewPCG(15, 1))
	var line []byte
	for range memRows {
		line = line[:0]
		for range memNumeric {
			if rng.IntN(100) != 0 {
				line = strconv.AppendFloat(line, rng.NormFloat64()*3+10, 'f', 6, 64)
			}
			line = append(line, ',')
		}
		line = append(line, "label_"...)
		line = strconv.AppendInt(line, int64(rng.IntN(50)), 10)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("version: 1\nremainder: passthrough\ncolumns:\n  - names: [%s]\n    type: numeric\n    steps:\n      - simple_imputer: {strategy: median}\n      - standard_scaler: {}\n", strings.Join(names, ", "))
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFitRestoresCollector checks that fit's collector settings (GOGC 25
// while reading, then 100 under a memory limit) are undone when it
// returns: commands run one after another in one process in these tests,
// and the service's own settings must not change either.
func TestFitRestoresCollector(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: fit leaves the collector alone")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(data, []byte("x,label\n1,a\n,b\n3,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(sp, []byte("version: 1\nremainder: passthrough\ncolumns:\n  - names: [x]\n    steps:\n      - simple_imputer: {strategy: median}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	mustRun(t, "fit", "-q", "--spec", sp, "--data", data, "--out", filepath.Join(dir, "a.json"))
	gotPercent := debug.SetGCPercent(percent)
	if gotPercent != percent {
		t.Errorf("GOGC after fit is %d, want %d as before", gotPercent, percent)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit after fit is %d, want %d as before", got, limit)
	}
}
