package monitor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// testSpec: x ~ N(10, 2) standardized, y ~ U(0, 100) min-max scaled, c
// one-hot encoded (unseen values judged by the encoder's categories_), d
// imputed only (unseen values judged by the profile's categories).
const testSpec = `
version: 1
columns:
  - name: x
    type: numeric
    steps: [standard_scaler]
  - name: y
    type: numeric
    steps: [min_max_scaler]
  - name: c
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: ignore}}]
  - name: d
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}]
`

const (
	trainRows = 5000
	trainMean = 10.0
	trainSD   = 2.0
)

var (
	artOnce sync.Once
	artVal  *artifact.Artifact
	artErr  error
)

// testArtifact fits testSpec on generated training rows (once per test
// binary).
func testArtifact(t testing.TB) *artifact.Artifact {
	t.Helper()
	artOnce.Do(func() {
		sp, err := spec.Parse(strings.NewReader(testSpec), "spec.yaml")
		if err != nil {
			artErr = err
			return
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var b strings.Builder
		b.WriteString("x,y,c,d\n")
		cats := []string{"a", "a", "a", "a", "a", "b", "b", "b", "c", "c"}
		for i := 0; i < trainRows; i++ {
			d := "u"
			if i%3 == 0 {
				d = "v"
			}
			fmt.Fprintf(&b, "%v,%v,%s,%s\n", trainMean+trainSD*rng.NormFloat64(), 100*rng.Float64(), cats[rng.IntN(len(cats))], d)
		}
		r, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
		if err != nil {
			artErr = err
			return
		}
		artVal, artErr = fit.Fit(context.Background(), sp, r, fit.Options{Model: "m"})
		if artErr == nil {
			_, artErr = artifact.Encode(artVal) // sets the digest, as Save does
		}
	})
	if artErr != nil {
		t.Fatal(artErr)
	}
	return artVal
}

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is 10:00:30 UTC on a day: inside the window [10:00, 11:00).
var t0 = time.Date(2024, 3, 5, 10, 0, 30, 0, time.UTC)

// testOptions are options for tests: a fake clock, and no background
// evaluation (tests call Evaluate).
func testOptions(c *clock) Options {
	return Options{Now: c.Now, EvalInterval: time.Hour, FlushInterval: 5 * time.Millisecond}
}

func openTest(t *testing.T, path string, opt Options) *Monitor {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "monitor.db")
	}
	m, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// normalRows returns n inputs with x ~ N(mean, trainSD), y ~ U(0, 100), c
// and d from the training categories.
func normalRows(seed uint64, n int, mean float64) []table.Column {
	rng := rand.New(rand.NewPCG(seed, 7))
	x, y := make([]float64, n), make([]float64, n)
	c, d := make([]string, n), make([]string, n)
	for i := 0; i < n; i++ {
		x[i] = mean + trainSD*rng.NormFloat64()
		y[i] = 100 * rng.Float64()
		c[i] = []string{"a", "a", "b", "c"}[rng.IntN(4)]
		d[i] = []string{"u", "u", "v"}[rng.IntN(3)]
	}
	return []table.Column{
		{Name: "x", Kind: table.Numeric, Num: x},
		{Name: "y", Kind: table.Numeric, Num: y},
		{Name: "c", Kind: table.String, Str: c},
		{Name: "d", Kind: table.String, Str: d},
	}
}

func observe(t *testing.T, m *Monitor, model string, a *artifact.Artifact, stage Stage, cols []table.Column, n int) {
	t.Helper()
	if err := m.Observe(context.Background(), model, a, stage, cols, n); err != nil {
		t.Fatal(err)
	}
}

func evaluate(t *testing.T, m *Monitor) {
	t.Helper()
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// featureOf returns the named feature of a summary.
func featureOf(t *testing.T, s WindowSummary, name string) FeatureSummary {
	t.Helper()
	for _, f := range s.Features {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("window %v has no feature %q", s.Start, name)
	return FeatureSummary{}
}

// openState returns the encoded state of the model's only window in
// memory (the checkpoint bytes), for exact comparisons.
func windowBytes(t *testing.T, m *Monitor, model string, stage Stage) []byte {
	t.Helper()
	ss := m.lookup(model, stage)
	if ss == nil {
		t.Fatalf("no state for model %q stage %s", model, stage)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.windows) != 1 {
		t.Fatalf("model %q stage %s has %d windows in memory, want 1", model, stage, len(ss.windows))
	}
	b, err := ss.windows[0].encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b float64) bool {
	const tol = 1e-12
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}
