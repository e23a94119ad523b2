package model

/*
#cgo CFLAGS: -O2
#cgo LDFLAGS: -lm
#include "kernels.h"
*/
import "C"

import "unsafe"

// CFLAGS sets -O2 explicitly: a CGO_CFLAGS in the environment (scripts/env.sh, the Makefile)
// replaces cgo's default "-g -O2", which would leave this file unoptimised.
//
// The Adam update runs as a SIMD loop in C (kernels.c: AVX2 where the CPU has it, SSE2 otherwise):
// Go compiles it to scalar code, which left the MLP's update (3.5M parameters, a square root and
// two divisions each) at a third of a training step. SGD, cheap already, uses the same C file for
// symmetry. Both compute the same bits as the Go loops they replace (TestKernelsMatchGo keeps
// those as the reference).

func f32p(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// simdLevel selects the instruction set of the C kernels: the CPU's best (0), at most SSE2 (1) or
// plain C (2). Only tests change it.
var simdLevel = C.int(C.PCF_AUTO)

// adamC is adamParams.update in C; it returns true when an updated weight is NaN or infinite.
func adamC(w, g, m, v []float32, p adamParams) bool {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	a := C.struct_pcf_adam_args{gscale: C.float(p.gscale), l2: C.float(p.l2), decay: C.float(p.decay),
		b1: C.float(p.b1), b2: C.float(p.b2), step: C.float(p.step), sbc2: C.float(p.sbc2), eps: C.float(p.eps)}
	return C.pcf_adam(f32p(w), f32p(g), f32p(m), f32p(v), C.long(n), &a, simdLevel) != 0
}

// sgdC is sgdParams.update in C (buf nil: no momentum); it returns true when an updated weight is not finite.
func sgdC(w, g, buf []float32, gscale, wd, mom, lr float32, first bool) bool {
	n := len(w)
	g = g[:n]
	var bp *C.float
	if buf != nil {
		bp = f32p(buf[:n])
	}
	f := C.int(0)
	if first {
		f = 1
	}
	return C.pcf_sgd(f32p(w), f32p(g), bp, C.long(n), C.float(gscale), C.float(wd), C.float(mom), C.float(lr), f) != 0
}

// setSIMDLevel sets simdLevel (tests only).
func setSIMDLevel(level int) { simdLevel = C.int(level) }

// denseCols is the column-block width of the inference dense kernel.
const denseCols = 16

// densePart runs pcf_dense_part: part (n rows of ldp) = x (n rows of ldx, columns [0, kk)) · the
// weight rows [0, kk) of every column block (blocks wstride apart, rows wld apart).
func densePart(x []float32, ldx, n int, w []float32, kk, ncb, wstride, wld int, part []float32, ldp int) {
	_ = x[(n-1)*ldx+kk-1]
	_ = w[(ncb-1)*wstride+(kk-1)*wld+denseCols-1]
	_ = part[(n-1)*ldp+ncb*denseCols-1]
	C.pcf_dense_part(f32p(x), C.long(ldx), C.long(n), f32p(w), C.long(kk), C.long(ncb), C.long(wstride), C.long(wld),
		f32p(part), C.long(ldp), simdLevel)
}

// densePartRef is the scalar C reference of densePart, fused or not (tests only).
func densePartRef(x []float32, ldx, n int, w []float32, kk, ncb, wstride, wld int, part []float32, ldp int, fused bool) {
	f := C.int(0)
	if fused {
		f = 1
	}
	C.pcf_dense_ref(f32p(x), C.long(ldx), C.long(n), f32p(w), C.long(kk), C.long(ncb), C.long(wstride), C.long(wld),
		f32p(part), C.long(ldp), f)
}

// denseFused reports whether densePart fuses multiply-adds on this CPU at the current level.
func denseFused() bool { return C.pcf_dense_fused(simdLevel) != 0 }

// simdName names the instruction set of the C kernels at the current level (see BLASDescription).
func simdName() string { return C.GoString(C.pcf_simd_name(simdLevel)) }
