package model

import (
	"fmt"
	"math"
)

// OptimizerConfig selects the optimiser and its hyperparameters; zero fields take the PyTorch
// defaults in Defaults (Adam/AdamW betas 0.9 and 0.999, eps 1e-8; learning rate 1e-3).
// WeightDecay is an L2 term added to the gradient for "adam" and "sgd" and a decoupled decay
// (w ← w·(1 − lr·wd)) for "adamw", exactly as in PyTorch; it is 0 unless set.
type OptimizerConfig struct {
	// Name is "adam" (default), "adamw" or "sgd".
	Name string `json:"name"`
	// LearningRate is the initial learning rate (default 1e-3).
	LearningRate float64 `json:"learning_rate"`
	// Momentum is SGD's momentum in [0,1) (0: plain SGD).
	Momentum float64 `json:"momentum,omitempty"`
	// WeightDecay is the L2 (adam, sgd) or decoupled (adamw) weight decay.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Beta1, Beta2 and Eps are Adam's moment decays and denominator term.
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	Eps   float64 `json:"eps,omitempty"`
}

// Defaults returns a copy with unset fields filled in.
func (o OptimizerConfig) Defaults() OptimizerConfig {
	if o.Name == "" {
		o.Name = "adam"
	}
	if o.LearningRate == 0 {
		o.LearningRate = 1e-3
	}
	if o.Name == "adam" || o.Name == "adamw" {
		if o.Beta1 == 0 {
			o.Beta1 = 0.9
		}
		if o.Beta2 == 0 {
			o.Beta2 = 0.999
		}
		if o.Eps == 0 {
			o.Eps = 1e-8
		}
	}
	return o
}

// Validate reports an unknown optimiser name or an out-of-range hyperparameter.
func (o OptimizerConfig) Validate() error {
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch o.Name {
	case "adam", "adamw", "sgd":
	default:
		return fmt.Errorf("optimizer %q is not one of adam, adamw, sgd", o.Name)
	}
	if !(o.LearningRate > 0) || !fin(o.LearningRate) {
		return fmt.Errorf("optimizer.learning_rate %v must be positive", o.LearningRate)
	}
	if !(o.Momentum >= 0 && o.Momentum < 1) {
		return fmt.Errorf("optimizer.momentum %v is not in [0,1)", o.Momentum)
	}
	if !(o.WeightDecay >= 0) || !fin(o.WeightDecay) {
		return fmt.Errorf("optimizer.weight_decay %v must be >= 0", o.WeightDecay)
	}
	if o.Name != "sgd" {
		if !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1) {
			return fmt.Errorf("optimizer betas (%v, %v) must be in [0,1)", o.Beta1, o.Beta2)
		}
		if !(o.Eps > 0) {
			return fmt.Errorf("optimizer.eps %v must be positive", o.Eps)
		}
	} else if o.Beta1 != 0 || o.Beta2 != 0 || o.Eps != 0 {
		return fmt.Errorf("optimizer: beta1, beta2 and eps belong to adam/adamw, not sgd")
	}
	return nil
}

// optimizer updates parameters in place. Its state (moment buffers, step count) is checkpointed.
type optimizer struct {
	cfg OptimizerConfig
	// t counts the updates done (Adam's bias-correction step).
	t int64
	// m and v are Adam's first and second moments, or m is SGD's momentum buffer; one per parameter.
	m, v [][]float32
}

func newOptimizer(cfg OptimizerConfig, sizes []int) *optimizer {
	o := &optimizer{cfg: cfg}
	alloc := func() [][]float32 {
		b := make([][]float32, len(sizes))
		for i, n := range sizes {
			b[i] = make([]float32, n)
		}
		return b
	}
	switch cfg.Name {
	case "adam", "adamw":
		o.m, o.v = alloc(), alloc()
	case "sgd":
		if cfg.Momentum > 0 {
			o.m = alloc()
		}
	}
	return o
}

// buffers returns the state tensors in a fixed order with their checkpoint names.
func (o *optimizer) buffers(names []string) (out []namedBuf) {
	for i, b := range o.m {
		out = append(out, namedBuf{"opt.m/" + names[i], b})
	}
	for i, b := range o.v {
		out = append(out, namedBuf{"opt.v/" + names[i], b})
	}
	return out
}

// optBlock is the number of values one optimiser task updates. The update is element-wise, so
// the split changes nothing but the speed.
const optBlock = 1 << 15

// update applies one step at learning rate lr to every parameter w[i] with gradient g[i], the
// gradients first scaled by gscale (gradient clipping). It leaves the gradients unchanged, runs
// on the kernel threads, and returns false when an updated weight is NaN or infinite.
func (o *optimizer) update(lr float64, gscale float32, w, g [][]float32) bool {
	return o.updateWith(lr, gscale, w, g, true)
}

