package modelcheck

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
)

// Options configure Check. The zero value checks the graph alone.
type Options struct {
	// Artifact, when set, is the fitted normalization whose outputs the
	// model is fed: the model's inputs and first normalization layer are
	// compared with its outputs and training profile.
	Artifact *artifact.Artifact
	// Model names the file in the report.
	Model string
}

// Check judges the normalization layers of g. It never fails: what it
// cannot judge (statistics computed at run time, data stored outside the
// file) it leaves out.
func Check(g *Graph, opt Options) *Report {
	g = foldConstants(g)
	r := &Report{Model: opt.Model, Producer: strings.TrimSpace(g.Producer + " " + g.ProducerVersion),
		Opset: g.Opset, Inputs: g.Inputs, Layers: []Layer{}, Findings: []Finding{}, Rule: ruleText}
	if r.Inputs == nil {
		r.Inputs = []Value{}
	}
	fw := frameworkOf(g.Producer)
	shapes := staticShapes(g)
	tr := traceInputs(g)
	var bind *binding
	if opt.Artifact != nil {
		r.Artifact = opt.Artifact.Digest
		var fs []Finding
		bind, fs = bindInputs(g, opt.Artifact)
		r.Findings = append(r.Findings, fs...)
	}
	doubled := map[colKey]bool{}
	for _, c := range tr.chains {
		fs, d := judgeChain(c, bind)
		r.Findings = append(r.Findings, fs...)
		for k := range d {
			doubled[k] = true
		}
	}
	var eps []epsUse
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.Domain != "" && n.Domain != "ai.onnx" {
			continue
		}
		switch n.Op {
		case "BatchNormalization":
			l, fs, e := checkBatchNorm(g, n, tr, bind, doubled)
			r.Layers = append(r.Layers, l)
			r.Findings = append(r.Findings, fs...)
			eps = append(eps, e)
		case "LayerNormalization", "InstanceNormalization":
			l := otherNorm(g, n, tr)
			r.Layers = append(r.Layers, l)
			eps = append(eps, epsUse{node: n, kind: l.Kind, eps: l.Epsilon})
			if f, ok := constantNormalization(n, l, shapes); ok {
				r.Findings = append(r.Findings, f)
			}
		}
	}
	for _, l := range decomposedNorms(g) {
		l.Epsilon = float32Decimal(l.Epsilon)
		r.Layers = append(r.Layers, l)
		eps = append(eps, epsUse{node: &Node{Name: l.Node}, kind: l.Kind, eps: l.Epsilon})
	}
	r.Findings = append(r.Findings, normFacts(r.Layers)...)
	r.Findings = append(r.Findings, foreignEpsilon(fw, eps)...)
	if reds := batchReductions(g); len(reds) > 0 {
		r.Findings = append(r.Findings, batchStatisticsFinding(reds))
	}
	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return rank[r.Findings[i].Severity] < rank[r.Findings[j].Severity]
	})
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityError:
			r.Errors++
		case SeverityWarning:
			r.Warnings++
		default:
			r.Infos++
		}
	}
	return r
}

// epsUse is one normalization layer's epsilon, for the framework check.
type epsUse struct {
	node *Node
	kind string
	eps  float64
	// mean, variance: a BatchNormalization's stored statistics, to say how
	// much the outputs change under another epsilon.
	variance []float64
}

