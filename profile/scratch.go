package profile

import "github.com/normguard/normguard/internal/slicepool"

// A fit profiles many columns one after another; the large buffers each
// one needs for a moment (the grid's sample, its sorted copy, the cell
// table) are pooled instead of left as garbage for the collector to find.
var (
	floatBufs     slicepool.Pool[float64]
	rowBufs       slicepool.Pool[int64]
	cellBufs      slicepool.Pool[uint16]
	cellCountBufs slicepool.Pool[uint32]
)

// getFloats returns a slice of length 0 and capacity at least n.
func getFloats(n int) []float64 { return floatBufs.Get(n) }

// putFloats gives a slice from getFloats back.
func putFloats(b []float64) { floatBufs.Put(b) }

// getRows returns a slice of length 0 and capacity at least n.
func getRows(n int) []int64 { return rowBufs.Get(n) }

// putRows gives a slice from getRows back.
func putRows(b []int64) { rowBufs.Put(b) }

// getCells returns a cell table (gridCells+2 entries, contents
// unspecified).
func getCells() []uint16 { return cellBufs.Get(gridCells + 2)[:gridCells+2] }

// putCells gives a table from getCells back; it must no longer be used.
func putCells(b []uint16) {
	if len(b) == gridCells+2 {
		cellBufs.Put(b)
	}
}

// getCellCounts returns gridCells+1 zero counts.
func getCellCounts() []uint32 {
	b := cellCountBufs.Get(gridCells + 1)[:gridCells+1]
	clear(b)
	return b
}

// putCellCounts gives counts from getCellCounts back.
func putCellCounts(b []uint32) {
	if len(b) == gridCells+1 {
		cellCountBufs.Put(b)
	}
}
