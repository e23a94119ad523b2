package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGeom is a 3×3, stride 1, zero-padding 1 ("same") convolution over NHWC images, computed as
// im2col + one GEMM per chunk of images. Weights are a (9·C, O) matrix with rows ordered
// (kh, kw, c); the bias has O entries.
type convGeom struct {
	n, h, w, c, o int
}

// chunkImages is the number of whole images per task: about 4096 im2col rows (a cache-sized
// buffer), at least one image. Tasks never split an image, so col2im never crosses tasks.
func (g convGeom) chunkImages() int {
	return min(g.n, max(1, 4096/(g.h*g.w)))
}

// chunks returns the number of tasks and the images of task t.
func (g convGeom) chunks() int { return (g.n + g.chunkImages() - 1) / g.chunkImages() }

func (g convGeom) chunk(t int) (n0, nImg int) {
	step := g.chunkImages()
	return t * step, min(step, g.n-t*step)
}

func (g convGeom) k() int { return 9 * g.c }

// scratch returns one im2col-sized buffer per worker, allocated on first use by that worker.
func (g convGeom) scratch() func(worker int) []float32 {
	bufs := make([][]float32, numWorkers())
	size := g.chunkImages() * g.h * g.w * g.k()
	return func(w int) []float32 {
		if bufs[w] == nil {
			bufs[w] = make([]float32, size)
		}
		return bufs[w]
	}
}

// im2col fills col (rows = nImg·H·W, 9·C columns) from nImg images starting at x. Inside the
// image the three taps of a kernel row are contiguous in x and copied at once.
func (g convGeom) im2col(x []float32, nImg int, col []float32) {
	h, w, c, k := g.h, g.w, g.c, g.k()
	for img := 0; img < nImg; img++ {
		xi := x[img*h*w*c : (img+1)*h*w*c]
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				row := col[((img*h+y)*w+xx)*k : ((img*h+y)*w+xx+1)*k]
				for ky := 0; ky < 3; ky++ {
					iy := y + ky - 1
					dst := row[ky*3*c : (ky+1)*3*c]
					switch {
					case iy < 0 || iy >= h:
						clear(dst)
					case xx >= 1 && xx+1 < w:
						copy(dst, xi[(iy*w+xx-1)*c:(iy*w+xx+2)*c])
					default:
						for kx := 0; kx < 3; kx++ {
							ix := xx + kx - 1
							d := dst[kx*c : (kx+1)*c]
							if ix < 0 || ix >= w {
								clear(d)
							} else {
								copy(d, xi[(iy*w+ix)*c:(iy*w+ix+1)*c])
							}
						}
					}
				}
			}
		}
	}
}

// col2im writes the image gradient of nImg images from the columns dcol, in a fixed order.
func (g convGeom) col2im(dcol []float32, nImg int, dx []float32) {
	h, w, c, k := g.h, g.w, g.c, g.k()
	clear(dx[:nImg*h*w*c])
	for img := 0; img < nImg; img++ {
		di := dx[img*h*w*c : (img+1)*h*w*c]
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				row := dcol[((img*h+y)*w+xx)*k : ((img*h+y)*w+xx+1)*k]
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
						dst := di[(iy*w+ix)*c : (iy*w+ix+1)*c]
						for j, v := range src {
							dst[j] += v
						}
					}
				}
			}
		}
	}
}

// forward computes y = conv(x, wt) + b, one task per chunk of images.
func (g convGeom) forward(y, x, wt, b []float32) {
	hw, k, o := g.h*g.w, g.k(), g.o
	buf := g.scratch()
	parallelTasks(g.chunks(), func(wk, t int) {
		n0, nImg := g.chunk(t)
		rows := nImg * hw
		yc := y[n0*hw*o : (n0*hw+rows)*o]
		for r := 0; r < rows; r++ { // bias first; the GEMM accumulates on top of it
			copy(yc[r*o:(r+1)*o], b)
		}
		col := buf(wk)
		g.im2col(x[n0*hw*g.c:], nImg, col)
		blasImpl.Sgemm(blas.NoTrans, blas.NoTrans, rows, o, k, 1, col, k, wt, o, 1, yc, o)
	})
}

