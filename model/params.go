package model

import (
	"math"
	"math/rand/v2"
	"strings"
)

// pcgStream is the second PCG word derived from the seed (any fixed odd-looking constant works).
const pcgStream = 0x9E3779B97F4A7C15

// tensorBuf is one named float32 tensor owned by the model: a parameter or a running statistic.
type tensorBuf struct {
	spec paramSpec
	data []float32
}

// initParams allocates the parameters and draws their initial values from rng, in spec order,
// as PyTorch's default initialisation does: weights and biases of conv and dense layers uniform in
// ±1/sqrt(fan_in); batch-norm scale 1 and shift 0.
func initParams(specs []paramSpec, rng *rand.Rand) []*tensorBuf {
	ps := make([]*tensorBuf, len(specs))
	for i, s := range specs {
		d := make([]float32, s.size())
		if s.fanIn > 0 {
			bound := 1 / math.Sqrt(float64(s.fanIn))
			for j := range d {
				d[j] = float32((2*rng.Float64() - 1) * bound)
			}
		} else if isScale(s.name) {
			for j := range d {
				d[j] = 1
			}
		}
		ps[i] = &tensorBuf{spec: s, data: d}
	}
	return ps
}

// initState allocates batch-norm running statistics: mean 0, variance 1.
func initState(specs []paramSpec) []*tensorBuf {
	ss := make([]*tensorBuf, len(specs))
	for i, s := range specs {
		d := make([]float32, s.size())
		if strings.HasSuffix(s.name, ".running_var") {
			for j := range d {
				d[j] = 1
			}
		}
		ss[i] = &tensorBuf{spec: s, data: d}
	}
	return ss
}

// isScale reports whether name is a batch-norm scale (gamma), initialised to 1.
func isScale(name string) bool {
	return strings.HasPrefix(name, "bn") && strings.HasSuffix(name, ".weight")
}
