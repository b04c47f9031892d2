package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// maxListed bounds the categories an explanation names.
const maxListed = 6

// Encoder kinds of a catBlock.
const (
	oneHot  = "one_hot_encoder"
	ordinal = "ordinal_encoder"
)

// catBlock is one input column of a categorical encoder with the rows
// grouped by raw value (a key): every row with the same raw value gets
// the same output from the artifact, so a production pipeline that
// encodes correctly gives them the same observed value too.
type catBlock struct {
	input string // the encoder's input column
	kind  string // oneHot or ordinal
	// unknown says how the artifact encodes categories it never saw.
	unknown string
	// keyOf maps each row to its key; the key slices are indexed by key.
	keyOf   []int
	label   []string // the raw value ("" for missing)
	missing []bool   // the raw value is missing
	known   []bool   // the raw value (after imputation) is a fitted category
	first   []int    // a row holding the key
	count   []int    // rows holding the key
	fill    []string // the encoder's input for the key (the fitted fill value for missing), "" if unknown
	// outs are the indexes of the block's output columns.
	outs []int
	// raw is the encoder's raw input column.
	raw *table.Column
}

// fedAsText returns the name of an observed text column that holds the
// raw input where output name belongs, value for value (missing where the
// raw value is missing): the output column itself (an ordinal output has
// the input's name) or, when it is absent, the input column (one-hot
// outputs replaced by their input); "" when there is none.
func (b *catBlock) fedAsText(observed []table.Column, name string) string {
	o := find(observed, name)
	if o == nil {
		o = find(observed, b.input)
	}
	if o == nil || o.Kind != table.String || o.Len() != b.raw.Len() {
		return ""
	}
	for i := range o.Str {
		if o.IsMissing(i) != b.raw.IsMissing(i) || !o.IsMissing(i) && o.Str[i] != b.raw.Str[i] {
			return ""
		}
	}
	return o.Name
}

// notEncoded is the verdict on an encoder output production replaced by
// the raw categories as text.
func notEncoded(c *column) Verdict {
	b := c.cat
	v := Verdict{Name: c.name, Verdict: NotNormalized, Evidence: map[string]any{"input": b.input, "observed_column": c.text}}
	what := "ordinal codes"
	if b.kind == oneHot {
		what = "one-hot columns"
	}
	v.explain(fmt.Sprintf("production fed the raw categories of %s as text (observed column %q, equal to the raw rows) where the artifact's %s belong: the column was never encoded", b.input, c.text, what),
		fmt.Sprintf("encode %s with the artifact's %s before calling the model", b.input, b.kind))
	return v
}

// encoderBlocks returns, for a categorical group whose last step is a
// one-hot or ordinal encoder, one catBlock per input column; nil when
// the group has another shape. raw holds the group's raw input columns
// and off is the index of the group's first output.
func encoderBlocks(g artifact.Group, raw []table.Column, n, off int) []*catBlock {
	if len(g.Steps) == 0 {
		return nil
	}
	kind, widths, cats, unk, ok := encoderShape(g)
	if !ok {
		return nil
	}
	for _, c := range raw {
		if c.Kind != table.String {
			return nil
		}
	}
	cur := raw
	for _, s := range g.Steps[:len(g.Steps)-1] {
		next, err := transform.ApplyStep(s.Fitted, cur, n, 1)
		if err != nil {
			return nil
		}
		cur = next
	}
	if len(cats) != len(raw) || len(cur) != len(raw) {
		return nil
	}
	blocks := make([]*catBlock, len(raw))
	for i := range raw {
		b := &catBlock{input: g.Columns[i], kind: kind, unknown: unk, keyOf: make([]int, n), raw: &raw[i]}
		fitted := map[string]bool{}
		fittedMissing := false
		for _, c := range cats[i] {
			if c == nil {
				fittedMissing = true
			} else {
				fitted[*c] = true
			}
		}
		ids := map[string]int{}
		missingID := -1
		for r := 0; r < n; r++ {
			id := -1
			if raw[i].IsMissing(r) {
				if missingID < 0 {
					missingID = b.add("", true, r)
				}
				id = missingID
			} else {
				s := raw[i].Str[r]
				var ok bool
				if id, ok = ids[s]; !ok {
					id = b.add(s, false, r)
					ids[s] = id
				}
			}
			b.keyOf[r] = id
			b.count[id]++
		}
		for k, r := range b.first {
			if cur[i].Kind != table.String {
				break
			}
			if cur[i].IsMissing(r) {
				b.known[k] = fittedMissing
				continue
			}
			b.fill[k] = cur[i].Str[r]
			b.known[k] = fitted[cur[i].Str[r]]
		}
		for k := range widths[i] {
			b.outs = append(b.outs, off+k)
		}
		off += widths[i]
		blocks[i] = b
	}
	return blocks
}

