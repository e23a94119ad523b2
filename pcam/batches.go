package pcam

import (
	"context"
	"fmt"
)

// BatchOptions configures StreamBatches.
type BatchOptions struct {
	// Size is the number of patches per batch (> 0). The last batch may be smaller unless DropLast.
	Size int
	// Shuffle visits the patches in a random order drawn from Seed; otherwise in index order.
	// Use a different seed per epoch (e.g. seed+epoch) for a new order each epoch.
	Shuffle bool
	Seed    uint64
	// Indices restricts the stream to these patch indices (e.g. an audited "clean" view); nil means all.
	Indices []int
	// Prefetch is the number of batches read ahead on a background goroutine (0 means 2).
	Prefetch int
	// DropLast drops a final batch smaller than Size.
	DropLast bool
}

// Batch is one batch of patches. Indices are the split indices of the patches, Pix holds
// len(Indices)*PatchBytes bytes and Labels len(Indices) labels, in the same order.
type Batch struct {
	Number  int
	Indices []int
	Pix     []byte
	Labels  []uint8
}

// BatchStream delivers batches read ahead on a background goroutine. Memory is bounded by
// Prefetch+2 batch buffers (plus one int per streamed index), whatever the split size.
type BatchStream struct {
	ctx     context.Context
	cancel  context.CancelFunc
	results chan batchResult
	free    chan *Batch
	held    *Batch
	done    chan struct{}
	err     error // the error that stopped the stream, returned by every later Next
}

// batchResult is a filled batch or the error that stopped the stream.
type batchResult struct {
	b   *Batch
	err error
}

// StreamBatches starts streaming batches of r. The order is deterministic for a given seed and index
// list. The caller must call Close (also after an error) and must not use r concurrently.
func StreamBatches(ctx context.Context, r Reader, opt BatchOptions) (*BatchStream, error) {
	if opt.Size <= 0 {
		return nil, fmt.Errorf("batches of %s: batch size %d must be positive", r.Source(), opt.Size)
	}
	order, err := batchOrder(r, opt)
	if err != nil {
		return nil, err
	}
	prefetch := opt.Prefetch
	if prefetch <= 0 {
		prefetch = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &BatchStream{ctx: ctx, cancel: cancel, results: make(chan batchResult, prefetch),
		free: make(chan *Batch, prefetch+2), done: make(chan struct{})}
	for i := 0; i < prefetch+1; i++ {
		s.free <- &Batch{Indices: make([]int, 0, opt.Size), Pix: make([]byte, opt.Size*PatchBytes), Labels: make([]uint8, opt.Size)}
	}
	go s.produce(r, order, opt)
	return s, nil
}

// batchOrder returns the indices to stream, validated and shuffled as asked.
func batchOrder(r Reader, opt BatchOptions) ([]int, error) {
	n := r.Len()
	var order []int
	if opt.Indices != nil {
		order = append([]int(nil), opt.Indices...)
		for _, i := range order {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("batches of %s: index %d out of range [0,%d)", r.Source(), i, n)
			}
		}
	} else {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	}
	if opt.Shuffle {
		p := newRNG(mix64(opt.Seed ^ 0x62617463)).perm(len(order))
		shuffled := make([]int, len(order))
		for i, j := range p {
			shuffled[i] = order[j]
		}
		order = shuffled
	}
	return order, nil
}

// produce fills batches in order until the end, an error or cancellation.
func (s *BatchStream) produce(r Reader, order []int, opt BatchOptions) {
	defer close(s.done)
	defer close(s.results)
	for num, start := 0, 0; start < len(order); num, start = num+1, start+opt.Size {
		k := min(opt.Size, len(order)-start)
		if k < opt.Size && opt.DropLast {
			return
		}
		var b *Batch
		select {
		case b = <-s.free:
		case <-s.ctx.Done():
			return
		}
		b.Number, b.Indices = num, append(b.Indices[:0], order[start:start+k]...)
		b.Pix, b.Labels = b.Pix[:k*PatchBytes], b.Labels[:k]
		err := r.Read(b.Indices, b.Pix, b.Labels)
		select {
		case s.results <- batchResult{b, err}:
		case <-s.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Next returns the next batch, valid until the following call to Next or Close. The end of the
// stream is its own signal: ok is false and err is nil exactly when every batch has been delivered.
// A read or decode failure (whatever error it wraps, io.EOF included) or a cancelled context is
// returned as err with ok false, and again by every later call: it is never the end of the data.
func (s *BatchStream) Next() (b *Batch, ok bool, err error) {
	if s.held != nil {
		s.free <- s.held
		s.held = nil
	}
	if s.err == nil {
		b, ok, s.err = s.next()
	}
	if s.err != nil {
		return nil, false, s.err
	}
	return b, ok, nil
}

// next receives the next result of the producer.
func (s *BatchStream) next() (*Batch, bool, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, false, err
	}
	select {
	case res, open := <-s.results:
		if !open {
			if err := s.ctx.Err(); err != nil {
				return nil, false, err
			}
			return nil, false, nil
		}
		if res.err != nil {
			return nil, false, res.err
		}
		s.held = res.b
		return res.b, true, nil
	case <-s.ctx.Done():
		return nil, false, s.ctx.Err()
	}
}

// Close stops the background reader and waits for it to finish using the Reader.
func (s *BatchStream) Close() {
	s.cancel()
	<-s.done
}
