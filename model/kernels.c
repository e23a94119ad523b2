// Element-wise kernels of the model package that Go cannot vectorise: the optimisers' updates.
//
// They compute exactly what the Go reference loops compute (TestKernelsMatchGo): float32 IEEE
// operations, each rounded, in the same order, with no fused multiply-adds. SIMD lanes round like
// scalar code, so the SSE2 and AVX2 versions give the same bits as the scalar one. Written with
// intrinsics because cgo does not accept the flags (-fno-math-errno, -ffp-contract=off) under
// which the compiler would vectorise the plain loops by itself.

#pragma GCC optimize("fp-contract=off") // even if CGO_CFLAGS enable FMA

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// scalar tails and non-x86 fallbacks -----------------------------------------------------------

static float adam_one(float *w, const float *g, float *m, float *v, const struct pcf_adam_args *a) {
	float wj = *w;
	float gj = *g * a->gscale + a->l2 * wj;
	float mj = a->b1 * *m + (1 - a->b1) * gj;
	float vj = a->b2 * *v + (1 - a->b2) * gj * gj;
	*m = mj;
	*v = vj;
	wj = wj * a->decay - a->step * mj / (sqrtf(vj) / a->sbc2 + a->eps);
	*w = wj;
	return 0 * wj;
}

// adam ------------------------------------------------------------------------------------------

#if defined(__x86_64__)
__attribute__((target("avx2"))) static float adam_avx2(float *w, const float *g, float *m, float *v, long n,
                                                      const struct pcf_adam_args *a, long *done) {
	const __m256 gs = _mm256_set1_ps(a->gscale), l2 = _mm256_set1_ps(a->l2), decay = _mm256_set1_ps(a->decay);
	const __m256 b1 = _mm256_set1_ps(a->b1), b2 = _mm256_set1_ps(a->b2);
	const __m256 ob1 = _mm256_set1_ps(1 - a->b1), ob2 = _mm256_set1_ps(1 - a->b2);
	const __m256 step = _mm256_set1_ps(a->step), sbc2 = _mm256_set1_ps(a->sbc2), eps = _mm256_set1_ps(a->eps);
	const __m256 zero = _mm256_setzero_ps();
	__m256 check = zero;
	long j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 wj = _mm256_loadu_ps(w + j);
		__m256 gj = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j), gs), _mm256_mul_ps(l2, wj));
		__m256 mj = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + j)), _mm256_mul_ps(ob1, gj));
		__m256 vj = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + j)), _mm256_mul_ps(_mm256_mul_ps(ob2, gj), gj));
		_mm256_storeu_ps(m + j, mj);
		_mm256_storeu_ps(v + j, vj);
		__m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vj), sbc2), eps);
		wj = _mm256_sub_ps(_mm256_mul_ps(wj, decay), _mm256_div_ps(_mm256_mul_ps(step, mj), den));
		_mm256_storeu_ps(w + j, wj);
		check = _mm256_add_ps(check, _mm256_mul_ps(zero, wj));
	}
	*done = j;
	float c[8];
	_mm256_storeu_ps(c, check);
	return c[0] + c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7];
}

static float adam_sse2(float *w, const float *g, float *m, float *v, long n, const struct pcf_adam_args *a,
                       long *done) {
	const __m128 gs = _mm_set1_ps(a->gscale), l2 = _mm_set1_ps(a->l2), decay = _mm_set1_ps(a->decay);
	const __m128 b1 = _mm_set1_ps(a->b1), b2 = _mm_set1_ps(a->b2);
	const __m128 ob1 = _mm_set1_ps(1 - a->b1), ob2 = _mm_set1_ps(1 - a->b2);
	const __m128 step = _mm_set1_ps(a->step), sbc2 = _mm_set1_ps(a->sbc2), eps = _mm_set1_ps(a->eps);
	const __m128 zero = _mm_setzero_ps();
	__m128 check = zero;
	long j = 0;
	for (; j + 4 <= n; j += 4) {
		__m128 wj = _mm_loadu_ps(w + j);
		__m128 gj = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(g + j), gs), _mm_mul_ps(l2, wj));
		__m128 mj = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + j)), _mm_mul_ps(ob1, gj));
		__m128 vj = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + j)), _mm_mul_ps(_mm_mul_ps(ob2, gj), gj));
		_mm_storeu_ps(m + j, mj);
		_mm_storeu_ps(v + j, vj);
		__m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vj), sbc2), eps);
		wj = _mm_sub_ps(_mm_mul_ps(wj, decay), _mm_div_ps(_mm_mul_ps(step, mj), den));
		_mm_storeu_ps(w + j, wj);
		check = _mm_add_ps(check, _mm_mul_ps(zero, wj));
	}
	*done = j;
	float c[4];
	_mm_storeu_ps(c, check);
	return c[0] + c[1] + c[2] + c[3];
}
#endif

