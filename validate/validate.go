package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/internal/jsonnum"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// Anomaly codes, stable across versions.
const (
	MissingColumn     = "missing_column"
	UnexpectedColumn  = "unexpected_column"
	TypeChange        = "type_change"
	MissingRateChange = "missing_rate_change"
	OutOfRange        = "out_of_range"
	UnseenCategories  = "unseen_categories"
	OtherCategories   = "other_categories"
	ConstantColumn    = "constant_column"
	EmptyColumn       = "empty_column"
	InfiniteValues    = "infinite_values"
)

// Severities: an error means the artifact cannot be applied to the data as
// fitted (or the column carries nothing); a warning that the data changed.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Tests named in an anomaly's Test field.
const (
	TestFisher     = "fisher_exact"
	TestExceedance = "range_exceedance"
	TestAllEqual   = "all_equal_bound"
	TestAllMissing = "all_missing_bound"
)

// Defaults of Options.
const (
	DefaultAlpha     = 0.05
	DefaultMinEffect = 0.2
)

// maxExamples bounds the example values an anomaly lists.
const maxExamples = 5

// ErrInvalid is wrapped by the errors of data that cannot be validated
// (no rows, a column without a training profile).
var ErrInvalid = errors.New("cannot validate")

// Options tune Check. The zero value checks every input column with the
// default rule.
type Options struct {
	// Columns, when not empty, restricts the check to these input columns;
	// Exclude leaves columns out. Naming a column the artifact does not
	// read is an error.
	Columns, Exclude []string
	// Alpha is the p-value below which a test counts (DefaultAlpha when 0).
	Alpha float64
	// MinEffect is the least Cohen's h of a rate change (DefaultMinEffect
	// when 0).
	MinEffect float64
	// Vectors tune the checks of vector columns (vector.go).
	Vectors VectorOptions
}

// Validate checks the options against the names of the columns that may
// be checked.
func (o Options) Validate(names []string) error {
	if o.Alpha < 0 || o.Alpha >= 1 || o.Alpha != o.Alpha {
		return fmt.Errorf("validate: alpha must be in (0, 1), got %v", o.Alpha)
	}
	if o.MinEffect < 0 || o.MinEffect != o.MinEffect {
		return fmt.Errorf("validate: min effect must be at least 0, got %v", o.MinEffect)
	}
	for flag, list := range map[string][]string{"--columns": o.Columns, "--exclude": o.Exclude} {
		for _, n := range list {
			if !slices.Contains(names, n) {
				return fmt.Errorf("validate: %s names %q, which is not an input of the artifact (inputs: %s)", flag, n, strings.Join(names, ", "))
			}
		}
	}
	if len(names) > 0 && !slices.ContainsFunc(names, o.selected) {
		return fmt.Errorf("validate: --columns and --exclude leave no input column to check (inputs: %s): %w", strings.Join(names, ", "), ErrInvalid)
	}
	return nil
}

func (o Options) alpha() float64 {
	if o.Alpha == 0 {
		return DefaultAlpha
	}
	return o.Alpha
}

func (o Options) minEffect() float64 {
	if o.MinEffect == 0 {
		return DefaultMinEffect
	}
	return o.MinEffect
}

// selected reports whether input column name is checked.
func (o Options) selected(name string) bool {
	if len(o.Columns) > 0 && !slices.Contains(o.Columns, name) {
		return false
	}
	return !slices.Contains(o.Exclude, name)
}

// Report is the result of a validation.
type Report struct {
	ArtifactDigest string `json:"artifact_digest,omitempty"`
	// Rows is the number of data rows.
	Rows int64 `json:"rows"`
	// Rule states the thresholds the anomalies were decided with.
	Rule Rule `json:"rule"`
	// Columns describes each checked input column, training vs now.
	Columns []Column `json:"columns"`
	// Ignored lists data columns the artifact does not read (dropped by
	// the spec's remainder) that are not anomalies: the first MaxListed
	// of them. IgnoredCount is how many there are when that is more.
	Ignored      []string `json:"ignored_columns,omitempty"`
	IgnoredCount int64    `json:"ignored_count,omitempty"`
	// Anomalies, in input order; unexpected columns last.
	Anomalies []Anomaly `json:"anomalies"`
}

