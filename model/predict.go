package model

import (
	"fmt"
	"math"
	"time"
)

// Predict returns the probability of the positive class for each image of pix (N images, HWC
// bytes), from the evaluation-mode forward pass (no dropout, batch norm on running statistics)
// of the current weights. Any N works; see Logits for how the work is done.
func (t *Trainer) Predict(pix []byte) ([]float64, error) {
	logits, err := t.Logits(pix)
	if err != nil {
		return nil, err
	}
	for i, z := range logits {
		logits[i] = sigmoid(z)
	}
	return logits, nil
}

// Phases is the time an inference call spent in each of its phases.
type Phases struct {
	// Preprocess is turning bytes into normalised float32 inputs; Compute is the forward pass.
	Preprocess, Compute time.Duration
}

// PredictTimed is Predict that adds the time spent normalising the pixels and in the forward pass
// to ph (the benchmark stage's split of an inference call). The probabilities are Predict's.
func (t *Trainer) PredictTimed(pix []byte, ph *Phases) ([]float64, error) {
	if t.infer == nil {
		t.infer = newInferNet(t.cfg, t.params, t.state, t.lut)
	}
	t.infer.timing = ph
	defer func() { t.infer.timing = nil }()
	return t.Predict(pix)
}

// Logits returns the raw network outputs (log-odds) for each image of pix. It runs the direct
// forward path (the package's kernels called in order, no graph: nothing to compile and nothing
// padded, so one image costs one image's work) in passes of at most 256 images. An image's logit
// is bit-identical whatever the batch it comes in, from run to run and at any thread count, on a
// given CPU and OpenBLAS kernel; it agrees with the gorgonia evaluation graph to rounding.
func (t *Trainer) Logits(pix []byte) ([]float64, error) {
	ib := t.imageBytes()
	n, err := countImages(pix, nil, ib, false)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	if t.infer == nil {
		t.infer = newInferNet(t.cfg, t.params, t.state, t.lut)
	}
	out := make([]float64, 0, n)
	z := make([]float32, min(n, maxInferBatch))
	for i0 := 0; i0 < n; i0 += maxInferBatch {
		k := min(maxInferBatch, n-i0)
		if err := t.infer.logits(pix[i0*ib:(i0+k)*ib], k, z[:k], t.wver); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		for _, v := range z[:k] {
			out = append(out, float64(v))
		}
	}
	return out, nil
}

// graphBatches are the batch sizes of the evaluation graphs graphLogits compiles; a request is cut
// into the largest that fit, so nothing is padded and at most four graphs exist.
var graphBatches = []int{64, 16, 4, 1}

// graphLogits is Logits computed by gorgonia evaluation graphs, the reference the direct path is
// tested against. Graphs are compiled on first use per size and share the weight buffers.
func (t *Trainer) graphLogits(pix []byte) ([]float64, error) {
	ib := t.imageBytes()
	n, err := countImages(pix, nil, ib, false)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, 0, n)
	for i0 := 0; i0 < n; {
		k := graphBatches[len(graphBatches)-1]
		for _, b := range graphBatches {
			if b <= n-i0 {
				k = b
				break
			}
		}
		g := t.pred[k]
		if g == nil {
			if g, err = buildGraph(t.cfg, t.params, t.state, k, false); err != nil {
				return nil, fmt.Errorf("predict: %w", err)
			}
			t.pred[k] = g
		}
		t.lut.fill(g.x, pix[i0*ib:(i0+k)*ib])
		if err := g.run(); err != nil {
			return nil, fmt.Errorf("predict: running the evaluation graph: %w", err)
		}
		z, ok := g.logits.Value().Data().([]float32)
		if !ok || len(z) != k {
			return nil, fmt.Errorf("predict: unexpected logits %T", g.logits.Value().Data())
		}
		for _, v := range z {
			out = append(out, float64(v))
		}
		i0 += k
	}
	return out, nil
}

// Evaluate returns the mean loss (same weighting as training) and the probabilities on a
// labelled batch, without changing any state.
func (t *Trainer) Evaluate(pix []byte, labels []uint8) (float64, []float64, error) {
	if _, err := countImages(pix, labels, t.imageBytes(), true); err != nil {
		return 0, nil, fmt.Errorf("evaluate: %w", err)
	}
	z, err := t.Logits(pix)
	if err != nil {
		return 0, nil, err
	}
	var sum float64
	for i, v := range z {
		w := 1.0
		if labels[i] == 1 {
			w = t.cfg.PosWeight
		}
		sum += w * (softplus(v) - float64(labels[i])*v)
		z[i] = sigmoid(v)
	}
	return sum / float64(len(z)), z, nil
}

// sigmoid is 1/(1+e^−z), computed without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus is log(1+e^z), computed without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
