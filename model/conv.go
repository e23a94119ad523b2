package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGeom is a 3×3, stride 1, zero-padding 1 ("same") convolution over NHWC images, computed as
// im2col + one GEMM per chunk of image rows. Weights are a (9·C, O) matrix with rows ordered
// (kh, kw, c); the bias has O entries.
//
// Every pass (forward, weight and input gradients; training, evaluation graph and the direct
// inference path) cuts an image into the same chunks of rows, fixed by the shape alone, and runs
// the same products on them. So a chunk's results never depend on the batch size, the pass, or
// the thread count.
type convGeom struct {
	n, h, w, c, o int
}

// convChunkPixels is the target number of output pixels (GEMM rows) per chunk: the chunk's im2col
// matrix and outputs stay in the L2 cache.
const convChunkPixels = 512

// chunkRows is the number of image rows per chunk: even (so 2×2 pooling windows never straddle
// chunks), about convChunkPixels/w, at least 2 (or h when h < 2).
func (g convGeom) chunkRows() int {
	return min(g.h, max(2, (convChunkPixels/g.w)&^1))
}

// rowChunks is the number of chunks per image.
func (g convGeom) rowChunks() int { r := g.chunkRows(); return (g.h + r - 1) / r }

// chunkSpan returns the image rows [r0, r1) of chunk ci.
func (g convGeom) chunkSpan(ci int) (r0, r1 int) {
	r := g.chunkRows()
	return ci * r, min(g.h, (ci+1)*r)
}

func (g convGeom) k() int { return 9 * g.c }

// imgIn and imgOut are the sizes of one input and one output image.
func (g convGeom) imgIn() int  { return g.h * g.w * g.c }
func (g convGeom) imgOut() int { return g.h * g.w * g.o }

// colSize is the size of one chunk's im2col matrix.
func (g convGeom) colSize() int { return g.chunkRows() * g.w * g.k() }

// workerBufs hands out one lazily allocated buffer of a fixed size per kernel thread.
type workerBufs struct {
	size int
	bufs [][]float32
}

func newWorkerBufs(size int) *workerBufs {
	return &workerBufs{size: size, bufs: make([][]float32, numWorkers())}
}

// get returns worker w's buffer; w is a worker index of parallelTasks, below the thread count
// that ensureWorkers saw before the parallel section.
func (b *workerBufs) get(w int) []float32 {
	if b.bufs[w] == nil {
		b.bufs[w] = make([]float32, b.size)
	}
	return b.bufs[w]
}

// ensureWorkers grows the slot table to the current thread count; call it before every parallel
// section that uses get.
func (b *workerBufs) ensureWorkers() {
	if n := numWorkers(); n > len(b.bufs) {
		b.bufs = append(b.bufs, make([][]float32, n-len(b.bufs))...)
	}
}

// im2col fills col (rows = (r1−r0)·W, 9·C columns) from image rows [r0, r1) of one image xi.
// The three taps of a kernel row are contiguous in xi: inside the image they are copied as one
// block, as a fixed-size array for the common channel counts.
func (g convGeom) im2col(xi []float32, r0, r1 int, col []float32) {
	h, w, c, k := g.h, g.w, g.c, g.k()
	c3 := 3 * c
	for y := r0; y < r1; y++ {
		for ky := 0; ky < 3; ky++ {
			iy := y + ky - 1
			off := (y-r0)*w*k + ky*c3
			if iy < 0 || iy >= h {
				for xx := 0; xx < w; xx++ {
					clear(col[off+xx*k : off+xx*k+c3])
				}
				continue
			}
			src := xi[iy*w*c : (iy+1)*w*c]
			g.im2colEdge(src, 0, col[off:off+c3])
			switch c {
			case 3:
				for xx := 1; xx < w-1; xx++ {
					*(*[9]float32)(col[off+xx*k:]) = *(*[9]float32)(src[(xx-1)*3:])
				}
			case 16:
				for xx := 1; xx < w-1; xx++ {
					*(*[48]float32)(col[off+xx*k:]) = *(*[48]float32)(src[(xx-1)*16:])
				}
			default:
				for xx := 1; xx < w-1; xx++ {
					copy(col[off+xx*k:off+xx*k+c3], src[(xx-1)*c:(xx+2)*c])
				}
			}
			if w > 1 {
				g.im2colEdge(src, w-1, col[off+(w-1)*k:off+(w-1)*k+c3])
			}
		}
	}
}

// im2colEdge fills the three taps dst of column xx of one input row src, with zeros where they
// fall outside the image.
func (g convGeom) im2colEdge(src []float32, xx int, dst []float32) {
	c := g.c
	for kx := 0; kx < 3; kx++ {
		ix := xx + kx - 1
		d := dst[kx*c : (kx+1)*c]
		if ix < 0 || ix >= g.w {
			clear(d)
		} else {
			copy(d, src[ix*c:(ix+1)*c])
		}
	}
}

