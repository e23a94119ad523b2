package model

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// awayFromZero moves entries out of (−0.05, 0.05), so that central differences never straddle
// the kink of relu and leaky_relu.
func awayFromZero(t *tensor.Dense) *tensor.Dense {
	for i, v := range t.Data().([]float32) {
		if v > -0.05 && v < 0.05 {
			t.Data().([]float32)[i] = v + float32(math.Copysign(0.1, float64(v)))
		}
	}
	return t
}

// opHarness builds cost = Σ build(inputs)·R with gradients w.r.t. every input.
type opHarness struct {
	g      *G.ExprGraph
	ins    []*G.Node
	out    *G.Node
	cost   *G.Node
	vm     G.VM
	inputs []*tensor.Dense
}

func newHarness(t *testing.T, r *rand.Rand, inputs []*tensor.Dense, build func(ins []*G.Node) (*G.Node, error)) *opHarness {
	t.Helper()
	h := &opHarness{g: G.NewGraph(), inputs: inputs}
	for i, in := range inputs {
		n := G.NewTensor(h.g, tensor.Float32, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName("in"+string(rune('a'+i))))
		h.ins = append(h.ins, n)
	}
	var err error
	if h.out, err = build(h.ins); err != nil {
		t.Fatal(err)
	}
	rt := randTensor(r, h.out.Shape()...)
	rn := G.NewTensor(h.g, tensor.Float32, rt.Dims(), G.WithShape(rt.Shape()...), G.WithValue(rt), G.WithName("R"))
	prod, err := G.HadamardProd(h.out, rn)
	if err != nil {
		t.Fatal(err)
	}
	if h.cost, err = G.Sum(prod); err != nil {
		t.Fatal(err)
	}
	if _, err = G.Grad(h.cost, h.ins...); err != nil {
		t.Fatal(err)
	}
	h.vm = G.NewTapeMachine(h.g, G.BindDualValues(h.ins...))
	return h
}

// run returns the cost and (copies of) the gradients, zeroing the accumulated gradients after.
func (h *opHarness) run(t *testing.T) (float64, [][]float32) {
	t.Helper()
	h.vm.Reset()
	if err := h.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	c, err := scalarValue(h.cost)
	if err != nil {
		t.Fatal(err)
	}
	var grads [][]float32
	for _, n := range h.ins {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		d := gv.Data().([]float32)
		grads = append(grads, append([]float32(nil), d...))
		clear(d)
	}
	return c, grads
}

// numericCheck compares analytic gradients with central differences on up to 40 entries per input.
func numericCheck(t *testing.T, h *opHarness, eps, tol float64) {
	t.Helper()
	_, grads := h.run(t)
	r := rand.New(rand.NewPCG(9, 9))
	for i, in := range h.inputs {
		d := in.Data().([]float32)
		for k := 0; k < 40; k++ {
			j := r.IntN(len(d))
			orig := d[j]
			d[j] = orig + float32(eps)
			cp, _ := h.run(t)
			d[j] = orig - float32(eps)
			cm, _ := h.run(t)
			d[j] = orig
			num := (cp - cm) / (2 * eps)
			if diff := math.Abs(num - float64(grads[i][j])); diff > tol*math.Max(1, math.Abs(num)) {
				t.Errorf("input %d[%d]: analytic %v, numeric %v", i, j, grads[i][j], num)
			}
		}
	}
}

// TestConvMatchesGorgonia checks the im2col+GEMM conv (NHWC) against gorgonia's Conv2d (NCHW)
// on outputs and on the gradients of input and weights, and its bias gradient against Σ dy.
func TestConvMatchesGorgonia(t *testing.T) {
	const n, h, w, c, o = 2, 5, 6, 3, 4
	r := rand.New(rand.NewPCG(1, 2))
	x := randTensor(r, n, h, w, c)
	wt := randTensor(r, 9*c, o)
	b := randTensor(r, o)
	mine := newHarness(t, r, []*tensor.Dense{x, wt, b}, func(in []*G.Node) (*G.Node, error) { return conv2d(in[0], in[1], in[2]) })
	_, mg := mine.run(t)
	myOut := append([]float32(nil), mine.out.Value().Data().([]float32)...)
	rNHWC := mine.cost.Graph().ByName("R")[0].Value().Data().([]float32)

	// the same data in gorgonia's layouts: x NCHW, weights (O, C, kh, kw), R NCHW
	xd, wd := x.Data().([]float32), wt.Data().([]float32)
	xN := make([]float32, len(xd))
	rN := make([]float32, n*o*h*w)
	for i := 0; i < n; i++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				for ch := 0; ch < c; ch++ {
					xN[((i*c+ch)*h+y)*w+xx] = xd[((i*h+y)*w+xx)*c+ch]
				}
				for oc := 0; oc < o; oc++ {
					rN[((i*o+oc)*h+y)*w+xx] = rNHWC[((i*h+y)*w+xx)*o+oc]
				}
			}
		}
	}
	wN := make([]float32, len(wd))
	for oc := 0; oc < o; oc++ {
		for ch := 0; ch < c; ch++ {
			for k := 0; k < 9; k++ {
				wN[((oc*c+ch)*3+k/3)*3+k%3] = wd[(k*c+ch)*o+oc]
			}
		}
	}
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, c, h, w), G.WithValue(tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(xN))), G.WithName("x4"))
	wn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(o, c, 3, 3), G.WithValue(tensor.New(tensor.WithShape(o, c, 3, 3), tensor.WithBacking(wN))), G.WithName("w4"))
	rn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, o, h, w), G.WithValue(tensor.New(tensor.WithShape(n, o, h, w), tensor.WithBacking(rN))), G.WithName("r4"))
	y, err := G.Conv2d(xn, wn, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := G.HadamardProd(y, rn)
	cost, _ := G.Sum(prod)
	if _, err := G.Grad(cost, xn, wn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(xn, wn))
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	yRef := y.Value().Data().([]float32)
	gx, _ := xn.Grad()
	gw, _ := wn.Grad()
	dxRef, dwRef := gx.Data().([]float32), gw.Data().([]float32)
	bd := b.Data().([]float32)
	const tol = 1e-4
	near := func(what string, a, b float32) {
		if math.Abs(float64(a-b)) > tol*math.Max(1, math.Abs(float64(b))) {
			t.Errorf("%s: mine %v, gorgonia %v", what, a, b)
		}
	}
	dbWant := make([]float64, o)
	for i := 0; i < n; i++ {
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				for oc := 0; oc < o; oc++ {
					near("output", myOut[((i*h+yy)*w+xx)*o+oc], yRef[((i*o+oc)*h+yy)*w+xx]+bd[oc])
					dbWant[oc] += float64(rNHWC[((i*h+yy)*w+xx)*o+oc])
				}
				for ch := 0; ch < c; ch++ {
					near("input gradient", mg[0][((i*h+yy)*w+xx)*c+ch], dxRef[((i*c+ch)*h+yy)*w+xx])
				}
			}
		}
	}
	for oc := 0; oc < o; oc++ {
		for ch := 0; ch < c; ch++ {
			for k := 0; k < 9; k++ {
				near("weight gradient", mg[1][(k*c+ch)*o+oc], dwRef[((oc*c+ch)*3+k/3)*3+k%3])
			}
		}
		near("bias gradient", mg[2][oc], float32(dbWant[oc]))
	}
}

