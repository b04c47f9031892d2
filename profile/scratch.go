package profile

import "sync"

// A fit profiles many columns one after another; the large buffers each
// one needs for a moment (the grid's sample, its sorted copy, the cell
// table) are pooled instead of left as garbage for the collector to find.
var (
	floatBufs sync.Pool // *[]float64
	rowBufs   sync.Pool // *[]int64
	cellBufs  sync.Pool // *[]uint16
)

// getFloats returns a slice of length 0 and capacity at least n.
func getFloats(n int) []float64 {
	if p, ok := floatBufs.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]float64, 0, n)
}

// putFloats gives a slice from getFloats back.
func putFloats(b []float64) {
	if cap(b) > 0 {
		floatBufs.Put(&b)
	}
}

// getRows returns a slice of length 0 and capacity at least n.
func getRows(n int) []int64 {
	if p, ok := rowBufs.Get().(*[]int64); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]int64, 0, n)
}

// putRows gives a slice from getRows back.
func putRows(b []int64) {
	if cap(b) > 0 {
		rowBufs.Put(&b)
	}
}

// getCells returns a cell table (gridCells+2 entries, contents
// unspecified).
func getCells() []uint16 {
	if p, ok := cellBufs.Get().(*[]uint16); ok {
		return *p
	}
	return make([]uint16, gridCells+2)
}

// putCells gives a table from getCells back; it must no longer be used.
func putCells(b []uint16) {
	if len(b) == gridCells+2 {
		cellBufs.Put(&b)
	}
}

var cellCountBufs sync.Pool // *[]uint32

// getCellCounts returns gridCells+1 zero counts.
func getCellCounts() []uint32 {
	if p, ok := cellCountBufs.Get().(*[]uint32); ok {
		clear(*p)
		return *p
	}
	return make([]uint32, gridCells+1)
}

// putCellCounts gives counts from getCellCounts back.
func putCellCounts(b []uint32) {
	if len(b) == gridCells+1 {
		cellCountBufs.Put(&b)
	}
}
