package model

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// netGraph is one compiled gorgonia graph for a fixed batch size: either a training graph
// (loss, gradient nodes built by G.Grad, dropout masks, batch norm on batch statistics) or a
// forward-only evaluation graph. Both wrap the model's parameter buffers without copying, so
// an in-place optimiser update is seen by every graph.
type netGraph struct {
	n      int
	g      *G.ExprGraph
	vm     G.VM
	x      []float32
	logits *G.Node
	// training graphs only
	y, wt     []float32
	dropP     float64
	masks     [][]float32
	loss      *G.Node
	paramNode []*G.Node
	// gradNode[i] is the gradient of paramNode[i] as built by G.Grad. The machine does not bind
	// dual values: every gradient is the output buffer of one kernel op, overwritten (not
	// accumulated) by each run, so nothing has to be zeroed between steps (gorgonia#543).
	gradNode []*G.Node
}

// wrap returns a dense tensor of the given shape over data (no copy).
func wrap(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// graphBuilder carries what layer construction needs.
type graphBuilder struct {
	cfg      Config
	ng       *netGraph
	params   map[string]*tensorBuf
	state    map[string]*tensorBuf
	training bool
	// unfused builds conv blocks from separate ops even where a fused op exists (tests compare).
	unfused bool
}

// fusedConvBlock reports whether the conv blocks of cfg run as one fused op each: max pooling
// without batch norm (batch norm needs the statistics of the whole convolution output first).
func fusedConvBlock(cfg Config) bool { return cfg.Pooling == "max" && !cfg.BatchNorm }

// node makes a graph node over the named parameter, viewed with the given shape.
func (b *graphBuilder) node(name string, shape ...int) *G.Node {
	p := b.params[name]
	t := wrap(p.data, shape...)
	var n *G.Node
	if len(shape) == 1 {
		n = G.NewVector(b.ng.g, tensor.Float32, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	} else {
		n = G.NewTensor(b.ng.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	}
	b.ng.paramNode = append(b.ng.paramNode, n)
	return n
}

func (b *graphBuilder) activation(h *G.Node) (*G.Node, error) {
	return activate(h, b.cfg.Activation)
}

// dense adds h·W + b for layer name (in → out).
func (b *graphBuilder) dense(h *G.Node, layer string, in, out int) (*G.Node, error) {
	return dense(h, b.node(layer+".weight", in, out), b.node(layer+".bias", out))
}

// dropout multiplies h by a mask input that Step refills from the seeded RNG before each run.
func (b *graphBuilder) dropout(h *G.Node) (*G.Node, error) {
	if !b.training || b.cfg.Dropout == 0 {
		return h, nil
	}
	s := h.Shape()
	data := make([]float32, s.TotalSize())
	m := G.NewMatrix(b.ng.g, tensor.Float32, G.WithShape(s...), G.WithName(fmt.Sprintf("dropmask%d", len(b.ng.masks))), G.WithValue(wrap(data, s...)))
	b.ng.masks = append(b.ng.masks, data)
	return G.HadamardProd(h, m)
}

// hiddenDense adds dense layers fc1..fcK with activation and dropout.
func (b *graphBuilder) hiddenDense(h *G.Node, in int, units []int) (*G.Node, int, error) {
	var err error
	for i, u := range units {
		if h, err = b.dense(h, fmt.Sprintf("fc%d", i+1), in, u); err != nil {
			return nil, 0, err
		}
		if h, err = b.activation(h); err != nil {
			return nil, 0, err
		}
		if h, err = b.dropout(h); err != nil {
			return nil, 0, err
		}
		in = u
	}
	return h, in, nil
}

// poolAndActivate computes pool(act(h)). With max pooling it evaluates act(maxpool(h)) instead:
// every activation offered (relu, leaky_relu, tanh) is non-decreasing, so both orders give the
// same values and the same gradients, and activating after pooling touches 4× less data.
func (b *graphBuilder) poolAndActivate(h *G.Node) (*G.Node, error) {
	if b.cfg.Pooling == "max" {
		p, err := pool2x2(h, true)
		if err != nil {
			return nil, err
		}
		return b.activation(p)
	}
	a, err := b.activation(h)
	if err != nil {
		return nil, err
	}
	return pool2x2(a, false)
}

// convBlocks adds conv → [batch norm] → activation → pool for every entry of cfg.Channels.
// Without batch norm, a max-pooling block is one fused op (convPool), which computes the same as
// the separate ops.
func (b *graphBuilder) convBlocks(h *G.Node) (*G.Node, int, error) {
	c := b.cfg
	hh, ww, ch := c.Input.Height, c.Input.Width, c.Input.Channels
	var err error
	for i, out := range c.Channels {
		layer := fmt.Sprintf("conv%d", i+1)
		wt, bias := b.node(layer+".weight", 9*ch, out), b.node(layer+".bias", out)
		if fusedConvBlock(c) && !b.unfused {
			if h, err = convPool(h, wt, bias, c.Activation); err != nil {
				return nil, 0, err
			}
			hh, ww, ch = hh/2, ww/2, out
			continue
		}
		if h, err = conv2d(h, wt, bias); err != nil {
			return nil, 0, err
		}
		if c.BatchNorm {
			bn := fmt.Sprintf("bn%d", i+1)
			h, err = batchNorm(h, b.node(bn+".weight", out), b.node(bn+".bias", out),
				b.state[bn+".running_mean"].data, b.state[bn+".running_var"].data, b.training)
			if err != nil {
				return nil, 0, err
			}
		}
		if h, err = b.poolAndActivate(h); err != nil {
			return nil, 0, err
		}
		hh, ww, ch = hh/2, ww/2, out
	}
	flat := hh * ww * ch
	h, err = G.Reshape(h, tensor.Shape{b.ng.n, flat})
	return h, flat, err
}

// buildGraph compiles the network for batch size n.
func buildGraph(cfg Config, params, state []*tensorBuf, n int, training bool) (*netGraph, error) {
	return buildGraphWith(cfg, params, state, n, training, false)
}

// buildGraphWith is buildGraph, with fused conv blocks turned off when unfused is set.
func buildGraphWith(cfg Config, params, state []*tensorBuf, n int, training, unfused bool) (*netGraph, error) {
	ng := &netGraph{n: n, g: G.NewGraph(), dropP: cfg.Dropout}
	b := &graphBuilder{cfg: cfg, ng: ng, params: map[string]*tensorBuf{}, state: map[string]*tensorBuf{}, training: training, unfused: unfused}
	for _, p := range params {
		b.params[p.spec.name] = p
	}
	for _, s := range state {
		b.state[s.spec.name] = s
	}
	in := cfg.Input
	d := in.Height * in.Width * in.Channels
	ng.x = make([]float32, n*d)
	var h *G.Node
	var width int
	var err error
	if cfg.Arch == ArchCNN {
		x := G.NewTensor(ng.g, tensor.Float32, 4, G.WithShape(n, in.Height, in.Width, in.Channels), G.WithName("x"),
			G.WithValue(wrap(ng.x, n, in.Height, in.Width, in.Channels)))
		if h, width, err = b.convBlocks(x); err == nil {
			h, width, err = b.hiddenDense(h, width, cfg.HeadUnits)
		}
	} else {
		x := G.NewMatrix(ng.g, tensor.Float32, G.WithShape(n, d), G.WithName("x"), G.WithValue(wrap(ng.x, n, d)))
		h, width, err = b.hiddenDense(x, d, cfg.HiddenUnits)
	}
	if err == nil {
		ng.logits, err = b.dense(h, "out", width, 1)
	}
	if err != nil {
		return nil, fmt.Errorf("building the %s graph for batch size %d: %w", cfg.Arch, n, err)
	}
	if !training {
		ng.vm = G.NewTapeMachine(ng.g)
		return ng, nil
	}
	if err := ng.addLoss(); err != nil {
		return nil, fmt.Errorf("building the %s loss for batch size %d: %w", cfg.Arch, n, err)
	}
	grads, err := G.Grad(ng.loss, ng.paramNode...)
	if err != nil {
		return nil, fmt.Errorf("building the %s gradients for batch size %d: %w", cfg.Arch, n, err)
	}
	ng.gradNode = grads
	ng.vm = G.NewTapeMachine(ng.g)
	return ng, nil
}

// addLoss adds mean(w·(softplus(z) − y·z)), the stable binary cross-entropy on logits z with
// per-example weights w (pos_weight for positives, 1 otherwise).
func (ng *netGraph) addLoss() error {
	ng.y, ng.wt = make([]float32, ng.n), make([]float32, ng.n)
	y := G.NewMatrix(ng.g, tensor.Float32, G.WithShape(ng.n, 1), G.WithName("y"), G.WithValue(wrap(ng.y, ng.n, 1)))
	w := G.NewMatrix(ng.g, tensor.Float32, G.WithShape(ng.n, 1), G.WithName("w"), G.WithValue(wrap(ng.wt, ng.n, 1)))
	sp, err := G.Softplus(ng.logits)
	if err != nil {
		return err
	}
	yz, err := G.HadamardProd(y, ng.logits)
	if err != nil {
		return err
	}
	l, err := G.Sub(sp, yz)
	if err != nil {
		return err
	}
	if l, err = G.HadamardProd(w, l); err != nil {
		return err
	}
	ng.loss, err = G.Mean(l)
	return err
}

// fillMasks draws fresh inverted-dropout masks (0 or 1/(1−p)) from rng, in a fixed order.
func (ng *netGraph) fillMasks(rng *rand.Rand) {
	keep := float32(1 / (1 - ng.dropP))
	for _, m := range ng.masks {
		for i := range m {
			if rng.Float64() < ng.dropP {
				m[i] = 0
			} else {
				m[i] = keep
			}
		}
	}
}

// run resets the machine and executes the graph once; results stay readable until the next run.
func (ng *netGraph) run() error {
	ng.vm.Reset()
	return ng.vm.RunAll()
}
