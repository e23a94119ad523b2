// Element-wise kernels in C (kernels.c); see kernels.go.

// pcf_adam_args are the float32 constants of one Adam/AdamW step (adamParams in optimizer.go).
struct pcf_adam_args {
	float gscale, l2, decay, b1, b2, step, sbc2, eps;
};

// Instruction-set levels: the best the CPU has, at most SSE2, or plain C (tests compare them).
enum { PCF_AUTO = 0, PCF_SSE2 = 1, PCF_SCALAR = 2 };

int pcf_adam(float *w, const float *g, float *m, float *v, long n, const struct pcf_adam_args *a, int level);
int pcf_sgd(float *w, const float *g, float *buf, long n, float gscale, float wd, float mom, float lr, int first);

// pcf_dense_part computes part[r*ldp + cb*16 + jj] = sum over k in [0, kk) of x[r*ldx + k] times
// wp[cb*wstride + k*wld + jj], for rows r < n and column blocks cb < ncb, accumulating over k in
// order from 0 with one rounding per multiply-add (fused where the CPU has FMA). Each output is
// computed by the same operations whatever n, so a row's result never depends on its batch.
void pcf_dense_part(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride, long wld,
                    float *part, long ldp, int level);
int pcf_dense_fused(int level);
void pcf_dense_ref(const float *x, long ldx, long n, const float *wp, long kk, long ncb, long wstride, long wld,
                   float *part, long ldp, int fused);
// pcf_simd_name names the instruction set pcf_dense_part uses at level: avx2+fma, sse2 or scalar.
const char *pcf_simd_name(int level);
