package fit

import "golang.org/x/sys/cpu"

// hasAVX512 reports whether the CPU and OS support AVX-512 F and DQ (the
// 64-bit lane multiply the fingerprint's mixing needs).
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

//go:noescape
func hashNumAVX512(h *uint64, xs *float64, n int, seed uint64)

// hashNum sets h[i] = mix(h[i] ^ mix(valueBits(xs[i]) ^ seed)) for every
// row of a block. With AVX-512 it hashes eight rows at a time; every lane
// computes the scalar expression's integer operations, so the bits are
// the same (a test checks).
func hashNum(h []uint64, xs []float64, seed uint64) {
	xs = xs[:len(h)]
	if m := len(h) &^ 7; hasAVX512 && m > 0 {
		hashNumAVX512(&h[0], &xs[0], m, seed)
		h, xs = h[m:], xs[m:]
	}
	hashNumGeneric(h, xs, seed)
}
