package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// denseGeom is y = x·W + b for a batch of n rows: x (n, in), W (in, out), b (out).
type denseGeom struct {
	n, in, out int
}

// gemvRows is the largest batch whose dense layers run as matrix-vector products, one per row:
// a matrix product of so few rows spends most of its time packing the weights.
const gemvRows = 4

// splitK reports whether the layer splits its inner dimension (see sgemmSplitK): a long input
// and a narrow output, such as the MLP's first layer (27648 → 128) or a CNN's head. The choice
// depends on the weights' shape only, never on the batch size.
func (g denseGeom) splitK() bool { return g.in >= 8*g.out && g.in >= 1024 }

// forward computes y = x·W + b. The scratch buffers hold split-K partial results between calls.
func (g denseGeom) forward(y, x, w, b []float32, s *splitScratch) {
	for r := 0; r < g.n; r++ {
		copy(y[r*g.out:(r+1)*g.out], b)
	}
	switch {
	case g.splitK() && g.n <= gemvRows:
		sgemvSplitK(g.n, g.out, g.in, x, w, y, s)
	case g.splitK():
		sgemmSplitK(g.n, g.out, g.in, x, g.in, w, g.out, y, g.out, s)
	default:
		sgemmRows(blas.NoTrans, blas.NoTrans, g.n, g.out, g.in, 1, x, g.in, w, g.out, 1, y, g.out)
	}
}

// gradWeight computes dW = xᵀ·dy.
func (g denseGeom) gradWeight(dw, x, dy []float32) {
	sgemmRows(blas.Trans, blas.NoTrans, g.in, g.out, g.n, 1, x, g.in, dy, g.out, 0, dw, g.out)
}

// gradInput computes dx = dy·Wᵀ.
func (g denseGeom) gradInput(dx, w, dy []float32) {
	sgemmRows(blas.NoTrans, blas.Trans, g.n, g.in, g.out, 1, dy, g.out, w, g.out, 0, dx, g.in)
}

// sumRows computes db = Σ_r dy[r] for rows of width c, summed in float64 in row order.
func sumRows(db, dy []float32, c int) {
	acc := make([]float64, c)
	for r := 0; r+c <= len(dy); r += c {
		for j, v := range dy[r : r+c] {
			acc[j] += float64(v)
		}
	}
	for j := range db {
		db[j] = float32(acc[j])
	}
}

// isInput reports whether n is a graph input (data), whose gradient is never needed.
func isInput(n *G.Node) bool { return n.Op() == nil && n.Name() == "x" }

// dense adds x·W + b to x's graph as one fused kernel op; x is (N, in), w (in, out), b (out).
// No input gradient is built when x is the data input.
func dense(x, w, b *G.Node) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 || xs[1] != ws[0] || b.Shape().TotalSize() != ws[1] {
		return nil, fmt.Errorf("dense: input %v, weight %v and bias %v do not fit", xs, ws, b.Shape())
	}
	g := denseGeom{n: xs[0], in: ws[0], out: ws[1]}
	scratch := new(splitScratch)
	op := newKernelOp("dense", []int{2, 2, b.Shape().Dims()}, tensor.Shape{g.n, g.out}, func(y []float32, in [][]float32) error {
		g.forward(y, in[0], in[1], in[2], scratch)
		return nil
	})
	op.diffWRT = []bool{!isInput(x), true, true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		out := make(G.Nodes, 3)
		var err error
		if op.diffWRT[0] {
			dxOp := newKernelOp("dense_dx", []int{2, 2}, xs.Clone(), func(dx []float32, in [][]float32) error {
				g.gradInput(dx, in[0], in[1])
				return nil
			})
			if out[0], err = dxOp.apply(in[1], dy); err != nil {
				return nil, err
			}
		}
		dwOp := newKernelOp("dense_dw", []int{2, 2}, ws.Clone(), func(dw []float32, in [][]float32) error {
			g.gradWeight(dw, in[0], in[1])
			return nil
		})
		if out[1], err = dwOp.apply(in[0], dy); err != nil {
			return nil, err
		}
		dbOp := newKernelOp("dense_db", []int{2}, b.Shape().Clone(), func(db []float32, in [][]float32) error {
			sumRows(db, in[0], g.out)
			return nil
		})
		if out[2], err = dbOp.apply(dy); err != nil {
			return nil, err
		}
		return out, nil
	}
	return op.apply(x, w, b)
}
