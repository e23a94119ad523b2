package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directTol is the largest difference allowed between the direct forward path and the gorgonia
// evaluation graph, relative to max(1, |logit|). Their convolutions agree bit for bit (same
// kernels, same blocks); their dense layers sum in different orders (the direct path's own kernel,
// with fused multiply-adds where the CPU has them, against OpenBLAS), which moves a float32 logit
// by a few units in the last place.
const directTol = 1e-5

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
		})
	}
}

// TestPredictionsIndependentOfBatch: an image's logit is the same bits alone, in a batch of 3, 5
// or 21, at the end of a request longer than one pass (300 images), and at 1 or 3 threads.
func TestPredictionsIndependentOfBatch(t *testing.T) {
	old := numWorkers()
	defer SetThreads(old)
	mlp := smallMLP()
	mlp.Input = Input{Height: 32, Width: 32, Channels: 3} // 3072 inputs: several split-K blocks
	cnn := fusedCNN()
	cnn.Input, cnn.Normalize = Input{Height: 24, Width: 20, Channels: 3}, Normalize{}
	for _, cfg := range []Config{mlp, cnn, smallCNN()} {
		SetThreads(2)
		tr := mustNew(t, cfg)
		ib := tr.imageBytes()
		pix, labels := toyData(tr.cfg.Input, 300, 9)
		if _, err := tr.Step(pix[:21*ib], labels[:21]); err != nil {
			t.Fatal(err)
		}
		all, err := tr.Logits(pix)
		if err != nil || len(all) != 300 {
			t.Fatalf("%s: Logits(300 images) = %d values, %v", cfg.Arch, len(all), err)
		}
		for _, tc := range []struct{ from, n, threads int }{{0, 1, 1}, {4, 1, 3}, {299, 1, 2}, {0, 3, 2}, {2, 5, 1}, {0, 21, 3}, {255, 2, 2}} {
			SetThreads(tc.threads)
			got, err := tr.Logits(pix[tc.from*ib : (tc.from+tc.n)*ib])
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				if math.Float64bits(v) != math.Float64bits(all[tc.from+i]) {
					t.Errorf("%s: image %d is %v in a batch of %d at %d threads, %v among 300", cfg.Arch, tc.from+i, v, tc.n, tc.threads, all[tc.from+i])
				}
			}
		}
	}
	tr := mustNew(t, smallMLP())
	if _, err := tr.Logits(make([]byte, 10)); err == nil {
		t.Error("a partial image was accepted")
	}
}

// TestDenseKernel: the inference dense kernel equals its scalar C reference bit for bit at every
// instruction-set level (fused multiply-adds exactly where the level has them), for row counts
// around its 4-row groups and column-block counts around its 4-block groups, and a float64
// product to float32 rounding.
func TestDenseKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, level := range []int{0, 1, 2} {
		old := simdLevel
		setSIMDLevel(level)
		fused := denseFused()
		for _, n := range []int{1, 3, 4, 5, 9} {
			for _, ncb := range []int{1, 3, 4, 6} {
				const kk, ldx = 300, 311
				x, wp := randSlice(r, n*ldx), randSlice(r, ncb*kk*denseCols)
				ldp := ncb*denseCols + 2
				got, want := make([]float32, n*ldp), make([]float32, n*ldp)
				densePart(x, ldx, n, wp, kk, ncb, kk*denseCols, denseCols, got, ldp)
				densePartRef(x, ldx, n, wp, kk, ncb, kk*denseCols, denseCols, want, ldp, fused)
				// the same weights row-major (ncb·16 wide, read in place) give the same bits
				rm := make([]float32, kk*ncb*denseCols)
				for cb := 0; cb < ncb; cb++ {
					for k := 0; k < kk; k++ {
						copy(rm[k*ncb*denseCols+cb*denseCols:], wp[cb*kk*denseCols+k*denseCols:(cb*kk+k+1)*denseCols])
					}
				}
				inPlace := make([]float32, n*ldp)
				densePart(x, ldx, n, rm, kk, ncb, denseCols, ncb*denseCols, inPlace, ldp)
				for row := 0; row < n; row++ {
					for j := 0; j < ncb*denseCols; j++ {
						g, w := got[row*ldp+j], want[row*ldp+j]
						if math.Float32bits(g) != math.Float32bits(w) || math.Float32bits(g) != math.Float32bits(inPlace[row*ldp+j]) {
							t.Fatalf("level %d, n %d, %d blocks: [%d,%d] = %v, reference %v", level, n, ncb, row, j, g, w)
						}
						var exact float64
						cb, jj := j/denseCols, j%denseCols
						for k := 0; k < kk; k++ {
							exact += float64(x[row*ldx+k]) * float64(wp[cb*kk*denseCols+k*denseCols+jj])
						}
						if math.Abs(float64(g)-exact) > 1e-4*math.Max(1, math.Abs(exact)) {
							t.Fatalf("level %d: [%d,%d] = %v, float64 product %v", level, row, j, g, exact)
						}
					}
				}
			}
		}
		simdLevel = old
	}
}