int pcf_adam(float *w, const float *g, float *m, float *v, long n, const struct pcf_adam_args *a, int level) {
	float check = 0;
	long j = 0;
#if defined(__x86_64__)
	if (level == PCF_AUTO && __builtin_cpu_supports("avx2")) {
		check = adam_avx2(w, g, m, v, n, a, &j);
	} else if (level != PCF_SCALAR) {
		check = adam_sse2(w, g, m, v, n, a, &j);
	}
#endif
	for (; j < n; j++) {
		check += adam_one(w + j, g + j, m + j, v + j, a);
	}
	return check != 0; // NaN exactly when some updated weight is not finite
}

// sgd -------------------------------------------------------------------------------------------

int pcf_sgd(float *w, const float *g, float *buf, long n, float gscale, float wd, float mom, float lr, int first) {
	float check = 0;
	for (long j = 0; j < n; j++) {
		float wj = w[j];
		float gj = g[j] * gscale + wd * wj;
		float bj = gj;
		if (buf) {
			if (!first) {
				bj = mom * buf[j] + gj;
			}
			buf[j] = bj;
		}
		wj -= lr * bj;
		w[j] = wj;
		check += 0 * wj;
	}
	return check != 0;
}

// dense (inference) --------------------------------------------------------------------------------

// dense_scalar is the reference: plain multiply-add (two roundings), or fmaf (one) when fused.
static void dense_scalar(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride,
                         long wld, float *part, long ldp, int fused) {
	for (long r = 0; r < n; r++) {
		for (long cb = 0; cb < ncb; cb++) {
			const float *w = wp + cb * wstride;
			float acc[16] = {0};
			for (long k = 0; k < kk; k++) {
				float xv = x[r * ldx + k];
				for (int jj = 0; jj < 16; jj++) {
					acc[jj] = fused ? fmaf(xv, w[k * wld + jj], acc[jj]) : acc[jj] + xv * w[k * wld + jj];
				}
			}
			memcpy(part + r * ldp + cb * 16, acc, sizeof acc);
		}
	}
}

#if defined(__x86_64__)
// dense_fma: AVX2 with FMA. Groups of 4 rows share each load of a 16-column weight block; single
// rows take 4 column blocks at once, so that enough independent sums are in flight.
__attribute__((target("avx2,fma"))) static void dense_fma(const float *x, long ldx, long n, const float *wp, long kk,
                                                          long ncb, long wstride, long wld, float *part, long ldp) {
	long r = 0;
	for (; r + 4 <= n; r += 4) {
		const float *x0 = x + r * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
		for (long cb = 0; cb < ncb; cb++) {
			const float *w = wp + cb * wstride;
			__m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
			for (long k = 0; k < kk; k++) {
				__m256 wa = _mm256_loadu_ps(w + k * wld), wb = _mm256_loadu_ps(w + k * wld + 8);
				__m256 v = _mm256_broadcast_ss(x0 + k);
				a0 = _mm256_fmadd_ps(v, wa, a0);
				b0 = _mm256_fmadd_ps(v, wb, b0);
				v = _mm256_broadcast_ss(x1 + k);
				a1 = _mm256_fmadd_ps(v, wa, a1);
				b1 = _mm256_fmadd_ps(v, wb, b1);
				v = _mm256_broadcast_ss(x2 + k);
				a2 = _mm256_fmadd_ps(v, wa, a2);
				b2 = _mm256_fmadd_ps(v, wb, b2);
				v = _mm256_broadcast_ss(x3 + k);
				a3 = _mm256_fmadd_ps(v, wa, a3);
				b3 = _mm256_fmadd_ps(v, wb, b3);
			}
			float *p = part + r * ldp + cb * 16;
			_mm256_storeu_ps(p, a0);
			_mm256_storeu_ps(p + 8, b0);
			_mm256_storeu_ps(p + ldp, a1);
			_mm256_storeu_ps(p + ldp + 8, b1);
			_mm256_storeu_ps(p + 2 * ldp, a2);
			_mm256_storeu_ps(p + 2 * ldp + 8, b2);
			_mm256_storeu_ps(p + 3 * ldp, a3);
			_mm256_storeu_ps(p + 3 * ldp + 8, b3);
		}
	}
	for (; r < n; r++) {
		const float *xr = x + r * ldx;
		long cb = 0;
		for (; cb + 4 <= ncb; cb += 4) {
			const float *w0 = wp + cb * wstride, *w1 = w0 + wstride, *w2 = w1 + wstride, *w3 = w2 + wstride;
			__m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
			for (long k = 0; k < kk; k++) {
				__m256 v = _mm256_broadcast_ss(xr + k);
				a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w0 + k * wld), a0);
				b0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w0 + k * wld + 8), b0);
				a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w1 + k * wld), a1);
				b1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w1 + k * wld + 8), b1);
				a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w2 + k * wld), a2);
				b2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w2 + k * wld + 8), b2);
				a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w3 + k * wld), a3);
				b3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w3 + k * wld + 8), b3);
			}
			float *p = part + r * ldp + cb * 16;
			_mm256_storeu_ps(p, a0);
			_mm256_storeu_ps(p + 8, b0);
			_mm256_storeu_ps(p + 16, a1);
			_mm256_storeu_ps(p + 24, b1);
			_mm256_storeu_ps(p + 32, a2);
			_mm256_storeu_ps(p + 40, b2);
			_mm256_storeu_ps(p + 48, a3);
			_mm256_storeu_ps(p + 56, b3);
		}
		for (; cb < ncb; cb++) {
			const float *w = wp + cb * wstride;
			__m256 a0 = _mm256_setzero_ps(), b0 = a0;
			for (long k = 0; k < kk; k++) {
				__m256 v = _mm256_broadcast_ss(xr + k);
				a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + k * wld), a0);
				b0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + k * wld + 8), b0);
			}
			_mm256_storeu_ps(part + r * ldp + cb * 16, a0);
			_mm256_storeu_ps(part + r * ldp + cb * 16 + 8, b0);
		}
	}
}

