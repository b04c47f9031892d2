package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// catWorld is a generated categorical data set: two one-hot columns (a
// most-frequent imputer first, unknown categories ignored) and two ordinal
// columns (unknown categories coded -1), with random names and categories
// so that no verdict can lean on a name or a position.
type catWorld struct {
	oneHot, ordinal []string // input column names
	cats            map[string][]string
	weights         map[string][]float64
	top             map[string]string // the most frequent training category
	a               *artifact.Artifact
}

// randLabel returns a random label of four letters and a digit (never a
// missing-value token or a number).
func randLabel(r *rand.Rand) string {
	b := make([]byte, 5)
	for i := range 4 {
		b[i] = byte('a' + r.IntN(26))
	}
	b[4] = byte('0' + r.IntN(10))
	return string(b)
}

func newCatWorld(t *testing.T, seed uint64) *catWorld {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	w := &catWorld{cats: map[string][]string{}, weights: map[string][]float64{}, top: map[string]string{}}
	seen := map[string]bool{}
	uniq := func(prefix string) string {
		for {
			s := prefix + randLabel(r)
			if !seen[s] {
				seen[s] = true
				return s
			}
		}
	}
	for range 2 {
		w.oneHot = append(w.oneHot, uniq("h"))
		w.ordinal = append(w.ordinal, uniq("o"))
	}
	for _, col := range append(slices.Clone(w.oneHot), w.ordinal...) {
		k := 3 + r.IntN(3)
		for i := range k {
			w.cats[col] = append(w.cats[col], uniq(""))
			// Distinct weights, none rare: the most frequent category is
			// clear and every category shows up in small samples.
			w.weights[col] = append(w.weights[col], 1+float64(i)*0.7+r.Float64()*0.3)
		}
		sort := slices.Clone(w.cats[col])
		slices.Sort(sort)
		w.cats[col] = sort // the artifact's order (scikit-learn's sorted categories)
		r.Shuffle(len(w.weights[col]), func(i, j int) { w.weights[col][i], w.weights[col][j] = w.weights[col][j], w.weights[col][i] })
	}
	sp := fmt.Sprintf(`{"version": 1, "columns": [
 {"names": ["%s", "%s"], "type": "categorical", "steps": [{"simple_imputer": {"strategy": "most_frequent"}}, {"one_hot_encoder": {"handle_unknown": "ignore"}}]},
 {"names": ["%s", "%s"], "type": "categorical", "steps": [{"ordinal_encoder": {"handle_unknown": "use_encoded_value", "unknown_value": -1}}]}]}`,
		w.oneHot[0], w.oneHot[1], w.ordinal[0], w.ordinal[1])
	s, err := spec.Parse(strings.NewReader(sp), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	train := w.sample(r, 2000)
	for col, vals := range train {
		w.top[col] = mostFrequent(vals)
	}
	var b strings.Builder
	cols := w.columns()
	b.WriteString(strings.Join(cols, ",") + "\n")
	for i := range train[cols[0]] {
		for j, c := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(train[c][i])
		}
		b.WriteByte('\n')
	}
	rd, err := table.NewCSVReader(strings.NewReader(b.String()), "train.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.a, err = fit.Fit(context.Background(), s, rd, fit.Options{}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *catWorld) columns() []string { return append(slices.Clone(w.oneHot), w.ordinal...) }

// sample draws n rows per column, every category at least once.
func (w *catWorld) sample(r *rand.Rand, n int) map[string][]string {
	out := map[string][]string{}
	for _, col := range w.columns() {
		cats, wts := w.cats[col], w.weights[col]
		total := 0.0
		for _, x := range wts {
			total += x
		}
		vals := slices.Clone(cats)
		for len(vals) < n {
			u := r.Float64() * total
			k := 0
			for ; k < len(wts)-1 && u >= wts[k]; k++ {
				u -= wts[k]
			}
			vals = append(vals, cats[k])
		}
		r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		out[col] = vals
	}
	return out
}

// mostFrequent returns the category the most_frequent imputer fills: the
// most frequent in train, the smallest on ties (scikit-learn's
// SimpleImputer).
func mostFrequent(vals []string) string {
	counts := map[string]int{}
	best := ""
	for _, v := range vals {
		counts[v]++
	}
	for v, n := range counts {
		if n > counts[best] || n == counts[best] && v < best {
			best = v
		}
	}
	return best
}

// catBug is a bug planted in one input column's encoding: it may change
// the raw values (unseen categories, missing values) and returns, per
// output column name, the observed values and the expected verdict.
type catBug struct {
	name string
	// plant edits raw in place and returns the observed outputs and the
	// verdict per output; check inspects a verdict's evidence.
	plant func(r *rand.Rand, w *catWorld, col string, raw []string, missing []bool) (map[string][]float64, map[string]string)
	check func(t *testing.T, v Verdict)
}

// oneHotOf encodes raw with categories in order (missing and unseen
// values give zeros), under the output names col_category of the
// artifact's order.
func oneHotOf(col string, raw []string, missing []bool, order []string) map[string][]float64 {
	out := map[string][]float64{}
	for _, c := range order {
		out[col+"_"+c] = make([]float64, len(raw))
	}
	for i, x := range raw {
		if missing[i] {
			continue
		}
		if o, ok := out[col+"_"+x]; ok {
			o[i] = 1
		}
	}
	return out
}

func allVerdicts(col string, cats []string, v string) map[string]string {
	m := map[string]string{}
	for _, c := range cats {
		m[col+"_"+c] = v
	}
	return m
}

var oneHotBugs = []catBug{
	{name: "ok", plant: func(_ *rand.Rand, w *catWorld, col string, raw []string, missing []bool) (map[string][]float64, map[string]string) {
		return oneHotOf(col, raw, missing, w.cats[col]), allVerdicts(col, w.cats[col], OK)
	}},
	{name: "categories permuted", plant: func(r *rand.Rand, w *catWorld, col string, raw []string, missing []bool) (map[string][]float64, map[string]string) {
		cats := w.cats[col]
		perm := r.Perm(len(cats))
		for slices.IsSorted(perm) {
			perm = r.Perm(len(cats))
		}
		// Production's column for category cats[k] is the artifact's
		// column of cats[perm[k]].
		correct := oneHotOf(col, raw, missing, cats)
		obs, want := map[string][]float64{}, map[string]string{}
		for k, c := range cats {
			dst := col + "_" + cats[perm[k]]
			obs[dst] = correct[col+"_"+c]
			want[dst] = OK
			if perm[k] != k {
				want[dst] = ColumnsSwapped + " " + col + "_" + c
			}
		}
		return obs, want
	}},
	{name: "unseen categories to the most frequent column", plant: func(r *rand.Rand, w *catWorld, col string, raw []string, missing []bool) (map[string][]float64, map[string]string) {
		unseen := []string{"zz" + randLabel(r), "zz" + randLabel(r)}
		for i := range raw {
			if r.IntN(8) == 0 || i < 2 {
				raw[i] = unseen[i%2]
			}
		}
		obs := oneHotOf(col, raw, missing, w.cats[col])
		top := col + "_" + w.top[col]
		for i, x := range raw {
			if strings.HasPrefix(x, "zz") {
				obs[top][i] = 1
			}
		}
		want := allVerdicts(col, w.cats[col], OK)
		want[top] = WrongParameters
		return obs, want
	}, check: func(t *testing.T, v Verdict) {
		t.Helper()
		if u, ok := v.Evidence["unseen_categories"].([]any); !ok || len(u) != 2 {
			t.Errorf("%s unseen_categories: got %v, want the 2 unseen labels", v.Name, v.Evidence["unseen_categories"])
		}
		if v.Evidence["observed_value"] != 1.0 || v.Evidence["expected_value"] != 0.0 {
			t.Errorf("%s observed, expected value: got %v, %v, want 1, 0", v.Name, v.Evidence["observed_value"], v.Evidence["expected_value"])
		}
	}},
	{name: "missing filled with another category", plant: func(r *rand.Rand, w *catWorld, col string, raw []string, missing []bool) (map[string][]float64, map[string]string) {
		top := w.top[col]
		other := w.cats[col][0]
		if other == top {
			other = w.cats[col][1]
		}
		for i := range raw {
			if r.IntN(6) == 0 || i < 2 {
				missing[i], raw[i] = true, ""
			}
		}
		filled := slices.Clone(raw)
		present := make([]bool, len(raw))
		for i := range filled {
			if missing[i] {
				filled[i] = other
			}
		}
		want := allVerdicts(col, w.cats[col], OK)
		want[col+"_"+top] = ImputeOrder
		want[col+"_"+other] = ImputeOrder
		return oneHotOf(col, filled, present, w.cats[col]), want
	}, check: func(t *testing.T, v Verdict) {
		t.Helper()
		if _, ok := v.Evidence["fitted_fill_value"].(string); !ok {
			t.Errorf("%s fitted_fill_value: got %v, want the most frequent category", v.Name, v.Evidence["fitted_fill_value"])
		}
	}},
}

var ordinalBugs = []catBug{
	{name: "ok", plant: func(_ *rand.Rand, w *catWorld, col string, raw []string, _ []bool) (map[string][]float64, map[string]string) {
		return map[string][]float64{col: ordinalOf(raw, w.cats[col], -1)}, map[string]string{col: OK}
	}},
	{name: "codes remapped", plant: func(r *rand.Rand, w *catWorld, col string, raw []string, _ []bool) (map[string][]float64, map[string]string) {
		perm := r.Perm(len(w.cats[col]))
		for slices.IsSorted(perm) {
			perm = r.Perm(len(w.cats[col]))
		}
		order := make([]string, len(perm))
		for k, p := range perm {
			order[p] = w.cats[col][k] // category k gets code perm[k]
		}
		return map[string][]float64{col: ordinalOf(raw, order, -1)}, map[string]string{col: WrongParameters + " remap"}
	}},
	{name: "unseen coded NaN", plant: func(r *rand.Rand, w *catWorld, col string, raw []string, _ []bool) (map[string][]float64, map[string]string) {
		for i := range raw {
			if r.IntN(8) == 0 || i == 0 {
				raw[i] = "zz" + randLabel(r)
			}
		}
		return map[string][]float64{col: ordinalOf(raw, w.cats[col], math.NaN())}, map[string]string{col: WrongParameters}
	}},
}

// ordinalOf codes raw by position in order; values not in order get unk.
func ordinalOf(raw []string, order []string, unk float64) []float64 {
	out := make([]float64, len(raw))
	for i, x := range raw {
		out[i] = unk
		if k := slices.Index(order, x); k >= 0 {
			out[i] = float64(k)
		}
	}
	return out
}

// TestPairedCategorical plants one bug per encoder input column, in
// varied columns over 40 seeds and two sample sizes (50 and 600 rows),
// and checks every output column's verdict (and partner or mapping).
func TestPairedCategorical(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		for _, n := range []int{50, 600} {
			t.Run(fmt.Sprintf("seed%d/rows%d", seed, n), func(t *testing.T) {
				w := newCatWorld(t, seed)
				r := rand.New(rand.NewPCG(seed, uint64(n)))
				prod := w.sample(r, n)
				raw := []table.Column{}
				obs := map[string][]float64{}
				want := map[string]string{}
				planted := map[string]catBug{}
				for i, col := range w.columns() {
					bugs := oneHotBugs
					if i >= len(w.oneHot) {
						bugs = ordinalBugs
					}
					bug := bugs[(int(seed)+i)%len(bugs)]
					vals := prod[col]
					missing := make([]bool, n)
					o, wv := bug.plant(r, w, col, vals, missing)
					for k, v := range o {
						obs[k] = v
					}
					for k, v := range wv {
						want[k] = v
						planted[k] = bug
					}
					c := table.Column{Name: col, Kind: table.String, Str: vals}
					if slices.Contains(missing, true) {
						c.Null = missing
					}
					raw = append(raw, c)
				}
				var observed []table.Column
				for name, v := range obs {
					observed = append(observed, table.Column{Name: name, Kind: table.Numeric, Num: v})
				}
				rep, err := Paired(w.a, raw, observed, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Features) != len(want) {
					t.Fatalf("got %d features, want %d", len(rep.Features), len(want))
				}
				for _, v := range rep.Features {
					verdict, detail, _ := strings.Cut(want[v.Name], " ")
					bug := planted[v.Name]
					if v.Verdict != verdict {
						t.Errorf("%s (bug %q): got %s (%s; %v), want %s", v.Name, bug.name, v.Verdict, v.Explanation, v.Evidence, verdict)
						continue
					}
					switch {
					case verdict == ColumnsSwapped && v.Evidence["partner"] != detail:
						t.Errorf("%s partner: got %v, want %s", v.Name, v.Evidence["partner"], detail)
					case detail == "remap":
						checkRemap(t, v, obs[v.Name], raw)
					}
					if bug.check != nil && verdict != OK {
						bug.check(t, v)
					}
					if verdict != OK && (v.Explanation == "" || v.Fix == "") {
						t.Errorf("%s: got explanation %q and fix %q, want both", v.Name, v.Explanation, v.Fix)
					}
				}
			})
		}
	}
}

// checkRemap checks the implied mapping in the evidence is the planted
// one: each raw category's observed code.
func checkRemap(t *testing.T, v Verdict, obs []float64, raw []table.Column) {
	t.Helper()
	m, ok := v.Evidence["mapping"].(map[string]float64)
	if !ok {
		t.Fatalf("%s mapping: got %T, want map[string]float64", v.Name, v.Evidence["mapping"])
	}
	col := raw[slices.IndexFunc(raw, func(c table.Column) bool { return c.Name == v.Name })]
	for i, x := range col.Str {
		if m[x] != obs[i] {
			t.Fatalf("%s mapping[%q]: got %v, want %v", v.Name, x, m[x], obs[i])
		}
	}
}

// TestUnpairedOneHotPermuted permutes the one-hot columns of one input
// (5,000 rows, no raw rows): every moved column whose new category's
// share is 8 points from every other column's is columns_swapped with the
// right partner, no column gets a wrong partner, and the other inputs'
// columns stay ok.
func TestUnpairedOneHotPermuted(t *testing.T) {
	for seed := uint64(0); seed < 12; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			w := newCatWorld(t, seed)
			r := rand.New(rand.NewPCG(seed, 5))
			prod := w.sample(r, 5000)
			obs := map[string][]float64{}
			want := map[string]string{}
			for i, col := range w.columns() {
				bug := oneHotBugs[0] // ok
				if i == int(seed)%2 {
					bug = oneHotBugs[1] // categories permuted
				}
				if i >= len(w.oneHot) {
					bug = ordinalBugs[0]
				}
				o, wv := bug.plant(r, w, col, prod[col], make([]bool, len(prod[col])))
				for k, v := range o {
					obs[k] = v
				}
				for k, v := range wv {
					want[k] = v
				}
			}
			var observed []table.Column
			for name, v := range obs {
				observed = append(observed, table.Column{Name: name, Kind: table.Numeric, Num: v})
			}
			rep, err := Unpaired(w.a, observed, UnpairedOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// share is each one-hot column's training probability of a 1
			// (its category's weight over the total).
			share := map[string]float64{}
			for _, col := range w.oneHot {
				total := 0.0
				for _, x := range w.weights[col] {
					total += x
				}
				for k, c := range w.cats[col] {
					share[col+"_"+c] = w.weights[col][k] / total
				}
			}
			// A moved column must be found when its new category's share is
			// 8 points from its own and from every other column's (the
			// tolerance at these sizes is 3.5 standard errors, about 3.5
			// points, on top of the training sample's own error).
			const clearGap = 0.08
			clear := func(name, partner string) bool {
				for other, p := range share {
					if other != partner && strings.HasPrefix(other, strings.SplitN(partner, "_", 2)[0]+"_") && math.Abs(p-share[partner]) <= clearGap {
						return false
					}
				}
				return math.Abs(share[name]-share[partner]) > clearGap
			}
			for _, v := range rep.Features {
				verdict, partner, _ := strings.Cut(want[v.Name], " ")
				switch {
				case verdict == OK && v.Verdict != OK:
					t.Errorf("%s: got %s (%s), want ok", v.Name, v.Verdict, v.Explanation)
				case v.Verdict == ColumnsSwapped && v.Evidence["partner"] != partner:
					t.Errorf("%s partner: got %v, want %s", v.Name, v.Evidence["partner"], partner)
				case verdict == ColumnsSwapped && clear(v.Name, partner) && v.Verdict != ColumnsSwapped:
					t.Errorf("%s (share %.3f, holding %s's %.3f): got %s, want columns_swapped", v.Name, share[v.Name], partner, share[partner], v.Verdict)
				}
			}
		})
	}
}

