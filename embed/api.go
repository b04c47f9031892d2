package embed

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error about bad input (a malformed
// matrix, a NaN at fit, an option out of range), so that callers can tell
// a data problem (exit 2) from a finding.
var ErrInvalid = errors.New("invalid input")

// Matrix is a set of vectors stored row-major: row i is
// Data[i*Dim : (i+1)*Dim]. A Matrix with Rows == 0 is empty.
type Matrix struct {
	Rows, Dim int
	Data      []float64
}

// NewMatrix returns the Matrix of rows vectors of dim values each held in
// data, or an error wrapping ErrInvalid when len(data) != rows*dim or a
// size is negative.
func NewMatrix(rows, dim int, data []float64) (Matrix, error) {
	m := Matrix{Rows: rows, Dim: dim, Data: data}
	return m, m.valid()
}

// Row returns vector i, a slice of m.Data (not a copy).
func (m Matrix) Row(i int) []float64 { return m.Data[i*m.Dim : (i+1)*m.Dim] }

func (m Matrix) valid() error {
	if m.Rows < 0 || m.Dim < 0 {
		return fmt.Errorf("embed: matrix of %d rows of %d values: sizes must not be negative: %w", m.Rows, m.Dim, ErrInvalid)
	}
	if m.Rows > 0 && m.Dim == 0 {
		return fmt.Errorf("embed: matrix of %d rows has dimension 0; vectors need at least one value: %w", m.Rows, ErrInvalid)
	}
	if len(m.Data) != m.Rows*m.Dim {
		return fmt.Errorf("embed: matrix of %d rows of %d values holds %d values, want %d: %w", m.Rows, m.Dim, len(m.Data), m.Rows*m.Dim, ErrInvalid)
	}
	return nil
}

// Metric names the similarity a vector store computes: "cosine", "dot"
// (inner product) or "l2" (Euclidean distance).
const (
	MetricCosine = "cosine"
	MetricDot    = "dot"
	MetricL2     = "l2"
)

// Dtype names the element type vectors were produced or stored in:
// "float64", "float32", "float16" or "bfloat16".
const (
	DtypeFloat64  = "float64"
	DtypeFloat32  = "float32"
	DtypeFloat16  = "float16"
	DtypeBFloat16 = "bfloat16"
)

// Contract is what a vector column promises to the components that share
// it (the writer and the readers of one vector store): the shape and type
// of its vectors, the model that produced them, the metric the store
// uses, whether vectors are unit length, and a profile of the vectors it
// was fitted on. It is stored in the artifact as JSON.
type Contract struct {
	// Dimension is the number of values per vector.
	Dimension int `json:"dimension"`
	// Dtype is the element type of the fitted vectors (see the Dtype constants).
	Dtype string `json:"dtype"`
	// Model and Revision name the producing embedding model, if known.
	Model    string `json:"model,omitempty"`
	Revision string `json:"revision,omitempty"`
	// Metric is the similarity the store computes (see the Metric constants).
	Metric string `json:"metric"`
	// UnitLength says whether the vectors are L2-normalized: every fitted
	// norm was within UnitTolerance of 1.
	UnitLength bool `json:"unit_length"`
	// UnitTolerance is the largest |‖x‖₂ − 1| that still counts as unit length.
	UnitTolerance float64 `json:"unit_tolerance"`
	// Profile summarizes the fitted vectors.
	Profile Profile `json:"profile"`
	// Canaries are vectors of fixed inputs; re-embedding the same inputs
	// must give the same vectors while the model is the same.
	Canaries []Canary `json:"canaries,omitempty"`
}

// Canary is the vector a model gave for one fixed input, named by ID (for
// example a hash of the input text).
type Canary struct {
	ID     string    `json:"id"`
	Vector []float64 `json:"vector"`
}

// Profile summarizes fitted vectors for checks and drift without the
// fitting data. Count, Norms, Mean, Std, ZeroCount and the exact-float
// shares are over every fitted vector; Components, ComponentShare and
// Sample come from seeded uniform samples of the vectors (see doc.go).
type Profile struct {
	// Count is the number of fitted vectors.
	Count int `json:"count"`
	// ZeroCount is the number of fitted vectors whose values are all 0.
	ZeroCount int `json:"zero_count"`
	// Norms is the distribution of L2 norms.
	Norms NormStats `json:"norms"`
	// Mean is the mean vector (the per-dimension mean).
	Mean []float64 `json:"mean"`
	// Std is the per-dimension population standard deviation (ddof = 0).
	Std []float64 `json:"std"`
	// Components are the leading principal directions, largest variance first.
	Components []Component `json:"components"`
	// TotalVariance is the sum of the per-dimension variances of the
	// vectors the components were computed on (the trace of their covariance).
	TotalVariance float64 `json:"total_variance"`
	// ComponentShare is the share of the total variance along the
	// components, measured on held-out fitted vectors (not those the
	// components were found on); 0 when too few were held out.
	ComponentShare float64 `json:"component_share"`
	// Float16Share and BFloat16Share are the shares of non-zero finite
	// values exactly representable in IEEE float16 and in bfloat16.
	Float16Share  float64 `json:"float16_share"`
	BFloat16Share float64 `json:"bfloat16_share"`
	// Sample is a seeded uniform sample of at most FitOptions.SampleSize
	// fitted vectors (fewer when that many would pass MaxSampleText), the
	// reference of DriftFromContract.
	Sample Vectors `json:"sample"`
	// Seed is the seed the sample was drawn with.
	Seed uint64 `json:"seed"`
	// legacySample records that Sample was read as an array of arrays (as
	// contracts were written before Vectors), so that it is written back
	// the same way and the artifact holding it keeps its digest.
	legacySample bool
}

// NormStats is the distribution of the L2 norms of a set of vectors.
type NormStats struct {
	// Count is the number of norms (finite vectors).
	Count int `json:"count"`
	// Min, Max, Mean and Std (population) of the norms.
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	// UnitShare is the share of norms within the unit tolerance of 1.
	UnitShare float64 `json:"unit_share"`
	// Quantiles holds the norms' quantiles at the probabilities
	// NormQuantileProbs (numpy's linear interpolation).
	Quantiles []float64 `json:"quantiles"`
	// Histogram counts the norms in fixed log-spaced bins (see NormBinEdges).
	Histogram []Bin `json:"histogram"`
}

// Bin is one histogram bin [Lo, Hi) and the number of values in it. The
// last norm bin, [1e4, +Inf), has no finite upper edge: in JSON its hi is
// null (MarshalJSON, UnmarshalJSON).
type Bin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
}