// Rule is the decision rule of a report (see the package doc).
type Rule struct {
	Alpha     float64 `json:"alpha"`
	MinEffect float64 `json:"min_effect_cohen_h"`
}

// Column is one checked input column's numbers, training vs now.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Kind is the profile's column kind ("time", "identifier") if any.
	Kind     string `json:"kind,omitempty"`
	Training Counts `json:"training"`
	Current  Counts `json:"current"`
	// Anomalies is the number of anomalies of the column.
	Anomalies int `json:"anomalies"`
}

// Counts are the rows, missing cells and range of one side of a column.
type Counts struct {
	Rows        int64    `json:"rows"`
	Missing     int64    `json:"missing"`
	MissingRate *float64 `json:"missing_rate"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	// Distinct is the number of distinct present values on the training
	// side; on the current side it is given only when it is 1 (a constant
	// column).
	Distinct int64 `json:"distinct,omitempty"`
}

// Anomaly is one finding. Training and Current are shares (of rows for
// missing values, of present values otherwise) with the counts they come
// from; Test, PValue and EffectSize are the evidence of the rule.
type Anomaly struct {
	Column      string `json:"column"`
	Code        string `json:"code"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
	Fix         string `json:"fix"`

	Training      *float64 `json:"training,omitempty"`
	Current       *float64 `json:"current,omitempty"`
	TrainingCount *int64   `json:"training_count,omitempty"`
	TrainingTotal *int64   `json:"training_total,omitempty"`
	CurrentCount  *int64   `json:"current_count,omitempty"`
	CurrentTotal  *int64   `json:"current_total,omitempty"`

	Test       string   `json:"test,omitempty"`
	PValue     *float64 `json:"p_value,omitempty"`
	EffectSize *float64 `json:"effect_size,omitempty"`

	// TrainingMin/Max and CurrentMin/Max bound the values (out_of_range).
	TrainingMin *float64 `json:"training_min,omitempty"`
	TrainingMax *float64 `json:"training_max,omitempty"`
	CurrentMin  *float64 `json:"current_min,omitempty"`
	CurrentMax  *float64 `json:"current_max,omitempty"`
	// Examples are a few offending values (type_change, unseen_categories,
	// constant_column); Distinct counts the distinct ones where known.
	Examples []string `json:"examples,omitempty"`
	Distinct int64    `json:"distinct,omitempty"`
	// SimilarTo names the missing (or unexpected) column this one may be,
	// renamed.
	SimilarTo string `json:"similar_to,omitempty"`
	// Count and Columns describe an unexpected_column anomaly that stands
	// for more than MaxListed columns (one anomaly, not one a column):
	// Count is how many, Columns the first MaxListed names in data order
	// (Column is the first of them).
	Count   int64    `json:"count,omitempty"`
	Columns []string `json:"columns,omitempty"`
	// Layout is the training time layout (type_change of a time column).
	Layout string `json:"layout,omitempty"`
	// Evidence holds the numbers behind a vector column's verdict
	// (embed.Finding.Evidence; see vector.go).
	Evidence map[string]any `json:"evidence,omitempty"`
}

// Found reports whether the report has an anomaly.
func (r *Report) Found() bool { return len(r.Anomalies) > 0 }

