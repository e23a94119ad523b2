package pcam

import (
	"fmt"
	"image"
	"image/draw"
	"os"
)

// imageFolder is a Reader over one image file per patch, decoded on demand.
type imageFolder struct {
	source string
	paths  []string
	labels []uint8
	decode func(path string) (image.Image, error)
	check  func(i int, pix []byte) error // optional per-patch validation (Kaggle ids)
}

// Len returns the number of patches.
func (f *imageFolder) Len() int { return len(f.paths) }

// Source returns the folder the patches come from.
func (f *imageFolder) Source() string { return f.source }

// Close does nothing: files are opened per read.
func (f *imageFolder) Close() error { return nil }

// Labels returns all labels in index order (do not modify).
func (f *imageFolder) Labels() []uint8 { return f.labels }

// Path returns the file of patch i.
func (f *imageFolder) Path(i int) string { return f.paths[i] }

// Read decodes the files at indices (see Reader).
func (f *imageFolder) Read(indices []int, pix []byte, labels []uint8) error {
	if err := checkReadArgs(f, indices, pix, labels); err != nil {
		return err
	}
	for k, i := range indices {
		if labels != nil {
			labels[k] = f.labels[i]
		}
		if pix == nil {
			continue
		}
		dst := pix[k*PatchBytes : (k+1)*PatchBytes]
		if err := f.readOne(i, dst); err != nil {
			return err
		}
	}
	return nil
}

// readOne decodes patch i into dst as RGB bytes.
func (f *imageFolder) readOne(i int, dst []byte) error {
	img, err := f.decode(f.paths[i])
	if err != nil {
		return fmt.Errorf("%s: decoding patch %d: %w", f.paths[i], i, err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		return fmt.Errorf("%s: image is %dx%d, want %dx%d", f.paths[i], b.Dx(), b.Dy(), Width, Height)
	}
	toRGB(img, dst)
	if f.check != nil {
		return f.check(i, dst)
	}
	return nil
}

// toRGB copies img (96x96) into dst as interleaved 8-bit RGB.
func toRGB(img image.Image, dst []byte) {
	var rgba *image.RGBA
	switch m := img.(type) {
	case *image.RGBA:
		rgba = m
	case *image.NRGBA:
		if opaque(m.Pix) {
			rgba = &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
	}
	if rgba == nil {
		rgba = image.NewRGBA(image.Rect(0, 0, Width, Height))
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	}
	for y := 0; y < Height; y++ {
		row := rgba.Pix[y*rgba.Stride:]
		for x := 0; x < Width; x++ {
			copy(dst[(y*Width+x)*3:(y*Width+x)*3+3], row[x*4:x*4+3])
		}
	}
}

// opaque reports whether every alpha byte of an RGBA pixel slice is 255.
func opaque(pix []byte) bool {
	for i := 3; i < len(pix); i += 4 {
		if pix[i] != 255 {
			return false
		}
	}
	return true
}

// decodeFile opens path and decodes it with dec.
func decodeFile(path string, dec func(*os.File) (image.Image, error)) (image.Image, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return dec(fh)
}