// encoderShape describes a group whose last step is a one-hot or ordinal
// encoder: its kind, the number of outputs per input column, the fitted
// categories and how it encodes unknown categories; ok is false for any
// other group.
func encoderShape(g artifact.Group) (kind string, widths []int, cats []step.CategoryList, unknown string, ok bool) {
	if len(g.Steps) == 0 {
		return "", nil, nil, "", false
	}
	last := g.Steps[len(g.Steps)-1].Fitted
	switch e := last.(type) {
	case *step.OneHotEncoder:
		kind, cats = oneHot, e.Categories
		for i, c := range e.Categories {
			w := len(c)
			if i < len(e.InfrequentCategories) && len(e.InfrequentCategories[i]) > 0 {
				w += 1 - len(e.InfrequentCategories[i])
			}
			if i < len(e.DropIdx) && e.DropIdx[i] != nil {
				w--
			}
			widths = append(widths, w)
		}
		unknown = "handle_unknown " + e.HandleUnknown
	case *step.OrdinalEncoder:
		kind, cats = ordinal, e.Categories
		for range e.Categories {
			widths = append(widths, 1)
		}
		unknown = "handle_unknown " + e.HandleUnknown
		if e.UnknownValue != nil {
			unknown += fmt.Sprintf(", unknown_value %v", float64(*e.UnknownValue))
		}
	default:
		return "", nil, nil, "", false
	}
	total := 0
	for _, w := range widths {
		total += w
	}
	return kind, widths, cats, unknown, total == len(last.Outputs()) && len(widths) == len(g.Columns)
}

func (b *catBlock) add(label string, missing bool, row int) int {
	b.label = append(b.label, label)
	b.missing = append(b.missing, missing)
	b.known = append(b.known, false)
	b.first = append(b.first, row)
	b.count = append(b.count, 0)
	b.fill = append(b.fill, "")
	return len(b.label) - 1
}

// perKey returns xs's value for each key and whether every row of a key
// holds the same value (NaN matching NaN).
func (b *catBlock) perKey(xs []float64) ([]float64, bool) {
	vals := make([]float64, len(b.first))
	for k, r := range b.first {
		vals[k] = xs[r]
	}
	for r, k := range b.keyOf {
		if !sameValue(xs[r], vals[k]) {
			return vals, false
		}
	}
	return vals, true
}

func sameValue(x, y float64) bool {
	return x == y || math.IsNaN(x) && math.IsNaN(y)
}

// name returns how explanations show key k.
func (b *catBlock) name(k int) string {
	if b.missing[k] {
		return "(missing)"
	}
	return fmt.Sprintf("%q", b.label[k])
}

// names lists keys for an explanation, at most maxListed of them.
func (b *catBlock) names(keys []int) string {
	var parts []string
	for i, k := range keys {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-maxListed))
			break
		}
		parts = append(parts, b.name(k))
	}
	if len(parts) == 0 {
		return "no category"
	}
	return strings.Join(parts, ", ")
}

// labels returns the keys' raw values for evidence (missing as null).
func (b *catBlock) labels(keys []int) []any {
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		if b.missing[k] {
			out = append(out, nil)
		} else {
			out = append(out, b.label[k])
		}
	}
	return out
}

