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
// Every network is a gorgonia graph run by a tape machine, compiled once per batch size. The
// layers are gorgonia ops with hand-written float32 kernels (kernelOp): a 3×3 "same" convolution
// as im2col + GEMM over NHWC images (the pixel layout of PCAM, so no transposes), 2×2 max/avg
// pooling, batch normalisation over channels, fused dense layers, and the activations; gorgonia
// provides the graph, symbolic differentiation, dropout products and the stable loss
// mean(w·(softplus(z) − y·z)) with w = pos_weight for positives. Gradients of the data input are
// never built. Conv weights are stored as (3·3·Cin, Cout) matrices with rows ordered (kh, kw, cin),
// dense weights as (in, out): PyTorch's (out, in, kh, kw) and (out, in) transposed.
//
// Predictions go through a separate forward-only graph (batch 64, padded) that shares the weight
// buffers but has no gradients, so validation never disturbs training (gorgonia#543), and uses
// the batch-norm running statistics. Optimisers (Adam, AdamW, SGD with momentum, all with PyTorch's
// update rules) are in-place loops over the weights that also zero the gradients.
//
// # Determinism
//
// One PCG generator seeded from Config.Seed draws the initial weights (PyTorch's default
// uniform ±1/sqrt(fan_in)) and the dropout masks; Trainer.Rand exposes it for sampling and
// augmentation. Its state, the optimiser buffers, the scheduler state and the counters are all
// in the checkpoint, so a resumed run is bit-identical to an uninterrupted one. OpenBLAS runs on
// one thread; the kernels split every product into blocks fixed by the shapes and run them on
// SetThreads goroutines, so results do not depend on the thread count, only on the OpenBLAS
// kernel chosen for the CPU (BLASInfo records it).
package model
