package audit

import (
	"context"
	"crypto/sha1"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/pcamflow/pcamflow/pcam"
)

// patchInfo is everything the audit keeps about one patch (no pixels).
type patchInfo struct {
	sha     [sha1.Size]byte
	phash   imageHash // identity-orientation perceptual hash (zero when near search is off)
	label   uint8
	quality quality
	corrupt bool
	lowInfo bool // too flat for near-duplicate search
}

// splitScan is the result of streaming one split.
type splitScan struct {
	split   pcam.Split
	source  string
	infos   []patchInfo
	corrupt []CorruptPatch
	pixels  pixelAcc
}

// chunk is one reusable read buffer travelling reader -> worker -> collector.
type chunk struct {
	start, n int
	indices  []int
	pix      []byte
	labels   []uint8
	errs     []error
	acc      pixelAcc
}

// newChunk allocates a buffer for size patches.
func newChunk(size int) *chunk {
	return &chunk{
		indices: make([]int, size),
		pix:     make([]byte, size*pcam.PatchBytes),
		labels:  make([]uint8, size),
		errs:    make([]error, size),
	}
}

// scanner streams splits through a worker pool.
type scanner struct {
	opt      Options
	workers  int
	progress func(done int)
}

// newScanner resolves the worker count of opt.
func newScanner(opt Options, progress func(done int)) *scanner {
	w := opt.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return &scanner{opt: opt, workers: w, progress: progress}
}

// scan reads every patch of r once, in chunks, and returns the per-patch records. Only one
// goroutine calls r. Results do not depend on scheduling: every record has its own slot and the
// pixel statistics are integer sums.
func (s *scanner) scan(ctx context.Context, split pcam.Split, r pcam.Reader) (*splitScan, error) {
	n := r.Len()
	if n < 0 {
		return nil, fmt.Errorf("audit: split %s (%s): reader reports negative length %d", split, r.Source(), n)
	}
	res := &splitScan{split: split, source: r.Source(), infos: make([]patchInfo, n)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	size := min(s.opt.chunkSize(), max(n, 1))
	nbuf := s.workers + 2
	free := make(chan *chunk, nbuf)
	for range nbuf {
		free <- newChunk(size)
	}
	work := make(chan *chunk, nbuf)
	done := make(chan *chunk, nbuf)

	go s.readLoop(ctx, r, n, size, free, work)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				s.process(c, res.infos)
				done <- c
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	var fatal error
	for c := range done {
		if fatal == nil {
			fatal = s.collect(c, res)
			if fatal != nil {
				cancel()
			}
		}
		free <- c
	}
	if fatal != nil {
		return nil, fatal
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: split %s (%s): %w", split, r.Source(), err)
	}
	sort.Slice(res.corrupt, func(i, j int) bool { return res.corrupt[i].Index < res.corrupt[j].Index })
	return res, nil
}

// readLoop fills free buffers with consecutive chunks and hands them to the workers.
func (s *scanner) readLoop(ctx context.Context, r pcam.Reader, n, size int, free <-chan *chunk, work chan<- *chunk) {
	defer close(work)
	for start := 0; start < n; start += size {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return
		}
		c.start, c.n = start, min(size, n-start)
		readChunk(r, c)
		select {
		case work <- c:
		case <-ctx.Done():
			return
		}
	}
}

// readChunk reads a chunk in one call; if that fails it retries patch by patch so that only the
// unreadable patches are marked (in c.errs).
func readChunk(r pcam.Reader, c *chunk) {
	idx := c.indices[:c.n]
	for i := range idx {
		idx[i] = c.start + i
		c.errs[i] = nil
	}
	if err := r.Read(idx, c.pix[:c.n*pcam.PatchBytes], c.labels[:c.n]); err == nil {
		return
	}
	for i, at := range idx {
		one := c.pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes]
		c.errs[i] = r.Read([]int{at}, one, c.labels[i:i+1])
	}
}

// process hashes and measures every patch of a chunk into its slot of infos.
func (s *scanner) process(c *chunk, infos []patchInfo) {
	c.acc = pixelAcc{}
	for i := range c.n {
		info := &infos[c.start+i]
		if c.errs[i] != nil || c.labels[i] > 1 {
			info.corrupt = true
			continue
		}
		p := c.pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes]
		info.sha = sha1.Sum(p)
		info.label = c.labels[i]
		m := measurePixels(p)
		info.quality = m.classify()
		c.acc.add(m)
		if s.opt.NearDuplicates {
			h, std := perceptualHash(p)
			info.phash, info.lowInfo = h, std < lowInfoGreyStdMax
		}
	}
}

// collect merges a processed chunk into the split result and enforces the corrupt-patch limit.
func (s *scanner) collect(c *chunk, res *splitScan) error {
	res.pixels.merge(&c.acc)
	for i := range c.n {
		if !res.infos[c.start+i].corrupt {
			continue
		}
		msg := fmt.Sprintf("label %d is outside {0,1}", c.labels[i])
		if c.errs[i] != nil {
			msg = c.errs[i].Error()
		}
		res.corrupt = append(res.corrupt, CorruptPatch{Split: res.split, Index: c.start + i, Error: msg})
	}
	if len(res.corrupt) > s.opt.maxCorrupt() {
		return fmt.Errorf("audit: split %s (%s): %d unreadable patches exceed max_corrupt = %d; the file looks broken (e.g. index %d: %s)",
			res.split, res.source, len(res.corrupt), s.opt.maxCorrupt(), res.corrupt[0].Index, res.corrupt[0].Error)
	}
	if s.progress != nil {
		s.progress(c.n)
	}
	return nil
}
