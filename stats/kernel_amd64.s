#include "textflag.h"

// func leafShiftedAVX2(xs *float64, n int, shift float64, r *[16]float64) int
// The partial sums of pairwise's leaf over d = x - shift (0 where that is
// NaN) in r[0:8] and over d*d in r[8:16], for n > 0 a multiple of 8; it
// returns the number of x that are not NaN. Lanes 0-3 of Y0/Y4 and Y1/Y5
// are the leaf's r[0..3] and r[4..7]: each starts from its first value and
// adds the next ones in order, as the scalar loop does. VSUBPD, VMULPD and
// VADDPD round each lane exactly as SUBSD, MULSD and ADDSD do; d*d is
// rounded before it is added (no fused multiply-add).
TEXT ·leafShiftedAVX2(SB), NOSPLIT, $0-40
	MOVQ         xs+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD shift+16(FP), Y8
	MOVQ         r+24(FP), DI
	VPXOR        Y9, Y9, Y9            // per-lane counts of NaN x (minus the masks)
	VPXOR        Y10, Y10, Y10

	// x is NaN exactly when x - shift is NaN or shift is: the mask is of d.
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VCMPPD  $3, Y0, Y0, Y11          // unordered: x is NaN
	VCMPPD  $3, Y1, Y1, Y12
	VSUBPD  Y8, Y0, Y0
	VSUBPD  Y8, Y1, Y1
	VCMPPD  $7, Y0, Y0, Y2           // ordered: d is a number
	VCMPPD  $7, Y1, Y1, Y3
	VANDPD  Y2, Y0, Y0
	VANDPD  Y3, Y1, Y1
	VPSUBQ  Y11, Y9, Y9
	VPSUBQ  Y12, Y10, Y10
	VMULPD  Y0, Y0, Y4
	VMULPD  Y1, Y1, Y5
	MOVQ    $8, AX

loop:
	CMPQ    AX, CX
	JGE     done
	VMOVUPD (SI)(AX*8), Y6
	VMOVUPD 32(SI)(AX*8), Y7
	VCMPPD  $3, Y6, Y6, Y11
	VCMPPD  $3, Y7, Y7, Y12
	VSUBPD  Y8, Y6, Y6
	VSUBPD  Y8, Y7, Y7
	VCMPPD  $7, Y6, Y6, Y2
	VCMPPD  $7, Y7, Y7, Y3
	VANDPD  Y2, Y6, Y6
	VANDPD  Y3, Y7, Y7
	VPSUBQ  Y11, Y9, Y9
	VPSUBQ  Y12, Y10, Y10
	VADDPD  Y6, Y0, Y0
	VADDPD  Y7, Y1, Y1
	VMULPD  Y6, Y6, Y6
	VMULPD  Y7, Y7, Y7
	VADDPD  Y6, Y4, Y4
	VADDPD  Y7, Y5, Y5
	ADDQ    $8, AX
	JMP     loop

done:
	VMOVUPD      Y0, (DI)
	VMOVUPD      Y1, 32(DI)
	VMOVUPD      Y4, 64(DI)
	VMOVUPD      Y5, 96(DI)
	VPADDQ       Y10, Y9, Y9           // NaN counts per lane
	VEXTRACTI128 $1, Y9, X10
	VPADDQ       X10, X9, X9
	VPSHUFD      $0x4e, X9, X10
	VPADDQ       X10, X9, X9
	VMOVQ        X9, AX
	SUBQ         AX, CX                // n minus the NaNs
	MOVQ         CX, ret+32(FP)
	VZEROUPPER
	RET

// func columnScanAVX2(xs *float64, n int, r *columnScan)
// For n > 0 a multiple of 4: per lane (values i ≡ lane mod 4) the
// smallest and largest number, the largest |x| and the counts of NaN and
// ±Inf, in r's lane arrays. VMINPD and VMAXPD return their second source
// when the first is NaN: with the running value second, NaN is skipped.
TEXT ·columnScanAVX2(SB), NOSPLIT, $0-24
	MOVQ         xs+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVQ         r+16(FP), DI
	MOVQ         $0x7fffffffffffffff, AX
	MOVQ         AX, X8
	VPBROADCASTQ X8, Y8               // |x| mask
	MOVQ         $0x7ff0000000000000, AX
	MOVQ         AX, X9
	VPBROADCASTQ X9, Y9               // +Inf
	MOVQ         $0xfff0000000000000, AX
	MOVQ         AX, X10
	VPBROADCASTQ X10, Y10             // -Inf
	VMOVAPD      Y9, Y0               // min
	VMOVAPD      Y10, Y1              // max
	VXORPD       Y2, Y2, Y2           // max |x|
	VPXOR        Y3, Y3, Y3           // NaN count (minus the masks)
	VPXOR        Y4, Y4, Y4           // ±Inf count
	XORQ         AX, AX

scan:
	VMOVUPD (SI)(AX*8), Y5
	VANDPD  Y8, Y5, Y6
	VMINPD  Y0, Y5, Y0
	VMAXPD  Y1, Y5, Y1
	VMAXPD  Y2, Y6, Y2
	VCMPPD  $3, Y5, Y5, Y7           // unordered: NaN
	VPSUBQ  Y7, Y3, Y3
	VCMPPD  $0, Y9, Y6, Y7           // |x| == +Inf
	VPSUBQ  Y7, Y4, Y4
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     scan

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VZEROUPPER
	RET
