package modelcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/normguard/normguard/artifact"
)

// Tolerances of the statistics comparisons.
//
// A BatchNorm running mean is an exponential moving average over training
// batches, m ← (1−α)·m + α·mean(batch), with α = 1 − ONNX momentum (0.1 in
// PyTorch). Over many batches of B rows its sampling standard deviation is
//
//	σ · sqrt(α / ((2 − α) · B))
//
// (0.057σ for α = 0.1 and B = 16), and the log of the running variance has
// standard deviation about sqrt(α/(2−α) · (κ−1)/B) for kurtosis κ (0.16 for
// κ = 9, B = 16). A layer's statistics fit a hypothesis (the artifact's
// outputs, the raw inputs) when, per channel,
//
//	|m − μ| ≤ T_m · σ   and   |ln(v / σ²)| ≤ T_v
//
// with T_m = max(0.3, 5 sd) and T_v = max(ln 3, 4 sd) of that noise for
// batches of at least minBatch rows: 0.3σ and a factor 3 at PyTorch's
// momentum (the variance floor is wide because heavy tails and batches of
// 8 rows triple that noise). After k updates the average still carries
// its start (0, 1) with weight momentum^k: m = w·μ, v = w·σ² + (1 − w) with
// w = 1 − momentum^k. The raw hypothesis is also tested at the layer's w,
// estimated as the median of m/μ_raw over the channels whose raw mean is
// told apart from 0, so that briefly trained layers are still recognised. Stored constants (x − c)/s are compared with the artifact's map
// on its output distribution: they agree within tolLoc standard deviations
// in location and a factor 1.25 in scale — constants computed on another
// sample of n ≥ 100 rows of the same data differ by about σ/√n ≤ 0.1σ.
const (
	minBatch = 16
	tolLoc   = 0.25
)

var tolScale = math.Log(1.25)

const ruleText = "running statistics fit a feature profile when |mean − μ| ≤ T_m·σ and |ln(var/σ²)| ≤ T_v, T_m = max(0.3, 5·sqrt(α/((2−α)·16))), T_v = max(ln 3, 4·sqrt(α/(2−α)·8/16)), α = 1 − momentum (the EMA's sampling noise for batches of ≥ 16 rows); stored affine constants match the artifact's scaling within 0.25 σ in location and 25% in scale; a variance below epsilon (outputs shrunk by more than 29%) is reported"

// fitsBinary is the fit test for a 0/1 feature with mean p, whose
// kurtosis κ = 1/(pq) − 3 (q = 1 − p) widens the noise of the running
// variance to sqrt(α/(2−α) · (κ−1)/B): T_v = max(T_v, 4 of those) for
// batches of minBatch rows. A rare category (p = 0.01) has κ ≈ 98.
func fitsBinary(mean, variance, mu, sd, p, tm, tv, alpha float64) bool {
	if alpha <= 0 || alpha > 1 || math.IsNaN(alpha) {
		alpha = 0.1
	}
	pq := p * (1 - p)
	if pq <= 0 || sd <= 0 {
		return false
	}
	k := alpha / (2 - alpha)
	tvb := math.Max(tv, 4*math.Sqrt(k*(1-4*pq)/pq/minBatch))
	return math.Abs(mean-mu) <= tm*sd && math.Abs(math.Log(variance/(sd*sd))) <= tvb
}

// emaTolerance returns T_m and T_v for smoothing factor alpha.
func emaTolerance(alpha float64) (float64, float64) {
	if alpha <= 0 || alpha > 1 || math.IsNaN(alpha) {
		alpha = 0.1
	}
	k := alpha / (2 - alpha)
	return math.Max(0.3, 5*math.Sqrt(k/minBatch)), math.Max(math.Log(3), 4*math.Sqrt(k*8/minBatch))
}

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

type moments struct {
	mean, std float64
	ok        bool
	// binary: the feature takes only the values 0 and 1 (a one-hot or
	// indicator column), so its kurtosis is known from its mean.
	binary bool
}

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

// affine is y = a·x + b.
type affine struct{ a, b float64 }

