package model

import (
	"math/rand/v2"
	"testing"
)

// toyData returns n images of geometry in with a learnable signal: positives have a brighter
// first channel in the image centre. Deterministic in seed.
func toyData(in Input, n int, seed uint64) ([]byte, []uint8) {
	r := rand.New(rand.NewPCG(seed, 7))
	ib := in.Height * in.Width * in.Channels
	pix := make([]byte, n*ib)
	labels := make([]uint8, n)
	for i := range n {
		y := uint8(r.IntN(2))
		labels[i] = y
		for p := 0; p < in.Height*in.Width; p++ {
			row, col := p/in.Width, p%in.Width
			centre := row >= in.Height/4 && row < 3*in.Height/4 && col >= in.Width/4 && col < 3*in.Width/4
			for c := 0; c < in.Channels; c++ {
				v := 80 + r.IntN(100)
				if centre && c == 0 && y == 1 {
					v += 60
				}
				pix[i*ib+p*in.Channels+c] = byte(v)
			}
		}
	}
	return pix, labels
}

var smallInput = Input{Height: 8, Width: 8, Channels: 3}

func smallMLP() Config {
	return Config{Arch: ArchMLP, Input: smallInput, HiddenUnits: []int{16}, Seed: 1,
		Normalize: Normalize{Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.25, 0.25, 0.25}},
		Optimizer: OptimizerConfig{Name: "adam", LearningRate: 1e-2}}
}

func smallCNN() Config {
	return Config{Arch: ArchCNN, Input: smallInput, Channels: []int{4, 6}, HeadUnits: []int{8}, Seed: 1,
		BatchNorm: true, Dropout: 0.2,
		Normalize: Normalize{Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.25, 0.25, 0.25}},
		Optimizer: OptimizerConfig{Name: "adam", LearningRate: 1e-2}}
}

func mustNew(t *testing.T, cfg Config) *Trainer {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr
}

func accuracy(probs []float64, labels []uint8) float64 {
	ok := 0
	for i, p := range probs {
		if (p >= 0.5) == (labels[i] == 1) {
			ok++
		}
	}
	return float64(ok) / float64(len(probs))
}
