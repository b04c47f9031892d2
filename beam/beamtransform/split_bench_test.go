package beamtransform

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkScanLines measures the range scan (both start states) on CSV
// text with and without quotes, at a few sizes.
func BenchmarkScanLines(b *testing.B) {
	for _, quoted := range []bool{false, true} {
		for _, rows := range []int{1_000, 10_000, 100_000} {
			var sb strings.Builder
			for i := range rows {
				note := "plain text"
				if quoted {
					note = `"say ""hi"", then
go"`
				}
				fmt.Fprintf(&sb, "%d,%g,paris,%s,id-%d\n", i, float64(i)/7, note, i)
			}
			data := []byte(sb.String())
			b.Run(fmt.Sprintf("quoted=%v/rows=%d", quoted, rows), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					scanLines(data, ',', false)
				}
			})
		}
	}
}
