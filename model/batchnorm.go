package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// Batch-norm constants, PyTorch's defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// bnGeom is batch normalisation over the channels (last axis) of m rows of c values (NHWC
// flattened). In training mode it normalises with the batch statistics and updates the running
// statistics (unbiased variance, momentum 0.1); in evaluation mode it uses the running statistics.
type bnGeom struct {
	m, c int
}

// bnBlockRows is the number of rows one batch-norm task handles. Per-channel sums are formed per
// block and added in block order, so they do not depend on the thread count.
const bnBlockRows = 4096

// blockSums returns Σ f(row r, channel j) per channel over the m rows, summed in float64 per
// block of bnBlockRows rows (in parallel) and then over the blocks in order.
func (g bnGeom) blockSums(f func(part []float64, lo, hi int)) []float64 {
	blocks := (g.m + bnBlockRows - 1) / bnBlockRows
	parts := make([]float64, blocks*g.c)
	parallelTasks(blocks, func(_, t int) {
		f(parts[t*g.c:(t+1)*g.c], t*bnBlockRows, min(g.m, (t+1)*bnBlockRows))
	})
	sum := make([]float64, g.c)
	for t := 0; t < blocks; t++ {
		for j, v := range parts[t*g.c : (t+1)*g.c] {
			sum[j] += v
		}
	}
	return sum
}

// stats returns the per-channel batch mean and 1/sqrt(biased var + eps), summed in float64.
func (g bnGeom) stats(x []float32) (mean, invstd, variance []float64) {
	mean = g.blockSums(func(part []float64, lo, hi int) {
		for r := lo; r < hi; r++ {
			for j, v := range x[r*g.c : (r+1)*g.c] {
				part[j] += float64(v)
			}
		}
	})
	for j := range mean {
		mean[j] /= float64(g.m)
	}
	variance = g.blockSums(func(part []float64, lo, hi int) {
		for r := lo; r < hi; r++ {
			for j, v := range x[r*g.c : (r+1)*g.c] {
				d := float64(v) - mean[j]
				part[j] += d * d
			}
		}
	})
	invstd = make([]float64, g.c)
	for j := range variance {
		variance[j] /= float64(g.m)
		invstd[j] = 1 / math.Sqrt(variance[j]+bnEps)
	}
	return mean, invstd, variance
}

// bnAffine returns the per-channel scale and shift that normalise with mean and invstd:
// y = x·scale + shift = (x − mean)·invstd·gamma + beta.
func bnAffine(gamma, beta []float32, mean, invstd []float64) (scale, shift []float32) {
	scale, shift = make([]float32, len(gamma)), make([]float32, len(gamma))
	for j := range scale {
		scale[j] = float32(invstd[j] * float64(gamma[j]))
		shift[j] = float32(float64(beta[j]) - mean[j]*invstd[j]*float64(gamma[j]))
	}
	return scale, shift
}

// bnEvalAffine is bnAffine with the running statistics (evaluation mode).
func bnEvalAffine(gamma, beta, runMean, runVar []float32) (scale, shift []float32) {
	mean, invstd := make([]float64, len(runMean)), make([]float64, len(runMean))
	for j := range mean {
		mean[j] = float64(runMean[j])
		invstd[j] = 1 / math.Sqrt(float64(runVar[j])+bnEps)
	}
	return bnAffine(gamma, beta, mean, invstd)
}

// affineRows writes y = x·scale + shift for rows of c channels (y may be x).
func affineRows(y, x, scale, shift []float32, c int) {
	for r := 0; r+c <= len(x); r += c {
		yr, xr := y[r:r+c], x[r:r+c]
		yr, sc, sh := yr[:len(xr)], scale[:len(xr)], shift[:len(xr)]
		for j, v := range xr {
			yr[j] = v*sc[j] + sh[j]
		}
	}
}

// apply writes y = x·scale + shift over all rows, in parallel blocks of rows.
func (g bnGeom) apply(y, x, scale, shift []float32) {
	blocks := (g.m + bnBlockRows - 1) / bnBlockRows
	parallelTasks(blocks, func(_, t int) {
		lo, hi := t*bnBlockRows*g.c, min(g.m, (t+1)*bnBlockRows)*g.c
		affineRows(y[lo:hi], x[lo:hi], scale, shift, g.c)
	})
}

// trainForward normalises with batch statistics and updates the running statistics in place.
func (g bnGeom) trainForward(y, x, gamma, beta, runMean, runVar []float32) {
	mean, invstd, variance := g.stats(x)
	sc, sh := bnAffine(gamma, beta, mean, invstd)
	g.apply(y, x, sc, sh)
	unbias := float64(g.m) / math.Max(float64(g.m-1), 1)
	for j := range runMean {
		runMean[j] = float32((1-bnMomentum)*float64(runMean[j]) + bnMomentum*mean[j])
		runVar[j] = float32((1-bnMomentum)*float64(runVar[j]) + bnMomentum*variance[j]*unbias)
	}
}

