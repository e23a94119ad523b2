package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convPoolGeom is a conv block without batch norm fused into one op: a 3×3 same convolution, 2×2
// max pooling, then the activation, act(maxpool(conv(x))). Chunk by chunk, the convolution's
// output goes from the GEMM straight into pooling while it is in the cache, so the full-size
// convolution output (4× the block's output) is never written to memory; the backward pass
// rebuilds each chunk's output gradient from the pooled gradient and the recorded maxima in the
// same way. It computes exactly what conv2d, pool2x2 and activate compute one after another,
// bit for bit (TestConvPoolMatchesUnfused).
//
// The direct inference path (infer.go) runs every conv block through forwardChunk, including
// blocks with batch norm (in evaluation mode, an affine map per channel) or average pooling,
// which the graph builds from separate ops; forwardChunk then applies the same kernels in the same
// order as those ops: bn → maxpool → act, or [bn →] act → avgpool.
type convPoolGeom struct {
	conv convGeom
	act  string
	// avg selects average pooling (inference only; the fused training op is max pooling).
	avg bool
	// scale and shift are batch norm's evaluation-mode affine map (inference only), or nil.
	scale, shift []float32
}

// pooled sizes: rows and columns of the output, and one output image.
func (g convPoolGeom) ph() int     { return g.conv.h / 2 }
func (g convPoolGeom) pw() int     { return g.conv.w / 2 }
func (g convPoolGeom) imgOut() int { return g.ph() * g.pw() * g.conv.o }

// chunkOut returns the output rows [p0, p0+np) that chunk [r0, r1) of the convolution pools into.
func chunkOut(r0, r1 int) (p0, np int) { return r0 / 2, (r1 - r0) / 2 }

// forwardChunk computes chunk [r0, r1) of image xi into the pooled rows of outImg and their
// maxima argImg (nil: not recorded), using yc (the chunk's convolution output) and col as scratch.
func (g convPoolGeom) forwardChunk(xi, wt, b []float32, r0, r1 int, outImg []float32, argImg []uint8, yc, col []float32) {
	c := g.conv
	c.forwardChunk(xi, wt, b, r0, r1, yc, col)
	yc = yc[:(r1-r0)*c.w*c.o]
	if g.scale != nil {
		affineRows(yc, yc, g.scale, g.shift, c.o)
	}
	p0, np := chunkOut(r0, r1)
	rowOut := g.pw() * c.o
	out := outImg[p0*rowOut : (p0+np)*rowOut]
	if g.avg {
		activateRange(g.act, yc, yc)
		avgPoolRows(out, yc, np, c.w, c.o)
		return
	}
	var arg []uint8
	if argImg != nil {
		arg = argImg[p0*rowOut : (p0+np)*rowOut]
	}
	maxPoolRows(out, yc, arg, np, c.w, c.o)
	activateRange(g.act, out, out)
}

// forward computes the block for every image, one task per chunk; arg (nil: not recorded)
// receives the window maxima.
func (g convPoolGeom) forward(out, x, wt, b []float32, arg []uint8, ycs, cols *workerBufs) {
	c := g.conv
	nc := c.rowChunks()
	ycs.ensureWorkers()
	cols.ensureWorkers()
	parallelTasks(c.n*nc, func(wk, t int) {
		img, ci := t/nc, t%nc
		r0, r1 := c.chunkSpan(ci)
		o := img * g.imgOut()
		var ai []uint8
		if arg != nil {
			ai = arg[o : o+g.imgOut()]
		}
		g.forwardChunk(x[img*c.imgIn():], wt, b, r0, r1, out[o:o+g.imgOut()], ai, ycs.get(wk), cols.get(wk))
	})
}

// backward computes the gradients from the output y, its gradient dy and the recorded maxima:
// per image and chunk, the pooled gradient dy·act'(y) goes back to the window maxima (the
// convolution's output gradient), which feeds the weight, bias and (dx not nil) input gradients.
func (g convPoolGeom) backward(cg *convGrads, dx, x, wt, y, dy []float32, arg []uint8, gps, dycs, cols, dcols *workerBufs) {
	c := g.conv
	for _, b := range []*workerBufs{gps, dycs, cols, dcols} {
		b.ensureWorkers()
	}
	odd := c.h%2 != 0 || c.w%2 != 0
	rowOut := g.pw() * c.o
	parallelTasks(c.n, func(wk, img int) {
		xi := x[img*c.imgIn():]
		o := img * g.imgOut()
		yi, dyi, ai := y[o:o+g.imgOut()], dy[o:o+g.imgOut()], arg[o:o+g.imgOut()]
		var dxi []float32
		if dx != nil {
			dxi = dx[img*c.imgIn() : (img+1)*c.imgIn()]
			clear(dxi)
		}
		gp, dyc, col := gps.get(wk), dycs.get(wk), cols.get(wk)
		for ci := range c.rowChunks() {
			r0, r1 := c.chunkSpan(ci)
			p0, np := chunkOut(r0, r1)
			rows := (r1 - r0) * c.w
			lo, hi := p0*rowOut, (p0+np)*rowOut
			gpc, dycc := gp[:hi-lo], dyc[:rows*c.o]
			activateGradRange(g.act, gpc, yi[lo:hi], dyi[lo:hi])
			if odd {
				clear(dycc)
			}
			maxUnpoolRows(dycc, gpc, ai[lo:hi], np, c.w, c.o)
			c.im2col(xi, r0, r1, col)
			cg.addChunk(img, ci, col, dycc, rows)
			if dxi != nil {
				c.inputChunk(dxi, wt, dycc, r0, r1, dcols.get(wk))
			}
		}
	})
}

// convPool adds act(maxpool2x2(conv3x3(x) + b)) over x (N,H,W,C) to x's graph as one fused op;
// wt is (9C,O), b is (O). The input must be at least 2×2.
func convPool(x, wt, b *G.Node, act string) (*G.Node, error) {
	xs, ws := x.Shape(), wt.Shape()
	if xs.Dims() != 4 || ws.Dims() != 2 || ws[0] != 9*xs[3] || b.Shape().TotalSize() != ws[1] || xs[1] < 2 || xs[2] < 2 {
		return nil, fmt.Errorf("conv block: input %v, weight %v and bias %v do not fit", xs, ws, b.Shape())
	}
	c := convGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], o: ws[1]}
	g := convPoolGeom{conv: c, act: act}
	arg := make([]uint8, c.n*g.imgOut())
	ycs, cols := newWorkerBufs(c.chunkRows()*c.w*c.o), newWorkerBufs(c.colSize())
	op := newKernelOp("conv3x3_maxpool_"+act, []int{4, 2, 1}, tensor.Shape{c.n, g.ph(), g.pw(), c.o}, func(out []float32, in [][]float32) error {
		g.forward(out, in[0], in[1], in[2], arg, ycs, cols)
		return nil
	})
	op.diffWRT = []bool{!isInput(x), true, true}
	op.diff = func(in G.Nodes, y, dy *G.Node) (G.Nodes, error) {
		cg := newConvGrads(c)
		gps := newWorkerBufs((c.chunkRows() / 2) * g.pw() * c.o)
		dcols := newWorkerBufs(c.colSize())
		return convGradNodes(cg, op.diffWRT[0], xs, ws, b.Shape(), G.Nodes{in[0], in[1], y, dy},
			func(dx []float32, in [][]float32) {
				g.backward(cg, dx, in[0], in[1], in[2], in[3], arg, gps, ycs, cols, dcols)
			})
	}
	return op.apply(x, wt, b)
}
