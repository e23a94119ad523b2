package pcam

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// PNGReader reads a folder of PNG patches laid out like torchvision's ImageFolder:
//
//	<dir>/<split>/0/*.png   negatives (no tumour in the centre 32x32)
//	<dir>/<split>/1/*.png   positives
//
// Each PNG must be 96x96 with 8-bit channels (RGB, gray or paletted, converted to RGB; RGBA only when
// every pixel is opaque), checked from its header before decoding (DecodePatchFile). Patches are
// ordered by class folder, then by file name.
type PNGReader struct{ imageFolder }

// OpenPNGFolder opens split of a PNG folder; at least one PNG must exist.
func OpenPNGFolder(dir string, split Split) (*PNGReader, error) {
	root := filepath.Join(dir, string(split))
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("png_folder: %s must be a folder with subfolders 0/ and 1/ of .png patches: %w", root, errNotDir(err))
	}
	r := &PNGReader{imageFolder{source: root}}
	for _, label := range []uint8{0, 1} {
		files, err := filepath.Glob(filepath.Join(root, fmt.Sprint(label), "*.png"))
		if err != nil {
			return nil, fmt.Errorf("png_folder %s: %w", root, err)
		}
		slices.Sort(files)
		for _, p := range files {
			r.paths = append(r.paths, p)
			r.labels = append(r.labels, label)
		}
	}
	if len(r.paths) == 0 {
		return nil, fmt.Errorf("png_folder: %s has no .png files in 0/ or 1/", root)
	}
	return r, nil
}

// errNotDir turns a nil stat error for a non-directory into a descriptive error.
func errNotDir(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("not a directory")
}

// WritePNGFolder writes every patch of r as <dir>/<split>/<label>/<index, 6 digits>.png, streaming one
// patch at a time. It is the inverse of OpenPNGFolder up to file naming.
func WritePNGFolder(dir string, split Split, r Reader) error {
	pix := make([]byte, PatchBytes)
	lab := make([]uint8, 1)
	for i := 0; i < r.Len(); i++ {
		if err := r.Read([]int{i}, pix, lab); err != nil {
			return err
		}
		img := image.NewNRGBA(image.Rect(0, 0, Width, Height))
		for p := 0; p < Width*Height; p++ {
			copy(img.Pix[p*4:p*4+3], pix[p*3:p*3+3])
			img.Pix[p*4+3] = 255
		}
		sub := filepath.Join(dir, string(split), fmt.Sprint(lab[0]))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("png_folder: %w", err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("png_folder: encoding patch %d: %w", i, err)
		}
		if err := atomicfile.Write(filepath.Join(sub, fmt.Sprintf("%06d.png", i)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