// evalForward normalises with the running statistics.
func (g bnGeom) evalForward(y, x, gamma, beta, runMean, runVar []float32) {
	sc, sh := bnEvalAffine(gamma, beta, runMean, runVar)
	g.apply(y, x, sc, sh)
}

// paramGrads returns dgamma = Σ dy·x̂ and dbeta = Σ dy per channel, in float64.
func (g bnGeom) paramGrads(x, dy []float32, mean, invstd []float64) (dgamma, dbeta []float64) {
	dbeta = g.blockSums(func(part []float64, lo, hi int) {
		for r := lo; r < hi; r++ {
			for j, d := range dy[r*g.c : (r+1)*g.c] {
				part[j] += float64(d)
			}
		}
	})
	dgamma = g.blockSums(func(part []float64, lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dr := x[r*g.c:(r+1)*g.c], dy[r*g.c:(r+1)*g.c]
			for j, d := range dr {
				part[j] += float64(d) * (float64(xr[j]) - mean[j]) * invstd[j]
			}
		}
	})
	return dgamma, dbeta
}

// backward computes dx = gamma·invstd·(dy − dbeta/m − x̂·dgamma/m) and the parameter gradients.
func (g bnGeom) backward(dx, dgOut, dbOut, x, gamma, dy []float32) {
	mean, invstd, _ := g.stats(x)
	dgamma, dbeta := g.paramGrads(x, dy, mean, invstd)
	if dgOut != nil {
		for j := range dgOut {
			dgOut[j], dbOut[j] = float32(dgamma[j]), float32(dbeta[j])
		}
	}
	if dx == nil {
		return
	}
	m := float64(g.m)
	a, b, cc := make([]float32, g.c), make([]float32, g.c), make([]float32, g.c)
	for j := range a {
		k := float64(gamma[j]) * invstd[j]
		// dx = k·dy − k·dbeta/m − k·(x−mean)·invstd·dgamma/m
		a[j] = float32(k)
		b[j] = float32(k * invstd[j] * dgamma[j] / m)
		cc[j] = float32(-k*dbeta[j]/m + k*invstd[j]*dgamma[j]/m*mean[j])
	}
	blocks := (g.m + bnBlockRows - 1) / bnBlockRows
	parallelTasks(blocks, func(_, t int) {
		for r := t * bnBlockRows; r < min(g.m, (t+1)*bnBlockRows); r++ {
			xr, dr, or := x[r*g.c:(r+1)*g.c], dy[r*g.c:(r+1)*g.c], dx[r*g.c:(r+1)*g.c]
			for j := range or {
				or[j] = a[j]*dr[j] - b[j]*xr[j] + cc[j]
			}
		}
	})
}

// batchNorm adds batch normalisation over the last axis of x to x's graph. runMean and runVar are
// the running statistics, shared by the training graph (which updates them during its forward
// pass) and the evaluation graph (which reads them).
func batchNorm(x, gamma, beta *G.Node, runMean, runVar []float32, training bool) (*G.Node, error) {
	xs := x.Shape()
	c := xs[xs.Dims()-1]
	if gamma.Shape().TotalSize() != c || beta.Shape().TotalSize() != c || len(runMean) != c || len(runVar) != c {
		return nil, fmt.Errorf("batch norm: %d channels but parameters of size %d/%d/%d/%d", c,
			gamma.Shape().TotalSize(), beta.Shape().TotalSize(), len(runMean), len(runVar))
	}
	g := bnGeom{m: xs.TotalSize() / c, c: c}
	if !training {
		op := newKernelOp("batchnorm_eval", []int{xs.Dims(), 1, 1}, xs.Clone(), func(y []float32, in [][]float32) error {
			g.evalForward(y, in[0], in[1], in[2], runMean, runVar)
			return nil
		})
		return op.apply(x, gamma, beta)
	}
	op := newKernelOp("batchnorm", []int{xs.Dims(), 1, 1}, xs.Clone(), func(y []float32, in [][]float32) error {
		g.trainForward(y, in[0], in[1], in[2], runMean, runVar)
		return nil
	})
	op.diffWRT = []bool{true, true, true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		// one pass computes all three gradients: the input gradient is the op's output, the scale
		// and shift gradients wait in dg and db for two ops that copy them out
		dg, db := make([]float32, c), make([]float32, c)
		dxOp := newKernelOp("batchnorm_dx", []int{xs.Dims(), 1, xs.Dims()}, xs.Clone(), func(dx []float32, in [][]float32) error {
			g.backward(dx, dg, db, in[0], in[1], in[2])
			return nil
		})
		dx, err := dxOp.apply(in[0], in[1], dy)
		if err != nil {
			return nil, err
		}
		out := G.Nodes{dx}
		for _, part := range []struct {
			name string
			src  []float32
		}{{"batchnorm_dgamma", dg}, {"batchnorm_dbeta", db}} {
			cp := newKernelOp(part.name, []int{xs.Dims()}, gamma.Shape().Clone(), func(dst []float32, _ [][]float32) error {
				copy(dst, part.src)
				return nil
			})
			n, err := cp.apply(dx)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	}
	return op.apply(x, gamma, beta)
}
