package modelcheck_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/modelcheck"
	"github.com/normguard/normguard/modelcheck/onnxgraph"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

const modelsDir = "../testdata/models"

// fixtureCase is one entry of testdata/models/expected.json, written by
// make_models.py from what it planted (and numbers computed there with
// numpy from the stored tensors and the training CSV).
type fixtureCase struct {
	Artifact        *string   `json:"artifact"`
	Problems        []string  `json:"problems"`
	Facts           []string  `json:"facts"`
	Nodes           []string  `json:"nodes"`
	Node            string    `json:"node"`
	FitsArtifact    string    `json:"fits_artifact"`
	ModelWidth      int       `json:"model_width"`
	ArtifactOutputs int       `json:"artifact_outputs"`
	Missing         []string  `json:"missing"`
	Unexpected      []string  `json:"unexpected"`
	RunningMean     []float64 `json:"running_mean"`
	RunningVar      []float64 `json:"running_var"`
	RawMean         []float64 `json:"raw_mean"`
	RawStd          []float64 `json:"raw_std"`
	Features        []string  `json:"features"`
	Convergence     float64   `json:"convergence"`
	MedianZRaw      float64   `json:"median_z_raw"`
	MedianZArtifact float64   `json:"median_z_artifact"`
	InputMean       []float64 `json:"input_mean"`
	Epsilon         float64   `json:"epsilon"`
	TypicalOf       string    `json:"typical_of"`
	MaxOutputChange float64   `json:"max_output_change"`
	Center          []float64 `json:"center"`
	Scale           []float64 `json:"scale"`
	Multiplier      []float64 `json:"multiplier"`
	Offset          []float64 `json:"offset"`
	// code → [node, channels] for the planted statistics.
	NonpositiveVariance  []json.RawMessage `json:"nonpositive_variance"`
	NaNStatistics        []json.RawMessage `json:"nan_statistics"`
	VarianceBelowEpsilon []json.RawMessage `json:"variance_below_epsilon"`
}

var (
	artifactsOnce sync.Once
	artifacts     map[string]*artifact.Artifact
	artifactsErr  error
)

// fixtureArtifact fits testdata/models/NAME.yaml on NAME_train.csv, as
// `normguard fit` made the committed NAME.artifact.json.
func fixtureArtifact(t *testing.T, name string) *artifact.Artifact {
	t.Helper()
	artifactsOnce.Do(func() {
		artifacts = map[string]*artifact.Artifact{}
		for _, n := range []string{"penguins", "wine", "diamonds"} {
			sp, err := spec.ParseFile(filepath.Join(modelsDir, n+".yaml"))
			if err != nil {
				artifactsErr = err
				return
			}
			r, err := table.Open(filepath.Join(modelsDir, n+"_train.csv"))
			if err != nil {
				artifactsErr = err
				return
			}
			a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
			r.Close()
			if err != nil {
				artifactsErr = err
				return
			}
			artifacts[n] = a
		}
	})
	if artifactsErr != nil {
		t.Fatalf("fit fixture artifacts: %v", artifactsErr)
	}
	return artifacts[name]
}

