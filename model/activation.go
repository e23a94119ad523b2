package model

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// leakySlope is the negative slope of leaky_relu (PyTorch's default).
const leakySlope = 0.01

// activate adds the element-wise activation name ("relu", "leaky_relu" or "tanh") as one fused
// kernel op whose gradient is computed from the output (all three derivatives are functions of y).
func activate(x *G.Node, name string) (*G.Node, error) {
	xs := x.Shape()
	dims := xs.Dims()
	fwd := func(y []float32, in [][]float32) error {
		parallelFor(len(y), func(lo, hi int) { activateRange(name, y[lo:hi], in[0][lo:hi]) })
		return nil
	}
	bwd := func(dx []float32, in [][]float32) error {
		parallelFor(len(dx), func(lo, hi int) { activateGradRange(name, dx[lo:hi], in[0][lo:hi], in[1][lo:hi]) })
		return nil
	}
	op := newKernelOp(name, []int{dims}, xs.Clone(), fwd)
	op.diffWRT = []bool{true}
	op.diff = func(_ G.Nodes, out, dy *G.Node) (G.Nodes, error) {
		dx, err := newKernelOp(name+"_dx", []int{dims, dims}, xs.Clone(), bwd).apply(out, dy)
		return G.Nodes{dx}, err
	}
	return op.apply(x)
}

// activateRange writes y = f(x).
func activateRange(name string, y, x []float32) {
	switch name {
	case "relu":
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case "leaky_relu":
		for i, v := range x {
			if v < 0 {
				v *= leakySlope
			}
			y[i] = v
		}
	default:
		for i, v := range x {
			y[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// activateGradRange writes dx = dy·f'(x), with f' expressed through y = f(x).
func activateGradRange(name string, dx, y, dy []float32) {
	switch name {
	case "relu":
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case "leaky_relu":
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = dy[i] * leakySlope
			}
		}
	default:
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	}
}