// Component is one principal direction: a unit vector and the variance of
// the vectors along it.
type Component struct {
	Direction []float64 `json:"direction"`
	Variance  float64   `json:"variance"`
}

// FitOptions configures Fit. The zero value works: dtype float64, metric
// cosine, unit length inferred, seed 0, default sizes.
type FitOptions struct {
	// Dtype is the element type of the input (default float64).
	Dtype string
	// Model and Revision name the producing model (optional).
	Model, Revision string
	// Metric is the store's similarity (default cosine).
	Metric string
	// Unit forces the contract's unit-length flag; nil infers it from the data.
	Unit *bool
	// UnitTolerance overrides DefaultUnitTolerance.
	UnitTolerance float64
	// Canaries are stored in the contract as given.
	Canaries []Canary
	// Seed seeds the profile's sample.
	Seed uint64
	// SampleSize is the size of the stored reference sample
	// (default DefaultSampleSize; negative stores none).
	SampleSize int
	// Components is the number of principal directions kept
	// (default DefaultComponents, at most the dimension).
	Components int
}

// Finding codes reported by Check.
const (
	CodeDimensionMismatch        = "dimension_mismatch"
	CodeNotNormalized            = "not_normalized"
	CodeMixedNormalization       = "mixed_normalization"
	CodeNormalizedUnexpectedly   = "normalized_unexpectedly"
	CodeMetricMismatch           = "metric_mismatch"
	CodeTruncatedNotRenormalized = "truncated_not_renormalized"
	CodePrecisionLoss            = "precision_loss"
	CodeNaNVectors               = "nan_vectors"
	CodeZeroVectors              = "zero_vectors"
	CodeModelSwapped             = "model_swapped"
)

// Finding is one verdict of Check: a code (the Code constants), what was
// seen, what to do about it, and the numbers behind it.
type Finding struct {
	Code     string         `json:"code"`
	Message  string         `json:"message"`
	Fix      string         `json:"fix"`
	Evidence map[string]any `json:"evidence"`
}

