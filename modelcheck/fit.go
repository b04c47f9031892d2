package modelcheck

import (
	"fmt"
	"github.com/normguard/normguard/internal/errtext"
	"math"
	"sort"
	"strings"
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
// told apart from 0, so that briefly trained layers are still recognised.
//
// Stored constants (x − c)/s are compared with the artifact's map on its
// output distribution: they agree within tolLoc standard deviations in
// location and a factor 1.25 in scale — constants computed on another
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
		desc := fmt.Sprintf("%s normalizes the model inputs %s; by its running statistics, the %d features it reads had means from %.4g to %.4g and variances from %.4g to %.4g in training", l.Node, errtext.ListPlain(l.ReadsInputs), len(m), mr[0], mr[1], vr[0], vr[1])
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
