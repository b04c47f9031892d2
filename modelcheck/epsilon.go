package modelcheck

import (
	"fmt"
	"math"
	"strings"
)

// Default epsilons of the normalization layers, by framework:
//
//	PyTorch       BatchNorm, LayerNorm, GroupNorm, InstanceNorm: 1e-5 (also ONNX's default)
//	Keras / TF    BatchNormalization, LayerNormalization, GroupNormalization: 1e-3
//	PaddlePaddle  BatchNorm, LayerNorm, GroupNorm, InstanceNorm: 1e-5
//	Chainer       BatchNormalization: 2e-5
var frameworkEpsilon = map[string]float64{
	"PyTorch":          1e-5,
	"Keras/TensorFlow": 1e-3,
	"PaddlePaddle":     1e-5,
}

// typicalEpsilon lists epsilons that identify a framework's default.
var typicalEpsilon = []struct {
	eps       float64
	framework string
}{
	{1e-3, "Keras/TensorFlow"},
	{1e-5, "PyTorch"},
	{2e-5, "Chainer"},
}

// frameworkOf maps an ONNX producer name to the framework whose defaults
// apply, "" when unknown.
func frameworkOf(producer string) string {
	p := strings.ToLower(producer)
	switch {
	case strings.Contains(p, "pytorch") || strings.Contains(p, "torch"):
		return "PyTorch"
	case strings.Contains(p, "tf2onnx") || strings.Contains(p, "keras") || strings.Contains(p, "tensorflow"):
		return "Keras/TensorFlow"
	case strings.Contains(p, "paddle"):
		return "PaddlePaddle"
	}
	return ""
}

// sameEps compares epsilons stored as float32 attributes.
func sameEps(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }

// foreignEpsilon finds layers whose epsilon is another framework's default
// in a model exported by a known framework. For BatchNorm with stored
// variances it states the largest relative change of an output's scale,
//
//	max_c |sqrt((v_c + eps) / (v_c + eps_native)) − 1|,
//
// that the framework's own default would make.
func foreignEpsilon(fw string, uses []epsUse) []Finding {
	native, ok := frameworkEpsilon[fw]
	if !ok {
		return nil
	}
	type group struct {
		nodes  []string
		change float64
	}
	groups := map[string]*group{}
	var order []string
	for _, u := range uses {
		if sameEps(u.eps, native) {
			continue
		}
		other := ""
		for _, t := range typicalEpsilon {
			if t.framework != fw && sameEps(u.eps, t.eps) {
				other = t.framework
			}
		}
		if other == "" || (u.kind == "layer_norm" && other != "Keras/TensorFlow") {
			continue
		}
		key := fmt.Sprintf("%s|%g", other, u.eps)
		gr, ok := groups[key]
		if !ok {
			gr = &group{}
			groups[key] = gr
			order = append(order, key)
		}
		gr.nodes = append(gr.nodes, u.node.label())
		for _, v := range u.variance {
			if v >= 0 && !math.IsNaN(v) {
				gr.change = math.Max(gr.change, math.Abs(math.Sqrt((v+u.eps)/(v+native))-1))
			}
		}
	}
	var fs []Finding
	for _, key := range order {
		gr := groups[key]
		other, epsText, _ := strings.Cut(key, "|")
		var eps float64
		fmt.Sscan(epsText, &eps)
		desc := fmt.Sprintf("%s use epsilon %s, the default of %s; %s's default is %g. Weights ported between frameworks without carrying the epsilon over normalize differently from how they were trained", strings.Join(gr.nodes, ", "), epsText, other, fw, native)
		ev := map[string]any{"nodes": gr.nodes, "epsilon": eps, "typical_of": other, "framework": fw, "framework_default": native}
		if gr.change > 0 {
			desc += fmt.Sprintf("; with %g instead, the scale of these layers' outputs would change by up to %.3g%%", native, 100*gr.change)
			ev["max_output_change"] = gr.change
		}
		fs = append(fs, Finding{Code: ForeignEpsilon, Severity: SeverityWarning, Node: gr.nodes[0], Description: desc,
			Fix:      fmt.Sprintf("use the epsilon the weights were trained with: if they were trained in %s, set eps=%g on these layers; if in %s, the model is right and this is intended", other, mustEps(other), fw),
			Evidence: ev})
	}
	return fs
}

func mustEps(framework string) float64 {
	for _, t := range typicalEpsilon {
		if t.framework == framework {
			return t.eps
		}
	}
	return 0
}
