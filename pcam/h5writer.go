package pcam

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"gonum.org/v1/hdf5"
)

// WriteOptions chooses the storage of written x datasets. The zero value writes what Synthesize writes
// by default: chunks of one patch (1,96,96,3), no compression. One-patch chunks make random access
// cheap (a random read inflates exactly the patch it needs).
type WriteOptions struct {
	// ChunkRows is the number of patches per chunk of x; 0 means 1. Ignored when Contiguous.
	ChunkRows int
	// Deflate is the gzip level 1..9 of the HDF5 deflate filter; 0 means no compression.
	Deflate int
	// Contiguous writes x (and y) without chunking; Deflate must then be 0.
	Contiguous bool
}

// validate checks the options.
func (o WriteOptions) validate() error {
	if o.Deflate < 0 || o.Deflate > 9 {
		return fmt.Errorf("deflate level %d out of range 0..9", o.Deflate)
	}
	if o.Contiguous && o.Deflate != 0 {
		return errors.New("a contiguous dataset cannot be deflate-compressed")
	}
	if o.ChunkRows < 0 {
		return fmt.Errorf("chunk rows %d is negative", o.ChunkRows)
	}
	return nil
}

// SplitWriter streams one split in the official layout: it holds at most one chunk of pixels and one
// byte per label in memory. Files are written under temporary names and renamed into place by Close,
// so a failed or aborted write never leaves a half-written official file.
type SplitWriter struct {
	paths      SplitPaths
	tmpX, tmpY string
	n, written int
	flushed    int // rows already written as whole chunks
	opt        WriteOptions
	rows       int
	xf         *hdf5.File
	xid        int64
	labels     []uint8
	pending    []byte
	outBufs    [][]byte
}

// CreateSplit starts writing split with exactly n patches into dir (which must exist).
func CreateSplit(dir string, split Split, n int, opt WriteOptions) (*SplitWriter, error) {
	if err := opt.validate(); err != nil {
		return nil, fmt.Errorf("write %s split: %w", split, err)
	}
	if n < 0 {
		return nil, fmt.Errorf("write %s split: negative patch count %d", split, n)
	}
	w := &SplitWriter{paths: SplitFiles(dir, split), n: n, opt: opt, labels: make([]uint8, 0, n), rows: max(opt.ChunkRows, 1)}
	if opt.Contiguous || n == 0 {
		w.rows = 0
	}
	var err error
	if w.tmpX, err = reserveTemp(w.paths.X); err != nil {
		return nil, err
	}
	if w.xf, err = createH5File(w.tmpX); err != nil {
		w.Abort()
		return nil, err
	}
	w.rows = min(w.rows, n)
	w.xid, err = createU8(w.xf.ID(), DatasetX, []uint64{uint64(n), Height, Width, Channels}, uint64(w.rows), opt.Deflate)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("%s: creating dataset %q: %w", w.paths.X, DatasetX, err)
	}
	return w, nil
}

// Write appends patches (len(labels) of them, pix holding len(labels)*PatchBytes bytes). Labels must be 0 or 1.
func (w *SplitWriter) Write(pix []byte, labels []uint8) error {
	if len(pix) != len(labels)*PatchBytes {
		return fmt.Errorf("%s: write of %d labels with %d pixel bytes", w.paths.X, len(labels), len(pix))
	}
	if w.written+len(labels) > w.n {
		return fmt.Errorf("%s: writing %d more patches would exceed the declared %d", w.paths.X, len(labels), w.n)
	}
	for i, l := range labels {
		if l > 1 {
			return fmt.Errorf("%s: label %d of patch %d is not 0 or 1", w.paths.Y, l, w.written+i)
		}
	}
	if w.rows == 0 {
		dims := []uint64{uint64(w.n), Height, Width, Channels}
		if err := writeRows(w.xid, dims, uint64(w.written), uint64(len(labels)), pix); err != nil {
			return fmt.Errorf("%s: writing dataset %q: %w", w.paths.X, DatasetX, err)
		}
	} else if err := w.writeChunked(pix); err != nil {
		return fmt.Errorf("%s: writing dataset %q: %w", w.paths.X, DatasetX, err)
	}
	w.written += len(labels)
	w.labels = append(w.labels, labels...)
	return nil
}

// writeChunked appends pix to the pending chunk data and writes every complete chunk.
func (w *SplitWriter) writeChunked(pix []byte) error {
	chunk := w.rows * PatchBytes
	if len(w.pending) > 0 {
		take := min(chunk-len(w.pending), len(pix))
		w.pending = append(w.pending, pix[:take]...)
		pix = pix[take:]
		if len(w.pending) < chunk {
			return nil
		}
		if err := w.flushChunks(w.pending); err != nil {
			return err
		}
		w.pending = w.pending[:0]
	}
	full := len(pix) / chunk * chunk
	if err := w.flushChunks(pix[:full]); err != nil {
		return err
	}
	w.pending = append(w.pending, pix[full:]...)
	return nil
}

