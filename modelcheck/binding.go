package modelcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/normguard/normguard/artifact"
)

// colKey names one column of one model input.
type colKey struct {
	input string
	col   int
}

// binding ties model input columns to the artifact's outputs and holds
// each output's profile.
type binding struct {
	index map[colKey]int
	names []string
	out   []moments // the artifact's output profile
	raw   []moments // the raw input of the same name, when numeric
}

// moments is a feature's mean and standard deviation from a profile.
type moments struct {
	mean, std float64
	ok        bool
	// binary: the feature takes only the values 0 and 1 (a one-hot or
	// indicator column), so its kurtosis is known from its mean.
	binary bool
}

// of returns the artifact output a traced column carries, -1 when none.
func (b *binding) of(c colRef) int {
	if b == nil {
		return -1
	}
	if j, ok := b.index[colKey{c.Input, c.Col}]; ok {
		return j
	}
	return -1
}

// bindInputs matches the model inputs with the artifact's outputs: inputs
// of width 1 by name (ONNX runtimes bind inputs by name), wider inputs by
// position, in input order.
func bindInputs(g *Graph, a *artifact.Artifact) (*binding, []Finding) {
	b := &binding{index: map[colKey]int{}}
	for _, o := range a.Outputs {
		b.names = append(b.names, o.Name)
	}
	b.out = make([]moments, len(b.names))
	b.raw = make([]moments, len(b.names))
	if a.Profile != nil {
		for j, f := range a.Profile.Outputs {
			if j < len(b.out) && f.Mean != nil && f.Std != nil {
				b.out[j] = moments{mean: float64(*f.Mean), std: float64(*f.Std), ok: true}
				if f.Min != nil && f.Max != nil && *f.Min == 0 && *f.Max == 1 {
					p := float64(*f.Mean)
					b.out[j].binary = math.Abs(b.out[j].std*b.out[j].std-p*(1-p)) <= 1e-9
				}
			}
		}
		raw := map[string]moments{}
		for _, f := range a.Profile.Inputs {
			if f.Type == "numeric" && f.Mean != nil && f.Std != nil {
				raw[f.Name] = moments{mean: float64(*f.Mean), std: float64(*f.Std), ok: true}
			}
		}
		for j, n := range b.names {
			b.raw[j] = raw[n]
		}
	}
	if d := g.Metadata[metaDigest]; d != "" {
		desc := fmt.Sprintf("the model carries a normguard transform (artifact %s): its inputs are raw columns, not the artifact's features", d)
		if d != a.Digest {
			desc += fmt.Sprintf("; it is not the artifact given (%s)", a.Digest)
		}
		return nil, []Finding{{Code: InputBinding, Severity: SeverityInfo, Description: desc,
			Evidence: map[string]any{"bundled_artifact": d, "artifact": a.Digest}}}
	}
	widths := make([]int, len(g.Inputs))
	total, known, allOne := 0, true, true
	for i, in := range g.Inputs {
		switch {
		case len(in.Shape) == 1:
			widths[i] = 1
		case len(in.Shape) == 2 && in.Shape[1] > 0:
			widths[i] = int(in.Shape[1])
		default:
			known = false
		}
		total += widths[i]
		allOne = allOne && widths[i] == 1
	}
	inputsEv := make([]map[string]any, len(g.Inputs))
	for i, in := range g.Inputs {
		inputsEv[i] = map[string]any{"name": in.Name, "width": widths[i], "type": in.Type}
	}
	if !known {
		return nil, []Finding{{Code: InputBinding, Severity: SeverityInfo,
			Description: "an input's feature axis has no fixed size in the model file (its shape is not [N, width]), so its width cannot be compared with the artifact's outputs",
			Evidence:    map[string]any{"inputs": inputsEv, "artifact_outputs": len(b.names)}}}
	}
	if allOne && len(g.Inputs) > 1 {
		var missing, unexpected []string
		have := map[string]int{}
		for i, in := range g.Inputs {
			have[in.Name] = i
		}
		want := map[string]bool{}
		for j, n := range b.names {
			want[n] = true
			if i, ok := have[n]; ok {
				b.index[colKey{g.Inputs[i].Name, 0}] = j
			} else {
				missing = append(missing, n)
			}
		}
		for _, in := range g.Inputs {
			if !want[in.Name] {
				unexpected = append(unexpected, in.Name)
			}
		}
		if len(missing)+len(unexpected) > 0 {
			return nil, []Finding{{Code: InputNamesMismatch, Severity: SeverityError,
				Description: fmt.Sprintf("the model takes one input per feature, bound by name, but its names are not the artifact's outputs: %s", namesDiff(missing, unexpected)),
				Fix:         "export the model with input_names equal to the artifact's output names (normguard inspect lists them), or rename the inputs",
				Evidence:    map[string]any{"missing": missing, "unexpected": unexpected, "inputs": inputsEv}}}
		}
		return b, []Finding{{Code: InputBinding, Severity: SeverityInfo,
			Description: fmt.Sprintf("the model's %d inputs are the artifact's %d outputs, by name%s", len(g.Inputs), len(b.names), typeNote(g)),
			Evidence:    map[string]any{"inputs": inputsEv}}}
	}
	if total != len(b.names) {
		return nil, []Finding{{Code: InputWidthMismatch, Severity: SeverityError,
			Description: fmt.Sprintf("the model takes %d features (%s) but the artifact produces %d (%s)", total, describeInputs(g, widths), len(b.names), abbreviate(b.names)),
			Fix:         "feed the model the artifact it was trained with (normguard inspect shows its outputs), or retrain the model on this artifact's features",
			Evidence:    map[string]any{"model_width": total, "artifact_outputs": len(b.names), "inputs": inputsEv}}}
	}
	if f := namesMismatch(g, b.names); f != nil {
		return nil, []Finding{*f}
	}
	var parts []string
	j := 0
	for i, in := range g.Inputs {
		for c := 0; c < widths[i]; c++ {
			b.index[colKey{in.Name, c}] = j + c
		}
		parts = append(parts, fmt.Sprintf("%s ← %s", in.Name, abbreviate(b.names[j:j+widths[i]])))
		j += widths[i]
	}
	return b, []Finding{{Code: InputBinding, Severity: SeverityInfo,
		Description: fmt.Sprintf("the model's input width matches the artifact's %d outputs, taken in order: %s%s", len(b.names), strings.Join(parts, "; "), typeNote(g)),
		Evidence:    map[string]any{"inputs": inputsEv}}}
}