// agree reports whether f and g map a distribution of mean mu and standard
// deviation sd to the same place, within tolLoc·|g.a|·sd and a factor
// 1.25 in scale.
func agree(f, g affine, mu, sd float64) bool {
	if f.a == 0 || g.a == 0 || (f.a > 0) != (g.a > 0) {
		return false
	}
	loc := math.Abs((f.a-g.a)*mu+(f.b-g.b)) / (math.Abs(g.a) * sd)
	return loc <= tolLoc && math.Abs(math.Log(f.a/g.a)) <= tolScale
}

// judgeChain compares stored affine constants applied to the inputs with
// the artifact's own scaling (raw → output, from its profiles) and its
// inverse. It returns the columns found scaled twice.
func judgeChain(c chain, bind *binding) ([]Finding, map[colKey]bool) {
	centers := make([]float64, len(c.cols))
	scales := make([]float64, len(c.cols))
	for k, col := range c.cols {
		if col.A != 0 {
			centers[k], scales[k] = -col.B/col.A, 1/col.A
		}
	}
	node := c.consumer.label()
	info := Finding{Code: InputScaling, Severity: SeverityInfo, Node: node,
		Description: fmt.Sprintf("the graph shifts and scales its inputs %s with stored constants before %s: per feature (x − center)/scale with centers %s and scales %s", strings.Join(inputNames(c.cols), ", "), node, joinG(centers), joinG(scales)),
		Evidence:    map[string]any{"inputs": inputNames(c.cols), "center": centers, "scale": scales}}
	if bind == nil {
		return []Finding{info}, nil
	}
	var double, undo, distinct []string
	doubled := map[colKey]bool{}
	for _, col := range c.cols {
		j := bind.of(col)
		if j < 0 || !bind.out[j].ok || !bind.raw[j].ok || bind.out[j].std <= 0 || bind.raw[j].std <= 0 {
			continue
		}
		o, r := bind.out[j], bind.raw[j]
		art := affine{o.std / r.std, o.mean - o.std/r.std*r.mean}
		if agree(art, affine{1, 0}, o.mean, o.std) {
			continue // the artifact barely changes this feature
		}
		name := bind.names[j]
		distinct = append(distinct, name)
		f := affine{col.A, col.B}
		switch {
		case agree(f, art, o.mean, o.std):
			double = append(double, name)
			doubled[colKey{col.Input, col.Col}] = true
		case agree(f, affine{1 / art.a, -art.b / art.a}, o.mean, o.std):
			undo = append(undo, name)
		}
	}
	switch {
	case len(distinct) > 0 && len(double) == len(distinct):
		return []Finding{{Code: DoubledScaling, Severity: SeverityError, Node: node,
			Description: fmt.Sprintf("the graph standardizes its inputs itself, with constants that match the artifact's scaling (centers %s, scales %s): the artifact's outputs are already scaled, so %s are scaled twice", joinG(centers), joinG(scales), abbreviate(double)),
			Fix:         "feed this model raw features (it normalizes them itself), or remove the in-model normalization and feed it the artifact's output — not both",
			Evidence:    map[string]any{"features": double, "center": centers, "scale": scales}}}, doubled
	case len(distinct) > 0 && len(undo) == len(distinct):
		return []Finding{{Code: UndoneScaling, Severity: SeverityWarning, Node: node,
			Description: fmt.Sprintf("the graph multiplies its inputs by %s and adds %s: the inverse of the artifact's scaling, so %s reach %s as raw values again and the scaler does nothing for the model", joinG(scales2(c.cols)), joinG(offsets(c.cols)), abbreviate(undo), node),
			Fix:         "the model was trained on raw values: either feed it raw values and drop the wrapper, or retrain it on the artifact's features",
			Evidence:    map[string]any{"features": undo, "multiplier": scales2(c.cols), "offset": offsets(c.cols)}}}, nil
	}
	if len(distinct) > 0 {
		info.Description += "; they match neither the artifact's scaling nor its inverse"
	}
	return []Finding{info}, nil
}

func scales2(cols []colRef) []float64 {
	out := make([]float64, len(cols))
	for i, c := range cols {
		out[i] = c.A
	}
	return out
}

func offsets(cols []colRef) []float64 {
	out := make([]float64, len(cols))
	for i, c := range cols {
		out[i] = c.B
	}
	return out
}