// Summary is what the rules read of one input column of the current data:
// counts, not values, so that a service window (which keeps counts and a
// sample) is judged by the same rules as a whole file.
type Summary struct {
	Name string
	// Absent: the data has no such column.
	Absent bool
	// Rows is the number of rows, Missing the missing cells among them.
	Rows, Missing int64
	// TypeErrors counts present cells that are not of the training type
	// (text in a numeric column, a time that does not parse with the
	// training layout); TypeExamples holds a few distinct ones.
	TypeErrors   int64
	TypeExamples []string
	// OutOfRange counts numeric values outside the training [min, max];
	// Min and Max are those of the present values (NaN when none).
	OutOfRange int64
	Min, Max   float64
	// Infinite counts numeric values that are +Inf or -Inf (written as
	// inf, or past the float64 range, 1e400): the transform refuses them.
	// They count in OutOfRange, Min and Max too.
	Infinite int64
	// Unseen counts values outside the training categories where those
	// are known completely (see KnownCategories); UnseenDistinct and
	// UnseenExamples describe them when known.
	Unseen         int64
	UnseenDistinct int64
	UnseenExamples []string
	// Other counts values outside the profile's settled top categories
	// (SettledSet), when OtherCounted.
	Other        int64
	OtherCounted bool
	// Distinct is the number of distinct present values when it is 1, or
	// 2 for "two or more"; 0 when unknown. Value is the value when 1.
	Distinct int64
	Value    string
}

// present returns the number of present, well-typed values.
func (s *Summary) present() int64 { return s.Rows - s.Missing - s.TypeErrors }

// Schema is what the rules need of an artifact: the training profile of
// each column that may be checked (its Type, "numeric" or "categorical",
// is the column's), the complete training categories where known, and
// whether the spec passed the remainder through. SchemaOf builds it; the
// service builds it from a stored reference.
type Schema struct {
	Digest   string
	Features []profile.Feature
	// Known maps a categorical column to its complete training categories
	// (see KnownCategories).
	Known map[string][]string
	// Passthrough: the training data had no column beyond Features (the
	// spec's remainder is passthrough), so any other column is unexpected.
	Passthrough bool
	// Refuses marks the columns whose encoder fails on an unknown
	// category (handle_unknown: error): one unseen value is an error.
	Refuses map[string]bool
	// Fills maps a categorical column to the value its imputer fills
	// missing cells with when the raw training data never held it (see
	// KnownCategories): unseen in the data, accepted by the encoder.
	Fills map[string]string
}

// SchemaOf returns the schema of an artifact's inputs. It fails when the
// artifact has no profile or an input has no training profile.
func SchemaOf(a *artifact.Artifact) (*Schema, error) {
	if a == nil {
		return nil, fmt.Errorf("validate: no artifact")
	}
	if a.Profile == nil {
		return nil, fmt.Errorf("validate: the artifact has no training profile; refit it with this normguard: %w", ErrInvalid)
	}
	prof := map[string]*profile.Feature{}
	for i := range a.Profile.Inputs {
		prof[a.Profile.Inputs[i].Name] = &a.Profile.Inputs[i]
	}
	known, fills := knownCategories(a)
	s := &Schema{Digest: a.Digest, Known: known, Fills: fills, Passthrough: a.Spec != nil && a.Spec.Remainder == spec.RemainderPassthrough,
		Refuses: refusingEncoders(a)}
	for _, f := range a.Inputs {
		p := prof[f.Name]
		if p == nil {
			return nil, fmt.Errorf("validate: input %q has no training profile in the artifact; refit it with this normguard: %w", f.Name, ErrInvalid)
		}
		fp := *p
		fp.Type = f.Type
		s.Features = append(s.Features, fp)
	}
	return s, nil
}

// Names returns the schema's column names in order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.Features))
	for i := range s.Features {
		out[i] = s.Features[i].Name
	}
	return out
}

// CheckSummaries judges summaries of the current data (one per column
// checked; a column without a summary is not checked) against the schema.
// rows is the number of data rows; extra names the data's columns that are
// not in the schema. It returns an error when rows is 0 or a summarized
// column is not in the schema.
func CheckSummaries(sc *Schema, rows int64, sums []Summary, extra []string, opt Options) (*Report, error) {
	return checkSummaries(sc, rows, sums, slices.Values(extra), opt)
}

