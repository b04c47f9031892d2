package embed_test

import (
	"fmt"
	"math"

	"github.com/normguard/normguard/embed"
)

// unitCircle returns n unit vectors of dimension 2, scaled by s.
func unitCircle(n int, s float64) embed.Matrix {
	m := embed.Matrix{Rows: n, Dim: 2}
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		m.Data = append(m.Data, s*math.Cos(a), s*math.Sin(a))
	}
	return m
}

// A contract fitted on unit vectors for an inner-product store, then
// vectors that skipped the normalization.
func Example() {
	c, err := embed.Fit(unitCircle(200, 1), embed.FitOptions{Metric: embed.MetricDot, Model: "demo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("dimension", c.Dimension, "unit length", c.UnitLength)

	findings, err := embed.Check(c, unitCircle(50, 3), embed.CheckOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f.Code)
	}
	// Output:
	// dimension 2 unit length true
	// not_normalized
	// metric_mismatch
}

// Directions spread around the whole circle against directions folded
// onto its right half: the MMD test and the domain classifier both tell
// them apart.
func ExampleDrift() {
	ref := unitCircle(400, 1)
	cur := unitCircle(400, 1)
	for i := 0; i < cur.Rows; i++ {
		r := cur.Row(i)
		if r[0] < 0 { // keep only the right half, so the distribution moved
			r[0] = -r[0]
		}
	}
	res, err := embed.Drift(ref, cur, embed.DriftOptions{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("drift %v, p %.4f, domain AUC above 0.7: %v\n", res.Drift, res.MMDPValue, res.DomainAUC > 0.7)
	// Output:
	// drift true, p 0.0050, domain AUC above 0.7: true
}
