package model

import "testing"

// TestLearnsSeparableProblem trains every architecture variant on a tiny separable problem and
// expects the loss to fall and the held-out accuracy to rise well above chance.
func TestLearnsSeparableProblem(t *testing.T) {
	cases := []struct {
		name string
		cfg  func() Config
	}{
		{"mlp-adam", smallMLP},
		{"mlp-sgd-tanh-dropout", func() Config {
			c := smallMLP()
			c.Activation, c.Dropout = "tanh", 0.1
			c.Optimizer = OptimizerConfig{Name: "sgd", LearningRate: 0.05, Momentum: 0.9, WeightDecay: 1e-4}
			return c
		}},
		{"cnn-bn-max", smallCNN},
		{"cnn-avg-leaky-adamw", func() Config {
			c := smallCNN()
			c.Pooling, c.Activation, c.BatchNorm = "avg", "leaky_relu", false
			c.Optimizer = OptimizerConfig{Name: "adamw", LearningRate: 1e-2, WeightDecay: 0.01}
			c.ClipNorm = 1
			return c
		}},
	}
	trainPix, trainY := toyData(smallInput, 256, 1)
	valPix, valY := toyData(smallInput, 128, 2)
	ib := smallInput.Height * smallInput.Width * smallInput.Channels
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, tc.cfg())
			loss0, p0, err := tr.Evaluate(valPix, valY)
			if err != nil {
				t.Fatal(err)
			}
			for epoch := 0; epoch < 8; epoch++ {
				for b := 0; b < 256; b += 32 {
					if _, err := tr.Step(trainPix[b*ib:(b+32)*ib], trainY[b:b+32]); err != nil {
						t.Fatal(err)
					}
				}
			}
			loss1, p1, err := tr.Evaluate(valPix, valY)
			if err != nil {
				t.Fatal(err)
			}
			acc0, acc1 := accuracy(p0, valY), accuracy(p1, valY)
			t.Logf("val loss %.4f -> %.4f, accuracy %.3f -> %.3f", loss0, loss1, acc0, acc1)
			if !(loss1 < loss0*0.7) || acc1 < 0.9 {
				t.Errorf("did not learn: val loss %.4f -> %.4f, accuracy %.3f -> %.3f", loss0, loss1, acc0, acc1)
			}
			if norms := tr.GradNorms(); len(norms) == 0 || norms[len(norms)-1].Layer != "out" {
				t.Errorf("GradNorms = %v, want per-layer norms ending with out", norms)
			}
		})
	}
}
