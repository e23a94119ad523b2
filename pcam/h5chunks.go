package pcam

import (
	"fmt"
	"runtime"
	"sync"
)

// chunkReader is the fast path for chunked x datasets whose chunks hold whole patches along the first
// axis and that use no filter or deflate only (h5py's gzip, the synthetic writer). The stored bytes of
// all chunks a batch touches are read with H5Dread_chunk in one cgo call (one pass of HDF5's global
// lock, no HDF5 filter pipeline), then inflated by zlib on all cores outside the lock.
type chunkReader struct {
	ok      bool
	id      int64
	rows    int // patches per chunk
	deflate bool
	workers int
	stage   []byte // stored bytes of the current batch's chunks
}

// chunkJob is one chunk to decode and the positions of the batch that want rows of it.
type chunkJob struct {
	first int   // first row of the chunk
	pos   []int // positions in the batch (in indices order)
	rowOf []int // row within the chunk for each position
	st    storedChunk
}

// newChunkReader enables the fast path when the dataset layout allows it.
func newChunkReader(id int64, n int, info dsetInfo) *chunkReader {
	c := &chunkReader{id: id, workers: runtime.GOMAXPROCS(0)}
	ch := info.chunk
	if info.layout != layoutChunked || len(ch) != 4 || ch[1] != Height || ch[2] != Width || ch[3] != Channels || n == 0 {
		return c
	}
	if info.nfilters != 0 && !info.deflateOnly {
		return c
	}
	c.ok, c.rows, c.deflate = true, int(ch[0]), info.deflateOnly
	return c
}

// read fills pix with the patches at indices.
func (c *chunkReader) read(indices []int, pix []byte) error {
	jobs := c.plan(indices)
	rows := make([]uint64, len(jobs))
	for i, j := range jobs {
		rows[i] = uint64(j.first)
	}
	if len(c.stage) == 0 {
		c.stage = make([]byte, len(jobs)*deflateBound(c.rows*PatchBytes))
	}
	stored, err := readChunks(c.id, rows, &c.stage)
	if err != nil {
		return err
	}
	for i, j := range jobs {
		j.st = stored[i]
	}
	return c.decodeAll(jobs, pix)
}

// decodeAll decodes the jobs on up to c.workers goroutines and returns the first error.
func (c *chunkReader) decodeAll(jobs []*chunkJob, pix []byte) error {
	workers := min(c.workers, len(jobs))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for k := w; k < len(jobs) && errs[w] == nil; k += workers {
				errs[w] = c.decode(jobs[k], pix, &buf)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// plan groups the batch positions by chunk, in file order.
func (c *chunkReader) plan(indices []int) []*chunkJob {
	order := sortedOrder(indices)
	var jobs []*chunkJob
	for k := 0; k < len(order); {
		first := indices[order[k]] / c.rows * c.rows
		j := &chunkJob{first: first}
		for ; k < len(order) && indices[order[k]]/c.rows*c.rows == first; k++ {
			j.pos = append(j.pos, order[k])
			j.rowOf = append(j.rowOf, indices[order[k]]-first)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// decode turns one stored chunk into patches and copies the wanted rows into pix; buf is the worker's
// scratch for multi-row compressed chunks.
func (c *chunkReader) decode(j *chunkJob, pix []byte, buf *[]byte) error {
	full := c.rows * PatchBytes
	data := j.st.data
	if c.deflate && j.st.mask&1 == 0 {
		if c.rows == 1 {
			dst := pix[j.pos[0]*PatchBytes : (j.pos[0]+1)*PatchBytes]
			if err := inflate(dst, data); err != nil {
				return fmt.Errorf("chunk at row %d: %w", j.first, err)
			}
			for _, p := range j.pos[1:] {
				copy(pix[p*PatchBytes:(p+1)*PatchBytes], dst)
			}
			return nil
		}
		if cap(*buf) < full {
			*buf = make([]byte, full)
		}
		if err := inflate((*buf)[:full], data); err != nil {
			return fmt.Errorf("chunk at row %d: %w", j.first, err)
		}
		data = (*buf)[:full]
	} else if len(data) != full {
		return fmt.Errorf("chunk at row %d has %d stored bytes, want %d", j.first, len(data), full)
	}
	for i, p := range j.pos {
		r := j.rowOf[i]
		copy(pix[p*PatchBytes:(p+1)*PatchBytes], data[r*PatchBytes:(r+1)*PatchBytes])
	}
	return nil
}
