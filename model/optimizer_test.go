package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestOptimizerUpdates compares two updates of a single weight with hand-computed values.
func TestOptimizerUpdates(t *testing.T) {
	cases := []struct {
		name   string
		cfg    OptimizerConfig
		w0, g  float32
		want   [2]float64
		gscale float32
	}{
		// Adam: the first two steps with a constant gradient move by exactly lr each.
		{"adam", OptimizerConfig{Name: "adam", LearningRate: 0.1}, 1, 0.5, [2]float64{0.9, 0.8}, 1},
		// AdamW: w·(1 − lr·wd) − lr = 1·0.95 − 0.1, then 0.85·0.95 − 0.1.
		{"adamw", OptimizerConfig{Name: "adamw", LearningRate: 0.1, WeightDecay: 0.5}, 1, 0.5, [2]float64{0.85, 0.7075}, 1},
		// SGD with L2: g' = 0.5 + 0.1·w.
		{"sgd-l2", OptimizerConfig{Name: "sgd", LearningRate: 0.1, WeightDecay: 0.1}, 1, 0.5, [2]float64{0.94, 0.94 - 0.1*(0.5+0.094)}, 1},
		// SGD momentum: buf = g, then 0.9·buf + g.
		{"sgd-momentum", OptimizerConfig{Name: "sgd", LearningRate: 0.1, Momentum: 0.9}, 1, 0.5, [2]float64{0.95, 0.855}, 1},
		// clipping scales the gradient before the update.
		{"sgd-clipped", OptimizerConfig{Name: "sgd", LearningRate: 0.1}, 1, 0.5, [2]float64{0.975, 0.95}, 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg.Defaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			o := newOptimizer(cfg, []int{1})
			w := [][]float32{{tc.w0}}
			for k := 0; k < 2; k++ {
				g := [][]float32{{tc.g}}
				if !o.update(cfg.LearningRate, tc.gscale, w, g) {
					t.Fatal("update reported a non-finite weight")
				}
				if g[0][0] != tc.g {
					t.Errorf("the update changed the gradient to %v", g[0][0])
				}
				if math.Abs(float64(w[0][0])-tc.want[k]) > 5e-6 { // float32 arithmetic, as in PyTorch
					t.Errorf("step %d: w = %.7f, want %.7f", k+1, w[0][0], tc.want[k])
				}
			}
		})
	}
}

func TestOptimizerReportsNonFinite(t *testing.T) {
	o := newOptimizer(OptimizerConfig{Name: "sgd", LearningRate: 1}.Defaults(), []int{2})
	if o.update(1, 1, [][]float32{{1, 2}}, [][]float32{{float32(math.Inf(1)), 0}}) {
		t.Error("an infinite gradient produced no divergence report")
	}
	// one bad value deep inside a tensor of several optimiser blocks, and huge but finite weights
	n := 3*optBlock + 5
	w, g := make([]float32, n), make([]float32, n)
	for i := range w {
		w[i] = 3e38
	}
	a := newOptimizer(OptimizerConfig{Name: "adam"}.Defaults(), []int{n})
	if !a.update(1e-3, 1, [][]float32{w}, [][]float32{g}) {
		t.Error("finite weights whose sum overflows were reported as non-finite")
	}
	g[2*optBlock+7] = float32(math.NaN())
	if a.update(1e-3, 1, [][]float32{w}, [][]float32{g}) {
		t.Error("a NaN gradient in a later block produced no divergence report")
	}
}

func TestClipScale(t *testing.T) {
	cases := []struct {
		norm, max float64
		want      float32
	}{
		{10, 1, float32(1 / (10 + 1e-6))},
		{0.5, 1, 1},
		{10, 0, 1},
	}
	for _, tc := range cases {
		if got := clipScale(tc.norm, tc.max); got != tc.want {
			t.Errorf("clipScale(%v, %v) = %v, want %v", tc.norm, tc.max, got, tc.want)
		}
	}
}

func TestOptimizerConfigValidation(t *testing.T) {
	bad := []OptimizerConfig{
		{Name: "rmsprop", LearningRate: 1},
		{Name: "adam", LearningRate: -1},
		{Name: "sgd", LearningRate: 1, Momentum: 1},
		{Name: "sgd", LearningRate: 1, Beta1: 0.9},
		{Name: "adam", LearningRate: 1, WeightDecay: math.NaN()},
	}
	for _, c := range bad {
		if err := c.Defaults().Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestKernelsMatchGo: the C update loops (each instruction set) give the same bits as the Go
// reference loops, for every optimiser, over several steps (moment buffers in use), with clipping
// and weight decay, on a length that is not a multiple of any vector width.
func TestKernelsMatchGo(t *testing.T) {
	for _, level := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("level", level), func(t *testing.T) {
			old := simdLevel
			defer func() { simdLevel = old }()
			setSIMDLevel(level)
			kernelsMatchGo(t)
		})
	}
}

func kernelsMatchGo(t *testing.T) {
	const n = 100003
	r := rand.New(rand.NewPCG(4, 4))
	for _, cfg := range []OptimizerConfig{
		{Name: "adam", LearningRate: 1e-3},
		{Name: "adam", LearningRate: 1e-2, WeightDecay: 1e-4},
		{Name: "adamw", LearningRate: 1e-3, WeightDecay: 1e-2},
		{Name: "sgd", LearningRate: 0.1},
		{Name: "sgd", LearningRate: 0.1, Momentum: 0.9, WeightDecay: 1e-3},
	} {
		cfg = cfg.Defaults()
		var ws, gs [2][]float32
		ws[0], gs[0] = randSlice(r, n), randSlice(r, n)
		ws[1], gs[1] = append([]float32(nil), ws[0]...), append([]float32(nil), gs[0]...)
		opts := [2]*optimizer{newOptimizer(cfg, []int{n}), newOptimizer(cfg, []int{n})}
		for step := 0; step < 3; step++ {
			for k, useC := range []bool{true, false} {
				if !opts[k].updateWith(cfg.LearningRate, 0.7, [][]float32{ws[k]}, [][]float32{gs[k]}, useC) {
					t.Fatalf("%s: non-finite weight reported", cfg.Name)
				}
			}
		}
		for j := range ws[0] {
			if math.Float32bits(ws[0][j]) != math.Float32bits(ws[1][j]) {
				t.Fatalf("%+v: weight %d: C %v, Go %v", cfg, j, ws[0][j], ws[1][j])
			}
		}
	}
}