// judgeFirstNorm compares the running statistics of a BatchNorm that reads
// the model inputs with the features it should see.
func judgeFirstNorm(n *Node, l Layer, s traced, m, v []float64, bind *binding, doubled map[colKey]bool) []Finding {
	tm, tv := emaTolerance(1 - n.Float("momentum", 0.9))
	fits := func(mean, variance, mu, sd float64) bool {
		return sd > 0 && math.Abs(mean-mu) <= tm*sd && math.Abs(math.Log(variance/(sd*sd))) <= tv
	}
	if bind == nil {
		// What the model inputs looked like in training: the statistics
		// taken back through the graph's own affine map.
		mi, vi := make([]float64, len(m)), make([]float64, len(m))
		nstd := 0
		for c := range m {
			col := s.cols[c]
			mi[c], vi[c] = (m[c]-col.B)/col.A, v[c]/(col.A*col.A)
			if fits(mi[c], vi[c], 0, 1) {
				nstd++
			}
		}
		mr, vr := rangeOf(mi), rangeOf(vi)
		if mr == nil || vr == nil {
			return nil
		}
		desc := fmt.Sprintf("%s normalizes the model inputs %s; by its running statistics, the %d features it reads had means from %.4g to %.4g and variances from %.4g to %.4g in training", l.Node, strings.Join(l.ReadsInputs, ", "), len(m), mr[0], mr[1], vr[0], vr[1])
		atLayer := 0 // channels standardized where the layer reads them, after the graph's own scaling
		for c := range m {
			if fits(m[c], v[c], 0, 1) {
				atLayer++
			}
		}
		switch {
		case nstd == len(m):
			desc += ": standardized features (means ≈ 0, variances ≈ 1)"
		case !identity(s.cols) && atLayer == len(m):
			desc += "; the graph's own scaling of its inputs standardizes them (means ≈ 0, variances ≈ 1 where the layer reads them): the model takes raw features"
		case nstd == 0:
			desc += ": not standardized; check with --artifact that the model is fed what it was trained on"
		default:
			desc += fmt.Sprintf(": %d of them standardized (means ≈ 0, variances ≈ 1); check with --artifact that the model is fed what it was trained on", nstd)
		}
		return []Finding{{Code: InputNormalization, Severity: SeverityInfo, Node: l.Node, Description: desc,
			Evidence: map[string]any{"input_mean": mi, "input_variance": vi, "standardized": nstd}}}
	}
	var fit, raw, twice, neither []string
	var rows []map[string]any
	var rawText, twiceText, neitherText []string
	w := convergence(m, s, bind, tm)
	for c := range m {
		col := s.cols[c]
		j := bind.of(col)
		if j < 0 || !bind.out[j].ok || bind.out[j].std <= 0 || v[c] <= 0 || !finite([]float64{m[c], v[c]}) {
			continue
		}
		o, r := bind.out[j], bind.raw[j]
		name := bind.names[j]
		row := map[string]any{"feature": name, "channel": c, "running_mean": m[c], "running_var": v[c],
			"expected_mean": col.A*o.mean + col.B, "expected_std": math.Abs(col.A) * o.std}
		if r.ok {
			row["raw_mean"], row["raw_std"] = col.A*r.mean+col.B, math.Abs(col.A)*r.std
		}
		rows = append(rows, row)
		scaledMu, scaledSd := col.A*o.mean+col.B, math.Abs(col.A)*o.std
		rawMu, rawSd := col.A*r.mean+col.B, math.Abs(col.A)*r.std
		distinct := r.ok && r.std > 0 && !fits(rawMu, rawSd*rawSd, scaledMu, scaledSd)
		switch {
		case fits(m[c], v[c], scaledMu, scaledSd) || (o.binary && fitsBinary(m[c], v[c], scaledMu, scaledSd, o.mean, tm, tv, 1-n.Float("momentum", 0.9))):
			fit = append(fit, name)
		case distinct && (fits(m[c], v[c], rawMu, rawSd) || (w > 0 && fits(m[c], v[c], w*rawMu, math.Sqrt(w*rawSd*rawSd+(1-w))))):
			if !doubled[colKey{col.Input, col.Col}] {
				raw = append(raw, name)
				text := fmt.Sprintf("%s: running mean %.4g, variance %.4g (raw training profile %.4g, %.4g; the artifact's features %.3g, %.3g)", name, m[c], v[c], rawMu, rawSd*rawSd, tidy(scaledMu), tidy(scaledSd*scaledSd))
				if !fits(m[c], v[c], rawMu, rawSd) {
					text += fmt.Sprintf(", %.2g of the way from the initial (0, 1) to the raw profile", w)
					row["convergence"] = w
				}
				rawText = append(rawText, text)
			}
		case distinct && fits(m[c], v[c], col.A*(o.std/r.std*(o.mean-r.mean)+o.mean)+col.B, math.Abs(col.A)*o.std*o.std/r.std):
			// the artifact's map x ↦ o.mean + (x − r.mean)·o.std/r.std applied to its own output
			twice = append(twice, name)
			twiceText = append(twiceText, fmt.Sprintf("%s: running mean %.4g, variance %.4g (scaled twice: %.4g, %.4g)", name, m[c], v[c],
				col.A*(o.std/r.std*(o.mean-r.mean)+o.mean)+col.B, math.Pow(col.A*o.std*o.std/r.std, 2)))
		default:
			neither = append(neither, name)
			neitherText = append(neitherText, fmt.Sprintf("%s: running mean %.4g, variance %.4g (the artifact's features %.3g, %.3g)", name, m[c], v[c], tidy(scaledMu), tidy(scaledSd*scaledSd)))
		}
	}
	var fs []Finding
	if len(raw) > 0 {
		fs = append(fs, Finding{Code: TrainedOnUnscaled, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s, the first normalization of the inputs, learned the raw training profile, not the artifact's scaled features: %s. The model was trained on unscaled features; fed the artifact's output it sees values far from anything it learned", l.Node, strings.Join(rawText, "; ")),
			Fix:         "retrain the model on the artifact's output (normguard transform), or feed it the raw features without the artifact",
			Evidence:    map[string]any{"features": raw, "channels": rows}})
	}
	if len(twice) > 0 {
		fs = append(fs, Finding{Code: DoubledScaling, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s, the first normalization of the inputs, learned features scaled twice — the artifact's scaling applied again to its own output: %s. The training pipeline scaled the features twice; fed the artifact's output once, the model sees other values than it learned", l.Node, strings.Join(twiceText, "; ")),
			Fix:         "retrain the model on the artifact's output applied once (normguard transform), or reproduce the training pipeline exactly",
			Evidence:    map[string]any{"features": twice, "channels": rows}})
	}
	if len(neither) > 0 {
		fs = append(fs, Finding{Code: NormalizationMismatch, Severity: SeverityWarning, Node: l.Node,
			Description: fmt.Sprintf("%s's running statistics match neither the artifact's features nor the raw training profile for %s: %s. The model was trained on features prepared otherwise (another scaler, other parameters, other data)", l.Node, abbreviate(neither), strings.Join(neitherText, "; ")),
			Fix:         "find the transform the model was trained with (normguard diagnose compares features with artifacts) and feed that, or retrain on this artifact's output",
			Evidence:    map[string]any{"features": neither, "channels": rows}})
	}
	if len(fs) == 0 && len(fit) > 0 {
		fs = append(fs, Finding{Code: FitsArtifact, Severity: SeverityInfo, Node: l.Node,
			Description: fmt.Sprintf("%s's running statistics match the artifact's output profile for all %d features it reads (%s): the model was trained on these features", l.Node, len(fit), abbreviate(fit)),
			Evidence:    map[string]any{"features": fit, "channels": rows}})
	}
	return fs
}

