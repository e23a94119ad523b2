package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opIDs makes every kernelOp unique, so that gorgonia's hash-consing never merges two of them.
var opIDs atomic.Uint64

// kernelOp is a gorgonia Op backed by a hand-written float32 kernel with a fixed output shape
// (graphs are built per batch size, so every shape is known when the graph is built).
type kernelOp struct {
	name     string
	id       uint64
	inDims   []int
	outShape tensor.Shape
	// run writes the result into out from the inputs' data.
	run func(out []float32, in [][]float32) error
	// diff builds the gradient nodes of the inputs (nil entries for inputs without gradient);
	// nil when the op is not differentiable.
	diff    func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error)
	diffWRT []bool
	// out is the op's own output tensor, allocated on first use and reused by every run: the tape
	// machine forgets its registers on Reset, so without it every run would allocate afresh.
	out *tensor.Dense
}

func newKernelOp(name string, inDims []int, out tensor.Shape, run func([]float32, [][]float32) error) *kernelOp {
	return &kernelOp{name: name, id: opIDs.Add(1), inDims: inDims, outShape: out, run: run, diffWRT: make([]bool, len(inDims))}
}

// apply adds the op to the graph of its inputs.
func (op *kernelOp) apply(in ...*G.Node) (*G.Node, error) {
	n, err := G.ApplyOp(op, in...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return n, nil
}

// The methods below implement gorgonia's Op, UsePreallocDoer and SDOp interfaces.

// Arity is the number of inputs.
func (op *kernelOp) Arity() int { return len(op.inDims) }

// Type is a → … → a over float tensors of the declared ranks.
func (op *kernelOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, G.TensorType{Dims: d, Of: a})
	}
	ts = append(ts, G.TensorType{Dims: op.outShape.Dims(), Of: a})
	return hm.NewFnType(ts...)
}

// InferShape returns the fixed output shape.
func (op *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }

// Do runs the kernel into the op's own output tensor, allocated on first use and reused by every
// run. The op never writes into a register handed over by the machine, so its output (a gradient,
// say) stays valid until the op runs again.
func (op *kernelOp) Do(in ...G.Value) (G.Value, error) {
	if op.out == nil {
		op.out = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(op.outShape.Clone()...))
	}
	if len(in) != len(op.inDims) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(in), len(op.inDims))
	}
	var buf [4][]float32
	data := buf[:0]
	for i, v := range in {
		d, ok := v.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("%s: input %d is %T, want float32 data", op.name, i, v.Data())
		}
		data = append(data, d)
	}
	if err := op.run(op.out.Data().([]float32), data); err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return op.out, nil
}

// UsePreallocDo ignores the register offered and runs Do (see there).
func (op *kernelOp) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) { return op.Do(in...) }

// ReturnsPtr, CallsExtern and OverwritesInput tell gorgonia the op neither aliases nor
// overwrites its inputs and needs no special scheduling.
func (op *kernelOp) ReturnsPtr() bool     { return false }
func (op *kernelOp) CallsExtern() bool    { return false }
func (op *kernelOp) OverwritesInput() int { return -1 }

// WriteHash, Hashcode and String identify the op uniquely (name and instance id).
func (op *kernelOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s#%d%v", op.name, op.id, op.outShape)
}
func (op *kernelOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *kernelOp) String() string { return fmt.Sprintf("%s#%d", op.name, op.id) }

// DiffWRT says which inputs have a gradient.
func (op *kernelOp) DiffWRT(int) []bool { return op.diffWRT }

// SymDiff builds the gradient nodes of the inputs.
func (op *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.diff == nil {
		return nil, fmt.Errorf("%s has no gradient", op.name)
	}
	return op.diff(inputs, output, grad)
}