// checkSummaries is CheckSummaries with the extra columns as a sequence
// (a data file's header less the inputs, without a copy of it).
func checkSummaries(sc *Schema, rows int64, sums []Summary, extra iter.Seq[string], opt Options) (*Report, error) {
	if sc == nil {
		return nil, fmt.Errorf("validate: no schema")
	}
	if err := opt.Validate(sc.Names()); err != nil {
		return nil, err
	}
	if rows <= 0 {
		return nil, fmt.Errorf("validate: the data has no rows (empty or header only): nothing to validate: %w", ErrInvalid)
	}
	prof := map[string]*profile.Feature{}
	for i := range sc.Features {
		prof[sc.Features[i].Name] = &sc.Features[i]
	}
	rep := &Report{ArtifactDigest: sc.Digest, Rows: rows, Rule: Rule{Alpha: opt.alpha(), MinEffect: opt.minEffect()},
		Columns: []Column{}, Anomalies: []Anomaly{}}
	var missing []string
	for i := range sums {
		s := &sums[i]
		p := prof[s.Name]
		if p == nil {
			return nil, fmt.Errorf("validate: column %q is not in the artifact's schema: %w", s.Name, ErrInvalid)
		}
		c := &checker{opt: opt, p: p, s: s, typ: p.Type}
		if cats, ok := sc.Known[s.Name]; ok {
			c.known = cats
		}
		c.refuses = sc.Refuses[s.Name]
		c.fill, c.hasFill = sc.Fills[s.Name]
		col := Column{Name: s.Name, Type: p.Type, Kind: kindOf(p), Training: trainingCounts(p), Current: currentCounts(s)}
		found := c.check()
		if s.Absent {
			missing = append(missing, s.Name)
		}
		col.Anomalies = len(found)
		rep.Columns = append(rep.Columns, col)
		rep.Anomalies = append(rep.Anomalies, found...)
	}
	rep.Anomalies = append(rep.Anomalies, unexpected(rep, extra, missing, sc.Passthrough)...)
	// Point each missing column at the unexpected one it may be.
	for i := range rep.Anomalies {
		an := &rep.Anomalies[i]
		if an.Code == MissingColumn && an.SimilarTo == "" {
			if near := closestSeq(an.Column, extra); near != "" {
				an.SimilarTo = near
				an.Description += fmt.Sprintf("; the data has %s, a close name", errtext.Quote(near))
				an.Fix = fmt.Sprintf("rename %s to %q in the data (or refit with the new name)", errtext.Quote(near), an.Column)
			}
		}
	}
	return rep, nil
}

// MarshalJSON writes the anomaly with any non-finite number (an infinite
// value read from the data, say) left out: JSON has no Inf or NaN, and the
// description still states it.
func (a Anomaly) MarshalJSON() ([]byte, error) {
	type plain Anomaly
	p := plain(a)
	for _, f := range []**float64{&p.Training, &p.Current, &p.PValue, &p.EffectSize,
		&p.TrainingMin, &p.TrainingMax, &p.CurrentMin, &p.CurrentMax} {
		dropNonFinite(f)
	}
	p.Evidence = jsonnum.Map(a.Evidence)
	return json.Marshal(p)
}

// MarshalJSON writes the counts with any non-finite number left out (see
// Anomaly.MarshalJSON).
func (c Counts) MarshalJSON() ([]byte, error) {
	type plain Counts
	p := plain(c)
	for _, f := range []**float64{&p.MissingRate, &p.Min, &p.Max} {
		dropNonFinite(f)
	}
	return json.Marshal(p)
}

func dropNonFinite(f **float64) {
	if *f != nil && (math.IsNaN(**f) || math.IsInf(**f, 0)) {
		*f = nil
	}
}

// KnownCategories returns, per categorical input whose training categories
// are known completely, those categories: an encoder's fitted categories
// (the first encoder of the column, missing value left out), else the
// profile's category list when it has no "other" count. The monitor counts
// unseen values against the same sets.
//
// An imputer before the encoder may fill missing cells with a value the
// raw training data never held (strategy constant, "unknown" say): the
// encoder knows it, the data did not. Where the profile lists every raw
// training category, such a value is left out of the known categories (a
// current "unknown" is unseen) and returned in fills: the encoder accepts
// it, so it does not make a refusing encoder fail.
func KnownCategories(a *artifact.Artifact) map[string][]string {
	out, _ := knownCategories(a)
	return out
}

