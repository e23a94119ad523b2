package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// LayerNorm is the L2 norm of the gradient of one layer (all its parameter tensors together).
type LayerNorm struct {
	// Layer is the layer name: fc1..fcK, conv1..convK, bn1..bnK or out.
	Layer string `json:"layer"`
	// Norm is sqrt of the sum of squared gradients of the layer's weights and biases.
	Norm float64 `json:"norm"`
}

// Trainer owns a network's parameters, optimiser, scheduler and random state, and runs training
// steps and predictions on batches of raw pixels. It is not safe for concurrent use.
type Trainer struct {
	cfg    Config
	params []*tensorBuf
	state  []*tensorBuf
	opt    *optimizer
	sched  *Scheduler
	src    *rand.PCG
	rng    *rand.Rand
	lut    pixelLUT
	lr     float64
	steps  int64
	wver   uint64 // counts weight updates, so that packed copies of the weights know when to refresh
	epoch  int
	meta   json.RawMessage
	norms  []LayerNorm
	train  map[int]*netGraph
	pred   map[int]*netGraph // evaluation graphs by batch size (graphLogits)
	infer  *inferNet         // the direct forward path (Logits)
	layers []string          // distinct layer names in parameter order
}

// New builds a trainer from cfg (defaults applied, then validated). Weights are drawn from a
// PCG generator seeded with cfg.Seed, which then drives the dropout masks.
func New(cfg Config) (*Trainer, error) { return newTrainer(cfg, true) }

// newTrainer is New; without draw the weights are left at zero (and the generator untouched)
// for a loader that overwrites them.
func newTrainer(cfg Config, draw bool) (*Trainer, error) {
	ensureBLAS()
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	src := rand.NewPCG(cfg.Seed, cfg.Seed^pcgStream)
	rng := rand.New(src)
	specs := cfg.paramSpecs()
	var params []*tensorBuf
	if draw {
		params = initParams(specs, rng)
	} else {
		params = make([]*tensorBuf, len(specs))
		for i, s := range specs {
			params[i] = &tensorBuf{spec: s, data: make([]float32, s.size())}
		}
	}
	t := &Trainer{
		cfg:    cfg,
		params: params,
		state:  initState(cfg.stateSpecs()),
		sched:  NewScheduler(cfg.Scheduler, cfg.Optimizer.LearningRate),
		src:    src,
		rng:    rng,
		lut:    newPixelLUT(cfg.Normalize, cfg.Input.Channels),
		lr:     cfg.Optimizer.LearningRate,
		train:  map[int]*netGraph{},
		pred:   map[int]*netGraph{},
	}
	sizes := make([]int, len(t.params))
	for i, p := range t.params {
		sizes[i] = len(p.data)
		if len(t.layers) == 0 || t.layers[len(t.layers)-1] != p.spec.layer {
			t.layers = append(t.layers, p.spec.layer)
		}
	}
	t.opt = newOptimizer(cfg.Optimizer, sizes)
	return t, nil
}

// imageBytes is the size of one image in pix.
func (t *Trainer) imageBytes() int {
	in := t.cfg.Input
	return in.Height * in.Width * in.Channels
}

// trainGraph returns the training graph for batch size n, building it on first use.
func (t *Trainer) trainGraph(n int) (*netGraph, error) {
	if g, ok := t.train[n]; ok {
		return g, nil
	}
	g, err := buildGraph(t.cfg, t.params, t.state, n, true)
	if err != nil {
		return nil, err
	}
	t.train[n] = g
	return g, nil
}

// Step runs one training step on a batch: pix holds N images (HWC bytes), labels N values 0/1.
// It computes the loss, the gradients and their per-layer norms (see GradNorms), clips them when
// ClipNorm is set and updates the weights with the optimiser at the current learning rate.
// It returns the mean loss of the batch, or an error naming the step when the batch is malformed,
// the loss is NaN or infinite (the weights are then left unchanged) or the update made a weight
// NaN or infinite (the trainer must then be discarded).
func (t *Trainer) Step(pix []byte, labels []uint8) (float64, error) {
	step := t.steps + 1
	n, err := countImages(pix, labels, t.imageBytes(), true)
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", step, err)
	}
	g, err := t.trainGraph(n)
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", step, err)
	}
	t.lut.fill(g.x, pix)
	pw := float32(t.cfg.PosWeight)
	for i, y := range labels {
		g.y[i], g.wt[i] = float32(y), 1
		if y == 1 {
			g.wt[i] = pw
		}
	}
	g.fillMasks(t.rng)
	loss, grads, err := g.forwardBackward()
	if err != nil {
		return loss, fmt.Errorf("step %d: %w", step, err)
	}
	total := t.gradNorms(grads)
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return loss, fmt.Errorf("step %d: training diverged: the gradient norm is %v", step, total)
	}
	w := make([][]float32, len(t.params))
	for i, p := range t.params {
		w[i] = p.data
	}
	t.wver++
	if !t.opt.update(t.lr, clipScale(total, t.cfg.ClipNorm), w, grads) {
		return loss, fmt.Errorf("step %d: training diverged: a weight became NaN or infinite", step)
	}
	t.steps = step
	return loss, nil
}

