package drift

import (
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/table"
)

func BenchmarkZZAuto20(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var ref, cur []table.Column
	for k := 0; k < 20; k++ {
		x := make([]float64, 1_000_000)
		y := make([]float64, 1_000_000)
		for i := range x {
			x[i] = r.NormFloat64()
			y[i] = r.NormFloat64()
		}
		ref = append(ref, table.Column{Name: string(rune('a' + k)), Kind: table.Numeric, Num: x})
		cur = append(cur, table.Column{Name: string(rune('a' + k)), Kind: table.Numeric, Num: y})
	}
	for b.Loop() {
		if _, err := Compare(ref, cur, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