// TestKernelGradients checks every hand-written op's gradients against central differences.
func TestKernelGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type gradCase struct {
		name   string
		inputs []*tensor.Dense
		build  func(in []*G.Node) (*G.Node, error)
	}
	cases := []gradCase{
		{"conv", []*tensor.Dense{randTensor(r, 2, 4, 5, 2), randTensor(r, 18, 3), randTensor(r, 3)},
			func(in []*G.Node) (*G.Node, error) { return conv2d(in[0], in[1], in[2]) }},
		{"dense", []*tensor.Dense{randTensor(r, 3, 5), randTensor(r, 5, 4), randTensor(r, 4)},
			func(in []*G.Node) (*G.Node, error) { return dense(in[0], in[1], in[2]) }},
		{"maxpool", []*tensor.Dense{randTensor(r, 2, 4, 5, 3)},
			func(in []*G.Node) (*G.Node, error) { return pool2x2(in[0], true) }},
		{"avgpool", []*tensor.Dense{randTensor(r, 2, 5, 4, 3)},
			func(in []*G.Node) (*G.Node, error) { return pool2x2(in[0], false) }},
		{"batchnorm", []*tensor.Dense{randTensor(r, 3, 2, 2, 3), randTensor(r, 3), randTensor(r, 3)},
			func(in []*G.Node) (*G.Node, error) {
				return batchNorm(in[0], in[1], in[2], make([]float32, 3), []float32{1, 1, 1}, true)
			}},
		{"relu", []*tensor.Dense{awayFromZero(randTensor(r, 4, 6))}, func(in []*G.Node) (*G.Node, error) { return activate(in[0], "relu") }},
		{"leaky_relu", []*tensor.Dense{awayFromZero(randTensor(r, 4, 6))}, func(in []*G.Node) (*G.Node, error) { return activate(in[0], "leaky_relu") }},
		{"tanh", []*tensor.Dense{randTensor(r, 4, 6)}, func(in []*G.Node) (*G.Node, error) { return activate(in[0], "tanh") }},
	}
	// the fused conv block, with its own generator (the cases above keep their draws); a smaller
	// step, because a step of 1e-2 in x often moves a window's maximum to another pixel
	r2 := rand.New(rand.NewPCG(5, 6))
	cases = append(cases, gradCase{"convpool", []*tensor.Dense{randTensor(r2, 2, 5, 4, 2), randTensor(r2, 18, 3), randTensor(r2, 3)},
		func(in []*G.Node) (*G.Node, error) { return convPool(in[0], in[1], in[2], "tanh") }})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eps := 1e-2
			if tc.name == "convpool" {
				eps = 1e-3
			}
			numericCheck(t, newHarness(t, r, tc.inputs, tc.build), eps, 2e-2)
		})
	}
}

// TestBatchNormEvalUsesRunningStats checks the evaluation op against the formula and the
// running-statistics update of the training op against PyTorch's rule.
func TestBatchNormEvalUsesRunningStats(t *testing.T) {
	x := []float32{1, 10, 3, 20, 5, 60}
	g := bnGeom{m: 3, c: 2}
	rm, rv := []float32{0, 0}, []float32{1, 1}
	y := make([]float32, 6)
	g.trainForward(y, x, []float32{1, 1}, []float32{0, 0}, rm, rv)
	// channel 0: mean 3, biased var 8/3, unbiased 4
	if math.Abs(float64(rm[0])-0.3) > 1e-6 || math.Abs(float64(rv[0])-(0.9+0.4)) > 1e-6 {
		t.Errorf("running stats = %v %v, want mean 0.3 and var 1.3", rm, rv)
	}
	g.evalForward(y, x, []float32{2, 1}, []float32{1, 0}, rm, rv)
	want := 2*(1-0.3)/math.Sqrt(1.3+1e-5) + 1
	if math.Abs(float64(y[0])-want) > 1e-5 {
		t.Errorf("eval output %v, want %v", y[0], want)
	}
}