// col2im adds the image gradient of output rows [r0, r1) from the columns dcol into dxi, the
// gradient of one whole input image (the caller clears it before the first chunk).
func (g convGeom) col2im(dcol []float32, r0, r1 int, dxi []float32) {
	h, w, c, k := g.h, g.w, g.c, g.k()
	for y := r0; y < r1; y++ {
		for xx := 0; xx < w; xx++ {
			row := dcol[((y-r0)*w+xx)*k : ((y-r0)*w+xx+1)*k]
			for ky := 0; ky < 3; ky++ {
				iy := y + ky - 1
				if iy < 0 || iy >= h {
					continue
				}
				for kx := 0; kx < 3; kx++ {
					ix := xx + kx - 1
					if ix < 0 || ix >= w {
						continue
					}
					src := row[(ky*3+kx)*c : (ky*3+kx+1)*c]
					dst := dxi[(iy*w+ix)*c : (iy*w+ix+1)*c]
					dst = dst[:len(src)]
					for j, v := range src {
						dst[j] += v
					}
				}
			}
		}
	}
}

// forwardChunk writes conv(xi) + b for rows [r0, r1) of one image into yc ((r1−r0)·W rows of O),
// using col as im2col scratch.
func (g convGeom) forwardChunk(xi, wt, b []float32, r0, r1 int, yc, col []float32) {
	rows, k, o := (r1-r0)*g.w, g.k(), g.o
	for r := 0; r < rows; r++ { // bias first; the GEMM accumulates on top of it
		copy(yc[r*o:(r+1)*o], b)
	}
	g.im2col(xi, r0, r1, col)
	blasImpl.Sgemm(blas.NoTrans, blas.NoTrans, rows, o, k, 1, col, k, wt, o, 1, yc, o)
}

// forward computes y = conv(x, wt) + b, one task per chunk of every image.
func (g convGeom) forward(y, x, wt, b []float32, cols *workerBufs) {
	nc := g.rowChunks()
	cols.ensureWorkers()
	parallelTasks(g.n*nc, func(wk, t int) {
		img, ci := t/nc, t%nc
		r0, r1 := g.chunkSpan(ci)
		yi := y[img*g.imgOut():]
		g.forwardChunk(x[img*g.imgIn():], wt, b, r0, r1, yi[r0*g.w*g.o:r1*g.w*g.o], cols.get(wk))
	})
}

// convGrads holds the per-image partial gradients of a convolution's weights and bias, summed
// over the images in image order once every image is done.
type convGrads struct {
	g     convGeom
	dwImg []float32 // n × 9C × O
	dbImg []float64 // n × O
}

func newConvGrads(g convGeom) *convGrads {
	return &convGrads{g: g, dwImg: make([]float32, g.n*g.k()*g.o), dbImg: make([]float64, g.n*g.o)}
}

// addChunk adds one chunk's contribution to image img's partial gradients: dW += colᵀ·dy
// (overwriting on the image's first chunk) and db += Σ dy over the chunk's rows, in row order.
func (cg *convGrads) addChunk(img, ci int, col, dy []float32, rows int) {
	k, o := cg.g.k(), cg.g.o
	beta := float32(1)
	if ci == 0 {
		beta = 0
		clear(cg.dbImg[img*o : (img+1)*o])
	}
	blasImpl.Sgemm(blas.Trans, blas.NoTrans, k, o, rows, 1, col, k, dy, o, beta, cg.dwImg[img*k*o:], o)
	db := cg.dbImg[img*o : (img+1)*o]
	for r := 0; r < rows; r++ {
		for j, v := range dy[r*o : (r+1)*o] {
			db[j] += float64(v)
		}
	}
}

// weight sums the images' weight gradients into dw, in image order.
func (cg *convGrads) weight(dw []float32) {
	ko := cg.g.k() * cg.g.o
	parallelFor(ko, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float32
			for img := 0; img < cg.g.n; img++ {
				s += cg.dwImg[img*ko+i]
			}
			dw[i] = s
		}
	})
}

// bias sums the images' bias gradients into db, in image order.
func (cg *convGrads) bias(db []float32) {
	o := cg.g.o
	for j := range db[:o] {
		var s float64
		for img := 0; img < cg.g.n; img++ {
			s += cg.dbImg[img*o+j]
		}
		db[j] = float32(s)
	}
}

