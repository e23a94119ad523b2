// Element-wise kernels in C (kernels.c); see kernels.go.

// pcf_adam_args are the float32 constants of one Adam/AdamW step (adamParams in optimizer.go).
struct pcf_adam_args {
	float gscale, l2, decay, b1, b2, step, sbc2, eps;
};

// Instruction-set levels: the best the CPU has, at most SSE2, or plain C (tests compare them).
enum { PCF_AUTO = 0, PCF_SSE2 = 1, PCF_SCALAR = 2 };

int pcf_adam(float *w, const float *g, float *m, float *v, long n, const struct pcf_adam_args *a, int level);
int pcf_sgd(float *w, const float *g, float *buf, long n, float gscale, float wd, float mom, float lr, int first);
