package model

import (
	"math/rand/v2"
	"testing"
)

// benchStep measures full-size training steps (96×96×3 inputs); see bench/train for the
// comparison with PyTorch.
func benchStep(b *testing.B, cfg Config, batch int) {
	tr, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pix := make([]byte, batch*tr.imageBytes())
	labels := make([]uint8, batch)
	for i := range pix {
		pix[i] = byte(r.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(r.IntN(2))
	}
	if _, err := tr.Step(pix, labels); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.Step(pix, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkStepMLP(b *testing.B) {
	benchStep(b, Config{Arch: ArchMLP, HiddenUnits: []int{128}, Seed: 1}, 128)
}

func BenchmarkStepCNN(b *testing.B) {
	benchStep(b, Config{Arch: ArchCNN, Channels: []int{16, 32}, Seed: 1}, 64)
}

func BenchmarkPredictMLP(b *testing.B) {
	tr, err := New(Config{Arch: ArchMLP, HiddenUnits: []int{128}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	pix := make([]byte, 256*tr.imageBytes())
	for b.Loop() {
		if _, err := tr.Predict(pix); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "images/s")
}