// checkBatchNorm describes a BatchNormalization and judges its mode and
// stored statistics.
func checkBatchNorm(g *Graph, n *Node, tr tracing, bind *binding, doubled map[colKey]bool) (Layer, []Finding, epsUse) {
	l := Layer{Node: n.label(), Op: n.Op, Kind: "batch_norm", Epsilon: n.Float("epsilon", 1e-5)}
	var fs []Finding
	training := n.Int("training_mode", 0) != 0
	if is, ok := n.Attrs["is_test"]; ok && is.Int == 0 {
		training = true // opset < 7
	}
	if g.Opset >= 7 && g.Opset < 14 && len(n.Outputs) > 1 {
		for _, o := range n.Outputs[1:] {
			training = training || o != "" // opsets 7-13: the extra outputs exist in training mode only
		}
	}
	l.TrainingMode = training
	if training {
		fs = append(fs, Finding{Code: BatchNormTrainingMode, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s was exported in training mode: it normalizes every batch with that batch's own mean and variance, not with the running statistics learned in training, so a row's output depends on the rows it is sent with and a single row is normalized to 0", l.Node),
			Fix:         "call model.eval() before exporting and export with torch.onnx.export(..., training=torch.onnx.TrainingMode.EVAL) (the default), or the framework's inference mode",
			Evidence:    map[string]any{"training_mode": 1, "opset": g.Opset}})
	}
	var extra []string
	for _, o := range n.Outputs[min(1, len(n.Outputs)):] {
		if o != "" {
			extra = append(extra, o)
		}
	}
	if len(extra) > 0 {
		graphOut := map[string]bool{}
		for _, o := range g.Outputs {
			graphOut[o.Name] = true
		}
		var exposed []string
		for _, o := range extra {
			if graphOut[o] {
				exposed = append(exposed, o)
			}
		}
		desc := fmt.Sprintf("%s also computes its running (or saved) mean and variance as outputs %s: the form a BatchNormalization takes in a training graph, where each call updates the statistics", l.Node, strings.Join(extra, ", "))
		if len(exposed) > 0 {
			desc += fmt.Sprintf("; %s are outputs of the model", strings.Join(exposed, ", "))
		}
		fs = append(fs, Finding{Code: RunningStatsAsOutputs, Severity: SeverityWarning, Node: l.Node, Description: desc,
			Fix:      "export the model in eval mode: an inference graph's BatchNormalization has one output",
			Evidence: map[string]any{"outputs": extra, "model_outputs": exposed}})
	}
	if s, ok := tr.onInputs[n]; ok {
		l.ReadsInputs = inputNames(s.cols)
	}
	mean, mok := g.constant(n.input(3))
	variance, vok := g.constant(n.input(4))
	use := epsUse{node: n, kind: l.Kind, eps: l.Epsilon}
	if (!mok && computed(g, n.input(3))) || (!vok && computed(g, n.input(4))) {
		fs = append(fs, Finding{Code: UntrainedRunningStats, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s has no stored running statistics: its mean and variance inputs are computed inside the graph from the batch (what PyTorch exports for BatchNorm with track_running_stats=False). Nothing learned in training normalizes the inputs; each batch normalizes itself", l.Node),
			Fix:         "train with track_running_stats=True (the default) so the layer learns running statistics, and export in eval mode",
			Evidence:    map[string]any{"mean_input": n.input(3), "var_input": n.input(4)}})
		return l, fs, use
	}
	if !mok || !vok || len(mean.Values) != len(variance.Values) || len(mean.Values) == 0 {
		// Statistics stored elsewhere (external data), of a type not read,
		// or fed at run time: say so rather than count the layer checked.
		fs = append(fs, Finding{Code: StatisticsUnread, Severity: SeverityWarning, Node: l.Node,
			Description: fmt.Sprintf("the running mean and variance of %s are not stored in the file in a form that can be read (external data, an unsupported type, a graph input, or mean and variance of different lengths): its statistics were not checked", l.Node),
			Fix:         "save the model with its weights inside (onnx.save with save_as_external_data=False) and run the check again",
			Evidence:    map[string]any{"mean_input": n.input(3), "var_input": n.input(4)}})
		return l, fs, use
	}
	m, v := mean.Values, variance.Values
	l.Channels = len(m)
	l.MeanRange, l.VarRange = rangeOf(m), rangeOf(v)
	use.variance = v
	fs = append(fs, statisticsFindings(g, n, l, m, v)...)
	if untrained(m, v) {
		fs = append(fs, Finding{Code: UntrainedRunningStats, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("every running mean of %s is 0 and every running variance 1 (%d channels): the statistics a BatchNorm layer starts with, never updated by training. In inference it divides by 1 and subtracts 0, so it does not normalize at all", l.Node, len(m)),
			Fix:         "train with track_running_stats=True and in train() mode so the statistics are updated, do not call reset_running_stats() after training, and check running_mean / running_var before exporting",
			Evidence:    map[string]any{"channels": len(m)}})
		return l, fs, use
	}
	if s, ok := tr.onInputs[n]; ok && len(s.cols) == len(m) {
		fs = append(fs, judgeFirstNorm(n, l, s, m, v, bind, doubled)...)
	}
	if lin, ok := tr.afterLinear[n]; ok && bind != nil {
		fs = append(fs, judgeAfterLinear(n, l, lin, m, v, bind)...)
	}
	return l, fs, use
}

