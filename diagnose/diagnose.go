// Package diagnose finds how the features a model was fed differ from what
// an artifact produces, and names the cause: raw values fed unscaled,
// values scaled twice, per-batch statistics, a stale or unknown set of
// parameters, the wrong scaler, imputation after scaling, swapped columns
// or float32 rounding; for one-hot and ordinal outputs, categories sent to
// another column or code, and unseen or missing categories encoded
// otherwise than the artifact does.
//
// Paired (raw rows known) judges row by row; Unpaired judges the observed
// distribution against the training profile inside the artifact.
//
// Every verdict follows from the numbers alone, never from column names
// or positions: a column is judged by which explanation reproduces its
// observed values.
package diagnose

import (
	"encoding/json"
	"github.com/normguard/normguard/internal/jsonnum"
	"math"

	"github.com/normguard/normguard/drift"
)

// Verdict names, as the diagnose command reports them.
const (
	OK                 = "ok"
	PrecisionLoss      = "precision_loss"
	NotNormalized      = "not_normalized"
	DoubleNormalized   = "double_normalized"
	PerBatchStatistics = "per_batch_statistics"
	StaleParameters    = "stale_parameters"
	WrongParameters    = "wrong_parameters"
	WrongTransform     = "wrong_transform"
	ImputeOrder        = "impute_order"
	ColumnsSwapped     = "columns_swapped"
	Drift              = "drift"
	UnknownMismatch    = "unknown_mismatch"
)

// Verdict is the diagnosis of one output column.
type Verdict struct {
	// Name is the output column.
	Name string `json:"name"`
	// Verdict is one of the verdict names above.
	Verdict string `json:"verdict"`
	// Explanation says in plain language what went wrong and how to fix it.
	Explanation string `json:"explanation"`
	// Fix is the likely fix alone (the end of Explanation); empty for ok.
	Fix string `json:"fix,omitempty"`
	// Evidence holds the numbers the verdict rests on.
	Evidence map[string]any `json:"evidence"`
	// Plot holds values for reports to draw (nil when nothing helps); it
	// is not part of the JSON.
	Plot *Plot `json:"-"`
}

// MarshalJSON writes the verdict with every NaN or infinite number in the
// evidence as null (JSON has no NaN): an ordinal code of NaN, a missing
// p-value.
func (v Verdict) MarshalJSON() ([]byte, error) {
	type plain Verdict // without this method
	p := plain(v)
	p.Evidence = jsonnum.Map(v.Evidence)
	return json.Marshal(p)
}

// explain sets the explanation: what the values show, then the fix.
func (v *Verdict) explain(what, fix string) {
	v.Explanation, v.Fix = what, fix
	if fix != "" {
		v.Explanation = what + ": " + fix
	}
}

// PlotPoints bounds the (expected, observed) pairs a Plot keeps.
const PlotPoints = 400

// Plot is what a report draws for one column. Paired mode keeps a sample
// of rows as (expected, observed) pairs; unpaired mode keeps the training
// output's distribution and the observed one on shared bins.
type Plot struct {
	// Expected and Observed are the artifact's output and the observed
	// value of up to PlotPoints rows, evenly strided, both present and
	// finite (paired mode).
	Expected, Observed []float64
	// Distribution holds the training output's (Ref) and the observed
	// (Cur) shares per bin (unpaired mode).
	Distribution *drift.Plot
}

// pairPlot samples up to PlotPoints rows of exp and obs, evenly strided,
// keeping the rows where both are finite; nil when none is.
func pairPlot(exp, obs []float64) *Plot {
	step := max(1, (len(exp)+PlotPoints-1)/PlotPoints)
	p := &Plot{}
	for i := 0; i < len(exp) && i < len(obs); i += step {
		e, o := exp[i], obs[i]
		if math.IsNaN(e) || math.IsInf(e, 0) || math.IsNaN(o) || math.IsInf(o, 0) {
			continue
		}
		p.Expected, p.Observed = append(p.Expected, e), append(p.Observed, o)
	}
	if len(p.Expected) == 0 {
		return nil
	}
	return p
}

// Report is the diagnosis of every output column, in the artifact's
// output order.
type Report struct {
	Features []Verdict `json:"features"`
}

// Mismatched reports whether any column has a verdict other than ok.
func (r *Report) Mismatched() bool {
	for _, f := range r.Features {
		if f.Verdict != OK {
			return true
		}
	}
	return false
}
