package predict

import (
	"context"
	"fmt"
	"sync"

	"github.com/pcamflow/pcamflow/pcam"
)

// DefaultBatch is the batch size Run uses when Options.BatchSize is 0.
const DefaultBatch = 256

// MaxBatch bounds Options.BatchSize (65,536 patches are 1.7 GiB of pixels).
const MaxBatch = 1 << 16

// Options configures Run.
type Options struct {
	// BatchSize is the number of patches read and predicted at a time (0: DefaultBatch). Results
	// do not depend on it.
	BatchSize int
	// Labels reads every patch's label too (sources without labels then fail).
	Labels bool
}

// Batch is one predicted batch, handed to the visit function of Run. Pix and Labels are reused
// for a later batch once visit returns: copy what must outlive the call. Probs may be kept.
type Batch struct {
	// Source is the source the patches come from and SourceIndex its position in the list.
	Source      Source
	SourceIndex int
	// Start is the position of the first patch in Source; patch k of the batch is Source patch
	// Start+k.
	Start int
	// Pix holds Len() patches, PatchBytes each.
	Pix []byte
	// Labels holds one label per patch when Options.Labels is set, else nil.
	Labels []uint8
	// Probs holds, for each predictor given to Run, one probability per patch.
	Probs [][]float64
}

// Len returns the number of patches in the batch.
func (b *Batch) Len() int { return len(b.Pix) / pcam.PatchBytes }

// readResult is a filled batch or the error that stopped reading.
type readResult struct {
	b   *Batch
	err error
}

// Run reads every patch of srcs in order, in batches, predicts each batch with every predictor
// and calls visit with the result; it returns the number of patches visited. The next batch is
// read on a background goroutine while the current one is predicted. Every source is read over
// exactly its Len patches: the end of data is that count, and any read error (one wrapping
// io.EOF included) stops Run with that error. A probability that is not finite or outside [0, 1]
// is an error naming the patch. Cancelling ctx stops Run with ctx's error.
func Run(ctx context.Context, srcs []Source, preds []Predictor, opt Options, visit func(*Batch) error) (int, error) {
	size := opt.BatchSize
	if size == 0 {
		size = DefaultBatch
	}
	if size < 1 || size > MaxBatch {
		return 0, fmt.Errorf("predict: batch size %d is outside 1..%d", size, MaxBatch)
	}
	total := 0
	for _, s := range srcs {
		total += s.Len()
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	const buffers = 2
	free := make(chan *Batch, buffers)
	for range buffers {
		b := &Batch{Pix: make([]byte, 0, size*pcam.PatchBytes)}
		if opt.Labels {
			b.Labels = make([]uint8, 0, size)
		}
		free <- b
	}
	results := make(chan readResult, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(results)
		produce(ctx, srcs, size, free, results)
	}()
	visited := 0
	for res := range results {
		if res.err != nil {
			return visited, res.err
		}
		b := res.b
		if err := predictBatch(b, preds); err != nil {
			return visited, err
		}
		if err := visit(b); err != nil {
			return visited, err
		}
		visited += b.Len()
		free <- b
	}
	if err := ctx.Err(); err != nil {
		return visited, err
	}
	if visited != total {
		return visited, fmt.Errorf("predict: read %d of %d patches", visited, total)
	}
	return visited, nil
}

// produce fills batches from the sources in order and sends them, or the first read error, to
// results. It returns early only when ctx is cancelled.
func produce(ctx context.Context, srcs []Source, size int, free <-chan *Batch, results chan<- readResult) {
	for si, s := range srcs {
		for start := 0; start < s.Len(); start += size {
			var b *Batch
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			k := min(size, s.Len()-start)
			b.Source, b.SourceIndex, b.Start, b.Probs = s, si, start, nil
			b.Pix = b.Pix[:k*pcam.PatchBytes]
			var labels []uint8
			if b.Labels != nil {
				b.Labels = b.Labels[:k]
				labels = b.Labels
			}
			err := s.Read(start, b.Pix, labels)
			select {
			case results <- readResult{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}
}

// predictBatch runs every predictor on the batch and checks the probabilities.
func predictBatch(b *Batch, preds []Predictor) error {
	b.Probs = make([][]float64, len(preds))
	for m, p := range preds {
		probs, err := p.Predict(b.Pix)
		if err != nil {
			in, idx := b.Source.Where(b.Start)
			return fmt.Errorf("predicting the patches of %s from index %d: %w", in, idx, err)
		}
		if len(probs) != b.Len() {
			return fmt.Errorf("predict: the model returned %d probabilities for %d patches", len(probs), b.Len())
		}
		for i, v := range probs {
			if !(v >= 0 && v <= 1) {
				in, idx := b.Source.Where(b.Start + i)
				return fmt.Errorf("the model's output for %s index %d is %v: its weights are not finite (a diverged run?)", in, idx, v)
			}
		}
		b.Probs[m] = probs
	}
	return nil
}

// Mean returns the element-wise mean of the probability vectors (an ensemble of seeds), summed in
// the order given so that the result is deterministic.
func Mean(probs [][]float64) []float64 {
	if len(probs) == 0 {
		return nil
	}
	if len(probs) == 1 {
		return probs[0]
	}
	out := make([]float64, len(probs[0]))
	for i := range out {
		var s float64
		for _, p := range probs {
			s += p[i]
		}
		out[i] = s / float64(len(probs))
	}
	return out
}
