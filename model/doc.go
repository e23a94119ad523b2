// Package model is pcamflow's numerical core: the networks of the train stage (an MLP and a
// small CNN with one logit), their optimisers and learning-rate schedulers, and checkpoints.
//
// # Usage
//
//	tr, err := model.New(cfg)                    // cfg: a Config, e.g. decoded from JSON
//	for epoch := tr.Epoch(); epoch < epochs; epoch++ {
//		for each batch {                         // pix: N×96×96×3 bytes (HWC), labels: N × 0/1
//			loss, err := tr.Step(pix, labels)    // forward, backward, clip, update
//			norms := tr.GradNorms()              // per-layer gradient L2 norms of that step
//		}
//		valLoss, probs, err := tr.Evaluate(valPix, valLabels)
//		tr.EndEpoch(valLoss)                     // scheduler step, epoch counter
//		tr.SetMeta(metricsJSON)
//		err = tr.SaveFile(path)                  // atomic, versioned, checksummed
//	}
//	tr, err = model.LoadTrainerFile(path)        // resume or infer: bit-identical state
//
// # Computation
//
// Training runs a gorgonia graph per batch size on a tape machine: gorgonia builds the graph,
// differentiates it symbolically (G.Grad) and runs forward and backward passes; the machine binds
// no dual values, and the gradients are read from the nodes G.Grad returns (each the output buffer
// of one op, overwritten by every run, so nothing accumulates across steps: gorgonia#543). The
// layers are gorgonia ops with hand-written float32 kernels (kernelOp, each writing into a buffer
// of its own): a 3×3 "same" convolution as im2col + GEMM over NHWC images (the pixel layout of
// PCAM, so no transposes), cut into chunks of image rows fixed by the shape; 2×2 max/avg pooling
// that records each window's maximum; batch normalisation over channels; fused dense layers; the
// activations. Without batch norm, conv → max pool → activation is one fused op whose convolution
// output never leaves the cache (convpool.go; bit-identical to the separate ops). gorgonia provides
// the dropout products and the stable loss mean(w·(softplus(z) − y·z)) with w = pos_weight for
// positives. Gradients of the data input are never built. Conv weights are stored as (3·3·Cin, Cout)
// matrices with rows ordered (kh, kw, cin), dense weights as (in, out): PyTorch's (out, in, kh, kw)
// and (out, in) transposed. Optimisers (Adam, AdamW, SGD with momentum, with PyTorch's update
// rules) are in-place loops over the weights, Adam's as SIMD C (kernels.c, same bits as Go).
//
// Predictions (Predict, Logits, Evaluate) take the direct forward path (infer.go): the same
// evaluation-mode network (no dropout, batch norm on running statistics) computed by calling the
// kernels in order, with no graph to compile and nothing padded, in passes of up to 256 images.
// Its convolution blocks run the graph's kernels on the graph's chunks; its dense layers run a
// C kernel (densepack.go) whose result for an image does not depend on the rest of the batch, so a
// patch's probability is the same bits in any batch. It agrees with the gorgonia evaluation graph
// (graphLogits) to rounding, which the tests check.
//
// # Determinism
//
// One PCG generator seeded from Config.Seed draws the initial weights (PyTorch's default
// uniform ±1/sqrt(fan_in)) and the dropout masks; Trainer.Rand exposes it for sampling and
// augmentation. Its state, the optimiser buffers, the scheduler state and the counters are all
// in the checkpoint, so a resumed run is bit-identical to an uninterrupted one. OpenBLAS runs on
// one thread; the kernels split every product, reduction and update into blocks fixed by the
// shapes and run them on SetThreads goroutines, adding partial results in block order, so results
// do not depend on the thread count, only on the OpenBLAS kernel chosen for the CPU and the
// instruction set of the C kernels (BLASInfo records both).
package model