func loadExpected(t *testing.T) map[string][]fixtureCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string][]fixtureCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func checkFixture(t *testing.T, model string, art *artifact.Artifact) *modelcheck.Report {
	t.Helper()
	g, err := onnxgraph.ReadFile(filepath.Join(modelsDir, model+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return modelcheck.Check(g, modelcheck.Options{Model: model, Artifact: art})
}

// TestFixtures checks every fixture made by make_models.py: the planted
// problems are reported (exactly those: the clean models report no error
// or warning), with the planted numbers as evidence.
func TestFixtures(t *testing.T) {
	cases := loadExpected(t)
	if len(cases) < 15 {
		t.Fatalf("expected.json has %d models, want the 18 fixtures", len(cases))
	}
	for model, list := range cases {
		for _, c := range list {
			name := model
			var art *artifact.Artifact
			if c.Artifact != nil {
				name += "+" + *c.Artifact
				art = fixtureArtifact(t, *c.Artifact)
			}
			t.Run(name, func(t *testing.T) {
				r := checkFixture(t, model, art)
				var got []string
				for _, f := range r.Findings {
					if f.Severity != modelcheck.SeverityInfo {
						got = append(got, f.Code)
					}
				}
				got = uniq(got)
				want := uniq(c.Problems)
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("problems: got %v, want %v\n%s", got, want, describe(r))
				}
				if r.Found() != (len(want) > 0) {
					t.Errorf("Found() = %v with problems %v", r.Found(), want)
				}
				for _, fact := range c.Facts {
					if !r.Has(fact) {
						t.Errorf("fact %s missing\n%s", fact, describe(r))
					}
				}
				checkEvidence(t, r, c)
			})
		}
	}
}

func checkEvidence(t *testing.T, r *modelcheck.Report, c fixtureCase) {
	t.Helper()
	if c.FitsArtifact != "" {
		f := find(t, r, modelcheck.FitsArtifact)
		if f.Node != c.FitsArtifact {
			t.Errorf("fits_artifact node: got %q, want %q", f.Node, c.FitsArtifact)
		}
	}
	for _, p := range c.Problems {
		switch p {
		case modelcheck.BatchNormTrainingMode, modelcheck.RunningStatsAsOutputs, modelcheck.UntrainedRunningStats, modelcheck.ConstantNormalization:
			if c.Nodes != nil {
				if got := nodesWith(r, p); strings.Join(got, ",") != strings.Join(c.Nodes, ",") {
					t.Errorf("%s nodes: got %v, want %v", p, got, c.Nodes)
				}
			}
		case modelcheck.BatchStatisticsInGraph:
			if c.Nodes != nil {
				f := find(t, r, p)
				if got := f.Evidence["nodes"].([]string); strings.Join(got, ",") != strings.Join(c.Nodes, ",") {
					t.Errorf("%s nodes: got %v, want %v", p, got, c.Nodes)
				}
			}
		case modelcheck.InputWidthMismatch:
			f := find(t, r, p)
			if f.Evidence["model_width"] != c.ModelWidth || f.Evidence["artifact_outputs"] != c.ArtifactOutputs {
				t.Errorf("widths: got %v and %v, want %d and %d", f.Evidence["model_width"], f.Evidence["artifact_outputs"], c.ModelWidth, c.ArtifactOutputs)
			}
		case modelcheck.InputNamesMismatch:
			f := find(t, r, p)
			if got := f.Evidence["missing"].([]string); strings.Join(got, ",") != strings.Join(c.Missing, ",") {
				t.Errorf("missing: got %v, want %v", got, c.Missing)
			}
			if got := f.Evidence["unexpected"].([]string); strings.Join(got, ",") != strings.Join(c.Unexpected, ",") {
				t.Errorf("unexpected: got %v, want %v", got, c.Unexpected)
			}
		case modelcheck.TrainedOnUnscaled:
			f := find(t, r, p)
			if f.Node != c.Node {
				t.Errorf("node: got %q, want %q", f.Node, c.Node)
			}
			if got := f.Evidence["features"].([]string); strings.Join(got, ",") != strings.Join(c.Features, ",") {
				t.Errorf("features: got %v, want %v", got, c.Features)
			}
			if c.MedianZRaw != 0 {
				// numpy's medians of |m − (W·E[x] + b)| / sqrt(v); the artifact's
				// means are 0 up to rounding, numpy's exactly 0
				closeTo(t, "median_z_raw", f.Evidence["median_z_raw"].(float64), c.MedianZRaw, 1e-9)
				closeTo(t, "median_z_artifact", f.Evidence["median_z_artifact"].(float64), c.MedianZArtifact, 1e-9)
			}
			rows, _ := f.Evidence["channels"].([]map[string]any)
			if c.Convergence > 0 {
				// the median of four ratios of running to raw means, each
				// off by the noise of the last batches: within 0.03
				for _, row := range rows {
					if w, _ := row["convergence"].(float64); math.Abs(w-c.Convergence) > 0.03 {
						t.Errorf("%s convergence: got %v, want 1 − 0.9^k = %v", row["feature"], row["convergence"], c.Convergence)
					}
				}
			}
			for i, row := range rows {
				if c.RunningMean == nil {
					break
				}
				// the stored float32 statistics, widened exactly
				closeTo(t, "running_mean", row["running_mean"].(float64), c.RunningMean[i], 0)
				closeTo(t, "running_var", row["running_var"].(float64), c.RunningVar[i], 0)
				// the artifact's raw profile against numpy on the training CSV
				closeTo(t, "raw_mean", row["raw_mean"].(float64), c.RawMean[i], 1e-12)
				closeTo(t, "raw_std", row["raw_std"].(float64), c.RawStd[i], 1e-12)
			}
		case modelcheck.ForeignEpsilon:
			f := find(t, r, p)
			closeTo(t, "epsilon", f.Evidence["epsilon"].(float64), c.Epsilon, 0)
			if f.Evidence["typical_of"] != c.TypicalOf {
				t.Errorf("typical_of: got %v, want %s", f.Evidence["typical_of"], c.TypicalOf)
			}
			closeTo(t, "max_output_change", f.Evidence["max_output_change"].(float64), c.MaxOutputChange, 1e-9)
		case modelcheck.DoubledScaling:
			f := find(t, r, p)
			if c.Center == nil {
				if f.Node != c.Node || strings.Join(f.Evidence["features"].([]string), ",") != strings.Join(c.Features, ",") {
					t.Errorf("doubled: got %s %v, want %s %v", f.Node, f.Evidence["features"], c.Node, c.Features)
				}
				continue
			}
			// constants stored as float32: agree to float32 precision
			closeAll(t, "center", f.Evidence["center"].([]float64), c.Center, 1e-6)
			closeAll(t, "scale", f.Evidence["scale"].([]float64), c.Scale, 1e-6)
		case modelcheck.UndoneScaling:
			f := find(t, r, p)
			closeAll(t, "multiplier", f.Evidence["multiplier"].([]float64), c.Multiplier, 1e-6)
			closeAll(t, "offset", f.Evidence["offset"].([]float64), c.Offset, 1e-6)
		case modelcheck.NonpositiveVariance, modelcheck.NaNStatistics, modelcheck.VarianceBelowEpsilon:
			raw := map[string][]json.RawMessage{modelcheck.NonpositiveVariance: c.NonpositiveVariance,
				modelcheck.NaNStatistics: c.NaNStatistics, modelcheck.VarianceBelowEpsilon: c.VarianceBelowEpsilon}[p]
			var node string
			var channels []int
			if err := json.Unmarshal(raw[0], &node); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw[1], &channels); err != nil {
				t.Fatal(err)
			}
			f := find(t, r, p)
			if f.Node != node || !sameInts(f.Evidence["channels"].([]int), channels) {
				t.Errorf("%s: got %s channels %v, want %s channels %v", p, f.Node, f.Evidence["channels"], node, channels)
			}
		}
	}
	if c.InputMean != nil {
		f := find(t, r, modelcheck.InputNormalization)
		closeAll(t, "input_mean", f.Evidence["input_mean"].([]float64), c.InputMean, 0)
	}
}