// flushChunks writes whole chunks, compressing them on all cores first when deflate is on.
func (w *SplitWriter) flushChunks(data []byte) error {
	chunk := w.rows * PatchBytes
	k := len(data) / chunk
	if k == 0 {
		return nil
	}
	first := uint64(w.flushed)
	w.flushed += k * w.rows
	if w.opt.Deflate == 0 {
		for c := 0; c < k; c++ {
			if err := writeChunk(w.xid, first+uint64(c*w.rows), data[c*chunk:(c+1)*chunk], true); err != nil {
				return err
			}
		}
		return nil
	}
	out, err := w.compress(data, k)
	if err != nil {
		return err
	}
	for c := 0; c < k; c++ {
		if err := writeChunk(w.xid, first+uint64(c*w.rows), out[c], true); err != nil {
			return err
		}
	}
	return nil
}

// compress deflates k chunks of data in parallel and returns their compressed bytes.
func (w *SplitWriter) compress(data []byte, k int) ([][]byte, error) {
	chunk := w.rows * PatchBytes
	bound := deflateBound(chunk)
	for len(w.outBufs) < k {
		w.outBufs = append(w.outBufs, make([]byte, bound))
	}
	out := make([][]byte, k)
	errs := make([]error, k)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for c := g; c < k; c += workers {
				n, err := deflate(w.outBufs[c][:bound], data[c*chunk:(c+1)*chunk], w.opt.Deflate)
				out[c], errs[c] = w.outBufs[c][:n], err
			}
		}(g)
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Close checks that all n patches were written, writes the y file, and renames both into place.
func (w *SplitWriter) Close() error {
	if w.written != w.n {
		w.Abort()
		return fmt.Errorf("%s: only %d of the declared %d patches were written", w.paths.X, w.written, w.n)
	}
	if len(w.pending) > 0 {
		pad := make([]byte, w.rows*PatchBytes)
		copy(pad, w.pending)
		w.pending = w.pending[:0]
		if err := w.flushChunks(pad); err != nil {
			w.Abort()
			return fmt.Errorf("%s: writing dataset %q: %w", w.paths.X, DatasetX, err)
		}
	}
	if err := w.closeX(); err != nil {
		w.Abort()
		return err
	}
	if err := w.writeY(); err != nil {
		w.Abort()
		return err
	}
	if err := syncRename(w.tmpY, w.paths.Y); err != nil {
		w.Abort()
		return err
	}
	if err := syncRename(w.tmpX, w.paths.X); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// closeX closes the x dataset and file.
func (w *SplitWriter) closeX() error {
	err := closeDataset(w.xid)
	w.xid = 0
	if cerr := h5call(w.xf.Close); err == nil {
		err = cerr
	}
	w.xf = nil
	if err != nil {
		return fmt.Errorf("%s: closing: %w", w.paths.X, err)
	}
	return nil
}

// writeY writes the labels as dataset y (N,1,1,1) uint8 with the x file's storage options.
func (w *SplitWriter) writeY() error {
	var err error
	if w.tmpY, err = reserveTemp(w.paths.Y); err != nil {
		return err
	}
	f, err := createH5File(w.tmpY)
	if err != nil {
		return err
	}
	rows := uint64(0)
	if w.rows > 0 {
		rows = uint64(min(w.n, 1<<16))
	}
	dims := []uint64{uint64(w.n), 1, 1, 1}
	id, err := createU8(f.ID(), DatasetY, dims, rows, w.opt.Deflate)
	if err == nil {
		err = writeRows(id, dims, 0, uint64(w.n), w.labels)
		if cerr := closeDataset(id); err == nil {
			err = cerr
		}
	}
	if cerr := h5call(f.Close); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: writing dataset %q: %w", w.paths.Y, DatasetY, err)
	}
	return nil
}

// Abort discards everything written so far. It is safe to call more than once.
func (w *SplitWriter) Abort() {
	if w.xid > 0 {
		closeDataset(w.xid)
		w.xid = 0
	}
	if w.xf != nil {
		h5call(w.xf.Close)
		w.xf = nil
	}
	for _, p := range []string{w.tmpX, w.tmpY} {
		if p != "" {
			os.Remove(p)
		}
	}
}

// WriteSplit copies every patch of r, in index order and in batches of 256, into split of dir in the
// official layout. Memory use is bounded by one batch whatever r.Len().
func WriteSplit(dir string, split Split, r Reader, opt WriteOptions) error {
	w, err := CreateSplit(dir, split, r.Len(), opt)
	if err != nil {
		return err
	}
	const batch = 256
	idx := make([]int, 0, batch)
	pix := make([]byte, batch*PatchBytes)
	lab := make([]uint8, batch)
	for start := 0; start < r.Len(); start += batch {
		k := min(batch, r.Len()-start)
		idx = idx[:0]
		for i := 0; i < k; i++ {
			idx = append(idx, start+i)
		}
		if err := r.Read(idx, pix[:k*PatchBytes], lab[:k]); err != nil {
			w.Abort()
			return err
		}
		if err := w.Write(pix[:k*PatchBytes], lab[:k]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// reserveTemp creates an empty temporary file next to path and returns its name.
func reserveTemp(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return name, nil
}

// createH5File creates (truncating) an HDF5 file at path.
func createH5File(path string) (*hdf5.File, error) {
	var f *hdf5.File
	err := h5call(func() error {
		var e error
		f, e = hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("create HDF5 file %s: %w", path, err)
	}
	return f, nil
}

// syncRename fsyncs the file tmp and renames it to path.
func syncRename(tmp, path string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return commitTemp(f, tmp, path)
}
