// Package jsonnum makes report values JSON can hold: JSON has no NaN or
// infinity, and encoding/json refuses them, so the evidence maps of the
// reports (diagnose, validate, embed) write such a number as null — a
// missing p-value, a norm past the float64 range — rather than failing
// the whole report.
package jsonnum

import "math"

// Finite returns x, or a copy of it with every NaN or infinite float —
// itself, or in a []float64, map[string]float64 or map[string]any, at any
// depth — replaced by nil. x itself is never changed.
func Finite(x any) any {
	y, _ := finite(x)
	return y
}

// Map is Finite for an evidence map: m itself when it holds no NaN or
// infinite float, else a copy.
func Map(m map[string]any) map[string]any {
	out, _ := finiteMap(m)
	return out
}

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// finite is Finite, also telling whether it built a new value.
func finite(x any) (any, bool) {
	switch x := x.(type) {
	case float64:
		if bad(x) {
			return nil, true
		}
	case float32:
		if bad(float64(x)) {
			return nil, true
		}
	case []float64:
		for _, y := range x {
			if bad(y) {
				out := make([]any, len(x))
				for i, z := range x {
					out[i], _ = finite(z)
				}
				return out, true
			}
		}
	case map[string]float64:
		for _, y := range x {
			if bad(y) {
				m := make(map[string]any, len(x))
				for k, z := range x {
					m[k], _ = finite(z)
				}
				return m, true
			}
		}
	case map[string]any:
		return finiteMap(x)
	}
	return x, false
}

// finiteMap is Map, also telling whether it built a copy.
func finiteMap(m map[string]any) (map[string]any, bool) {
	var out map[string]any
	for k, v := range m {
		w, changed := finite(v)
		if !changed {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		out[k] = w
	}
	if out == nil {
		return m, false
	}
	return out, true
}
