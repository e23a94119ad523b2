package predict

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"

	"gonum.org/v1/hdf5"

	"github.com/pcamflow/pcamflow/pcam"
)

// officialX matches the file name of an official PCAM image file and captures its split.
var officialX = regexp.MustCompile(`^camelyonpatch_level_2_split_(train|valid|test)_x\.h5$`)

// openH5Source opens an HDF5 file of patches for inference. A file with the official name whose
// _y.h5 companion exists is opened as its split with pcam.OpenH5 (parallel chunk decompression);
// any other file, or an official one that pcam.OpenH5 refuses (labels and meta are not needed to
// predict), is read through dataset "x" alone, which must be (N,96,96,3) uint8.
func openH5Source(path string) (Source, error) {
	if m := officialX.FindStringSubmatch(filepath.Base(path)); m != nil {
		dir, split := filepath.Dir(path), pcam.Split(m[1])
		if _, err := os.Stat(pcam.SplitFiles(dir, split).Y); err == nil {
			if r, err := pcam.OpenH5(dir, split); err == nil {
				return &ReaderSource{Input: path, R: r}, nil
			}
		}
	}
	x, err := openH5X(path)
	if err != nil {
		return nil, err
	}
	return &ReaderSource{Input: path, R: x}, nil
}

// quietH5 pins the goroutine to its OS thread and turns off HDF5's automatic error printing,
// which the thread-safe library keeps per thread (errors are returned, not printed). Call the
// returned function to unpin: defer quietH5()().
func quietH5() func() {
	runtime.LockOSThread()
	_ = hdf5.DisplayErrors(false)
	return runtime.UnlockOSThread
}

// h5X reads the patches of dataset "x" of one HDF5 file in contiguous row ranges, without labels.
// It implements pcam.Reader for contiguous, increasing index runs (which is all inference asks).
type h5X struct {
	path string
	f    *hdf5.File
	d    *hdf5.Dataset
	n    int
}

// openH5X opens path and checks that dataset "x" is (N,96,96,3) uint8.
func openH5X(path string) (*h5X, error) {
	defer quietH5()()
	st, err := os.Stat(path)
	if err != nil {
		return nil, inputErr(path, err)
	}
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("input %s (%d bytes) is not an HDF5 file (truncated or corrupt?)", path, st.Size())
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("input %s cannot be opened as HDF5: %w", path, err)
	}
	x := &h5X{path: path, f: f}
	if err := x.openX(); err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

// openX opens and validates dataset "x".
func (x *h5X) openX() error {
	d, err := x.f.OpenDataset(pcam.DatasetX)
	if err != nil {
		return fmt.Errorf("input %s has no dataset %q (PCAM image files hold their patches in \"x\"): %w", x.path, pcam.DatasetX, err)
	}
	x.d = d
	if err := pcam.CheckDatasetFilters(d, x.path, pcam.DatasetX); err != nil {
		return fmt.Errorf("input %w", err)
	}
	sp := d.Space()
	if sp == nil {
		return fmt.Errorf("input %s: dataset %q: cannot read its shape", x.path, pcam.DatasetX)
	}
	defer sp.Close()
	dims, _, err := sp.SimpleExtentDims()
	if err != nil {
		return fmt.Errorf("input %s: dataset %q: reading its shape: %w", x.path, pcam.DatasetX, err)
	}
	if len(dims) != 4 || dims[1] != pcam.Height || dims[2] != pcam.Width || dims[3] != pcam.Channels {
		return fmt.Errorf("input %s: dataset %q has shape %v, want (N,%d,%d,%d) patches", x.path, pcam.DatasetX, dims,
			pcam.Height, pcam.Width, pcam.Channels)
	}
	dt, err := d.Datatype()
	if err != nil {
		return fmt.Errorf("input %s: dataset %q: reading its element type: %w", x.path, pcam.DatasetX, err)
	}
	defer dt.Close()
	if !dt.Equal(hdf5.T_NATIVE_UINT8) {
		return fmt.Errorf("input %s: dataset %q does not hold uint8 pixels (element size %d bytes)", x.path, pcam.DatasetX, dt.Size())
	}
	x.n = int(dims[0])
	return nil
}

// Len returns the number of patches.
func (x *h5X) Len() int { return x.n }

// Source returns the file path.
func (x *h5X) Source() string { return x.path }

// Read copies the patches at indices, which must be consecutive and increasing, into pix. labels
// must be nil: a lone x file has none.
func (x *h5X) Read(indices []int, pix []byte, labels []uint8) error {
	if labels != nil {
		return fmt.Errorf("%s: a lone %q file has no labels", x.path, pcam.DatasetX)
	}
	if len(indices) == 0 {
		return nil
	}
	start, k := indices[0], len(indices)
	for i, idx := range indices {
		if idx != start+i {
			return fmt.Errorf("%s: indices must be consecutive", x.path)
		}
	}
	if start < 0 || start+k > x.n || len(pix) != k*pcam.PatchBytes {
		return fmt.Errorf("%s: read of patches %d..%d into %d bytes is out of range (%d patches)", x.path, start, start+k-1, len(pix), x.n)
	}
	defer quietH5()()
	fsp := x.d.Space()
	if fsp == nil {
		return fmt.Errorf("%s: dataset %q: cannot get its dataspace", x.path, pcam.DatasetX)
	}
	defer fsp.Close()
	count := []uint{uint(k), pcam.Height, pcam.Width, pcam.Channels}
	if err := fsp.SelectHyperslab([]uint{uint(start), 0, 0, 0}, nil, count, nil); err != nil {
		return fmt.Errorf("%s: dataset %q: selecting patches %d..%d: %w", x.path, pcam.DatasetX, start, start+k-1, err)
	}
	msp, err := hdf5.CreateSimpleDataspace(count, nil)
	if err != nil {
		return fmt.Errorf("%s: dataset %q: %w", x.path, pcam.DatasetX, err)
	}
	defer msp.Close()
	if err := x.d.ReadSubset(&pix, msp, fsp); err != nil {
		return fmt.Errorf("%s: dataset %q: reading patches %d..%d (corrupt file?): %w", x.path, pcam.DatasetX, start, start+k-1, err)
	}
	return nil
}

// Close releases the HDF5 handles; it is safe to call more than once.
func (x *h5X) Close() error {
	defer quietH5()()
	var errs []error
	if x.d != nil {
		errs = append(errs, x.d.Close())
		x.d = nil
	}
	if x.f != nil {
		errs = append(errs, x.f.Close())
		x.f = nil
	}
	return errors.Join(errs...)
}