// gradWeight computes dW = Σ colᵀ·dy: one partial product per chunk, then a sum over the chunks
// in chunk order.
func (g convGeom) gradWeight(dw, x, dy []float32) {
	hw, k, o := g.h*g.w, g.k(), g.o
	nch := g.chunks()
	parts := make([]float32, nch*k*o)
	buf := g.scratch()
	parallelTasks(nch, func(wk, t int) {
		n0, nImg := g.chunk(t)
		col := buf(wk)
		g.im2col(x[n0*hw*g.c:], nImg, col)
		blasImpl.Sgemm(blas.Trans, blas.NoTrans, k, o, nImg*hw, 1, col, k, dy[n0*hw*o:], o, 0, parts[t*k*o:], o)
	})
	parallelFor(k*o, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float32
			for t := 0; t < nch; t++ {
				s += parts[t*k*o+i]
			}
			dw[i] = s
		}
	})
}

// gradBias computes db = Σ dy over images and pixels.
func (g convGeom) gradBias(db, dy []float32) { sumRows(db, dy, g.o) }

// gradInput computes dx = col2im(dy·Wᵀ), one task per chunk of images.
func (g convGeom) gradInput(dx, wt, dy []float32) {
	hw, k, o := g.h*g.w, g.k(), g.o
	buf := g.scratch()
	parallelTasks(g.chunks(), func(wk, t int) {
		n0, nImg := g.chunk(t)
		dcol := buf(wk)
		blasImpl.Sgemm(blas.NoTrans, blas.Trans, nImg*hw, k, o, 1, dy[n0*hw*o:], o, wt, o, 0, dcol, k)
		g.col2im(dcol, nImg, dx[n0*hw*g.c:])
	})
}

// conv2d adds a 3×3 same convolution with bias over x (N,H,W,C) to x's graph; wt is (9C,O), b is (O).
func conv2d(x, wt, b *G.Node) (*G.Node, error) {
	xs, ws := x.Shape(), wt.Shape()
	if xs.Dims() != 4 || ws.Dims() != 2 || ws[0] != 9*xs[3] || b.Shape().TotalSize() != ws[1] {
		return nil, fmt.Errorf("conv2d: input %v, weight %v and bias %v do not fit", xs, ws, b.Shape())
	}
	g := convGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], o: ws[1]}
	out := tensor.Shape{g.n, g.h, g.w, g.o}
	op := newKernelOp("conv3x3", []int{4, 2, 1}, out, func(y []float32, in [][]float32) error {
		g.forward(y, in[0], in[1], in[2])
		return nil
	})
	op.diffWRT = []bool{!isInput(x), true, true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		dxOp := newKernelOp("conv3x3_dx", []int{2, 4}, xs.Clone(), func(dx []float32, in [][]float32) error {
			g.gradInput(dx, in[0], in[1])
			return nil
		})
		dwOp := newKernelOp("conv3x3_dw", []int{4, 4}, ws.Clone(), func(dw []float32, in [][]float32) error {
			g.gradWeight(dw, in[0], in[1])
			return nil
		})
		dbOp := newKernelOp("conv3x3_db", []int{4}, b.Shape().Clone(), func(db []float32, in [][]float32) error {
			g.gradBias(db, in[0])
			return nil
		})
		var dx *G.Node
		var err error
		if op.diffWRT[0] {
			if dx, err = dxOp.apply(in[1], dy); err != nil {
				return nil, err
			}
		}
		dw, err := dwOp.apply(in[0], dy)
		if err != nil {
			return nil, err
		}
		db, err := dbOp.apply(dy)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx, dw, db}, nil
	}
	return op.apply(x, wt, b)
}
