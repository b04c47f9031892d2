#include "textflag.h"

// func anyInfAVX2(p *float64, n int) bool
// Reports whether any of the n values at p is +Inf or -Inf (|x| == Inf;
// NaN compares unequal).
TEXT ·anyInfAVX2(SB), NOSPLIT, $0-17
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ $0x7fffffffffffffff, AX
	MOVQ AX, X3
	VBROADCASTSD X3, Y3
	MOVQ $0x7ff0000000000000, AX
	MOVQ AX, X4
	VBROADCASTSD X4, Y4
	VXORPD Y5, Y5, Y5
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX

loop8:
	CMPQ AX, DX
	JGE  tail
	VANDPD  (SI)(AX*8), Y3, Y0
	VANDPD  32(SI)(AX*8), Y3, Y1
	VCMPPD  $0, Y4, Y0, Y0
	VCMPPD  $0, Y4, Y1, Y1
	VORPD   Y0, Y5, Y5
	VORPD   Y1, Y5, Y5
	ADDQ    $8, AX
	JMP     loop8

tail:
	CMPQ   AX, CX
	JGE    done
	VMOVSD (SI)(AX*8), X0
	VANDPD X3, X0, X0
	VCMPPD $0, X4, X0, X0
	VORPD  Y0, Y5, Y5
	INCQ   AX
	JMP    tail

done:
	VMOVMSKPD Y5, AX
	VZEROUPPER
	TESTL AX, AX
	SETNE ret+16(FP)
	RET
