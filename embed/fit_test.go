package embed

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFitterBatchesIndependent: the contract is the same, bit for bit,
// whether the rows come at once or in batches of 1, 7 or 333 (and more
// rows than the PCA sample holds, so the reservoir replaces rows).
func TestFitterBatchesIndependent(t *testing.T) {
	g := glove(t)
	var m Matrix
	m.Dim = 100
	for i := 0; i < 2; i++ { // 4,000 rows
		m.Data = append(m.Data, g.Data...)
		m.Rows += g.Rows
	}
	for i := range m.Data[:g.Rows*100] {
		m.Data[i] *= 1.5
	}
	opt := FitOptions{Dtype: DtypeFloat32, Seed: 9, Model: "glove", Revision: "1.1.0"}
	whole, err := Fit(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(whole)
	for _, batch := range []int{1, 7, 333} {
		f, err := NewFitter(100, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < m.Rows; i += batch {
			if err := f.Add(rows(m, i, min(i+batch, m.Rows), 1)); err != nil {
				t.Fatal(err)
			}
		}
		c, err := f.Contract()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(c); string(got) != string(want) {
			t.Errorf("batches of %d: contract differs from the one-batch fit", batch)
		}
	}
	other, _ := Fit(m, FitOptions{Dtype: DtypeFloat32, Seed: 10})
	if reflect.DeepEqual(other.Profile.Sample, whole.Profile.Sample) {
		t.Error("another seed drew the same sample")
	}
}

func TestFitUnitInference(t *testing.T) {
	g := glove(t)
	u := mapRows(rows(g, 0, 300, 1), unitRow)
	c, err := Fit(u, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UnitLength || c.UnitTolerance != DefaultUnitTolerance || c.Metric != MetricCosine || c.Dtype != DtypeFloat64 {
		t.Errorf("unit vectors: unit %v tolerance %v metric %q dtype %q; want true, %v, cosine, float64", c.UnitLength, c.UnitTolerance, c.Metric, c.Dtype, DefaultUnitTolerance)
	}
	// One raw vector among unit ones: not unit; forcing says unit anyway.
	copy(u.Row(5), g.Row(5))
	if c, _ := Fit(u, FitOptions{}); c.UnitLength {
		t.Error("a raw vector among unit ones: inferred unit length")
	}
	yes := true
	if c, _ := Fit(u, FitOptions{Unit: &yes}); !c.UnitLength {
		t.Error("Unit forced true: contract says raw")
	}
	// Declared unit length tolerates a few strays (1 of 300 here) but
	// not fewer than MinUnitShare unit vectors: 4 raw of 300 is 98.7%.
	for i := 6; i < 9; i++ {
		copy(u.Row(i), g.Row(i))
	}
	if _, err := Fit(u, FitOptions{Unit: &yes}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "only 296 of 300") {
		t.Errorf("4 raw among 300 declared unit: err %v, want ErrInvalid naming 296 of 300", err)
	}
	for i := 6; i < 9; i++ {
		copy(u.Row(i), unitRow(i, slices.Clone(g.Row(i))))
	}
	// Zero vectors are counted and left out of the inference.
	clear(u.Row(5))
	c, err = Fit(u, FitOptions{})
	if err != nil || !c.UnitLength || c.Profile.ZeroCount != 1 || c.Profile.Norms.Count != 299 {
		t.Errorf("a zero vector among unit ones: unit %v, zero count %d, norms %d, err %v; want true, 1, 299", c.UnitLength, c.Profile.ZeroCount, c.Profile.Norms.Count, err)
	}
}

func TestFitErrors(t *testing.T) {
	g := glove(t)
	yes := true
	nan := rows(g, 0, 20, 1)
	nan.Data[13*100+4] = math.NaN()
	cases := []struct {
		name string
		m    Matrix
		opt  FitOptions
		want string
	}{
		{"NaN", nan, FitOptions{}, "row 13, dimension 4"},
		{"no rows", Matrix{Dim: 100}, FitOptions{}, "no vectors"},
		{"dtype", rows(g, 0, 5, 1), FitOptions{Dtype: "int8"}, `dtype "int8"`},
		{"metric", rows(g, 0, 5, 1), FitOptions{Metric: "manhattan"}, `metric "manhattan"`},
		{"tolerance", rows(g, 0, 5, 1), FitOptions{UnitTolerance: 2}, "unit tolerance 2"},
		{"sample", rows(g, 0, 5, 1), FitOptions{SampleSize: 5000}, "sample size 5000"},
		{"canary", rows(g, 0, 5, 1), FitOptions{Canaries: []Canary{{ID: "a", Vector: []float64{1}}}}, `id "a": 1 values, want 100`},
		{"malformed", Matrix{Rows: 2, Dim: 3, Data: make([]float64, 4)}, FitOptions{}, "holds 4 values, want 6"},
		// attack run 15 finding 5: raw GloVe vectors (norms 3.5 to 8)
		// declared unit length
		{"dtype the values contradict", rows(g, 0, 5, 1), FitOptions{Dtype: DtypeFloat16}, "dtype float16, but"},
		{"declared unit, raw vectors", rows(g, 0, 200, 1), FitOptions{Unit: &yes}, "unit_length is declared true, but only "},
		{"declared unit, zero vectors", Matrix{Rows: 3, Dim: 100, Data: make([]float64, 300)}, FitOptions{Unit: &yes}, "all 3 vectors are zero"},
		// finding 12: canaries that would not match themselves
		{"zero canary", rows(g, 0, 5, 1), FitOptions{Canaries: []Canary{{ID: "z", Vector: make([]float64, 100)}}}, `id "z": every value is 0`},
		{"overflowing canary", rows(g, 0, 5, 1), FitOptions{Canaries: []Canary{{ID: "big", Vector: slices.Repeat([]float64{1e300}, 100)}}}, `id "big": values too large to compare`},
	}
	for _, c := range cases {
		_, err := Fit(c.m, c.opt)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrInvalid mentioning %q", c.name, err, c.want)
		}
	}
}

// TestContractJSONRoundTrip: a contract read back from JSON checks and
// gives the same findings.
func TestContractJSONRoundTrip(t *testing.T) {
	g := glove(t)
	c, err := Fit(rows(g, 0, 1000, 1), FitOptions{Dtype: DtypeFloat32, Metric: MetricDot,
		Canaries: []Canary{{ID: "the", Vector: slices.Clone(g.Row(0))}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("fitted contract: %v", err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Contract
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil {
		t.Fatalf("decoded contract: %v", err)
	}
	cur := mapRows(rows(g, 1000, 1400, 1), unitRow)
	f1, _ := Check(c, cur, CheckOptions{})
	f2, _ := Check(&back, cur, CheckOptions{})
	if !slices.Equal(codes(f1), codes(f2)) || len(f1) == 0 {
		t.Errorf("findings %v after JSON, %v before; want equal and not empty", codes(f2), codes(f1))
	}
}

func TestContractCheck(t *testing.T) {
	g := glove(t)
	good, err := Fit(rows(g, 0, 200, 1), FitOptions{Canaries: []Canary{{ID: "x", Vector: slices.Clone(g.Row(0))}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field string
		edit  func(c *Contract)
	}{
		{"dimension", func(c *Contract) { c.Dimension = 0 }},
		{"dtype", func(c *Contract) { c.Dtype = "f32" }},
		{"metric", func(c *Contract) { c.Metric = "" }},
		{"unit_tolerance", func(c *Contract) { c.UnitTolerance = math.NaN() }},
		{"profile.count", func(c *Contract) { c.Profile.Count = 0 }},
		{"profile.zero_count", func(c *Contract) { c.Profile.ZeroCount = 500 }},
		{"profile.float16_share", func(c *Contract) { c.Profile.Float16Share = 2 }},
		{"profile.mean", func(c *Contract) { c.Profile.Mean = c.Profile.Mean[:99] }},
		{"profile.mean[3]", func(c *Contract) { c.Profile.Mean[3] = math.Inf(1) }},
		{"profile.std[7]", func(c *Contract) { c.Profile.Std[7] = -1 }},
		{"profile.norms.count", func(c *Contract) { c.Profile.Norms.Count = 3 }},
		{"profile.norms.quantiles[2]", func(c *Contract) { c.Profile.Norms.Quantiles[2] = 0 }},
		{"profile.norms.histogram", func(c *Contract) { c.Profile.Norms.Histogram[0].Count++ }},
		{"profile.components[1].direction", func(c *Contract) { c.Profile.Components[1].Direction[0] += 0.5 }},
		{"profile.components[0].variance", func(c *Contract) { c.Profile.Components[0].Variance = -1 }},
		{"profile.sample[4]", func(c *Contract) { c.Profile.Sample[4] = c.Profile.Sample[4][:10] }},
		{"canaries[1].id", func(c *Contract) { c.Canaries = append(c.Canaries, c.Canaries[0]) }},
		{"canaries[0]", func(c *Contract) { c.Canaries[0].Vector = []float64{1} }},
		// attack run 15 findings 5, 6, 12: values each in range that
		// contradict each other (the contract's norms are 3.5 to 8)
		{"unit_length", func(c *Contract) { c.UnitLength = true }},
		{"profile.norms.min", func(c *Contract) { c.Profile.Norms.Min = c.Profile.Norms.Max + 1 }},
		{"profile.norms.mean", func(c *Contract) { c.Profile.Norms.Mean = 1e308 }},
		{"profile.norms.std", func(c *Contract) { c.Profile.Norms.Std = c.Profile.Norms.Max }},
		{"profile.norms.quantiles[0]", func(c *Contract) { c.Profile.Norms.Quantiles[0] /= 2 }},
		{"profile.norms.quantiles[10]", func(c *Contract) { c.Profile.Norms.Quantiles[10] *= 2 }},
		{"profile.norms.unit_share", func(c *Contract) { c.Profile.Norms.UnitShare = 1 }},
		{"profile.norms.histogram[0]", func(c *Contract) {
			h := c.Profile.Norms.Histogram
			h[0].Lo, h[0].Hi = h[0].Lo/4, h[0].Lo/2
		}},
		{"profile.mean[0]", func(c *Contract) { c.Profile.Mean[0] = 1e6 }},
		{"profile.std[0]", func(c *Contract) { c.Profile.Std[0] = 1e6 }},
		{"profile.total_variance", func(c *Contract) { c.Profile.TotalVariance = 1e10 }},
		{"profile.total_variance", func(c *Contract) { c.Profile.Components[0].Variance = 2 * c.Profile.TotalVariance }},
		{"profile.sample[2]", func(c *Contract) {
			for a := range c.Profile.Sample[2] {
				c.Profile.Sample[2][a] *= 100
			}
		}},
		// attack run 16: a mean vector longer than any fitted vector,
		// spreads of 0, and no principal direction of a covariance not 0
		{"profile.mean", func(c *Contract) {
			for a := range c.Profile.Mean {
				c.Profile.Mean[a] = 2 * c.Profile.Norms.Max / 10
			}
		}},
		{"profile.std", func(c *Contract) { clear(c.Profile.Std) }},
		{"profile.std", func(c *Contract) { c.Profile.Std[0] *= 3 }},
		{"profile.components", func(c *Contract) { c.Profile.Components = nil }},
		{"canaries[0]", func(c *Contract) { clear(c.Canaries[0].Vector) }},
		{"canaries[0]", func(c *Contract) { c.Canaries[0].Vector[0] = 1e300 }},
	}
	for _, tc := range cases {
		var c Contract
		b, _ := json.Marshal(good)
		_ = json.Unmarshal(b, &c)
		tc.edit(&c)
		err := c.Check()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tc.field+": ") {
			t.Errorf("%s: err %v, want a FieldError for that field", tc.field, err)
		}
	}
}

// FuzzContract: any JSON either fails to decode, fails Check, or can be
// used by Check and DriftFromContract without a panic.
func FuzzContract(f *testing.F) {
	g := glove(f)
	c, err := Fit(rows(g, 0, 50, 1), FitOptions{SampleSize: 5, Components: 2})
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(c)
	f.Add(b)
	f.Add([]byte(`{"dimension":2,"dtype":"float64","metric":"l2","unit_tolerance":0.01,"profile":{"count":1,"mean":[0,0],"std":[0,0],"norms":{"count":1,"quantiles":[1,1,1,1,1,1,1,1,1,1,1]}}}`))
	cur := rows(g, 100, 110, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Contract
		if json.Unmarshal(data, &c) != nil || c.Check() != nil {
			return
		}
		if c.Dimension > 1000 {
			return
		}
		m := mapRows(cur, func(_ int, r []float64) []float64 {
			out := make([]float64, c.Dimension)
			copy(out, r)
			return out
		})
		if _, err := Check(&c, m, CheckOptions{}); err != nil {
			t.Fatalf("checked contract: %v", err)
		}
		_, _ = DriftFromContract(&c, m, DriftOptions{Permutations: 5})
	})
}

// FuzzFitCheck: any small matrix either fails to fit with ErrInvalid or
// gives a contract that passes its check and checks any vectors without
// a panic.
func FuzzFitCheck(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(2))
	f.Add(make([]byte, 64), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, dim uint8) {
		d := int(dim%8) + 1
		var vals []float64
		for i := 0; i+2 <= len(data); i += 2 {
			// small integers and their halves, with an occasional NaN or Inf
			v := float64(int8(data[i])) / float64(1+data[i+1]%4)
			switch data[i+1] {
			case 255:
				v = math.NaN()
			case 254:
				v = math.Inf(1)
			}
			vals = append(vals, v)
		}
		rows := len(vals) / d
		m := Matrix{Rows: rows, Dim: d, Data: vals[:rows*d]}
		c, err := Fit(m, FitOptions{SampleSize: 3})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("fit error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if err := c.Check(); err != nil {
			t.Fatalf("fitted contract fails its check: %v", err)
		}
		if _, err := Check(c, m, CheckOptions{}); err != nil {
			t.Fatalf("check of the fitted vectors: %v", err)
		}
	})
}