func knownCategories(a *artifact.Artifact) (known map[string][]string, fills map[string]string) {
	out, fills := map[string][]string{}, map[string]string{}
	inputs := map[string]bool{}
	for _, f := range a.Inputs {
		inputs[f.Name] = f.Type == spec.TypeCategorical
	}
	complete := map[string]map[string]bool{}
	if a.Profile != nil {
		for _, p := range a.Profile.Inputs {
			if p.Categories != nil && p.Categories.Other == 0 {
				set := map[string]bool{}
				for _, v := range p.Categories.Values {
					set[v] = true
				}
				complete[p.Name] = set
			}
		}
	}
	for _, g := range a.Groups {
		filled := map[string]string{}
		for _, st := range g.Steps {
			var names []string
			var cats []step.CategoryList
			switch e := st.Fitted.(type) {
			case *step.SimpleImputer:
				for j, name := range e.Names {
					if j < len(e.StatisticsStr) && e.StatisticsStr[j] != nil {
						filled[name] = *e.StatisticsStr[j]
					}
				}
				continue
			case *step.OneHotEncoder:
				names, cats = e.Names, e.Categories
			case *step.OrdinalEncoder:
				names, cats = e.Names, e.Categories
			default:
				continue
			}
			for i, name := range names {
				if _, seen := out[name]; seen || i >= len(cats) || !inputs[name] {
					continue
				}
				fill, hasFill := filled[name]
				raw := complete[name]
				if hasFill && (raw == nil || raw[fill]) {
					hasFill = false // a raw training value too, or not known
				}
				list := []string{}
				for _, c := range cats[i] {
					if c != nil && !(hasFill && *c == fill) {
						list = append(list, *c)
					}
				}
				out[name] = list
				if hasFill {
					fills[name] = fill
				}
			}
		}
	}
	if a.Profile != nil {
		for _, p := range a.Profile.Inputs {
			if _, seen := out[p.Name]; !seen && inputs[p.Name] && p.Categories != nil && p.Categories.Other == 0 {
				out[p.Name] = append([]string{}, p.Categories.Values...)
			}
		}
	}
	return out, fills
}

// refusingEncoders returns the input columns whose first encoder has
// handle_unknown: error.
func refusingEncoders(a *artifact.Artifact) map[string]bool {
	out, seen := map[string]bool{}, map[string]bool{}
	for _, g := range a.Groups {
		for _, st := range g.Steps {
			refuses := false
			switch p := st.Params.(type) {
			case *step.OneHotEncoderParams:
				refuses = p.HandleUnknown == "error"
			case *step.OrdinalEncoderParams:
				refuses = p.HandleUnknown == "error"
			default:
				continue
			}
			for _, name := range st.Inputs {
				if !seen[name] {
					seen[name], out[name] = true, refuses
				}
			}
		}
	}
	return out
}

func kindOf(p *profile.Feature) string {
	if _, _, _, ok := timeOf(p); ok {
		return "time"
	}
	if isIdentifier(p) {
		return "identifier"
	}
	return ""
}

func trainingCounts(p *profile.Feature) Counts {
	c := Counts{Rows: p.Count + p.Missing, Missing: p.Missing}
	if c.Rows > 0 {
		c.MissingRate = ptr(float64(p.Missing) / float64(c.Rows))
	}
	if p.Min != nil && p.Max != nil {
		c.Min, c.Max = ptr(float64(*p.Min)), ptr(float64(*p.Max))
	}
	switch {
	case p.Categories != nil:
		c.Distinct = p.Categories.Distinct
	case p.Values != nil:
		c.Distinct = p.Values.Distinct
	}
	return c
}