// categoricalVerdict judges an encoder output by category: it groups the
// rows by raw value and, when the observed column is a function of the
// raw value (every row of a category gets the same observed value),
// names the categories whose value differs from the artifact's:
//
//	impute_order      only rows with a missing raw value differ
//	wrong_parameters  only categories the artifact never saw differ
//	                  (unknown-category handling), or known categories
//	                  got other codes / another one-hot column (the
//	                  implied mapping is in the evidence)
//	columns_swapped   (one-hot) the column holds exactly the categories
//	                  the artifact puts in another column: the partner
//
// It returns false when the observed column is not a function of the raw
// value, leaving the column to the numeric checks.
func categoricalVerdict(cols []*column, j int, v *Verdict) bool {
	c := cols[j]
	b := c.cat
	obs, consistent := b.perKey(c.obs)
	if !consistent {
		return false
	}
	exp, _ := b.perKey(c.exp)
	var missingDiff, unknownDiff, knownDiff []int
	for k := range b.first {
		if sameValue(obs[k], exp[k]) {
			continue
		}
		switch {
		case b.missing[k]:
			missingDiff = append(missingDiff, k)
		case !b.known[k]:
			unknownDiff = append(unknownDiff, k)
		default:
			knownDiff = append(knownDiff, k)
		}
	}
	rows := func(keys []int) int {
		n := 0
		for _, k := range keys {
			n += b.count[k]
		}
		return n
	}
	v.Evidence["input"] = b.input
	switch {
	case len(knownDiff) > 0:
		if b.kind == oneHot {
			return oneHotMapping(cols, j, obs, exp, v)
		}
		return ordinalMapping(b, obs, exp, v)
	case len(missingDiff) > 0 && len(unknownDiff) == 0:
		k := missingDiff[0]
		v.Verdict = ImputeOrder
		v.Evidence["missing_rows"] = b.count[k]
		v.Evidence["observed_value"] = obs[k]
		v.Evidence["expected_value"] = exp[k]
		what := "the artifact's encoding of a missing value"
		if b.fill[k] != "" {
			v.Evidence["fitted_fill_value"] = b.fill[k]
			what = fmt.Sprintf("the encoding of %q, the fitted fill value", b.fill[k])
		}
		v.explain(fmt.Sprintf("every present %s is encoded as the artifact does, but the %d rows with a missing %s get %v where the artifact gives %v (%s)",
			b.input, b.count[k], b.input, obs[k], exp[k], what),
			"impute missing values with the artifact's fitted imputer before encoding, as the artifact does")
		return true
	case len(unknownDiff) > 0 && len(missingDiff) == 0:
		v.Verdict = WrongParameters
		v.Evidence["unseen_categories"] = b.labels(unknownDiff)
		v.Evidence["unseen_rows"] = rows(unknownDiff)
		v.Evidence["expected_value"] = exp[unknownDiff[0]]
		got := fmt.Sprint(obs[unknownDiff[0]])
		for _, k := range unknownDiff[1:] {
			if !sameValue(obs[k], obs[unknownDiff[0]]) {
				got = "other values"
				break
			}
		}
		if got != "other values" {
			v.Evidence["observed_value"] = obs[unknownDiff[0]]
		}
		v.explain(fmt.Sprintf("every category the artifact was fitted on is encoded as the artifact does, but categories it never saw (%s: %d rows) get %s where the artifact gives %v (%s)",
			b.names(unknownDiff), rows(unknownDiff), got, exp[unknownDiff[0]], b.unknown),
			"production's encoder handles unseen categories differently (or knows them from other data): configure it as the artifact's ("+b.unknown+"), or refit the artifact on data that has these categories")
		return true
	}
	// Both missing and unseen values differ, known ones are right.
	v.Verdict = UnknownMismatch
	v.Evidence["unseen_categories"] = b.labels(unknownDiff)
	v.Evidence["missing_rows"] = rows(missingDiff)
	v.explain(fmt.Sprintf("every category the artifact was fitted on is encoded as the artifact does, but both missing values (%d rows) and categories it never saw (%s) get other values",
		rows(missingDiff), b.names(unknownDiff)),
		"encode missing and unseen categories with the artifact's fitted imputer and encoder")
	return true
}