// statisticsFindings judges the stored statistics channel by channel.
func statisticsFindings(g *Graph, n *Node, l Layer, m, v []float64) []Finding {
	var fs []Finding
	var nanCh, negCh, zeroCh, tinyCh, deadCh []int
	scale, _ := g.constant(n.input(1))
	bias, _ := g.constant(n.input(2))
	for c := range m {
		switch {
		case !finite(m[c:c+1]) || !finite(v[c:c+1]) || (c < len(scale.Values) && !finite(scale.Values[c:c+1])) || (c < len(bias.Values) && !finite(bias.Values[c:c+1])):
			nanCh = append(nanCh, c)
		case v[c] < 0:
			negCh = append(negCh, c)
		case v[c] < l.Epsilon*tinyFraction && m[c] == 0:
			deadCh = append(deadCh, c)
		case v[c] == 0:
			zeroCh = append(zeroCh, c)
		case v[c] < l.Epsilon*tinyFraction:
			tinyCh = append(tinyCh, c)
		}
	}
	if len(nanCh) > 0 {
		fs = append(fs, Finding{Code: NaNStatistics, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s has NaN or infinite statistics or parameters in channels %v (mean %s, variance %s): every output of those channels is NaN", l.Node, nanCh, pick(m, nanCh), pick(v, nanCh)),
			Fix:         "retrain or restore the layer from a checkpoint taken before the statistics diverged (a NaN loss, a learning rate too high, an empty batch); check torch.isfinite on running_mean / running_var before exporting",
			Evidence:    map[string]any{"channels": nanCh}})
	}
	if len(negCh) > 0 {
		fs = append(fs, Finding{Code: NonpositiveVariance, Severity: SeverityError, Node: l.Node,
			Description: fmt.Sprintf("%s has negative running variances in channels %v (%s; epsilon %g): a variance cannot be negative, and once it outweighs epsilon the square root is NaN", l.Node, negCh, pick(v, negCh), l.Epsilon),
			Fix:         "the statistics were corrupted (edited, mis-converted or overflowed): retrain or restore them from the checkpoint",
			Evidence:    map[string]any{"channels": negCh, "variance": pickF(v, negCh), "epsilon": l.Epsilon}})
	}
	if len(zeroCh) > 0 {
		fs = append(fs, Finding{Code: NonpositiveVariance, Severity: SeverityWarning, Node: l.Node,
			Description: fmt.Sprintf("%s has running variance exactly 0 with a non-zero mean in channels %v: the channel's input was constant in training, and any other value at serving is multiplied by 1/sqrt(epsilon) = %.3g", l.Node, zeroCh, 1/math.Sqrt(l.Epsilon)),
			Fix:         "check why the channel's input was constant in training (a constant feature, a dead unit); drop the feature or retrain",
			Evidence:    map[string]any{"channels": zeroCh, "mean": pickF(m, zeroCh)}})
	}
	if len(tinyCh) > 0 {
		fs = append(fs, Finding{Code: VarianceBelowEpsilon, Severity: SeverityWarning, Node: l.Node,
			Description: fmt.Sprintf("%s has running variances below epsilon %g in channels %v (%s): epsilon, not the data, sets those channels' scale — they are shrunk by sqrt(var/(var+eps)) to %s of what normalization intends, and a runtime or framework with another epsilon gives different outputs", l.Node, l.Epsilon, tinyCh, pick(v, tinyCh), shrink(v, tinyCh, l.Epsilon)),
			Fix:         "check the statistics were not corrupted or mis-scaled (a variance stored as a standard deviation squared twice, a unit change); retrain if the channel's input was nearly constant",
			Evidence:    map[string]any{"channels": tinyCh, "variance": pickF(v, tinyCh), "epsilon": l.Epsilon}})
	}
	if len(deadCh) > 0 {
		fs = append(fs, Finding{Code: DeadChannels, Severity: SeverityInfo, Node: l.Node,
			Description: fmt.Sprintf("%s channels %v have running mean 0 and variance below epsilon: their input was always 0 in training (dead units); the layer outputs its bias there", l.Node, deadCh),
			Evidence:    map[string]any{"channels": deadCh}})
	}
	return fs
}

// float32Decimal returns the float64 nearest the shortest decimal that
// rounds to float32(x): 9.999999747378752e-06 becomes 1e-05.
func float32Decimal(x float64) float64 {
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', -1, 32), 64)
	if err != nil {
		return x
	}
	return y
}

// tinyFraction: a variance under this fraction of epsilon is reported.
// At var = eps the outputs are already shrunk by sqrt(1/2), 29% off what
// normalization intends; trained channels sit far above it.
const tinyFraction = 1

// untrained reports whether every mean is exactly 0 and every variance 1.
func untrained(m, v []float64) bool {
	for c := range m {
		if m[c] != 0 || v[c] != 1 {
			return false
		}
	}
	return true
}

// otherNorm describes a LayerNormalization or InstanceNormalization; an
// InstanceNormalization on a reshaped tensor with unit scale and zero bias
// is PyTorch's GroupNorm.
func otherNorm(g *Graph, n *Node, tr tracing) Layer {
	l := Layer{Node: n.label(), Op: n.Op, Epsilon: n.Float("epsilon", 1e-5)}
	if s, ok := tr.onInputs[n]; ok {
		l.ReadsInputs = inputNames(s.cols)
	}
	scale, _ := g.constant(n.input(1))
	l.Channels = len(scale.Values)
	if n.Op == "LayerNormalization" {
		l.Kind = "layer_norm"
		return l
	}
	l.Kind = "instance_norm"
	bias, _ := g.constant(n.input(2))
	if producedBy(g, n.input(0), "Reshape") && allEqual(scale.Values, 1) && allEqual(bias.Values, 0) && len(scale.Values) > 0 {
		l.Kind = "group_norm"
	}
	return l
}

