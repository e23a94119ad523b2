package pcam

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/hdf5"
)

// The official dataset names inside the HDF5 files.
const (
	DatasetX = "x"
	DatasetY = "y"
)

// SplitPaths are the paths of the official files of one split.
type SplitPaths struct {
	X    string // camelyonpatch_level_2_split_<split>_x.h5, dataset "x" (N,96,96,3) uint8
	Y    string // camelyonpatch_level_2_split_<split>_y.h5, dataset "y" (N,1,1,1) integer
	Meta string // camelyonpatch_level_2_split_<split>_meta.csv (optional)
}

// SplitFiles returns the official file paths of split inside dir. It does not touch the file system.
func SplitFiles(dir string, split Split) SplitPaths {
	base := filepath.Join(dir, "camelyonpatch_level_2_split_"+string(split))
	return SplitPaths{X: base + "_x.h5", Y: base + "_y.h5", Meta: base + "_meta.csv"}
}

// H5Reader reads one split in the official PCAM HDF5 layout. Labels (one byte per patch) and the
// optional meta CSV are loaded at open; images are read on demand, never the whole split.
// An H5Reader is for one goroutine at a time (it parallelises decompression internally).
type H5Reader struct {
	split  Split
	paths  SplitPaths
	xf, yf *hdf5.File
	x      *hdf5.Dataset
	xid    int64
	n      int
	info   dsetInfo
	labels []uint8
	meta   []MetaRow
	chunks *chunkReader
	// raw is the x file opened for direct reads of a contiguous, unfiltered dataset at rawOff.
	raw    *os.File
	rawOff int64
	// scratch holds unique sorted patches for layouts read through H5Dread.
	scratch []byte
}

