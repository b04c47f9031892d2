package arena

import "github.com/normguard/normguard/internal/hugemap"

// hugePage is the size of a transparent huge page.
const hugePage = hugemap.PageSize

// hugeShare is the share of a mapping, from its start, that is asked to
// be backed by huge pages: storage is sized from an estimate of the rows
// (2% to spare, or the exact count of a Parquet file), and a huge page is
// resident whole once touched, so the tail, which may stay unwritten, is
// left to small pages.
const hugeShare = 0.95

// minHuge is the smallest mapping given huge pages (786,432 values):
// below it the faults saved are few, and on TestFitPeakMemory's 4.8 MB
// columns huge pages raised the peak in 2 of 8 runs (1.65x against at most
// 1.58x the columns).
const minHuge = 3 * hugePage

// mapZeroed maps n bytes of zeroed memory outside the Go heap (hugemap),
// starting on a huge page boundary and with huge pages asked for on its
// first hugeShare when it is at least minHuge. Where nothing is mapped
// (off Linux) it returns nil: the Arena allocates on the Go heap. The
// whole mapping is returned for unmap.
func mapZeroed(n int) (region, mapping []byte, err error) {
	huge := 0
	if n >= minHuge {
		huge = int(float64(n) * hugeShare)
	}
	return hugemap.Map(n, huge)
}

// unmap returns a mapping to the system.
func unmap(b []byte) { hugemap.Unmap(b) }