// constantNormalization reports a LayerNorm, InstanceNorm or GroupNorm
// whose normalized axes all have size 1 in the inferred static shape.
func constantNormalization(n *Node, l Layer, shapes map[string][]int64) (Finding, bool) {
	s, ok := shapes[n.input(0)]
	if !ok {
		return Finding{}, false
	}
	first := 2 // InstanceNormalization: the spatial axes
	if n.Op == "LayerNormalization" {
		ax, ok := normAxes([]int64{n.Int("axis", -1)}, len(s))
		if !ok {
			return Finding{}, false
		}
		first = ax[0]
	}
	if !singleValue(s, first) {
		return Finding{}, false
	}
	kind := map[string]string{"layer_norm": "LayerNorm", "instance_norm": "InstanceNorm", "group_norm": "GroupNorm"}[l.Kind]
	return Finding{Code: ConstantNormalization, Severity: SeverityWarning, Node: l.Node,
		Description: fmt.Sprintf("%s (%s) normalizes over axes of size 1 (its input has shape %s): each group holds a single value, whose deviation from its own mean is 0, so the layer outputs its bias whatever the input and passes nothing on", l.Node, kind, shapeString(s)),
		Fix:         "normalize over an axis that holds several values: for [N, C] features use BatchNorm1d(C) or LayerNorm(C); InstanceNorm1d and GroupNorm need a length axis longer than 1",
		Evidence:    map[string]any{"input_shape": s, "kind": l.Kind}}, true
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
		if d < 0 {
			parts[i] = "?"
			if i == 0 {
				parts[i] = "N"
			}
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// normFacts summarises the LayerNorm, InstanceNorm and GroupNorm layers,
// one info finding per kind.
func normFacts(layers []Layer) []Finding {
	var fs []Finding
	for _, k := range []struct{ kind, code, what string }{
		{"layer_norm", LayerNormFact, "normalizes each row over its last axes, with the row's own mean and variance: it needs no running statistics and does not depend on the batch"},
		{"group_norm", GroupNormFact, "normalizes each row within groups of channels (PyTorch's GroupNorm, exported as InstanceNormalization on a reshaped tensor): per row, no running statistics"},
		{"instance_norm", InstanceNormFact, "normalizes each row and channel over the spatial axes: per row, no running statistics; on a length-1 axis it outputs its bias whatever the input"},
	} {
		var nodes []string
		var eps []float64
		var inputs []string
		for _, l := range layers {
			if l.Kind == k.kind {
				nodes = append(nodes, l.Node)
				eps = append(eps, l.Epsilon)
				inputs = append(inputs, l.ReadsInputs...)
			}
		}
		if len(nodes) == 0 {
			continue
		}
		desc := fmt.Sprintf("%s (epsilon %s) %s", errtext.ListPlain(nodes), joinG(unique(eps)), k.what)
		if len(inputs) > 0 {
			desc += fmt.Sprintf("; it reads the model inputs %s directly, so features of different units are normalized together", errtext.ListPlain(unique(inputs)))
		}
		fs = append(fs, Finding{Code: k.code, Severity: SeverityInfo, Node: nodes[0], Description: desc,
			Evidence: map[string]any{"nodes": nodes, "epsilon": unique(eps)}})
	}
	return fs
}

// computed reports whether tensor name is computed by a node of the graph
// from its inputs rather than stored.
func computed(g *Graph, name string) bool {
	if name == "" {
		return false
	}
	if _, ok := g.Constants[name]; ok {
		return false
	}
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			if o == name {
				return true
			}
		}
	}
	return false
}

// producedBy reports whether tensor name is the output of an op node.
func producedBy(g *Graph, name, op string) bool {
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			if o == name {
				return g.Nodes[i].Op == op
			}
		}
	}
	return false
}

func allEqual(xs []float64, v float64) bool {
	for _, x := range xs {
		if x != v {
			return false
		}
	}
	return true
}

func inputNames(cols []colRef) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Input)
	}
	return unique(out)
}

func unique[T comparable](xs []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func rangeOf(xs []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if lo > hi {
		return nil
	}
	return []float64{lo, hi}
}

func pickF(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

func pick(xs []float64, idx []int) string { return joinG(pickF(xs, idx)) }

func joinG(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.4g", x)
	}
	return strings.Join(s, ", ")
}

func shrink(v []float64, idx []int, eps float64) string {
	s := make([]string, len(idx))
	for i, j := range idx {
		s[i] = fmt.Sprintf("%.2g", math.Sqrt(v[j]/(v[j]+eps)))
	}
	return strings.Join(s, ", ")
}