// convergence estimates how far a layer's running averages got from their
// start (0, 1) towards the raw profile: the median of m/μ over channels
// whose raw mean μ is told apart from 0, when it lies in (0.05, 1);
// otherwise 0.
func convergence(m []float64, s traced, bind *binding, tm float64) float64 {
	var ws []float64
	for c := range m {
		j := bind.of(s.cols[c])
		if j < 0 || !bind.raw[j].ok {
			continue
		}
		col, r := s.cols[c], bind.raw[j]
		mu, sd := col.A*r.mean+col.B, math.Abs(col.A)*r.std
		if math.Abs(mu) > tm*sd && sd > 0 {
			ws = append(ws, m[c]/mu)
		}
	}
	if len(ws) == 0 {
		return 0
	}
	sort.Float64s(ws)
	w := ws[len(ws)/2]
	if len(ws)%2 == 0 {
		w = (ws[len(ws)/2-1] + ws[len(ws)/2]) / 2
	}
	if w <= 0.05 || w >= 1 || math.IsNaN(w) {
		return 0
	}
	return w
}

// tidy shows a profile mean that is zero up to rounding as 0.
func tidy(x float64) float64 {
	if math.Abs(x) < 1e-12 {
		return 0
	}
	return x
}

// linearZ returns, per channel of a BatchNorm after a linear layer of the
// inputs, the distance of its running mean from the mean the layer's
// weights give for the artifact's features and for the raw features, in
// units of the channel's running standard deviation:
//
//	z_h = |m_u − (Σ_j W_uj·E_h[x_j] + b_u)| / sqrt(v_u)
//
// ok is false when a feature is not bound to the artifact.
func linearZ(lin linear, m, v []float64, bind *binding) (zs, zr []float64, ok bool) {
	if len(lin.w) != len(m) {
		return nil, nil, false
	}
	es := make([]float64, len(m))
	er := make([]float64, len(m))
	for j, col := range lin.cols {
		k := bind.of(col)
		if k < 0 || !bind.out[k].ok {
			return nil, nil, false
		}
		o, r := bind.out[k], bind.raw[k]
		mo := col.A*o.mean + col.B
		mr := mo
		if r.ok {
			mr = col.A*r.mean + col.B
		}
		for u := range m {
			es[u] += lin.w[u][j] * mo
			er[u] += lin.w[u][j] * mr
		}
	}
	for u := range m {
		if v[u] <= 0 || !finite([]float64{m[u], v[u]}) {
			continue
		}
		sd := math.Sqrt(v[u])
		zs = append(zs, math.Abs(m[u]-es[u]-lin.b[u])/sd)
		zr = append(zr, math.Abs(m[u]-er[u]-lin.b[u])/sd)
	}
	return zs, zr, len(zs) > 0
}