// Metadata keys: the digest normguard export and bundle record, and the
// feature names a model may declare (the keys normguard bundle reads).
const (
	metaDigest = "normguard.artifact_digest"
)

var metaNames = []string{"feature_names", "normguard.features"}

// namesMismatch compares the feature names a model declares in its
// metadata (a JSON list) with the artifact's outputs, in order.
func namesMismatch(g *Graph, outputs []string) *Finding {
	for _, key := range metaNames {
		text, ok := g.Metadata[key]
		if !ok {
			continue
		}
		var names []string
		if err := json.Unmarshal([]byte(text), &names); err != nil {
			continue
		}
		if strings.Join(names, "\x00") == strings.Join(outputs, "\x00") {
			return nil
		}
		var diffs []string
		for i := 0; i < max(len(names), len(outputs)); i++ {
			switch {
			case i >= len(names):
				diffs = append(diffs, fmt.Sprintf("feature %d %q is not declared by the model", i+1, outputs[i]))
			case i >= len(outputs):
				diffs = append(diffs, fmt.Sprintf("the model declares a feature %d %q the artifact does not produce", i+1, names[i]))
			case names[i] != outputs[i]:
				diffs = append(diffs, fmt.Sprintf("feature %d is %q for the model, %q in the artifact", i+1, names[i], outputs[i]))
			}
		}
		if len(diffs) > 3 {
			diffs = append(diffs[:3], fmt.Sprintf("%d more", len(diffs)-3))
		}
		return &Finding{Code: InputNamesMismatch, Severity: SeverityError,
			Description: fmt.Sprintf("the model declares its feature names (metadata %q) and they are not the artifact's outputs in order: %s", key, strings.Join(diffs, "; ")),
			Fix:         "feed the model the artifact it was trained with, or retrain on this artifact's features in its order",
			Evidence:    map[string]any{"declared": names, "artifact_outputs": outputs, "metadata_key": key}}
	}
	return nil
}

func typeNote(g *Graph) string {
	for _, in := range g.Inputs {
		if in.Type == "float" {
			return " (the model takes float32: the artifact's float64 features are rounded on the way in)"
		}
	}
	return ""
}

func describeInputs(g *Graph, widths []int) string {
	parts := make([]string, len(g.Inputs))
	for i, in := range g.Inputs {
		parts[i] = fmt.Sprintf("%s: %d", in.Name, widths[i])
	}
	return strings.Join(parts, ", ")
}

func namesDiff(missing, unexpected []string) string {
	var s []string
	if len(missing) > 0 {
		s = append(s, "no input for "+abbreviate(missing))
	}
	if len(unexpected) > 0 {
		s = append(s, "inputs the artifact does not produce: "+abbreviate(unexpected))
	}
	return strings.Join(s, "; ")
}

func abbreviate(names []string) string {
	if len(names) > 8 {
		return strings.Join(names[:4], ", ") + fmt.Sprintf(", … (%d more), ", len(names)-5) + names[len(names)-1]
	}
	return strings.Join(names, ", ")
}
