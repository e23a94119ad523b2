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

// The row kernels below work on rows of w pixels × c channels: src holds 2·np such rows, dst (or
// the pooled gradient gp) np rows of w/2 pixels. The forward and backward passes of the pooling op,
// the fused convolution-pooling op and the direct inference path all use them, so they compute
// the same values bit for bit.

// window returns the four channel vectors of the 2×2 window of output pixel (y, x), in scan order,
// each cut to length c.
func window(src []float32, y, x, w, c int) (a, b, cc, d []float32) {
	base, row := (2*y*w+2*x)*c, w*c
	return src[base : base+c], src[base+c : base+2*c], src[base+row : base+row+c], src[base+row+c : base+row+2*c]
}

// maxPoolRows writes the maximum of every 2×2 window into dst and, when arg is not nil, which of
// the four (0..3 in scan order) holds it, the first one on ties. The maximum is Go's max (NaN if
// any value is NaN); it is computed without branches, which random data would mispredict.
func maxPoolRows(dst, src []float32, arg []uint8, np, w, c int) {
	ow := w / 2
	for y := 0; y < np; y++ {
		for x := 0; x < ow; x++ {
			a, b, cc, d := window(src, y, x, w, c)
			o := (y*ow + x) * c
			out := dst[o : o+c]
			a, b, cc, d = a[:len(out)], b[:len(out)], cc[:len(out)], d[:len(out)]
			if arg == nil {
				for j := range out {
					out[j] = max(max(a[j], b[j]), max(cc[j], d[j]))
				}
				continue
			}
			ar := arg[o : o+c]
			ar = ar[:len(out)]
			for j := range out {
				aj, bj, cj, dj := a[j], b[j], cc[j], d[j]
				m1, k1 := max(aj, bj), b2u8(bj > aj)
				m2, k2 := max(cj, dj), 2+b2u8(dj > cj)
				mask := -b2u8(m2 > m1)
				out[j], ar[j] = max(m1, m2), k1^((k1^k2)&mask)
			}
		}
	}
}

// b2u8 is 1 for true and 0 for false (compiled to a SETcc, no branch).
func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// avgPoolRows writes the mean of every 2×2 window into dst.
func avgPoolRows(dst, src []float32, np, w, c int) {
	ow := w / 2
	for y := 0; y < np; y++ {
		for x := 0; x < ow; x++ {
			a, b, cc, d := window(src, y, x, w, c)
			o := (y*ow + x) * c
			out := dst[o : o+c]
			a, b, cc, d = a[:len(out)], b[:len(out)], cc[:len(out)], d[:len(out)]
			for j := range out {
				out[j] = (a[j] + b[j] + cc[j] + d[j]) * 0.25
			}
		}
	}
}

// maxUnpoolRows writes the gradient of 2·np source rows: each window's pooled gradient goes to
// its recorded maximum, the other three get 0. An odd trailing column is left untouched.
func maxUnpoolRows(dsrc, gp []float32, arg []uint8, np, w, c int) {
	ow, row := w/2, w*c
	for y := 0; y < np; y++ {
		for x := 0; x < ow; x++ {
			base := (2*y*w + 2*x) * c
			off := [4]int{base, base + c, base + row, base + row + c}
			o := (y*ow + x) * c
			src, ar := gp[o:o+c], arg[o:o+c]
			d0, d1, d2, d3 := window(dsrc, y, x, w, c)
			clear(d0)
			clear(d1)
			clear(d2)
			clear(d3)
			for j, v := range src {
				dsrc[off[ar[j]&3]+j] = v
			}
		}
	}
}

// avgUnpoolRows writes the gradient of 2·np source rows: a quarter of each window's pooled
// gradient to each of its four pixels. An odd trailing column is left untouched.
func avgUnpoolRows(dsrc, gp []float32, np, w, c int) {
	ow := w / 2
	for y := 0; y < np; y++ {
		for x := 0; x < ow; x++ {
			o := (y*ow + x) * c
			src := gp[o : o+c]
			d0, d1, d2, d3 := window(dsrc, y, x, w, c)
			d0, d1, d2, d3 = d0[:len(src)], d1[:len(src)], d2[:len(src)], d3[:len(src)]
			for j, v := range src {
				q := v * 0.25
				d0[j], d1[j], d2[j], d3[j] = q, q, q, q
			}
		}
	}
}

func (g poolGeom) imgIn() int  { return g.h * g.w * g.c }
func (g poolGeom) imgOut() int { return g.oh() * g.ow() * g.c }

// forward pools every image, one task per image; arg (max pooling) receives the window maxima.
func (g poolGeom) forward(out, in []float32, arg []uint8) {
	parallelTasks(g.n, func(_, img int) {
		dst, src := out[img*g.imgOut():(img+1)*g.imgOut()], in[img*g.imgIn():(img+1)*g.imgIn()]
		if g.max {
			maxPoolRows(dst, src, arg[img*g.imgOut():(img+1)*g.imgOut()], g.oh(), g.w, g.c)
		} else {
			avgPoolRows(dst, src, g.oh(), g.w, g.c)
		}
	})
}

// backward spreads dy onto dx: to the recorded first maximum of each window (max) or evenly (avg).
func (g poolGeom) backward(dx, dy []float32, arg []uint8) {
	parallelTasks(g.n, func(_, img int) {
		dxi, dyi := dx[img*g.imgIn():(img+1)*g.imgIn()], dy[img*g.imgOut():(img+1)*g.imgOut()]
		if g.h%2 != 0 || g.w%2 != 0 { // odd trailing rows/columns get no gradient
			clear(dxi)
		}
		if g.max {
			maxUnpoolRows(dxi, dyi, arg[img*g.imgOut():(img+1)*g.imgOut()], g.oh(), g.w, g.c)
		} else {
			avgUnpoolRows(dxi, dyi, g.oh(), g.w, g.c)
		}
	})
}

// pool2x2 adds 2×2 max or average pooling over x (N,H,W,C) to x's graph. Max pooling records
// each window's maximum in the forward pass for its backward pass.
func pool2x2(x *G.Node, isMax bool) (*G.Node, error) {
	xs := x.Shape()
	if xs.Dims() != 4 || xs[1] < 2 || xs[2] < 2 {
		return nil, fmt.Errorf("pool2x2: input shape %v is not (N,H>=2,W>=2,C)", xs)
	}
	g := poolGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], max: isMax}
	name := "avgpool2x2"
	var arg []uint8
	if isMax {
		name = "maxpool2x2"
		arg = make([]uint8, g.n*g.imgOut())
	}
	op := newKernelOp(name, []int{4}, tensor.Shape{g.n, g.oh(), g.ow(), g.c}, func(out []float32, in [][]float32) error {
		g.forward(out, in[0], arg)
		return nil
	})
	op.diffWRT = []bool{true}
	op.diff = func(in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
		// the input is an argument only to order the backward op after the forward op
		bop := newKernelOp(name+"_dx", []int{4, 4}, xs.Clone(), func(dx []float32, in [][]float32) error {
			g.backward(dx, in[1], arg)
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