// oneHotMapping explains a one-hot column that is set for other fitted
// categories than the artifact's: the categories it holds, the ones it
// should hold, and the partner column that should hold its categories.
func oneHotMapping(cols []*column, j int, obs, exp []float64, v *Verdict) bool {
	c := cols[j]
	b := c.cat
	var holds, should []int
	for k := range b.first {
		if !b.known[k] || b.missing[k] {
			continue
		}
		if obs[k] != 0 && obs[k] != 1 {
			return false // not an indicator: left to the numeric checks
		}
		if obs[k] == 1 {
			holds = append(holds, k)
		}
		if exp[k] == 1 {
			should = append(should, k)
		}
	}
	v.Evidence["holds_categories"] = b.labels(holds)
	v.Evidence["expected_categories"] = b.labels(should)
	// The partner: another output of the block that the artifact sets for
	// exactly the fitted categories this column holds.
	partner := -1
	for _, o := range b.outs {
		if o == j || cols[o] == nil || len(holds) == 0 {
			continue
		}
		oe, _ := b.perKey(cols[o].exp)
		match := true
		for k := range b.first {
			if b.known[k] && !b.missing[k] && (oe[k] == 1) != (obs[k] == 1) {
				match = false
				break
			}
		}
		if match {
			partner = o
			break
		}
	}
	if partner >= 0 {
		v.Verdict = ColumnsSwapped
		v.Evidence["partner"] = cols[partner].name
		v.explain(fmt.Sprintf("this column is 1 for rows whose %s is %s, which the artifact encodes in column %q; the artifact sets it for %s",
			b.input, b.names(holds), cols[partner].name, b.names(should)),
			"production's one-hot encoder orders the categories differently (fitted on other data, or in order of appearance): encode with the artifact's categories and select features by name")
		return true
	}
	v.Verdict = WrongParameters
	what := fmt.Sprintf("this column is 1 for rows whose %s is %s, while the artifact sets it for %s; no other column of the artifact holds that set",
		b.input, b.names(holds), b.names(should))
	if len(holds) == 0 {
		what = fmt.Sprintf("this column is 1 for no value of %s, while the artifact sets it for %s",
			b.input, b.names(should))
	}
	v.explain(what, "production's one-hot encoder was fitted with other categories: encode with the artifact's categories")
	return true
}

// ordinalMapping explains an ordinal column whose fitted categories got
// other codes: the implied mapping and the artifact's.
func ordinalMapping(b *catBlock, obs, exp []float64, v *Verdict) bool {
	got, want := map[string]float64{}, map[string]float64{}
	var moved []string
	var ocodes, ecodes []float64
	for k := range b.first {
		if !b.known[k] || b.missing[k] {
			continue
		}
		if math.IsNaN(obs[k]) || obs[k] != math.Trunc(obs[k]) {
			return false // not a code: left to the numeric checks
		}
		got[b.label[k]], want[b.label[k]] = obs[k], exp[k]
		ocodes, ecodes = append(ocodes, obs[k]), append(ecodes, exp[k])
		if obs[k] != exp[k] {
			moved = append(moved, fmt.Sprintf("%s %v (artifact %v)", b.name(k), obs[k], exp[k]))
		}
	}
	slices.Sort(ocodes)
	slices.Sort(ecodes)
	v.Verdict = WrongParameters
	v.Evidence["mapping"] = got
	v.Evidence["expected_mapping"] = want
	if len(moved) > maxListed {
		moved = append(moved[:maxListed], fmt.Sprintf("and %d more", len(moved)-maxListed))
	}
	what := "other codes"
	if slices.Equal(ocodes, ecodes) {
		what = "the artifact's codes in another order"
	}
	v.explain(fmt.Sprintf("the categories of %s are encoded with %s: %s", b.input, what, strings.Join(moved, ", ")),
		"production's ordinal encoder was fitted with other categories or another order: encode with the artifact's categories")
	return true
}