func find(t *testing.T, r *modelcheck.Report, code string) modelcheck.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("no %s finding\n%s", code, describe(r))
	return modelcheck.Finding{}
}

func nodesWith(r *modelcheck.Report, code string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Code == code {
			out = append(out, f.Node)
		}
	}
	return out
}

func describe(r *modelcheck.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.Severity + " " + f.Code + " " + f.Node + ": " + f.Description + "\n")
	}
	return b.String()
}

func uniq(xs []string) []string {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	out := []string{}
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func closeTo(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*math.Max(math.Abs(want), 1e-300) {
		t.Errorf("%s: got %v, want %v (rel %g)", what, got, want, rel)
	}
}

func closeAll(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		closeTo(t, what, got[i], want[i], rel)
	}
}

// TestDeclaredFeatureNames: a model declaring its feature names in the
// metadata key normguard bundle reads is held to the artifact's order.
func TestDeclaredFeatureNames(t *testing.T) {
	g, err := onnxgraph.ReadFile(filepath.Join(modelsDir, "penguins_clean.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	a := fixtureArtifact(t, "penguins")
	g.Metadata["feature_names"] = `["bill_depth_mm", "bill_length_mm", "flipper_length_mm", "body_mass_g"]`
	r := modelcheck.Check(g, modelcheck.Options{Artifact: a})
	f := find(t, r, modelcheck.InputNamesMismatch)
	if !strings.Contains(f.Description, `feature 1 is "bill_depth_mm" for the model, "bill_length_mm" in the artifact`) || r.Has(modelcheck.FitsArtifact) {
		t.Errorf("swapped names: got %s", describe(r))
	}
	g.Metadata["feature_names"] = `["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]`
	if r := modelcheck.Check(g, modelcheck.Options{Artifact: a}); r.Found() || !r.Has(modelcheck.FitsArtifact) {
		t.Errorf("declared names in order: got %s", describe(r))
	}
}
