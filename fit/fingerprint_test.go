package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/table"
)

// rowByRowFingerprint is the fingerprint's definition written plainly:
// each row's hash built column by column, then summed into the lanes.
func rowByRowFingerprint(cols []table.Column, n int) (lane1, lane2 uint64) {
	for i := 0; i < n; i++ {
		h := uint64(0x9e3779b97f4a7c15)
		for j := range cols {
			c := &cols[j]
			seed := uint64(j+1) * 0xbf58476d1ce4e5b9
			if c.Kind == table.String {
				v := uint64(0x5a5a5a5a5a5a5a5a)
				if c.Null == nil || !c.Null[i] {
					v = hashString(c.Str[i])
				}
				h = mix(h ^ mix(v^seed))
				continue
			}
			x := c.Num[i]
			var bits uint64
			switch {
			case math.IsNaN(x):
				bits = 0x7ff8000000000001
			case x == 0:
				bits = 0
			default:
				bits = math.Float64bits(x)
			}
			h = mix(h ^ mix(bits^seed^0x94d049bb133111eb))
		}
		lane1 += mix(h)
		lane2 += mix(h ^ 0xd6e8feb86659fd93)
	}
	return lane1, lane2
}

// TestFingerprintMatchesRowByRow checks the accumulation against
// the plain definition on more rows than a block, with NaNs of several
// payloads and signs, signed zeros, infinities, empty and missing strings.
func TestFingerprintMatchesRowByRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n = 3*2048 + 17
	special := []float64{math.NaN(), math.Copysign(math.NaN(), -1), math.Float64frombits(0x7ff0000000000001),
		0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), 5e-324}
	num := func() table.Column {
		c := table.Column{Name: "x", Kind: table.Numeric, Num: make([]float64, n)}
		for i := range c.Num {
			c.Num[i] = rng.NormFloat64()
			if rng.IntN(5) == 0 {
				c.Num[i] = special[rng.IntN(len(special))]
			}
		}
		return c
	}
	str := func(nulls bool) table.Column {
		c := table.Column{Name: "s", Kind: table.String, Str: make([]string, n)}
		if nulls {
			c.Null = make([]bool, n)
		}
		for i := range c.Str {
			c.Str[i] = fmt.Sprintf("v%d", rng.IntN(50))[:rng.IntN(3)]
			if nulls && rng.IntN(4) == 0 {
				c.Null[i] = true
			}
		}
		return c
	}
	cols := []table.Column{num(), str(true), num(), str(false), num()}
	for _, rows := range []int{0, 1, 2048, n} {
		var f FingerprintAcc
		f.Add(cols, rows)
		l1, l2 := rowByRowFingerprint(cols, rows)
		if f.Lane1 != l1 || f.Lane2 != l2 || f.Rows != int64(rows) {
			t.Errorf("%d rows: lanes %x %x, want %x %x", rows, f.Lane1, f.Lane2, l1, l2)
		}
	}
}

// BenchmarkFingerprint hashes a million rows of 20 numeric columns (1%
// missing) and two string columns, the benchmark table's shape.
func BenchmarkFingerprint(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1_000_000
	var cols []table.Column
	for j := 0; j < 20; j++ {
		c := table.Column{Name: fmt.Sprint("x", j), Kind: table.Numeric, Num: make([]float64, n)}
		for i := range c.Num {
			c.Num[i] = math.Round(rng.NormFloat64()*1e6) / 1e4
			if rng.IntN(100) == 0 {
				c.Num[i] = math.NaN()
			}
		}
		cols = append(cols, c)
	}
	for j, k := range []int{50, 5000} {
		c := table.Column{Name: fmt.Sprint("s", j), Kind: table.String, Str: make([]string, n)}
		for i := range c.Str {
			c.Str[i] = fmt.Sprintf("sku_%05d", rng.IntN(k))
		}
		cols = append(cols, c)
	}
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(cols, n)
	}
}
