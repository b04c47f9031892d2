#include "textflag.h"

// func hashNumAVX512(h *uint64, xs *float64, n int, seed uint64)
// h[i] = mix(h[i] ^ mix(valueBits(xs[i]) ^ seed)) for i < n, n a positive
// multiple of 8, eight lanes at a time: valueBits maps ±0 to 0 and every
// NaN to 0x7ff8000000000001; mix is splitmix64's finalizer, its two
// multiplies the low 64 bits of the product (VPMULLQ), as in Go.
TEXT ·hashNumAVX512(SB), NOSPLIT, $0-32
	MOVQ h+0(FP), DI
	MOVQ xs+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ seed+24(FP), AX
	VPBROADCASTQ AX, Z23
	MOVQ $0x7fffffffffffffff, AX
	VPBROADCASTQ AX, Z20
	MOVQ $0x7ff0000000000000, AX
	VPBROADCASTQ AX, Z21
	MOVQ $0x7ff8000000000001, AX
	VPBROADCASTQ AX, Z22
	MOVQ $0xbf58476d1ce4e5b9, AX
	VPBROADCASTQ AX, Z24
	MOVQ $0x94d049bb133111eb, AX
	VPBROADCASTQ AX, Z25
	XORQ AX, AX

loop:
	VMOVDQU64 (SI)(AX*8), Z0
	VPANDQ    Z20, Z0, Z1          // |x|'s bits
	VPTESTNMQ Z1, Z1, K1           // ±0
	VPCMPGTQ  Z21, Z1, K2          // above +Inf's bits: NaN
	VPXORQ    Z0, Z0, K1, Z0       // ±0 -> 0
	VMOVDQA64 Z22, K2, Z0          // NaN -> the one NaN
	VPXORQ    Z23, Z0, Z0

	VPSRLQ  $30, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z24, Z0, Z0
	VPSRLQ  $27, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z25, Z0, Z0
	VPSRLQ  $31, Z0, Z1
	VPXORQ  Z1, Z0, Z0

	VMOVDQU64 (DI)(AX*8), Z2
	VPXORQ    Z2, Z0, Z0

	VPSRLQ  $30, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z24, Z0, Z0
	VPSRLQ  $27, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VPMULLQ Z25, Z0, Z0
	VPSRLQ  $31, Z0, Z1
	VPXORQ  Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)(AX*8)

	ADDQ $8, AX
	CMPQ AX, CX
	JLT  loop
	VZEROUPPER
	RET

