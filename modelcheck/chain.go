package modelcheck

import (
	"fmt"
	"github.com/normguard/normguard/internal/errtext"
	"math"
)

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
		Description: fmt.Sprintf("the graph shifts and scales its inputs %s with stored constants before %s: per feature (x − center)/scale with centers %s and scales %s", errtext.ListPlain(inputNames(c.cols)), node, joinG(centers), joinG(scales)),
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