// backward computes, from dy (the gradient of the conv output), the per-image weight and bias
// gradients into cg and, when dx is not nil, the input gradient dx = col2im(dy·Wᵀ). One task per
// image; chunks in order inside it.
func (g convGeom) backward(cg *convGrads, dx, x, wt, dy []float32, cols, dcols *workerBufs) {
	cols.ensureWorkers()
	dcols.ensureWorkers()
	parallelTasks(g.n, func(wk, img int) {
		xi, dyi := x[img*g.imgIn():], dy[img*g.imgOut():]
		var dxi []float32
		if dx != nil {
			dxi = dx[img*g.imgIn() : (img+1)*g.imgIn()]
			clear(dxi)
		}
		col := cols.get(wk)
		for ci := range g.rowChunks() {
			r0, r1 := g.chunkSpan(ci)
			dyc := dyi[r0*g.w*g.o : r1*g.w*g.o]
			g.im2col(xi, r0, r1, col)
			cg.addChunk(img, ci, col, dyc, (r1-r0)*g.w)
			if dxi != nil {
				g.inputChunk(dxi, wt, dyc, r0, r1, dcols.get(wk))
			}
		}
	})
}

// inputChunk adds the input gradient of output rows [r0, r1) (dyc) into dxi, the gradient of
// one whole image: dcol = dyc·Wᵀ, then col2im.
func (g convGeom) inputChunk(dxi, wt, dyc []float32, r0, r1 int, dcol []float32) {
	rows, k, o := (r1-r0)*g.w, g.k(), g.o
	blasImpl.Sgemm(blas.NoTrans, blas.Trans, rows, k, o, 1, dyc, o, wt, o, 0, dcol, k)
	g.col2im(dcol, r0, r1, dxi)
}

// conv2d adds a 3×3 same convolution with bias over x (N,H,W,C) to x's graph; wt is (9C,O), b is (O).
// Its backward pass is one op (the input gradient, or the weight gradient for the data input)
// that also leaves the weight and bias gradients for two small ops that copy them out.
func conv2d(x, wt, b *G.Node) (*G.Node, error) {
	xs, ws := x.Shape(), wt.Shape()
	if xs.Dims() != 4 || ws.Dims() != 2 || ws[0] != 9*xs[3] || b.Shape().TotalSize() != ws[1] {
		return nil, fmt.Errorf("conv2d: input %v, weight %v and bias %v do not fit", xs, ws, b.Shape())
	}
	g := convGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], o: ws[1]}
	cols := newWorkerBufs(g.colSize())
	op := newKernelOp("conv3x3", []int{4, 2, 1}, tensor.Shape{g.n, g.h, g.w, g.o}, func(y []float32, in [][]float32) error {
		g.forward(y, in[0], in[1], in[2], cols)
		return nil
	})
	op.diffWRT = []bool{!isInput(x), true, true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		cg := newConvGrads(g)
		dcols := newWorkerBufs(g.colSize())
		return convGradNodes(cg, op.diffWRT[0], xs, ws, b.Shape(), G.Nodes{in[0], in[1], dy},
			func(dx []float32, in [][]float32) {
				g.backward(cg, dx, in[0], in[1], in[2], cols, dcols)
			})
	}
	return op.apply(x, wt, b)
}

// convGradNodes builds the gradient nodes of a convolution: a main op over ins (the inputs its
// backward function reads, x first) that writes the input gradient into its output when withDX,
// and the per-image weight and bias gradients into cg; then small ops that sum those into the
// weight and bias gradients. Without withDX the main op's output is the weight gradient itself.
func convGradNodes(cg *convGrads, withDX bool, xs, ws, bs tensor.Shape, ins G.Nodes,
	backward func(dx []float32, in [][]float32)) (G.Nodes, error) {
	dims := make([]int, len(ins))
	for i, n := range ins {
		dims[i] = n.Shape().Dims()
	}
	var dx, dw *G.Node
	var err error
	if withDX {
		main := newKernelOp("conv3x3_dx", dims, xs.Clone(), func(dx []float32, in [][]float32) error {
			backward(dx, in)
			return nil
		})
		if dx, err = main.apply(ins...); err != nil {
			return nil, err
		}
		dwOp := newKernelOp("conv3x3_dw", []int{xs.Dims()}, ws.Clone(), func(dw []float32, _ [][]float32) error {
			cg.weight(dw)
			return nil
		})
		if dw, err = dwOp.apply(dx); err != nil {
			return nil, err
		}
	} else {
		main := newKernelOp("conv3x3_dw", dims, ws.Clone(), func(dw []float32, in [][]float32) error {
			backward(nil, in)
			cg.weight(dw)
			return nil
		})
		if dw, err = main.apply(ins...); err != nil {
			return nil, err
		}
	}
	dbOp := newKernelOp("conv3x3_db", []int{ws.Dims()}, bs.Clone(), func(db []float32, _ [][]float32) error {
		cg.bias(db)
		return nil
	})
	db, err := dbOp.apply(dw)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}