// TestPairedNotEncoded feeds one one-hot input and one ordinal input as
// their raw text: every output of theirs is not_normalized naming the
// text column; the others stay ok. Text that is not the raw rows is an
// error, as a missing column is.
func TestPairedNotEncoded(t *testing.T) {
	for seed := uint64(0); seed < 4; seed++ {
		w := newCatWorld(t, seed)
		r := rand.New(rand.NewPCG(seed, 9))
		prod := w.sample(r, 60)
		textOneHot, textOrdinal := w.oneHot[seed%2], w.ordinal[seed%2]
		var raw, observed []table.Column
		want := map[string]string{}
		for i, col := range w.columns() {
			c := table.Column{Name: col, Kind: table.String, Str: prod[col]}
			raw = append(raw, c)
			if col == textOneHot || col == textOrdinal {
				observed = append(observed, c) // the text itself
				for name := range encodeCorrectly(w, col, prod[col], i < len(w.oneHot)) {
					want[name] = NotNormalized
				}
				continue
			}
			for name, v := range encodeCorrectly(w, col, prod[col], i < len(w.oneHot)) {
				observed = append(observed, table.Column{Name: name, Kind: table.Numeric, Num: v})
				want[name] = OK
			}
		}
		rep, err := Paired(w.a, raw, observed, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Features) != len(want) {
			t.Fatalf("seed %d: got %d features, want %d", seed, len(rep.Features), len(want))
		}
		for _, v := range rep.Features {
			if v.Verdict != want[v.Name] {
				t.Errorf("seed %d: %s: got %s (%s), want %s", seed, v.Name, v.Verdict, v.Explanation, want[v.Name])
			}
			if v.Verdict == NotNormalized && v.Evidence["observed_column"] != textOneHot && v.Evidence["observed_column"] != textOrdinal {
				t.Errorf("seed %d: %s observed_column: got %v, want %s or %s", seed, v.Name, v.Evidence["observed_column"], textOneHot, textOrdinal)
			}
		}
		// Text other than the raw rows is not explained: an error.
		for i := range observed {
			if observed[i].Kind == table.String {
				observed[i].Str = slices.Clone(observed[i].Str)
				observed[i].Str[0] += "x"
			}
		}
		if _, err := Paired(w.a, raw, observed, nil); err == nil {
			t.Errorf("seed %d: altered text: got no error, want one", seed)
		}
	}
}

// encodeCorrectly encodes raw as the artifact does: one-hot columns when oneHot, else the
// ordinal codes.
func encodeCorrectly(w *catWorld, col string, raw []string, oneHot bool) map[string][]float64 {
	if oneHot {
		return oneHotOf(col, raw, make([]bool, len(raw)), w.cats[col])
	}
	return map[string][]float64{col: ordinalOf(raw, w.cats[col], -1)}
}