// forwardBackward runs the training graph and returns the loss and the gradient buffers.
func (g *netGraph) forwardBackward() (float64, [][]float32, error) {
	if err := g.run(); err != nil {
		return 0, nil, fmt.Errorf("running the training graph: %w", err)
	}
	grads, err := g.grads()
	if err != nil {
		return 0, nil, err
	}
	loss, err := scalarValue(g.loss)
	if err != nil {
		return 0, nil, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, nil, fmt.Errorf("training diverged: the loss is %v", loss)
	}
	return loss, grads, nil
}

// grads returns the gradient buffers of the parameters, in parameter order: the values of the
// gradient nodes of the last run, which the next run overwrites.
func (g *netGraph) grads() ([][]float32, error) {
	out := make([][]float32, len(g.gradNode))
	for i, n := range g.gradNode {
		v := n.Value()
		if v == nil {
			return nil, fmt.Errorf("no gradient for %s", g.paramNode[i].Name())
		}
		d, ok := v.Data().([]float32)
		if !ok || len(d) != g.paramNode[i].Shape().TotalSize() {
			return nil, fmt.Errorf("gradient of %s is %T of the wrong size", g.paramNode[i].Name(), v.Data())
		}
		out[i] = d
	}
	return out, nil
}

// normBlock is the number of gradient values whose squares one task sums. Blocks are fixed by
// the tensor sizes, and their sums are added in block order, so the norms do not depend on the
// thread count.
const normBlock = 1 << 15

// sumSquares returns Σ v² of every buffer, each summed in float64 over fixed blocks in parallel.
func sumSquares(bufs [][]float32) []float64 {
	type task struct{ i, lo, hi int }
	var tasks []task
	for i, b := range bufs {
		for lo := 0; lo < len(b); lo += normBlock {
			tasks = append(tasks, task{i, lo, min(lo+normBlock, len(b))})
		}
	}
	part := make([]float64, len(tasks))
	parallelTasks(len(tasks), func(_, k int) {
		tk := tasks[k]
		var s0, s1 float64
		b := bufs[tk.i][tk.lo:tk.hi]
		j := 0
		for ; j+1 < len(b); j += 2 {
			s0 += float64(b[j]) * float64(b[j])
			s1 += float64(b[j+1]) * float64(b[j+1])
		}
		if j < len(b) {
			s0 += float64(b[j]) * float64(b[j])
		}
		part[k] = s0 + s1
	})
	out := make([]float64, len(bufs))
	for k, tk := range tasks {
		out[tk.i] += part[k]
	}
	return out
}

// gradNorms records the per-layer gradient L2 norms and returns the global norm.
func (t *Trainer) gradNorms(grads [][]float32) float64 {
	norms := make([]LayerNorm, 0, len(t.layers))
	var total float64
	for i, s := range sumSquares(grads) {
		p := t.params[i]
		total += s
		if k := len(norms); k > 0 && norms[k-1].Layer == p.spec.layer {
			norms[k-1].Norm += s
		} else {
			norms = append(norms, LayerNorm{Layer: p.spec.layer, Norm: s})
		}
	}
	for i := range norms {
		norms[i].Norm = math.Sqrt(norms[i].Norm)
	}
	t.norms = norms
	return math.Sqrt(total)
}

// GradNorms returns the per-layer gradient L2 norms of the last Step, before clipping, in layer
// order (e.g. fc1, out or conv1, bn1, conv2, ..., out). It is nil before the first Step.
func (t *Trainer) GradNorms() []LayerNorm { return append([]LayerNorm(nil), t.norms...) }

// scalarValue reads a scalar node's value as float64.
func scalarValue(n *G.Node) (float64, error) {
	v := n.Value()
	if v == nil {
		return 0, fmt.Errorf("the loss has no value")
	}
	switch d := v.Data().(type) {
	case float32:
		return float64(d), nil
	case []float32:
		if len(d) == 1 {
			return float64(d[0]), nil
		}
	}
	return 0, fmt.Errorf("the loss is %T, not a float32 scalar", v.Data())
}
