package modelcheck

// Finding codes. Each names one kind of problem (or, for SeverityInfo, a
// fact) in a model's normalization layers; the codes are stable.
const (
	// BatchNormTrainingMode: a BatchNormalization exported in training mode
	// (training_mode=1, or is_test=0 before opset 7): it normalizes with
	// the statistics of each batch.
	BatchNormTrainingMode = "batchnorm_training_mode"
	// RunningStatsAsOutputs: a BatchNormalization computes its running
	// (or saved) statistics as extra outputs, the form of a training graph.
	RunningStatsAsOutputs = "running_stats_as_outputs"
	// UntrainedRunningStats: every running mean is 0 and every running
	// variance 1, the values a BatchNorm layer starts with; or no stored
	// statistics at all, the mean and variance computed from the batch
	// (PyTorch's export of track_running_stats=False).
	UntrainedRunningStats = "untrained_running_stats"
	// StatisticsUnread: a BatchNormalization whose running mean and
	// variance are not stored in the file in a readable form (external
	// data, an unsupported type, a graph input): they were not checked.
	StatisticsUnread = "statistics_unread"
	// NonpositiveVariance: a running variance below 0 (NaN outputs once it
	// outweighs epsilon), or exactly 0 with a non-zero mean.
	NonpositiveVariance = "nonpositive_variance"
	// NaNStatistics: a NaN or infinite mean, variance, scale or bias.
	NaNStatistics = "nan_statistics"
	// VarianceBelowEpsilon: a running variance below epsilon,
	// so that epsilon, not the data, sets the channel's scale.
	VarianceBelowEpsilon = "variance_below_epsilon"
	// ForeignEpsilon: an epsilon that is another framework's default, not
	// the exporting framework's.
	ForeignEpsilon = "foreign_epsilon"
	// BatchStatisticsInGraph: a mean, variance, minimum or maximum reduced
	// over the batch axis inside the graph: each row's output depends on
	// the other rows of its batch.
	BatchStatisticsInGraph = "batch_statistics_in_graph"
	// LayerNormFact: the model's LayerNorm layers, native or written out
	// in ReduceMean/Sub ops (info).
	LayerNormFact = "layer_norm"
	// InstanceNormFact: the model's InstanceNorm layers (info).
	InstanceNormFact = "instance_norm"
	// GroupNormFact: the model's GroupNorm layers, as PyTorch exports them
	// (InstanceNormalization on a reshaped tensor) (info).
	GroupNormFact = "group_norm"
	// ConstantNormalization: a LayerNorm, InstanceNorm or GroupNorm that
	// normalizes groups of one value (axes of size 1): it outputs its bias
	// whatever the input.
	ConstantNormalization = "constant_normalization"
	// DeadChannels: BatchNorm channels with running mean 0 and variance
	// below epsilon, whose input was constantly 0 in training (info).
	DeadChannels = "dead_channels"
	// InputNormalization: a BatchNorm reads the model's inputs; its
	// statistics say what the model was trained on (info).
	InputNormalization = "input_normalization"
	// InputScaling: the graph scales its inputs with stored constants
	// before its first layer (info).
	InputScaling = "input_scaling"

	// Codes that need an artifact (--artifact).

	// InputBinding: how the model's inputs take the artifact's outputs (info).
	InputBinding = "input_binding"
	// InputWidthMismatch: the model's input width differs from the number
	// of the artifact's outputs.
	InputWidthMismatch = "input_width_mismatch"
	// InputNamesMismatch: per-feature inputs whose names are not the
	// artifact's output names.
	InputNamesMismatch = "input_names_mismatch"
	// FitsArtifact: the first normalization layer's statistics match the
	// artifact's output profile (info).
	FitsArtifact = "fits_artifact"
	// TrainedOnUnscaled: the first normalization layer's statistics match
	// the raw training profile: the model was trained on unscaled features.
	TrainedOnUnscaled = "trained_on_unscaled"
	// NormalizationMismatch: the first normalization layer's statistics
	// match neither the artifact's outputs nor the raw inputs.
	NormalizationMismatch = "normalization_mismatch"
	// DoubledScaling: the graph applies the artifact's scaling again to
	// features the artifact already scaled, or the first normalization
	// layer learned features scaled twice.
	DoubledScaling = "doubled_scaling"
	// UndoneScaling: the graph maps the artifact's features back to raw
	// values, undoing the scaler.
	UndoneScaling = "undone_scaling"
)

// Severities of a finding. Errors and warnings make `model check` exit 1;
// info-level facts alone do not.
const (
	// SeverityError: the model computes something other than intended.
	SeverityError = "error"
	// SeverityWarning: likely wrong, or fragile; check it.
	SeverityWarning = "warning"
	// SeverityInfo: a fact about the model's normalization.
	SeverityInfo = "info"
)

// Report is the result of checking one model.
type Report struct {
	// Model is the file checked, as given.
	Model string `json:"model"`
	// Producer is the exporting framework and version ("pytorch 1.13.0").
	Producer string `json:"producer"`
	// Opset is the default operator set's version.
	Opset int64 `json:"opset"`
	// Inputs are the model's runtime inputs.
	Inputs []Value `json:"inputs"`
	// Artifact is the digest of the artifact compared with, if any.
	Artifact string `json:"artifact,omitempty"`
	// Layers lists every normalization layer found, in graph order.
	Layers []Layer `json:"layers"`
	// Findings are the problems and facts, errors first.
	Findings []Finding `json:"findings"`
	// Errors, Warnings and Infos count the findings by severity.
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
	// Rule states the tolerances used to compare statistics.
	Rule string `json:"rule"`
}

// Layer describes one normalization layer of the graph.
type Layer struct {
	// Node is the node's name (or op and output when unnamed).
	Node string `json:"node"`
	// Op is the ONNX operator; Kind the layer it implements
	// ("batch_norm", "layer_norm", "instance_norm", "group_norm").
	Op   string `json:"op"`
	Kind string `json:"kind"`
	// Epsilon is the variance floor; Channels the number of channels
	// (or groups, or normalized width), 0 when unknown.
	Epsilon  float64 `json:"epsilon"`
	Channels int     `json:"channels,omitempty"`
	// TrainingMode is true for a BatchNormalization in training mode.
	TrainingMode bool `json:"training_mode,omitempty"`
	// ReadsInputs names the model inputs whose values reach the layer
	// through value-preserving or constant affine operations only.
	ReadsInputs []string `json:"reads_inputs,omitempty"`
	// MeanRange and VarRange are the smallest and largest running mean
	// and variance of a BatchNormalization with stored statistics.
	MeanRange []float64 `json:"mean_range,omitempty"`
	VarRange  []float64 `json:"var_range,omitempty"`
}

// Finding is one named problem or fact with its evidence and fix.
type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	// Node names the layer or node concerned ("" for the whole model).
	Node        string         `json:"node"`
	Description string         `json:"description"`
	Fix         string         `json:"fix,omitempty"`
	Evidence    map[string]any `json:"evidence,omitempty"`
}

// Found reports whether any finding is an error or a warning.
func (r *Report) Found() bool { return r.Errors+r.Warnings > 0 }

// Has reports whether a finding with code exists.
func (r *Report) Has(code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}
