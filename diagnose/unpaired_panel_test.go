package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// panel is a country-year table ordered by year (gapminder's layout):
// country, year, a continuous value v and a value m missing for one
// country a year.
type panel struct {
	country, year []string
	v, m          []float64
}

// newPanel lists k countries (c00, c01, ...) in each of the given number
// of years; present says whether country c is listed in year y (nil: all).
func newPanel(seed uint64, k, years int, present func(c, y int) bool) *panel {
	r := rand.New(rand.NewPCG(seed, 3))
	p := &panel{}
	for y := range years {
		for c := range k {
			if present != nil && !present(c, y) {
				continue
			}
			p.country = append(p.country, fmt.Sprintf("c%02d", c))
			p.year = append(p.year, strconv.Itoa(2000+y))
			p.v = append(p.v, 50+10*r.NormFloat64())
			m := 5 + r.NormFloat64()
			if c == y%k {
				m = math.NaN()
			}
			p.m = append(p.m, m)
		}
	}
	return p
}

func (p *panel) csv() string {
	var b strings.Builder
	b.WriteString("country,year,v,m\n")
	for i := range p.country {
		m := "NA"
		if !math.IsNaN(p.m[i]) {
			m = strconv.FormatFloat(p.m[i], 'g', -1, 64)
		}
		fmt.Fprintf(&b, "%s,%s,%v,%s\n", p.country[i], p.year[i], p.v[i], m)
	}
	return b.String()
}

// fitPanel fits a spec of one group on the panel.
func fitPanel(t *testing.T, p *panel, group string) *artifact.Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader(`{"version": 1, "remainder": "drop", "columns": [`+group+`]}`), "spec.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewCSVReader(strings.NewReader(p.csv()), "panel.csv", table.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// transformPanel returns the artifact's output on the panel's rows.
func transformPanel(t *testing.T, a *artifact.Artifact, p *panel) []table.Column {
	t.Helper()
	tr, err := transform.New(a)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]table.Column{
		"country": {Name: "country", Kind: table.String, Str: p.country},
		"v":       {Name: "v", Kind: table.Numeric, Num: p.v},
		"m":       {Name: "m", Kind: table.Numeric, Num: p.m},
	}
	in := &table.Batch{Rows: len(p.country)}
	for _, f := range a.Inputs {
		in.Cols = append(in.Cols, cols[f.Name])
	}
	out := tr.NewOutput()
	if err := tr.Batch(in, out, "panel"); err != nil {
		t.Fatal(err)
	}
	res := make([]table.Column, len(out.Cols))
	for j, c := range out.Cols {
		res[j] = table.Column{Name: a.Outputs[j].Name, Kind: c.Kind, Num: c.Num[:in.Rows]}
	}
	return res
}

// Groups of panelGroups' specs.
const (
	panelCodes   = `{"name": "country", "type": "categorical", "steps": [{"ordinal_encoder": {}}]}`
	panelCodesSS = `{"name": "country", "type": "categorical", "steps": [{"ordinal_encoder": {}}, {"standard_scaler": {}}]}`
	panelCodesMM = `{"name": "country", "type": "categorical", "steps": [{"ordinal_encoder": {}}, {"min_max_scaler": {}}]}`
	panelOneHot  = `{"name": "country", "type": "categorical", "steps": [{"one_hot_encoder": {}}, {"standard_scaler": {}}]}`
	panelMissing = `{"name": "m", "steps": [{"simple_imputer": {"strategy": "median", "add_indicator": true}}, {"standard_scaler": {}}]}`
	panelValue   = `{"name": "v", "steps": [{"robust_scaler": {}}]}`
)

// TestUnpairedPanelOwnOutput: the artifact's own output on its training
// panel is ok, whatever the batches (attack run 30 finding 3). Every year
// lists the same countries, so each year's block of codes is the same
// (scaled or not: a standard scaler's blocks then all have mean 0 and std
// 1, a min-max scaler's all span [0, 1]), and the indicator of m, one
// missing value a year, is the same in every block.
func TestUnpairedPanelOwnOutput(t *testing.T) {
	const k, years = 30, 12
	p := newPanel(1, k, years, nil)
	groups := map[string]string{
		"codes": panelCodes, "standardized codes": panelCodesSS, "min-max codes": panelCodesMM,
		"standardized one-hot": panelOneHot, "standardized indicator": panelMissing + "," + panelValue,
	}
	opts := map[string]UnpairedOptions{"searched": {}, "size": {BatchSize: k}, "keyed": {BatchColumn: p.year}}
	for name, g := range groups {
		a := fitPanel(t, p, g)
		obs := transformPanel(t, a, p)
		for on, opt := range opts {
			t.Run(name+"/"+on, func(t *testing.T) {
				rep, err := Unpaired(a, obs, opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Features) != len(a.Outputs) {
					t.Fatalf("got %d verdicts, want %d", len(rep.Features), len(a.Outputs))
				}
				for _, v := range rep.Features {
					if v.Verdict != OK {
						t.Errorf("%s: got %s (%s; %v), want ok", v.Name, v.Verdict, v.Explanation, v.Evidence)
					}
				}
			})
		}
	}
}