func currentCounts(s *Summary) Counts {
	c := Counts{Rows: s.Rows, Missing: s.Missing}
	if s.Distinct == 1 {
		c.Distinct = 1
	}
	if s.Absent {
		return c
	}
	if s.Rows > 0 {
		c.MissingRate = ptr(float64(s.Missing) / float64(s.Rows))
	}
	if s.Min == s.Min && s.Max == s.Max && s.present() > 0 {
		c.Min, c.Max = ptr(s.Min), ptr(s.Max)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// closest returns the name among candidates that differs from name only
// in case and punctuation, or by at most two edits (names of at least 4
// characters), or else that extends it, or is extended by it, with a
// separated prefix or suffix (depth → depth_pct, distance → trip_distance;
// the shorter name at least 4 characters), or "".
func closest(name string, candidates []string) string {
	if len(candidates) == 0 {
		return ""
	}
	return closestSeq(name, slices.Values(candidates))
}

// closestSeq is closest over a sequence of candidates.
func closestSeq(name string, candidates iter.Seq[string]) string {
	// No allocation a candidate: the data may have millions of columns.
	best, bestD := "", 3
	n := utf8.RuneCountInString(name)
	for c := range candidates {
		if sameLoose(c, name) {
			return c
		}
		if len(c) < 4 || len(name) < 4 {
			continue
		}
		// Lowercasing keeps the number of runes, and two strings differ by
		// at least the difference of their lengths.
		if d := utf8.RuneCountInString(c) - n; d >= bestD || -d >= bestD {
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	for c := range candidates {
		if extends(name, c) || extends(c, name) {
			return c
		}
	}
	return ""
}

// sameLoose reports whether a and b are equal after lowercasing and
// dropping '_', '-', ' ' and '.'.
func sameLoose(a, b string) bool {
	skip := func(r rune) bool { return r == '_' || r == '-' || r == ' ' || r == '.' }
	for {
		for a != "" {
			r, _ := utf8.DecodeRuneInString(a)
			if !skip(r) {
				break
			}
			a = a[1:]
		}
		for b != "" {
			r, _ := utf8.DecodeRuneInString(b)
			if !skip(r) {
				break
			}
			b = b[1:]
		}
		if a == "" || b == "" {
			return a == b
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb && !(unicode.ToLower(ra) == unicode.ToLower(rb)) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
}

// extends reports whether long is short with a prefix or suffix joined
// by a separator ("_", "-", " " or "."), case aside, short being at least
// 4 characters.
func extends(long, short string) bool {
	l, s := strings.ToLower(long), strings.ToLower(short)
	if len(s) < 4 || len(l) <= len(s)+1 {
		return false
	}
	sep := func(b byte) bool { return b == '_' || b == '-' || b == ' ' || b == '.' }
	return (strings.HasPrefix(l, s) && sep(l[len(s)])) || (strings.HasSuffix(l, s) && sep(l[len(l)-len(s)-1]))
}

// editDistance is the Levenshtein distance of two strings, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// fmtShare prints a share as a percentage with enough digits to differ
// from 0 and 100 when it does.
func fmtShare(x float64) string {
	switch {
	case x == 0 || x == 1:
		return fmt.Sprintf("%.0f%%", 100*x)
	case x < 0.001 || x > 0.999:
		return fmt.Sprintf("%.3g%%", 100*x)
	default:
		return fmt.Sprintf("%.1f%%", 100*x)
	}
}

// fmtP prints a p-value.
func fmtP(p float64) string {
	if p < 1e-300 {
		return "< 1e-300"
	}
	return fmt.Sprintf("%.2g", p)
}

// pClause prints "p = 0.012", or "p < 1e-300" below the smallest p-value
// printed.
func pClause(p float64) string {
	s := fmtP(p)
	if s[0] == '<' {
		return "p " + s
	}
	return "p = " + s
}

// MinConstantValues is the fewest present values a column must have to be
// called constant: two or three equal values in a small window are not a
// column that stopped varying, however unlikely the draw.
const MinConstantValues = 5

// fmtCount prints an integer with thousands separators.
func fmtCount(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + fmtCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtNum(x float64) string {
	if math.Abs(x) >= 1e6 || (x != 0 && math.Abs(x) < 1e-3) {
		return fmt.Sprintf("%.4g", x)
	}
	return fmt.Sprintf("%.6g", x)
}
