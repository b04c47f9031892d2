package fit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/normguard/normguard/table"
)

// FingerprintAcc accumulates the fingerprint of a table: a multiset hash
// of its rows. Each row is hashed from its cells (column position, kind,
// value bits or bytes, missingness); the row hashes are summed in two
// independent 64-bit lanes. Sums commute, so the fingerprint does not
// depend on row order or on how rows are split into chunks, files or
// machines, and accumulators merge by addition. It identifies content for
// change detection; it is not a cryptographic commitment.
type FingerprintAcc struct {
	Rows  int64
	Lane1 uint64
	Lane2 uint64
}

// fingerprintBlock is how many rows Add hashes through every column
// before the next ones: their running hashes stay in the first-level
// cache instead of going to memory and back once per column.
const fingerprintBlock = 2048

// Add accumulates rows [0, n) of cols.
func (f *FingerprintAcc) Add(cols []table.Column, n int) {
	var buf [fingerprintBlock]uint64
	for lo := 0; lo < n; lo += fingerprintBlock {
		hi := min(n, lo+fingerprintBlock)
		h := buf[:hi-lo]
		for i := range h {
			h[i] = 0x9e3779b97f4a7c15
		}
		for j := range cols {
			c := &cols[j]
			seed := uint64(j+1) * 0xbf58476d1ce4e5b9
			if c.Kind != table.String {
				hashNum(h, c.Num[lo:hi], seed^0x94d049bb133111eb)
				continue
			}
			for i, s := range c.Str[lo:hi] {
				v := uint64(0x5a5a5a5a5a5a5a5a)
				if c.Null == nil || !c.Null[lo+i] {
					v = hashString(s)
				}
				h[i] = mix(h[i] ^ mix(v^seed))
			}
		}
		for _, r := range h {
			f.Lane1 += mix(r)
			f.Lane2 += mix(r ^ 0xd6e8feb86659fd93)
		}
	}
	f.Rows += int64(n)
}

// hashNumGeneric is hashNum in Go.
func hashNumGeneric(h []uint64, xs []float64, seed uint64) {
	for i, x := range xs {
		h[i] = mix(h[i] ^ mix(valueBits(x)^seed))
	}
}

// valueBits is what a numeric cell contributes: its bits, but one
// pattern for every NaN (every NaN is one missing value) and 0 for both
// zeros (-0 == 0).
func valueBits(x float64) uint64 {
	switch {
	case math.IsNaN(x):
		return 0x7ff8000000000001
	case x == 0:
		return 0
	}
	return math.Float64bits(x)
}

// Merge adds another accumulator's rows.
func (f *FingerprintAcc) Merge(o *FingerprintAcc) {
	f.Rows += o.Rows
	f.Lane1 += o.Lane1
	f.Lane2 += o.Lane2
}

// Sum returns the fingerprint as "sha256:<hex>" of the column names, kinds,
// row count and lanes.
func (f *FingerprintAcc) Sum(cols []table.Column) string {
	hh := sha256.New()
	for _, c := range cols {
		hh.Write([]byte(c.Name))
		hh.Write([]byte{0, byte(c.Kind)})
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(f.Rows))
	binary.LittleEndian.PutUint64(b[8:], f.Lane1)
	binary.LittleEndian.PutUint64(b[16:], f.Lane2)
	hh.Write(b[:])
	return "sha256:" + hex.EncodeToString(hh.Sum(nil))
}

// Fingerprint returns the fingerprint of rows [0, n) of cols.
func Fingerprint(cols []table.Column, n int) string {
	var f FingerprintAcc
	f.Add(cols, n)
	return f.Sum(cols)
}

// mix is the splitmix64 finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is 64-bit FNV-1a.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