// dense_sse2: the same loops without FMA (multiply, then add), 4 lanes.
static void dense_sse2(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride,
                       long wld, float *part, long ldp) {
	for (long r = 0; r < n; r++) {
		const float *xr = x + r * ldx;
		for (long cb = 0; cb < ncb; cb++) {
			const float *w = wp + cb * wstride;
			__m128 a = _mm_setzero_ps(), b = a, c = a, d = a;
			for (long k = 0; k < kk; k++) {
				__m128 v = _mm_set1_ps(xr[k]);
				a = _mm_add_ps(a, _mm_mul_ps(v, _mm_loadu_ps(w + k * wld)));
				b = _mm_add_ps(b, _mm_mul_ps(v, _mm_loadu_ps(w + k * wld + 4)));
				c = _mm_add_ps(c, _mm_mul_ps(v, _mm_loadu_ps(w + k * wld + 8)));
				d = _mm_add_ps(d, _mm_mul_ps(v, _mm_loadu_ps(w + k * wld + 12)));
			}
			float *p = part + r * ldp + cb * 16;
			_mm_storeu_ps(p, a);
			_mm_storeu_ps(p + 4, b);
			_mm_storeu_ps(p + 8, c);
			_mm_storeu_ps(p + 12, d);
		}
	}
}
#endif

// pcf_dense_fused reports whether pcf_dense_part fuses multiply-adds at this level.
int pcf_dense_fused(int level) {
#if defined(__x86_64__)
	return level == PCF_AUTO && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return 0;
#endif
}

const char *pcf_simd_name(int level) {
	if (pcf_dense_fused(level)) {
		return "avx2+fma";
	}
#if defined(__x86_64__)
	if (level != PCF_SCALAR) {
		return "sse2";
	}
#endif
	return "scalar";
}

void pcf_dense_part(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride, long wld,
                    float *part, long ldp, int level) {
#if defined(__x86_64__)
	if (pcf_dense_fused(level)) {
		dense_fma(x, ldx, n, wp, kk, ncb, wstride, wld, part, ldp);
		return;
	}
	if (level != PCF_SCALAR) {
		dense_sse2(x, ldx, n, wp, kk, ncb, wstride, wld, part, ldp);
		return;
	}
#endif
	dense_scalar(x, ldx, n, wp, kk, ncb, wstride, wld, part, ldp, 0);
}

// pcf_dense_ref is dense_scalar for tests: fused (fmaf) or not, as pcf_dense_part at that level.
void pcf_dense_ref(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride, long wld,
                   float *part, long ldp, int fused) {
	dense_scalar(x, ldx, n, wp, kk, ncb, wstride, wld, part, ldp, fused);
}
