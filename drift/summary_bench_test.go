package drift

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// benchPlan profiles 100,000 normal values (or categories) and returns a
// plan against it and a current column of n values.
func benchPlan(kind table.Kind, n int) (*SummaryPlan, table.Column) {
	r := rand.New(rand.NewPCG(3, 4))
	ref := table.Column{Name: "x", Kind: kind}
	cur := table.Column{Name: "x", Kind: kind}
	for i := 0; i < 100_000+n; i++ {
		c := &ref
		if i >= 100_000 {
			c = &cur
		}
		if kind == table.String {
			c.Str = append(c.Str, fmt.Sprintf("c%d", int(r.ExpFloat64()*10)))
		} else {
			c.Num = append(c.Num, r.NormFloat64())
		}
	}
	p := profile.Column(&ref)
	return NewSummaryPlan(&p, DefaultBins), cur
}

// BenchmarkSummaryAdd measures adding values to a window summary, the
// monitor's per-row cost (rows per second: n / (ns/op) · 1e9).
func BenchmarkSummaryAdd(b *testing.B) {
	for _, kind := range []table.Kind{table.Numeric, table.String} {
		for _, n := range []int{1_000, 1_000_000} {
			pl, cur := benchPlan(kind, n)
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s := pl.NewSummary()
					s.Add(&cur)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkSummaryMergeEncode measures merging two summaries and encoding
// the result (a replica merge, a checkpoint), and reports the encoded
// size.
func BenchmarkSummaryMergeEncode(b *testing.B) {
	for _, kind := range []table.Kind{table.Numeric, table.String} {
		pl, cur := benchPlan(kind, 100_000)
		s1, s2 := pl.NewSummary(), pl.NewSummary()
		half := cur.Len() / 2
		s1.Add(sliceColumn(&cur, 0, half))
		s2.Add(sliceColumn(&cur, half, cur.Len()))
		b.Run(kind.String(), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				m := s1.Clone()
				if err := m.Merge(s2); err != nil {
					b.Fatal(err)
				}
				enc, err := m.MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				size = len(enc)
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// BenchmarkCompareSummaries measures judging one numeric summary (auto).
func BenchmarkCompareSummaries(b *testing.B) {
	pl, cur := benchPlan(table.Numeric, 100_000)
	s := pl.NewSummary()
	s.Add(&cur)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompareSummaries([]*SummaryPlan{pl}, []*Summary{s}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