// OpenH5 opens split in dir (official file names, see SplitFiles) and validates it: the x dataset must be
// (N,96,96,3) uint8, y must be integer with N rows and one value per row, every label 0 or 1, and the
// meta CSV, when present, must have N rows. Errors name the file and dataset at fault.
func OpenH5(dir string, split Split) (*H5Reader, error) {
	r := &H5Reader{split: split, paths: SplitFiles(dir, split)}
	if err := r.open(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// open performs the validation steps of OpenH5.
func (r *H5Reader) open() error {
	var err error
	if r.xf, err = openH5File(r.paths.X); err != nil {
		return err
	}
	if r.x, err = openDataset(r.xf, r.paths.X, DatasetX); err != nil {
		return err
	}
	r.xid = r.x.ID()
	dims, err := datasetDims(r.x, r.paths.X, DatasetX)
	if err != nil {
		return err
	}
	if len(dims) != 4 || dims[1] != Height || dims[2] != Width || dims[3] != Channels {
		return fmt.Errorf("%s: dataset %q has shape %s, want (N,%d,%d,%d)", r.paths.X, DatasetX, shapeString(dims), Height, Width, Channels)
	}
	r.n = int(dims[0])
	if r.info, err = inspect(r.xid, 4); err != nil {
		return fmt.Errorf("%s: dataset %q: %w", r.paths.X, DatasetX, err)
	}
	if r.info.typeClass != typeClassInteger || r.info.typeSize != 1 || !r.info.typeUnsigned {
		return fmt.Errorf("%s: dataset %q has element type %s, want uint8", r.paths.X, DatasetX, r.info.typeName())
	}
	if err := checkFilters(r.info, r.paths.X, DatasetX); err != nil {
		return err
	}
	r.chunks = newChunkReader(r.xid, r.n, r.info)
	if err := r.openRaw(); err != nil {
		return err
	}
	if err := r.loadLabels(); err != nil {
		return err
	}
	return r.loadMeta()
}

// openRaw prepares direct reads for contiguous datasets: their pixels are one uint8 array at a known
// file offset, so a patch is one pread (no HDF5 lock, no type conversion).
func (r *H5Reader) openRaw() error {
	if r.info.layout != layoutContiguous || r.n == 0 {
		return nil
	}
	off := contiguousOffset(r.xid)
	if off < 0 {
		return nil
	}
	st, err := os.Stat(r.paths.X)
	if err != nil {
		return fmt.Errorf("pcam_h5: %w", err)
	}
	if end := off + int64(r.n)*PatchBytes; end > st.Size() {
		return fmt.Errorf("%s: dataset %q ends at byte %d but the file has %d bytes: truncated file", r.paths.X, DatasetX, end, st.Size())
	}
	f, err := os.Open(r.paths.X)
	if err != nil {
		return fmt.Errorf("pcam_h5: %w", err)
	}
	r.raw, r.rawOff = f, off
	return nil
}

// loadLabels opens the y file, checks its shape and type and reads all labels.
func (r *H5Reader) loadLabels() error {
	var err error
	if r.yf, err = openH5File(r.paths.Y); err != nil {
		return err
	}
	y, err := openDataset(r.yf, r.paths.Y, DatasetY)
	if err != nil {
		return err
	}
	defer y.Close()
	dims, err := datasetDims(y, r.paths.Y, DatasetY)
	if err != nil {
		return err
	}
	per := uint64(1)
	for _, d := range dims[1:] {
		per *= d
	}
	if len(dims) == 0 || per != 1 {
		return fmt.Errorf("%s: dataset %q has shape %s, want (N,1,1,1)", r.paths.Y, DatasetY, shapeString(dims))
	}
	if int(dims[0]) != r.n {
		return fmt.Errorf("%s: dataset %q has %d labels but %s dataset %q has %d images", r.paths.Y, DatasetY, dims[0], r.paths.X, DatasetX, r.n)
	}
	info, err := inspect(y.ID(), len(dims))
	if err != nil {
		return fmt.Errorf("%s: dataset %q: %w", r.paths.Y, DatasetY, err)
	}
	if info.typeClass != typeClassInteger {
		return fmt.Errorf("%s: dataset %q has element type %s, want an integer type", r.paths.Y, DatasetY, info.typeName())
	}
	if err := checkFilters(info, r.paths.Y, DatasetY); err != nil {
		return err
	}
	r.labels, err = readLabels(y.ID(), dims, r.paths.Y)
	return err
}

// readLabels reads every label of the y dataset in blocks and checks each is 0 or 1.
func readLabels(id int64, dims []uint64, path string) ([]uint8, error) {
	n := int(dims[0])
	labels := make([]uint8, n)
	const block = 1 << 16
	buf := make([]int64, min(block, n))
	for start := 0; start < n; start += block {
		cnt := min(block, n-start)
		err := readRows(id, 1, dims, []uint64{uint64(start)}, []uint64{uint64(cnt)}, ptrOf(buf))
		if err != nil {
			return nil, fmt.Errorf("%s: reading dataset %q rows %d..%d: %w", path, DatasetY, start, start+cnt-1, err)
		}
		for i, v := range buf[:cnt] {
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("%s: dataset %q: label at index %d is %d, labels must be 0 or 1", path, DatasetY, start+i, v)
			}
			labels[start+i] = uint8(v)
		}
	}
	return labels, nil
}

// loadMeta reads the optional meta CSV and checks its row count.
func (r *H5Reader) loadMeta() error {
	if _, err := os.Stat(r.paths.Meta); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	rows, err := ReadMeta(r.paths.Meta)
	if err != nil {
		return err
	}
	if len(rows) != r.n {
		return fmt.Errorf("meta CSV %s has %d rows but %s dataset %q has %d images", r.paths.Meta, len(rows), r.paths.X, DatasetX, r.n)
	}
	r.meta = rows
	return nil
}

// Len returns the number of patches.
func (r *H5Reader) Len() int { return r.n }

// Source returns the path of the x file.
func (r *H5Reader) Source() string { return r.paths.X }

// Paths returns the files this reader was opened from.
func (r *H5Reader) Paths() SplitPaths { return r.paths }

// Labels returns all labels in index order (the reader's own slice: do not modify).
func (r *H5Reader) Labels() []uint8 { return r.labels }

// Meta returns the rows of the meta CSV in index order, or nil when the split has no meta CSV.
func (r *H5Reader) Meta() []MetaRow { return r.meta }

// Layout describes the storage of the x dataset, e.g. "chunked (1,96,96,3) deflate" or "contiguous".
func (r *H5Reader) Layout() string {
	if r.info.layout != layoutChunked {
		return "contiguous"
	}
	s := "chunked " + shapeString(r.info.chunk)
	switch {
	case r.info.deflateOnly:
		s += " deflate"
	case r.info.nfilters > 0:
		s += fmt.Sprintf(" %d filters", r.info.nfilters)
	}
	return s
}

// Read copies the patches at indices into pix and their labels into labels (see Reader). Indices may be
// in any order and may repeat. Internally they are visited in sorted (file) order with the fastest
// strategy the layout allows: contiguous files are read with one pread per patch at the dataset's
// offset; chunked files whose chunks hold whole patches and use no filter or deflate only have their raw
// chunks read with H5Dread_chunk and inflated by zlib on all cores; any other layout is read run by run
// (consecutive indices) through H5Dread. Results land in the requested order.
func (r *H5Reader) Read(indices []int, pix []byte, labels []uint8) error {
	if err := checkReadArgs(r, indices, pix, labels); err != nil {
		return err
	}
	for i, idx := range indices {
		if labels != nil {
			labels[i] = r.labels[idx]
		}
	}
	if pix == nil || len(indices) == 0 {
		return nil
	}
	var err error
	switch {
	case r.raw != nil:
		err = r.readRaw(indices, pix)
	case r.chunks.ok:
		err = r.chunks.read(indices, pix)
	default:
		err = r.readRuns(indices, pix)
	}
	if err != nil {
		return fmt.Errorf("%s: reading dataset %q: %w", r.paths.X, DatasetX, err)
	}
	return nil
}

// readRaw preads each patch of a contiguous dataset straight into its place, in file order.
func (r *H5Reader) readRaw(indices []int, pix []byte) error {
	for _, o := range sortedOrder(indices) {
		dst := pix[o*PatchBytes : (o+1)*PatchBytes]
		if _, err := r.raw.ReadAt(dst, r.rawOff+int64(indices[o])*PatchBytes); err != nil {
			return fmt.Errorf("patch %d: %w", indices[o], err)
		}
	}
	return nil
}

// readRuns reads the unique sorted indices run by run, one simple hyperslab H5Dread per run of
// consecutive indices (measured faster than one read of a union of hyperslabs, which HDF5 1.10
// handles in time quadratic in the number of runs), then scatters them to the requested order.
func (r *H5Reader) readRuns(indices []int, pix []byte) error {
	order := sortedOrder(indices)
	uniq, starts, counts := runsOf(indices, order)
	need := len(uniq) * PatchBytes
	if cap(r.scratch) < need {
		r.scratch = make([]byte, need)
	}
	buf := r.scratch[:need]
	dims := []uint64{uint64(r.n), Height, Width, Channels}
	at := 0
	for k := range starts {
		seg := buf[at*PatchBytes : (at+int(counts[k]))*PatchBytes]
		if err := readRows(r.xid, 0, dims, starts[k:k+1], counts[k:k+1], ptrOf(seg)); err != nil {
			return fmt.Errorf("rows %d..%d: %w", starts[k], starts[k]+counts[k]-1, err)
		}
		at += int(counts[k])
	}
	scatter(indices, order, uniq, buf, pix)
	return nil
}

// Close releases the HDF5 handles. It is safe to call more than once.
func (r *H5Reader) Close() error {
	var errs []error
	if r.raw != nil {
		errs = append(errs, r.raw.Close())
		r.raw = nil
	}

	if r.x != nil {
		errs = append(errs, r.x.Close())
		r.x = nil
	}
	for _, f := range []**hdf5.File{&r.xf, &r.yf} {
		if *f != nil {
			errs = append(errs, (*f).Close())
			*f = nil
		}
	}
	return errors.Join(errs...)
}

// openH5File opens path read-only with a clear error for missing, truncated or non-HDF5 files.
func openH5File(path string) (*hdf5.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pcam_h5: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("pcam_h5: %s is a directory, want an HDF5 file", path)
	}
	var f *hdf5.File
	err = h5call(func() error {
		var e error
		f, e = hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("pcam_h5: %s (%d bytes) cannot be opened as HDF5: truncated or corrupt file: %w", path, st.Size(), err)
	}
	return f, nil
}

// openDataset opens dataset name in f, listing the names that do exist when it is missing.
func openDataset(f *hdf5.File, path, name string) (*hdf5.Dataset, error) {
	var d *hdf5.Dataset
	err := h5call(func() error {
		var e error
		d, e = f.OpenDataset(name)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("%s: no dataset %q (found: %s): %w", path, name, objectNames(f), err)
	}
	return d, nil
}

// objectNames lists the top-level object names of f for error messages.
func objectNames(f *hdf5.File) string {
	var names []string
	_ = h5call(func() error {
		n, err := f.NumObjects()
		if err != nil {
			return err
		}
		for i := uint(0); i < n; i++ {
			if s, err := f.ObjectNameByIndex(i); err == nil {
				names = append(names, fmt.Sprintf("%q", s))
			}
		}
		return nil
	})
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// datasetDims returns the dimensions of d.
func datasetDims(d *hdf5.Dataset, path, name string) ([]uint64, error) {
	var dims []uint
	err := h5call(func() error {
		sp := d.Space()
		if sp == nil {
			return errors.New("H5Dget_space failed")
		}
		defer sp.Close()
		if sp.SimpleExtentNDims() <= 0 {
			return nil
		}
		var e error
		dims, _, e = sp.SimpleExtentDims()
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("%s: dataset %q: reading its shape: %w", path, name, err)
	}
	out := make([]uint64, len(dims))
	for i, v := range dims {
		out[i] = uint64(v)
	}
	return out, nil
}

// shapeString formats dims like a NumPy shape.
func shapeString(dims []uint64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// typeName names an HDF5 element type in NumPy terms for error messages.
func (d dsetInfo) typeName() string {
	if d.typeClass == typeClassFloat {
		return fmt.Sprintf("float%d", 8*d.typeSize)
	}
	if d.typeClass != typeClassInteger {
		return fmt.Sprintf("non-numeric (HDF5 type class %d, %d bytes)", d.typeClass, d.typeSize)
	}
	if d.typeUnsigned {
		return fmt.Sprintf("uint%d", 8*d.typeSize)
	}
	return fmt.Sprintf("int%d", 8*d.typeSize)
}
