package predict

import (
	"errors"
	"fmt"
	"image"
	_ "image/png" // registers PNG for image.Decode
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/tiff" // registers TIFF for image.Decode

	"github.com/pcamflow/pcamflow/pcam"
)

// Source is a finite sequence of 96×96 RGB patches to predict, read in consecutive ranges. Its end
// is Len: a reader never signals the end of data with an error.
type Source interface {
	// Len returns the number of patches.
	Len() int
	// Read fills pix (a whole number of patches, PatchBytes each) with the patches from start on,
	// and labels (nil, or one byte per patch) with their labels. A source without labels fails
	// when labels is not nil. Every failure is an error naming the input.
	Read(start int, pix []byte, labels []uint8) error
	// Where names patch i: the file it comes from and its index inside that file.
	Where(i int) (input string, index int)
	// Close releases open files.
	Close() error
}

// imageExts are the patch image file extensions (lower case) inference accepts.
var imageExts = map[string]bool{".png": true, ".tif": true, ".tiff": true}

// isH5 reports whether a file name has an HDF5 extension.
func isH5(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".h5" || ext == ".hdf5"
}

// Open opens every INPUT: an HDF5 file (.h5, .hdf5), a folder (every .png/.tif/.tiff file
// below it, hidden ones excluded, in lexical path order) or a patch image file. Consecutive image
// file arguments form one source so that they are predicted in batches. Every source is checked
// (HDF5 shape and type, image sizes) before anything is predicted. On error, sources opened so
// far are closed.
func Open(inputs []string) (srcs []Source, err error) {
	defer func() {
		if err != nil {
			CloseAll(srcs)
			srcs = nil
		}
	}()
	var files []string
	flush := func() error {
		if len(files) == 0 {
			return nil
		}
		s, err := newImageSource(files)
		files = nil
		if err != nil {
			return err
		}
		srcs = append(srcs, s)
		return nil
	}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return srcs, inputErr(in, err)
		}
		if !st.IsDir() && !isH5(in) {
			files = append(files, in)
			continue
		}
		if err := flush(); err != nil {
			return srcs, err
		}
		var s Source
		if st.IsDir() {
			s, err = openFolderSource(in)
		} else {
			s, err = openH5Source(in)
		}
		if err != nil {
			return srcs, err
		}
		srcs = append(srcs, s)
	}
	return srcs, flush()
}

// inputErr describes a failure to open or stat an INPUT.
func inputErr(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("input %s does not exist", path)
	}
	return fmt.Errorf("input %s: %w", path, err)
}

// CloseAll closes every source.
func CloseAll(srcs []Source) {
	for _, s := range srcs {
		s.Close()
	}
}

// openFolderSource lists the patch images below dir.
func openFolderSource(dir string) (Source, error) {
	var files []string
	sawH5 := false
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		hidden := strings.HasPrefix(d.Name(), ".") && p != dir
		switch {
		case d.IsDir() && hidden:
			return filepath.SkipDir
		case d.IsDir() || hidden:
			return nil
		case imageExts[strings.ToLower(filepath.Ext(p))]:
			files = append(files, p)
		case isH5(p):
			sawH5 = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("input folder %s: %w", dir, err)
	}
	if len(files) == 0 {
		hint := ""
		if sawH5 {
			hint = " (it has HDF5 files: give the _x.h5 file itself as INPUT)"
		}
		return nil, fmt.Errorf("input folder %s has no .png, .tif or .tiff patch files%s", dir, hint)
	}
	return newImageSource(files)
}

// imageSource is a list of patch image files, one patch each.
type imageSource struct{ files []string }

// newImageSource checks that every file is a 96×96 PNG or TIFF image (reading only its header).
func newImageSource(files []string) (*imageSource, error) {
	for _, p := range files {
		if err := checkPatchImage(p); err != nil {
			return nil, err
		}
	}
	return &imageSource{files: files}, nil
}

// checkPatchImage checks the header of one image file (pcam.CheckPatchFile: 96×96, 8-bit, PNG or
// TIFF) before anything is decoded, so an image bomb is refused from its header.
func checkPatchImage(path string) error {
	if err := pcam.CheckPatchFile(path); err != nil {
		if errors.Is(err, image.ErrFormat) {
			return fmt.Errorf("input %s is not a PNG or TIFF image, an HDF5 file (.h5) or a folder", path)
		}
		var size *pcam.SizeError
		if errors.As(err, &size) {
			return fmt.Errorf("input %s is a %dx%d %s image; PCAM patches are %dx%d", path, size.Width, size.Height,
				strings.ToUpper(size.Format), pcam.Width, pcam.Height)
		}
		return fmt.Errorf("input %w", err)
	}
	return nil
}

// Len returns the number of files.
func (s *imageSource) Len() int { return len(s.files) }

// Where names file i (index 0: one patch per file).
func (s *imageSource) Where(i int) (string, int) { return s.files[i], 0 }

// Close does nothing: files are opened per read.
func (s *imageSource) Close() error { return nil }

// Read decodes the files from start on into pix as interleaved RGB bytes. Image files carry no
// labels: labels must be nil.
func (s *imageSource) Read(start int, pix []byte, labels []uint8) error {
	if labels != nil {
		return fmt.Errorf("input %s: patch image files carry no labels", s.files[start])
	}
	for k := 0; k*pcam.PatchBytes < len(pix); k++ {
		if err := decodePatch(s.files[start+k], pix[k*pcam.PatchBytes:(k+1)*pcam.PatchBytes]); err != nil {
			return err
		}
	}
	return nil
}

// decodePatch decodes a 96×96 image file into dst as RGB bytes through pcam.DecodePatchFile, the
// one decoder every reader uses (header checked first, translucent pixels refused).
func decodePatch(path string, dst []byte) error {
	if err := pcam.DecodePatchFile(path, dst); err != nil {
		return fmt.Errorf("input %w", err)
	}
	return nil
}

// ReaderSource adapts a pcam.Reader (an HDF5 split, a lone x file, a Kaggle or PNG folder) to
// Source: patch i of the source is patch Indices[i] of the reader (every patch in order when
// Indices is nil).
type ReaderSource struct {
	// Input names the source in Where (the file or folder).
	Input string
	// R is the reader; Close closes it.
	R pcam.Reader
	// Indices are the reader's patch indices to predict, in order; nil means all.
	Indices []int
	idx     []int
}

// Len returns the number of patches.
func (s *ReaderSource) Len() int {
	if s.Indices != nil {
		return len(s.Indices)
	}
	return s.R.Len()
}

// Index returns the reader index of patch i.
func (s *ReaderSource) Index(i int) int {
	if s.Indices != nil {
		return s.Indices[i]
	}
	return i
}

// Where names patch i: the input and the patch's index in the reader (the row of dataset x).
func (s *ReaderSource) Where(i int) (string, int) { return s.Input, s.Index(i) }

// Close closes the reader.
func (s *ReaderSource) Close() error { return s.R.Close() }

// Read reads the patches from start on.
func (s *ReaderSource) Read(start int, pix []byte, labels []uint8) error {
	n := len(pix) / pcam.PatchBytes
	if start < 0 || start+n > s.Len() || len(pix) != n*pcam.PatchBytes || (labels != nil && len(labels) != n) {
		return fmt.Errorf("%s: read of %d patches from %d into %d bytes is out of range (%d patches)", s.Input, n, start, len(pix), s.Len())
	}
	s.idx = s.idx[:0]
	for k := range n {
		s.idx = append(s.idx, s.Index(start+k))
	}
	return s.R.Read(s.idx, pix, labels)
}