// judgeAfterLinear compares a BatchNorm that follows a linear layer of the
// inputs with the means the layer's weights give for the artifact's and
// the raw features (linearZ). The weights kept moving while the running
// averages were taken, so the test is on the median channel: the artifact's
// features fit when median z ≤ T_m; the raw features are named only when
// their median z is ≤ T_m and under a quarter of the artifact's. Anything
// else is left unjudged.
func judgeAfterLinear(n *Node, l Layer, lin linear, m, v []float64, bind *binding) []Finding {
	zs, zr, ok := linearZ(lin, m, v, bind)
	if !ok {
		return nil
	}
	tm, _ := emaTolerance(1 - n.Float("momentum", 0.9))
	ms, mr := median(zs), median(zr)
	ev := map[string]any{"median_z_artifact": ms, "median_z_raw": mr, "features": inputNames(lin.cols)}
	var names []string
	for _, c := range lin.cols {
		if j := bind.of(c); j >= 0 {
			names = append(names, bind.names[j])
		}
	}
	switch {
	case ms <= tm:
		return []Finding{{Code: FitsArtifact, Severity: SeverityInfo, Node: l.Node,
			Description: fmt.Sprintf("%s follows a linear layer of the inputs; its running means are what that layer's weights give for the artifact's features (median distance %.2g running standard deviations): the model was trained on these features", l.Node, ms),
			Evidence:    ev}}
	case mr <= tm && 4*mr < ms:
		ev["features"] = names
		return []Finding{{Code: TrainedOnUnscaled, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s follows a linear layer of the inputs %s; its running means are what that layer's weights give for the raw training profile (median distance %.2g running standard deviations), not for the artifact's scaled features (%.2g). The model was trained on unscaled features; fed the artifact's output it sees values far from anything it learned", l.Node, abbreviate(names), mr, ms),
			Fix:         "retrain the model on the artifact's output (normguard transform), or feed it the raw features without the artifact",
			Evidence:    ev}}
	}
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
