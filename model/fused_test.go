package model

import (
	"fmt"
	"math"
	"testing"
)

// fusedCNN is a CNN whose conv blocks run as fused conv+maxpool+activation ops (no batch norm).
func fusedCNN() Config {
	c := smallCNN()
	c.BatchNorm, c.Dropout = false, 0
	return c
}

// TestConvPoolMatchesUnfused: the fused conv block computes what conv2d, pool2x2 and activate
// compute one after another, bit for bit: logits, loss and every gradient of a training graph,
// for each activation, odd image sizes (dropped rows and columns) and images of several chunks.
func TestConvPoolMatchesUnfused(t *testing.T) {
	for _, tc := range []struct {
		act  string
		in   Input
		n    int
		data bool // the first block's input is the data (no input gradient)
	}{
		{"relu", Input{Height: 8, Width: 8, Channels: 3}, 5, true},
		{"leaky_relu", Input{Height: 11, Width: 9, Channels: 2}, 3, true},
		{"tanh", Input{Height: 7, Width: 10, Channels: 3}, 2, true},
		{"relu", Input{Height: 40, Width: 36, Channels: 3}, 3, true}, // several chunks per image
	} {
		t.Run(fmt.Sprintf("%s_%dx%d", tc.act, tc.in.Height, tc.in.Width), func(t *testing.T) {
			cfg := fusedCNN()
			cfg.Activation, cfg.Input = tc.act, tc.in
			cfg.Normalize = Normalize{}
			tr := mustNew(t, cfg)
			if g := (convGeom{h: tc.in.Height, w: tc.in.Width}); tc.in.Height == 40 && g.rowChunks() < 2 {
				t.Fatalf("%dx%d is one chunk", tc.in.Height, tc.in.Width)
			}
			pix, labels := toyData(tr.cfg.Input, tc.n, 7)
			var logits [2][]float32
			var losses [2]float64
			var grads [2][][]float32
			for k, unfused := range []bool{false, true} {
				g, err := buildGraphWith(tr.cfg, tr.params, tr.state, tc.n, true, unfused)
				if err != nil {
					t.Fatal(err)
				}
				tr.lut.fill(g.x, pix)
				for i, y := range labels {
					g.y[i], g.wt[i] = float32(y), 1
				}
				loss, gr, err := g.forwardBackward()
				if err != nil {
					t.Fatal(err)
				}
				losses[k] = loss
				logits[k] = append([]float32(nil), g.logits.Value().Data().([]float32)...)
				for _, b := range gr {
					grads[k] = append(grads[k], append([]float32(nil), b...))
				}
			}
			if losses[0] != losses[1] {
				t.Errorf("loss: fused %v, unfused %v", losses[0], losses[1])
			}
			for i := range logits[0] {
				if logits[0][i] != logits[1][i] {
					t.Fatalf("logit %d: fused %v, unfused %v", i, logits[0][i], logits[1][i])
				}
			}
			for pi, p := range tr.params {
				for j := range grads[0][pi] {
					if math.Float32bits(grads[0][pi][j]) != math.Float32bits(grads[1][pi][j]) {
						t.Fatalf("gradient of %s[%d]: fused %v, unfused %v", p.spec.name, j, grads[0][pi][j], grads[1][pi][j])
					}
				}
			}
		})
	}
}
