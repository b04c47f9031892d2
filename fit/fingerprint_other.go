//go:build !amd64

package fit

// hashNum sets h[i] = mix(h[i] ^ mix(valueBits(xs[i]) ^ seed)).
func hashNum(h []uint64, xs []float64, seed uint64) { hashNumGeneric(h, xs[:len(h)], seed) }