// updateWith is update with the C kernels (useC) or the Go reference loops.
func (o *optimizer) updateWith(lr float64, gscale float32, w, g [][]float32, useC bool) bool {
	o.t++
	type task struct{ i, lo, hi int }
	var tasks []task
	for i := range w {
		for lo := 0; lo < len(w[i]); lo += optBlock {
			tasks = append(tasks, task{i, lo, min(lo+optBlock, len(w[i]))})
		}
	}
	bad := make([]bool, len(tasks))
	adam := o.cfg.Name == "adam" || o.cfg.Name == "adamw"
	var ap adamParams
	var sp sgdParams
	if adam {
		ap = o.adamParams(lr, gscale)
	} else {
		sp = o.sgdParams(lr, gscale)
	}
	parallelTasks(len(tasks), func(_, k int) {
		tk := tasks[k]
		wk, gk := w[tk.i][tk.lo:tk.hi], g[tk.i][tk.lo:tk.hi]
		switch {
		case adam && useC:
			bad[k] = adamC(wk, gk, o.m[tk.i][tk.lo:tk.hi], o.v[tk.i][tk.lo:tk.hi], ap)
		case adam:
			bad[k] = ap.update(wk, gk, o.m[tk.i][tk.lo:tk.hi], o.v[tk.i][tk.lo:tk.hi])
		default:
			var buf []float32
			if o.m != nil {
				buf = o.m[tk.i][tk.lo:tk.hi]
			}
			if useC {
				bad[k] = sgdC(wk, gk, buf, sp.gscale, sp.wd, sp.mom, sp.lr, sp.first)
			} else {
				bad[k] = sp.update(wk, gk, buf)
			}
		}
	})
	for _, b := range bad {
		if b {
			return false
		}
	}
	return true
}

// adamParams are the float32 constants of one Adam/AdamW step.
type adamParams struct {
	gscale, l2, decay, b1, b2, step, sbc2, eps float32
}

// adamParams computes PyTorch's Adam (L2 weight decay) or AdamW (decoupled decay) constants for
// the current step o.t.
func (o *optimizer) adamParams(lr float64, gscale float32) adamParams {
	c := o.cfg
	p := adamParams{gscale: gscale, b1: float32(c.Beta1), b2: float32(c.Beta2), eps: float32(c.Eps), decay: 1}
	bc1 := 1 - math.Pow(c.Beta1, float64(o.t))
	bc2 := 1 - math.Pow(c.Beta2, float64(o.t))
	p.step = float32(lr / bc1)
	p.sbc2 = float32(math.Sqrt(bc2))
	if c.Name == "adamw" {
		p.decay = float32(1 - lr*c.WeightDecay)
	} else {
		p.l2 = float32(c.WeightDecay)
	}
	return p
}

// update is the Go reference of the Adam update (adamC computes the same in C); it returns true
// when an updated weight is NaN or infinite.
func (p adamParams) update(w, g, m, v []float32) bool {
	m, v, g = m[:len(w)], v[:len(w)], g[:len(w)]
	var check float32
	for j, wj := range w {
		gj := g[j]*p.gscale + p.l2*wj
		mj := p.b1*m[j] + (1-p.b1)*gj
		vj := p.b2*v[j] + (1-p.b2)*gj*gj
		m[j], v[j] = mj, vj
		wj = wj*p.decay - p.step*mj/(sqrt32(vj)/p.sbc2+p.eps)
		w[j] = wj
		check += 0 * wj // NaN exactly when some weight is not finite
	}
	return check != 0
}

// sgdParams are the float32 constants of one SGD step.
type sgdParams struct {
	gscale, wd, mom, lr float32
	first               bool
}

// sgdParams computes PyTorch's SGD (optional momentum, dampening 0, no Nesterov, L2 weight decay)
// constants for the current step.
func (o *optimizer) sgdParams(lr float64, gscale float32) sgdParams {
	c := o.cfg
	return sgdParams{gscale: gscale, wd: float32(c.WeightDecay), mom: float32(c.Momentum), lr: float32(lr), first: o.t == 1}
}

// update is the Go reference of the SGD update (buf nil: no momentum); sgdC computes the same.
func (p sgdParams) update(w, g, buf []float32) bool {
	g = g[:len(w)]
	var check float32
	for j, wj := range w {
		gj := g[j]*p.gscale + p.wd*wj
		bj := gj
		if buf != nil {
			if !p.first {
				bj = p.mom*buf[j] + gj
			}
			buf[j] = bj
		}
		wj -= p.lr * bj
		w[j] = wj
		check += 0 * wj
	}
	return check != 0
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// clipScale returns PyTorch's clip_grad_norm_ coefficient for a global norm: maxNorm/(norm+1e-6)
// when that is below 1, otherwise 1 (no clipping); maxNorm <= 0 disables clipping.
func clipScale(norm, maxNorm float64) float32 {
	if maxNorm <= 0 {
		return 1
	}
	c := maxNorm / (norm + 1e-6)
	if c >= 1 {
		return 1
	}
	return float32(c)
}

// namedBuf is a named float32 buffer, the unit of checkpoint storage.
type namedBuf struct {
	name string
	data []float32
}
