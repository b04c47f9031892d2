#include "textflag.h"

// func subDivAVX2(dst, src *float64, n int, m, s float64) bool
// dst[i] = (src[i] - m) / s for i < n, four lanes at a time. VSUBPD and
// VDIVPD round each lane exactly as SUBSD and DIVSD do. Reports whether
// any result is +Inf or -Inf (|y| == Inf; NaN compares unequal): the
// check rides along the divisions, which bound the loop's speed.
TEXT ·subDivAVX2(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD m+24(FP), Y1
	VBROADCASTSD s+32(FP), Y2
	MOVQ $0x7fffffffffffffff, AX
	MOVQ AX, X4
	VBROADCASTSD X4, Y4
	MOVQ $0x7ff0000000000000, AX
	MOVQ AX, X5
	VBROADCASTSD X5, Y5
	VXORPD Y6, Y6, Y6
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX

loop8:
	CMPQ AX, DX
	JGE  tail
	VMOVUPD (SI)(AX*8), Y0
	VMOVUPD 32(SI)(AX*8), Y3
	VSUBPD  Y1, Y0, Y0
	VSUBPD  Y1, Y3, Y3
	VDIVPD  Y2, Y0, Y0
	VDIVPD  Y2, Y3, Y3
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y3, 32(DI)(AX*8)
	VANDPD  Y4, Y0, Y7
	VANDPD  Y4, Y3, Y8
	VCMPPD  $0, Y5, Y7, Y7
	VCMPPD  $0, Y5, Y8, Y8
	VORPD   Y7, Y6, Y6
	VORPD   Y8, Y6, Y6
	ADDQ    $8, AX
	JMP     loop8

tail:
	CMPQ   AX, CX
	JGE    done
	VMOVSD (SI)(AX*8), X0
	VSUBSD X1, X0, X0
	VDIVSD X2, X0, X0
	VMOVSD X0, (DI)(AX*8)
	VANDPD X4, X0, X7
	VCMPPD $0, X5, X7, X7
	VORPD  Y7, Y6, Y6
	INCQ   AX
	JMP    tail

done:
	VMOVMSKPD Y6, AX
	VZEROUPPER
	TESTL AX, AX
	SETNE ret+40(FP)
	RET
