package model

import (
	"math"
	"testing"
)

// directTol is the largest difference allowed between the direct forward path and the gorgonia
// evaluation graph, relative to max(1, |logit|). Both run the same kernels on the same blocks, so
// in practice they agree bit for bit; the tolerance only leaves room for a BLAS that rounds a
// product differently depending on where its output lives.
const directTol = 1e-6

// TestDirectPathMatchesGraph: the direct forward path (Logits) equals the gorgonia evaluation
// graph's logits for every architecture variant (fused and separate conv blocks, batch norm on
// running statistics, average pooling, odd image sizes, no hidden layer) and batch sizes that the
// graphs cut into several sizes; and it is bit-identical from call to call at 1 and 3 threads.
func TestDirectPathMatchesGraph(t *testing.T) {
	old := numWorkers()
	defer SetThreads(old)
	odd := Input{Height: 11, Width: 9, Channels: 3}
	none := Normalize{}
	cfgs := map[string]Config{}
	cfgs["mlp"] = smallMLP()
	c := smallMLP()
	c.HiddenUnits, c.Activation = []int{12, 6}, "tanh"
	cfgs["mlp-2layer-tanh"] = c
	c = smallMLP()
	c.HiddenUnits = nil
	cfgs["logistic"] = c
	cfgs["cnn-fused"] = fusedCNN()
	cfgs["cnn-bn-max-dropout"] = smallCNN()
	c = smallCNN()
	c.Pooling, c.Activation = "avg", "leaky_relu"
	cfgs["cnn-bn-avg"] = c
	c = fusedCNN()
	c.Pooling, c.Input, c.Normalize = "avg", odd, none
	cfgs["cnn-avg-odd"] = c
	c = fusedCNN()
	c.Input, c.Normalize, c.HeadUnits = odd, none, nil
	cfgs["cnn-fused-odd"] = c
	c = smallCNN()
	c.Input, c.Normalize, c.Channels = Input{Height: 40, Width: 36, Channels: 3}, none, []int{3}
	cfgs["cnn-bn-chunks"] = c
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			SetThreads(2)
			tr := mustNew(t, cfg)
			pix, labels := toyData(tr.cfg.Input, 21, 11)
			for range 2 { // move the weights and the batch-norm running statistics
				if _, err := tr.Step(pix, labels); err != nil {
					t.Fatal(err)
				}
			}
			ref, err := tr.graphLogits(pix)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.pred) != 3 {
				t.Errorf("21 images ran through %d evaluation graphs, want 3 (16+4+1)", len(tr.pred))
			}
			var runs [][]float64
			for _, threads := range []int{1, 3} {
				SetThreads(threads)
				got, err := tr.Logits(pix)
				if err != nil {
					t.Fatal(err)
				}
				runs = append(runs, got)
			}
			for i, want := range ref {
				for _, got := range runs {
					if d := math.Abs(got[i] - want); d > directTol*math.Max(1, math.Abs(want)) {
						t.Fatalf("image %d: direct %v, graph %v", i, got[i], want)
					}
				}
				if math.Float64bits(runs[0][i]) != math.Float64bits(runs[1][i]) {
					t.Fatalf("image %d: %v at 1 thread, %v at 3", i, runs[0][i], runs[1][i])
				}
			}
			// one image alone, and the first five, agree with the batch of 21
			for _, n := range []int{1, 5} {
				got, err := tr.Logits(pix[:n*tr.imageBytes()])
				if err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if d := math.Abs(got[i] - runs[0][i]); d > directTol*math.Max(1, math.Abs(got[i])) {
						t.Errorf("image %d in a batch of %d: %v, in a batch of 21: %v", i, n, got[i], runs[0][i])
					}
				}
			}
		})
	}
}

// TestDirectPathLongRequest: more images than one pass of the direct path (256) come back in
// order, each as it is alone.
func TestDirectPathLongRequest(t *testing.T) {
	tr := mustNew(t, fusedCNN())
	pix, _ := toyData(tr.cfg.Input, 300, 5)
	all, err := tr.Logits(pix)
	if err != nil || len(all) != 300 {
		t.Fatalf("Logits(300 images) = %d values, %v", len(all), err)
	}
	for _, i := range []int{0, 255, 256, 299} {
		one, err := tr.Logits(pix[i*tr.imageBytes() : (i+1)*tr.imageBytes()])
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(one[0] - all[i]); d > directTol*math.Max(1, math.Abs(all[i])) {
			t.Errorf("image %d: %v alone, %v in the request", i, one[0], all[i])
		}
	}
	if _, err := tr.Logits(pix[:10]); err == nil {
		t.Error("a partial image was accepted")
	}
}
