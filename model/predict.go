package model

import (
	"fmt"
	"math"
)

// Predict returns the probability of the positive class for each image of pix (N images, HWC
// bytes), from a forward-only evaluation graph (no dropout, batch norm on running statistics)
// that shares the weights with the training graphs but never touches their gradients.
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

// Logits returns the raw network outputs (log-odds) for each image of pix.
func (t *Trainer) Logits(pix []byte) ([]float64, error) {
	ib := t.imageBytes()
	n, err := countImages(pix, nil, ib, false)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	if t.pred == nil {
		if t.pred, err = buildGraph(t.cfg, t.params, t.state, predictBatch, false); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
	}
	g := t.pred
	out := make([]float64, 0, n)
	for i0 := 0; i0 < n; i0 += predictBatch {
		k := min(predictBatch, n-i0)
		t.lut.fill(g.x[:k*ib], pix[i0*ib:(i0+k)*ib])
		clear(g.x[k*ib:])
		if err := g.run(); err != nil {
			return nil, fmt.Errorf("predict: running the evaluation graph: %w", err)
		}
		z, ok := g.logits.Value().Data().([]float32)
		if !ok || len(z) != predictBatch {
			return nil, fmt.Errorf("predict: unexpected logits %T", g.logits.Value().Data())
		}
		for _, v := range z[:k] {
			out = append(out, float64(v))
		}
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
