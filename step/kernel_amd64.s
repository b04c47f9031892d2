#include "textflag.h"

// func subDivAVX2(dst, src *float64, n int, m, s float64)
// dst[i] = (src[i] - m) / s for i < n, four lanes at a time. VSUBPD and
// VDIVPD round each lane exactly as SUBSD and DIVSD do.
TEXT ·subDivAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD m+24(FP), Y1
	VBROADCASTSD s+32(FP), Y2
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
	ADDQ    $8, AX
	JMP     loop8

tail:
	CMPQ   AX, CX
	JGE    done
	VMOVSD (SI)(AX*8), X0
	VSUBSD X1, X0, X0
	VDIVSD X2, X0, X0
	VMOVSD X0, (DI)(AX*8)
	INCQ   AX
	JMP    tail

done:
	VZEROUPPER
	RET