// TestUnpairedPanelUnbalanced: batches that each hold the smallest and
// the largest value once but differ otherwise (the first and last
// countries listed every year, the others in some years only).
func TestUnpairedPanelUnbalanced(t *testing.T) {
	const k, years = 20, 10
	some := func(c, y int) bool { return (c*7+y*3)%5 != 0 }
	opts := map[string]UnpairedOptions{"searched": {}}
	// An ordinal encoder's codes are not judged for fitting per batch:
	// trained with the first and last countries in one year only, and fed
	// them every year, production's codes still span [0, 19] in every
	// year as a min-max scaler fitted per year would give.
	train := newPanel(2, k, years, func(c, y int) bool { return (c != 0 && c != k-1 && some(c, y)) || y == 0 })
	prod := newPanel(3, k, years, func(c, y int) bool { return c == 0 || c == k-1 || some(c, y) })
	codes := fitPanel(t, train, panelCodes)
	opts["keyed"] = UnpairedOptions{BatchColumn: prod.year}
	for on, opt := range opts {
		rep, err := Unpaired(codes, transformPanel(t, codes, prod), opt)
		if err != nil {
			t.Fatal(err)
		}
		if v := rep.Features[0]; v.Verdict == PerBatchStatistics {
			t.Errorf("codes, %s: %s: got %s (%s; %v), want another verdict", on, v.Name, v.Verdict, v.Explanation, v.Evidence)
		}
	}
	// Min-max scaled codes, the artifact's own output on its training
	// panel: the training output holds 0 and 1 once a year too, so a
	// fixed scaling explains every year spanning [0, 1].
	own := newPanel(4, k, years, func(c, y int) bool { return c == 0 || c == k-1 || some(c, y) })
	mm := fitPanel(t, own, panelCodesMM)
	opts["keyed"] = UnpairedOptions{BatchColumn: own.year}
	for on, opt := range opts {
		rep, err := Unpaired(mm, transformPanel(t, mm, own), opt)
		if err != nil {
			t.Fatal(err)
		}
		if v := rep.Features[0]; v.Verdict != OK {
			t.Errorf("min-max codes, %s: %s: got %s (%s; %v), want ok", on, v.Name, v.Verdict, v.Explanation, v.Evidence)
		}
	}
}

// TestUnpairedPanelIndicatorPerBatch: an indicator standardized per batch
// is still found when the batches differ (one to three missing values a
// year), its values then not the training output's two.
func TestUnpairedPanelIndicatorPerBatch(t *testing.T) {
	const k, years = 30, 12
	p := newPanel(3, k, years, nil)
	a := fitPanel(t, p, panelMissing)
	obs := transformPanel(t, a, p)
	ind := -1
	for j, f := range a.Outputs {
		if f.Name == "missingindicator_m" {
			ind = j
		}
	}
	if ind < 0 {
		t.Fatalf("no missingindicator_m among %v", a.Outputs)
	}
	// 1 + y%3 missing values in year y, standardized within the year.
	xs := obs[ind].Num
	for y := range years {
		blk := xs[y*k : (y+1)*k]
		ones := 1 + y%3
		for i := range blk {
			blk[i] = 0
			if i < ones {
				blk[i] = 1
			}
		}
		mean, std := moments(blk)
		for i := range blk {
			blk[i] = (blk[i] - mean) / std
		}
	}
	for on, opt := range map[string]UnpairedOptions{"searched": {}, "size": {BatchSize: k}, "keyed": {BatchColumn: p.year}} {
		rep, err := Unpaired(a, obs, opt)
		if err != nil {
			t.Fatal(err)
		}
		v := rep.Features[ind]
		if v.Verdict != PerBatchStatistics || v.Evidence["batch_size"] != k {
			t.Errorf("%s: %s: got %s, batch_size %v (%v), want %s, %d", on, v.Name, v.Verdict, v.Evidence["batch_size"], v.Evidence, PerBatchStatistics, k)
		}
	}
}
