package model

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestModelGradientsNumerically checks the gradients of a whole training graph (CNN with batch
// norm, MLP with tanh, fused conv blocks), read from G.Grad's nodes, against central differences
// of the loss.
func TestModelGradientsNumerically(t *testing.T) {
	mlp := smallMLP()
	mlp.Activation, mlp.PosWeight = "tanh", 3
	// smooth activation and pooling: central differences must not straddle relu or max kinks
	cnn := smallCNN()
	cnn.Dropout, cnn.Activation, cnn.Pooling = 0, "tanh", "avg"
	// relu and max pooling with a small step, so that few units cross a kink
	cnnRelu := smallCNN()
	cnnRelu.Dropout = 0
	// dropout masks are graph inputs: fixed masks must give exact gradients through them
	mlpDrop := smallMLP()
	mlpDrop.HiddenUnits, mlpDrop.Dropout = []int{16, 8}, 0.3
	// fused conv blocks (no batch norm, max pooling), smooth activation
	fused := fusedCNN()
	fused.Activation = "tanh"
	for ci, cfg := range []Config{mlp, cnn, cnnRelu, mlpDrop, fused} {
		eps := float32(1e-2)
		if ci == 2 || ci == 3 {
			eps = 1e-3
		}
		tr := mustNew(t, cfg)
		pix, labels := toyData(tr.cfg.Input, 6, 3)
		g, err := tr.trainGraph(6)
		if err != nil {
			t.Fatal(err)
		}
		tr.lut.fill(g.x, pix)
		g.fillMasks(tr.rng)
		for i, y := range labels {
			g.y[i], g.wt[i] = float32(y), 1
			if y == 1 {
				g.wt[i] = float32(tr.cfg.PosWeight)
			}
		}
		lossAt := func() float64 {
			if err := g.run(); err != nil {
				t.Fatal(err)
			}
			l, err := scalarValue(g.loss)
			if err != nil {
				t.Fatal(err)
			}
			grads, _ := g.grads()
			for _, gr := range grads {
				clear(gr)
			}
			return l
		}
		lossAt()
		if err := g.run(); err != nil {
			t.Fatal(err)
		}
		grads, err := g.grads()
		if err != nil {
			t.Fatal(err)
		}
		analytic := make([][]float32, len(grads))
		for i, gr := range grads {
			analytic[i] = append([]float32(nil), gr...)
			clear(gr)
		}
		for pi, p := range tr.params {
			for _, j := range []int{0, len(p.data) / 2, len(p.data) - 1} {
				orig := p.data[j]
				p.data[j] = orig + eps
				lp := lossAt()
				p.data[j] = orig - eps
				lm := lossAt()
				p.data[j] = orig
				num := (lp - lm) / (2 * float64(eps))
				if math.Abs(num-float64(analytic[pi][j])) > 2e-3+2e-2*math.Abs(num) {
					t.Errorf("%s %s[%d]: analytic %v, numeric %v", cfg.Arch, p.spec.name, j, analytic[pi][j], num)
				}
			}
		}
	}
}

// TestEvaluateMatchesTrainingLoss: without dropout or batch norm the evaluation graph computes
// the same loss as the training graph, and it sees the weights the optimiser just updated.
func TestEvaluateMatchesTrainingLoss(t *testing.T) {
	tr := mustNew(t, smallMLP())
	pix, labels := toyData(tr.cfg.Input, 20, 4)
	before, probs0, err := tr.Evaluate(pix, labels)
	if err != nil {
		t.Fatal(err)
	}
	stepLoss, err := tr.Step(pix, labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(before-stepLoss) > 1e-5 {
		t.Errorf("evaluation loss %v, training loss %v", before, stepLoss)
	}
	probs1, err := tr.Predict(pix)
	if err != nil {
		t.Fatal(err)
	}
	if probs0[0] == probs1[0] {
		t.Error("Predict did not see the updated weights")
	}
	for _, p := range probs1 {
		if !(p > 0 && p < 1) {
			t.Fatalf("probability %v outside (0,1)", p)
		}
	}
	// more images than one evaluation chunk, and the same images alone, agree
	many := make([]byte, 0, 70*len(pix)/20)
	for len(many) < 70*tr.imageBytes() {
		many = append(many, pix[:tr.imageBytes()]...)
	}
	pm, err := tr.Predict(many)
	if err != nil || len(pm) != 70 {
		t.Fatalf("Predict(70 images) = %d probabilities, %v", len(pm), err)
	}
	if math.Abs(pm[69]-probs1[0]) > 1e-6 {
		t.Errorf("image 69 of a long batch: %v, alone: %v", pm[69], probs1[0])
	}
}

// TestDivergenceIsReported: an absurd learning rate makes the loss or weights non-finite, and
// Step says so, naming the step.
func TestDivergenceIsReported(t *testing.T) {
	cfg := smallMLP()
	cfg.Optimizer = OptimizerConfig{Name: "sgd", LearningRate: 1e38}
	tr := mustNew(t, cfg)
	pix, labels := toyData(tr.cfg.Input, 16, 4)
	var err error
	for range 5 {
		if _, err = tr.Step(pix, labels); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "diverged") || !strings.Contains(err.Error(), "step ") {
		t.Fatalf("error %v, want a divergence error naming the step", err)
	}
}

// TestBadBatchesAndConfigs covers the input validation paths.
func TestBadBatchesAndConfigs(t *testing.T) {
	tr := mustNew(t, smallMLP())
	pix, labels := toyData(tr.cfg.Input, 4, 4)
	batchCases := []struct {
		name   string
		pix    []byte
		labels []uint8
		want   string
	}{
		{"partial image", pix[:len(pix)-1], labels, "whole number"},
		{"empty", nil, nil, "whole number"},
		{"label count", pix, labels[:3], "3 labels"},
		{"label value", pix, []uint8{0, 1, 2, 0}, "not 0 or 1"},
	}
	for _, tc := range batchCases {
		if _, err := tr.Step(tc.pix, tc.labels); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Step error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := tr.Predict(pix[:5]); err == nil {
		t.Error("Predict accepted a partial image")
	}
	if err := tr.SetLearningRate(math.NaN()); err == nil {
		t.Error("SetLearningRate accepted NaN")
	}
	if err := tr.SetMeta(json.RawMessage("{")); err == nil {
		t.Error("SetMeta accepted invalid JSON")
	}
	cfgCases := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"arch", func(c *Config) { c.Arch = "resnet" }, "arch"},
		{"activation", func(c *Config) { c.Activation = "gelu" }, "activation"},
		{"dropout", func(c *Config) { c.Dropout = 1 }, "dropout"},
		{"units", func(c *Config) { c.HiddenUnits = []int{0} }, "hidden_units[0]"},
		{"too big", func(c *Config) { c.Input = Input{}; c.HiddenUnits = []int{1 << 20} }, "exceed"},
		{"normalize", func(c *Config) { c.Normalize.Std = []float64{1, 0, 1} }, "std[1]"},
		{"cnn fields on mlp", func(c *Config) { c.Channels = []int{4} }, "channels"},
		{"pos_weight", func(c *Config) { c.PosWeight = -1 }, "pos_weight"},
		{"scheduler", func(c *Config) { c.Scheduler.Name = "warmup" }, "scheduler"},
		{"step size", func(c *Config) { c.Scheduler = SchedulerConfig{Name: "step"} }, "step_size"},
	}
	for _, tc := range cfgCases {
		c := smallMLP()
		tc.mod(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error %v, want %q", tc.name, err, tc.want)
		}
	}
	cnn := smallCNN()
	cnn.Channels = []int{4, 4, 4, 4}
	if _, err := New(cnn); err == nil || !strings.Contains(err.Error(), "to nothing") {
		t.Errorf("4 pooling blocks on 8x8: %v", err)
	}
}

// TestConfigJSONRoundTrip: the resolved config survives JSON unchanged.
func TestConfigJSONRoundTrip(t *testing.T) {
	c := plateauCNN().Defaults()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	raw2, _ := json.Marshal(back.Defaults())
	if string(raw) != string(raw2) {
		t.Errorf("round trip changed the config:\n%s\n%s", raw, raw2)
	}
}

func TestBLASInfo(t *testing.T) {
	old := numWorkers()
	defer SetThreads(old)
	SetThreads(3)
	info := BLASInfo()
	if !strings.HasPrefix(info.Backend, "OpenBLAS") || info.Threads != 3 || info.OpenBLASThreads != 1 || info.CPU == "" ||
		(info.SIMD != "avx2+fma" && info.SIMD != "sse2" && info.SIMD != "scalar") {
		t.Errorf("BLASInfo = %+v", info)
	}
}
