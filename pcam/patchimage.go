package pcam

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/tiff"
)

// CheckPatchHeader reads only the header of the PNG or TIFF image in r (a few hundred bytes) and
// checks that it declares a PCAM patch: Width×Height pixels with 8-bit channels (RGB, RGBA, gray or
// paletted). It returns the format name, "png" or "tiff".
//
// Every reader of patch image files calls it before decoding, so a file that declares a huge image
// (an "image bomb": a 200-byte TIFF of 100000×100000, a deflate-compressed 60000² PNG) is refused
// before any pixel memory is allocated. A file that is not a PNG or TIFF gives an error wrapping
// image.ErrFormat.
func CheckPatchHeader(r io.Reader) (format string, err error) {
	cfg, format, err := image.DecodeConfig(r)
	if errors.Is(err, image.ErrFormat) {
		return "", fmt.Errorf("not a PNG or TIFF image: %w", image.ErrFormat)
	}
	if err != nil {
		return "", fmt.Errorf("reading the image header: %s", decodeErrText(err))
	}
	if format != "png" && format != "tiff" {
		return "", fmt.Errorf("a %s image; PCAM patches are PNG or TIFF files: %w", format, image.ErrFormat)
	}
	if cfg.Width != Width || cfg.Height != Height {
		return "", &SizeError{Format: format, Width: cfg.Width, Height: cfg.Height}
	}
	switch cfg.ColorModel {
	case color.RGBAModel, color.NRGBAModel, color.GrayModel:
		return format, nil
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		return "", fmt.Errorf("the %s image has 16 bits per channel; PCAM patches are 8-bit RGB", format)
	}
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		return format, nil
	}
	return "", fmt.Errorf("the %s image has an unsupported colour model (%T); PCAM patches are 8-bit RGB", format, cfg.ColorModel)
}

// SizeError reports an image file whose header declares a size other than a PCAM patch's.
type SizeError struct {
	// Format is "png" or "tiff"; Width and Height are the declared size.
	Format        string
	Width, Height int
}

// Error implements error.
func (e *SizeError) Error() string {
	return fmt.Sprintf("the %s header declares %dx%d pixels; PCAM patches are %dx%d (refused before decoding)",
		e.Format, e.Width, e.Height, Width, Height)
}

// CheckPatchFile checks the header of the patch image file at path with CheckPatchHeader; errors
// name the file.
func CheckPatchFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := CheckPatchHeader(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// DecodePatchFile decodes the PNG or TIFF patch image at path into dst (PatchBytes bytes,
// interleaved 8-bit RGB). It is the one way pcamflow turns a patch image file into pixels:
//
//   - the header is checked first (CheckPatchHeader), so nothing is allocated for a file that does
//     not declare a 96×96 8-bit image;
//   - gray and paletted images are converted to RGB;
//   - an image with any pixel that is not fully opaque is refused: Go's image package would
//     premultiply such pixels, silently changing the patch (and its Kaggle id). Flatten the image onto
//     a background first if it really is meant to be used.
//
// Errors name the file.
func DecodePatchFile(path string, dst []byte) error {
	if len(dst) != PatchBytes {
		return fmt.Errorf("%s: destination has %d bytes, want %d", path, len(dst), PatchBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	format, err := CheckPatchHeader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var img image.Image
	if format == "png" {
		img, err = png.Decode(f)
	} else {
		img, err = tiff.Decode(f)
	}
	if err != nil {
		return fmt.Errorf("%s: decoding the %s image: %v", path, format, decodeErrText(err))
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		return fmt.Errorf("%s: the %s image is %dx%d, want %dx%d", path, format, b.Dx(), b.Dy(), Width, Height)
	}
	if x, y, a, ok := translucentPixel(img); ok {
		return fmt.Errorf("%s: pixel (%d,%d) has alpha %d of 255; PCAM patches are opaque RGB (an image with transparency would be premultiplied and change): flatten it onto a background or drop its alpha channel", path, x, y, a)
	}
	toRGB(img, dst)
	return nil
}

// decodeErrText describes a decoder error. The error is formatted, not wrapped, so that a decoder's
// io.EOF or io.ErrUnexpectedEOF (a truncated or corrupt file) can never be mistaken for the end of
// a data stream by a caller.
func decodeErrText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the file is truncated or corrupt (" + err.Error() + ")"
	}
	return err.Error()
}

// translucentPixel returns the first pixel (row-major) of img whose alpha is below the maximum,
// with its 8-bit alpha.
func translucentPixel(img image.Image) (x, y int, alpha uint8, found bool) {
	b := img.Bounds()
	scan := func(pix []byte, stride int) (int, int, uint8, bool) {
		for yy := 0; yy < b.Dy(); yy++ {
			row := pix[yy*stride:]
			for xx := 0; xx < b.Dx(); xx++ {
				if a := row[4*xx+3]; a != 255 {
					return xx, yy, a, true
				}
			}
		}
		return 0, 0, 0, false
	}
	switch m := img.(type) {
	case *image.Gray:
		return 0, 0, 0, false
	case *image.RGBA:
		return scan(m.Pix, m.Stride)
	case *image.NRGBA:
		return scan(m.Pix, m.Stride)
	case *image.Paletted:
		opaque := true
		for _, c := range m.Palette {
			if _, _, _, a := c.RGBA(); a != 0xffff {
				opaque = false
			}
		}
		if opaque {
			return 0, 0, 0, false
		}
	}
	for yy := b.Min.Y; yy < b.Max.Y; yy++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			if _, _, _, a := img.At(xx, yy).RGBA(); a != 0xffff {
				return xx - b.Min.X, yy - b.Min.Y, uint8(a >> 8), true
			}
		}
	}
	return 0, 0, 0, false
}

// toRGB copies an opaque 96x96 img into dst as interleaved 8-bit RGB.
func toRGB(img image.Image, dst []byte) {
	var rgba *image.RGBA
	switch m := img.(type) {
	case *image.RGBA:
		rgba = m
	case *image.NRGBA: // opaque (checked by the caller): the same bytes as premultiplied RGBA
		rgba = &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
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
