package model

import (
	"fmt"
	"time"
)

// maxInferBatch is the largest number of images one pass of the direct forward path computes;
// longer requests run in passes of this size, which bounds the path's memory.
const maxInferBatch = 256

// inferNet is the direct forward path of a trained network: the evaluation-mode forward pass
// (no dropout, batch norm on running statistics) computed by calling the package's kernels in
// order, without a graph. It reads the trainer's parameter buffers in place (the weights of a
// dense layer whose width is not a multiple of 16 through a packed copy refreshed when they
// change), so it always sees the current weights. Convolution
// blocks run the same kernels on the same blocks as the evaluation graph; dense layers run a
// kernel of their own (denseWeights) whose result for an image does not depend on the other images
// of the batch. Logits agree with the graph's to rounding (TestDirectPathMatchesGraph) and are
// identical for every batch size (TestPredictionsIndependentOfBatch). Buffers are sized for the
// largest batch seen so far and reused; every layer's geometry is rebuilt per call from the
// batch size, so any batch size up to maxInferBatch runs without padding or compilation.
type inferNet struct {
	cfg    Config
	params map[string]*tensorBuf
	state  map[string]*tensorBuf
	lut    pixelLUT
	x      []float32
	blocks []*inferBlock
	dense  []*inferDense
	// timing, when set, receives the time of each phase of the calls (PredictTimed).
	timing *Phases
}

type inferBlock struct {
	out       []float32
	ycs, cols *workerBufs
}

type inferDense struct {
	y       []float32
	weights denseWeights
	scratch splitScratch
}

func newInferNet(cfg Config, params, state []*tensorBuf, lut pixelLUT) *inferNet {
	net := &inferNet{cfg: cfg, params: map[string]*tensorBuf{}, state: map[string]*tensorBuf{}, lut: lut}
	for _, p := range params {
		net.params[p.spec.name] = p
	}
	for _, s := range state {
		net.state[s.spec.name] = s
	}
	in := cfg.Input
	hh, ww, ch := in.Height, in.Width, in.Channels
	if cfg.Arch == ArchCNN {
		for _, out := range cfg.Channels {
			c := convGeom{h: hh, w: ww, c: ch, o: out}
			net.blocks = append(net.blocks, &inferBlock{
				ycs: newWorkerBufs(c.chunkRows() * c.w * c.o), cols: newWorkerBufs(c.colSize()),
			})
			hh, ww, ch = hh/2, ww/2, out
		}
	}
	for range net.denseUnits() {
		net.dense = append(net.dense, &inferDense{})
	}
	return net
}

// denseUnits lists the widths of the dense layers after the input or the conv blocks, the output
// layer (1) last.
func (net *inferNet) denseUnits() []int {
	units := net.cfg.HiddenUnits
	if net.cfg.Arch == ArchCNN {
		units = net.cfg.HeadUnits
	}
	return append(append([]int(nil), units...), 1)
}

// grow returns buf with room for n values, reallocated only when it is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// logits computes the logits of n images (pix holds n·H·W·C bytes, n ≤ maxInferBatch) into out.
// version identifies the weights: the dense layers repack them when it changes.
func (net *inferNet) logits(pix []byte, n int, out []float32, version uint64) error {
	cfg := net.cfg
	in := cfg.Input
	d := in.Height * in.Width * in.Channels
	if n < 1 || n > maxInferBatch || len(pix) != n*d || len(out) != n {
		return fmt.Errorf("direct forward pass: %d bytes for %d images of %d bytes", len(pix), n, d)
	}
	net.x = grow(net.x, n*d)
	var t0 time.Time
	if net.timing != nil {
		t0 = time.Now()
	}
	net.lut.fill(net.x, pix)
	if net.timing != nil {
		t1 := time.Now()
		net.timing.Preprocess += t1.Sub(t0)
		defer func() { net.timing.Compute += time.Since(t1) }()
	}
	h, width := net.x, d
	if cfg.Arch == ArchCNN {
		hh, ww, ch := in.Height, in.Width, in.Channels
		for i, o := range cfg.Channels {
			layer := fmt.Sprintf("conv%d", i+1)
			g := convPoolGeom{conv: convGeom{n: n, h: hh, w: ww, c: ch, o: o}, act: cfg.Activation, avg: cfg.Pooling == "avg"}
			if cfg.BatchNorm {
				bn := fmt.Sprintf("bn%d", i+1)
				g.scale, g.shift = bnEvalAffine(net.params[bn+".weight"].data, net.params[bn+".bias"].data,
					net.state[bn+".running_mean"].data, net.state[bn+".running_var"].data)
			}
			blk := net.blocks[i]
			blk.out = grow(blk.out, n*g.imgOut())
			g.forward(blk.out, h, net.params[layer+".weight"].data, net.params[layer+".bias"].data, nil, blk.ycs, blk.cols)
			h = blk.out
			hh, ww, ch = hh/2, ww/2, o
		}
		width = hh * ww * ch
	}
	units := net.denseUnits()
	for i, u := range units {
		layer := fmt.Sprintf("fc%d", i+1)
		if i == len(units)-1 {
			layer = "out"
		}
		ly := net.dense[i]
		ly.y = grow(ly.y, n*u)
		ly.weights.use(net.params[layer+".weight"].data, width, u, version)
		ly.weights.forward(ly.y, h, net.params[layer+".bias"].data, n, &ly.scratch)
		if i < len(units)-1 {
			y := ly.y
			parallelFor(len(y), func(lo, hi int) { activateRange(cfg.Activation, y[lo:hi], y[lo:hi]) })
		}
		h, width = ly.y, u
	}
	copy(out, h)
	return nil
}