// CheckOptions configures Check. The zero value works.
type CheckOptions struct {
	// Canaries are the current model's vectors for the contract's canary
	// inputs, matched by ID.
	Canaries []Canary
}

// DriftOptions configures Drift and DriftFromContract. The zero value
// works: seed 0 and the defaults named on each field.
type DriftOptions struct {
	// Seed seeds the samples, the permutations and the classifier's split.
	Seed uint64
	// SampleSize caps the vectors drawn from each side (default DefaultDriftSampleSize).
	SampleSize int
	// Permutations is the number of permutations of the MMD test
	// (default DefaultPermutations).
	Permutations int
	// Alpha is the MMD test's significance level (default 0.05).
	Alpha float64
	// DimThreshold is the per-dimension wasserstein_normed above which a
	// dimension counts as drifted (default 0.1).
	DimThreshold float64
}

// DriftResult is the outcome of Drift; doc.go defines every number.
type DriftResult struct {
	// MMD2 is the unbiased estimate of the squared maximum mean
	// discrepancy (slightly negative when the samples agree).
	MMD2 float64 `json:"mmd2"`
	// MMDPValue is the permutation p-value of MMD2.
	MMDPValue float64 `json:"mmd_p_value"`
	// Bandwidth is the RBF kernel's σ: k(x, y) = exp(−‖x−y‖² / (2σ²)).
	Bandwidth float64 `json:"bandwidth"`
	// Permutations is the number of permutations run.
	Permutations int `json:"permutations"`
	// DriftedDims is the number of dimensions whose wasserstein_normed
	// exceeds DimThreshold, DriftedDimShare its share of Dimension.
	DriftedDims     int     `json:"drifted_dims"`
	DriftedDimShare float64 `json:"drifted_dim_share"`
	// MeanEuclidean and MeanCosine are the Euclidean distance and the
	// cosine distance (1 − cosine similarity) between the mean vectors.
	MeanEuclidean float64 `json:"mean_euclidean"`
	MeanCosine    float64 `json:"mean_cosine"`
	// DomainAUC is the held-out ROC AUC of a classifier telling current
	// from reference vectors (0.5: indistinguishable).
	DomainAUC float64 `json:"domain_auc"`
	// RefSize and CurSize are the sample sizes the MMD, the dimension
	// share and the classifier used.
	RefSize int `json:"ref_size"`
	CurSize int `json:"cur_size"`
	// Dimension is the vectors' dimension.
	Dimension int `json:"dimension"`
	// Drift is MMDPValue < Alpha.
	Drift bool `json:"drift"`
}

// Defaults of the options; doc.go says why each is what it is.
const (
	// DefaultUnitTolerance is the largest |‖x‖₂ − 1| of a unit vector.
	DefaultUnitTolerance = 0.01
	// MinUnitShare is the least share of a unit-length contract's fitted
	// non-zero vectors whose norm is within the unit tolerance of 1. An
	// inferred unit_length needs every one; a declared one (FitOptions.Unit)
	// tolerates a few strays, as Check tolerates the contract's own share
	// of them, but not vectors that were never normalized: a contract of
	// unit_length true over raw vectors would let Check pass any share of
	// raw vectors (attack run 15 finding 5).
	MinUnitShare = 0.99
	// DefaultSampleSize is the size of the contract's reference sample.
	DefaultSampleSize = 500
	// MaxSampleText bounds the base64 text of a contract's reference
	// sample (Vectors' JSON), which readers decode whole, at about five
	// times its size: 16 MiB holds 500 vectors of up to 6,291 float32 or
	// 3,145 float64 dimensions (vectors read from text are float64 unless
	// every value is a float32 value), so every contract fitted with the
	// default sample of a model's embeddings up to 3,072 dimensions
	// loads. Fit keeps as many vectors of the seeded sample as fit within
	// it.
	MaxSampleText = 16 << 20
	// DefaultComponents is the number of principal directions kept.
	DefaultComponents = 10
	// DefaultDriftSampleSize caps the vectors Drift draws from each side.
	DefaultDriftSampleSize = 1000
	// DefaultPermutations is the number of permutations of the MMD test.
	DefaultPermutations = 200
)
