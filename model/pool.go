package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolGeom is a 2×2, stride 2 pooling over NHWC images; odd trailing rows/columns are dropped,
// as PyTorch's MaxPool2d(2)/AvgPool2d(2) do.
type poolGeom struct {
	n, h, w, c int
	max        bool
}

func (g poolGeom) oh() int { return g.h / 2 }
func (g poolGeom) ow() int { return g.w / 2 }

// window returns the four input offsets of output pixel (img, y, x), channel 0, in scan order.
func (g poolGeom) window(img, y, x int) [4]int {
	base := ((img*g.h+2*y)*g.w + 2*x) * g.c
	row := g.w * g.c
	return [4]int{base, base + g.c, base + row, base + row + g.c}
}

func (g poolGeom) forward(out, in []float32) {
	parallelFor(g.n, func(lo, hi int) { g.forwardImages(out, in, lo, hi) })
}

func (g poolGeom) forwardImages(out, in []float32, lo, hi int) {
	oh, ow, c := g.oh(), g.ow(), g.c
	for img := lo; img < hi; img++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				win := g.window(img, y, x)
				dst := out[((img*oh+y)*ow+x)*c : ((img*oh+y)*ow+x+1)*c]
				a, b, cc, d := in[win[0]:win[0]+c], in[win[1]:win[1]+c], in[win[2]:win[2]+c], in[win[3]:win[3]+c]
				for j := range dst {
					if g.max {
						m := a[j]
						if b[j] > m {
							m = b[j]
						}
						if cc[j] > m {
							m = cc[j]
						}
						if d[j] > m {
							m = d[j]
						}
						dst[j] = m
					} else {
						dst[j] = (a[j] + b[j] + cc[j] + d[j]) * 0.25
					}
				}
			}
		}
	}
}

// backward spreads dy onto dx: to the first maximum of each window (max) or evenly (avg).
func (g poolGeom) backward(dx, in, dy []float32) {
	parallelFor(g.n, func(lo, hi int) { g.backwardImages(dx, in, dy, lo, hi) })
}

func (g poolGeom) backwardImages(dx, in, dy []float32, lo, hi int) {
	oh, ow, c := g.oh(), g.ow(), g.c
	if g.h%2 != 0 || g.w%2 != 0 { // odd trailing rows/columns get no gradient
		size := g.h * g.w * c
		clear(dx[lo*size : hi*size])
	}
	for img := lo; img < hi; img++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				win := g.window(img, y, x)
				src := dy[((img*oh+y)*ow+x)*c : ((img*oh+y)*ow+x+1)*c]
				d0, d1, d2, d3 := dx[win[0]:win[0]+c], dx[win[1]:win[1]+c], dx[win[2]:win[2]+c], dx[win[3]:win[3]+c]
				if !g.max {
					for j, v := range src {
						q := v * 0.25
						d0[j], d1[j], d2[j], d3[j] = q, q, q, q
					}
					continue
				}
				a, b, cc, d := in[win[0]:win[0]+c], in[win[1]:win[1]+c], in[win[2]:win[2]+c], in[win[3]:win[3]+c]
				for j, v := range src {
					// the first maximum in scan order takes the gradient
					best, m := 0, a[j]
					if b[j] > m {
						best, m = 1, b[j]
					}
					if cc[j] > m {
						best, m = 2, cc[j]
					}
					if d[j] > m {
						best = 3
					}
					d0[j], d1[j], d2[j], d3[j] = 0, 0, 0, 0
					switch best {
					case 0:
						d0[j] = v
					case 1:
						d1[j] = v
					case 2:
						d2[j] = v
					default:
						d3[j] = v
					}
				}
			}
		}
	}
}

// pool2x2 adds 2×2 max or average pooling over x (N,H,W,C) to x's graph.
func pool2x2(x *G.Node, isMax bool) (*G.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 4 || xs[1] < 2 || xs[2] < 2 {
		return nil, fmt.Errorf("pool2x2: input shape %v is not (N,H>=2,W>=2,C)", xs)
	}
	g := poolGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], max: isMax}
	name := "avgpool2x2"
	if isMax {
		name = "maxpool2x2"
	}
	op := newKernelOp(name, []int{4}, tensor.Shape{g.n, g.oh(), g.ow(), g.c}, func(out []float32, in [][]float32) error {
		g.forward(out, in[0])
		return nil
	})
	op.diffWRT = []bool{true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		bop := newKernelOp(name+"_dx", []int{4, 4}, xs.Clone(), func(dx []float32, in [][]float32) error {
			g.backward(dx, in[0], in[1])
			return nil
		})
		dx, err := bop.apply(in[0], dy)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx}, nil
	}
	return op.apply(x)
}
