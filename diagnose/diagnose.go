// Package diagnose finds how the features a model was fed differ from what
// an artifact produces, and names the cause: raw values fed unscaled,
// values scaled twice, per-batch statistics, a stale or unknown set of
// parameters, the wrong scaler, imputation after scaling, swapped columns
// or float32 rounding.
//
// Every verdict follows from the numbers alone, never from column names
// or positions: a column is judged by which explanation reproduces its
// observed values.
package diagnose

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
	// Evidence holds the numbers the verdict rests on.
	Evidence map[string]any `json:"evidence"`
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
