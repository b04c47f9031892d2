package embed

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

type synthCase struct {
	name string
	m    Matrix
	want []string
}

// TestCheckSyntheticModels runs the scenarios on generated 384-d vectors
// shaped like a sentence-embedding model's (a common mean, 32 latent
// factors, noise; see synthetic), raw and L2-normalized: Go only, no
// data files, several seeds.
func TestCheckSyntheticModels(t *testing.T) {
	const d = 384
	for seed := uint64(0); seed < 4; seed++ {
		for _, unit := range []bool{true, false} {
			fitM := syntheticModel(1000, d, 100+seed, 1, unit)
			opt := FitOptions{Dtype: DtypeFloat32, Metric: MetricCosine, Seed: seed}
			if unit {
				opt.Metric = MetricDot
			}
			con, err := Fit(fitM, opt)
			if err != nil {
				t.Fatal(err)
			}
			if con.UnitLength != unit {
				t.Fatalf("unit inferred %v, want %v", con.UnitLength, unit)
			}
			fresh := func(n int) Matrix { return syntheticModel(n, d, 200+seed, 1, unit) }
			other := func(n int) Matrix { return syntheticModel(n, d, 300+seed, 2, unit) }
			var raw, normed func(int) Matrix
			raw = func(n int) Matrix {
				m := syntheticModel(n, d, 400+seed, 1, false)
				for i := range m.Data {
					m.Data[i] *= 3 // a raw model output of norm well above 1
				}
				return m
			}
			normed = func(n int) Matrix { return syntheticModel(n, d, 500+seed, 1, true) }
			cases := []synthCase{
				{"clean 50", fresh(50), nil},
				{"clean 1000", fresh(1000), nil},
				{"another model", other(500), []string{CodeModelSwapped}},
				{"rotated", rotate(fresh(500), rotation(d, seed)), []string{CodeModelSwapped}},
				{"float16", mapRows(fresh(300), func(_ int, r []float64) []float64 {
					for i := range r {
						r[i] = roundTo(r[i], 11)
					}
					return r
				}), []string{CodePrecisionLoss}},
				{"NaN", mapRows(fresh(300), func(i int, r []float64) []float64 {
					if i == 7 {
						r[3] = math.NaN()
					}
					return r
				}), []string{CodeNaNVectors}},
			}
			if unit {
				cases = append(cases,
					synthCase{"raw vectors", raw(500), []string{CodeNotNormalized, CodeMetricMismatch}},
					synthCase{"truncated to 64", mapRows(fresh(500), func(_ int, r []float64) []float64 { return r[:64] }), []string{CodeDimensionMismatch, CodeTruncatedNotRenormalized}},
					synthCase{"mixed", mapRows(fresh(500), func(i int, r []float64) []float64 {
						if i%4 == 0 {
							for a := range r {
								r[a] *= 3
							}
						}
						return r
					}), []string{CodeMixedNormalization, CodeMetricMismatch}})
			} else {
				cases = append(cases, synthCase{"normalized", normed(500), []string{CodeNormalizedUnexpectedly}})
			}
			for _, c := range cases {
				t.Run(fmt.Sprintf("seed %d unit %v %s", seed, unit, c.name), func(t *testing.T) {
					fs, err := Check(con, c.m, CheckOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if got := codes(fs); !slices.Equal(got, c.want) {
						t.Errorf("findings %v, want %v", got, c.want)
						for _, f := range fs {
							t.Log(f.Message)
						}
					}
				})
			}
		}
	}
}
