package pcam

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// MontagePNG encodes patches (n*PatchBytes bytes, n >= 1) as one PNG grid with cols columns, each patch
// magnified scale times (nearest neighbour) and separated by a gap of gap white pixels.
func MontagePNG(patches []byte, cols, scale, gap int) ([]byte, error) {
	n := len(patches) / PatchBytes
	if n == 0 || len(patches)%PatchBytes != 0 || cols < 1 || scale < 1 || gap < 0 {
		return nil, fmt.Errorf("montage: %d bytes is not a whole number of patches, or bad layout (cols %d, scale %d, gap %d)", len(patches), cols, scale, gap)
	}
	rows := (n + cols - 1) / cols
	cell := Width*scale + gap
	img := image.NewRGBA(image.Rect(0, 0, cols*cell-gap, rows*cell-gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for p := 0; p < n; p++ {
		ox, oy := (p%cols)*cell, (p/cols)*cell
		src := patches[p*PatchBytes : (p+1)*PatchBytes]
		for y := 0; y < Height*scale; y++ {
			for x := 0; x < Width*scale; x++ {
				o := ((y/scale)*Width + x/scale) * 3
				img.SetRGBA(ox+x, oy+y, color.RGBA{src[o], src[o+1], src[o+2], 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("montage: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteMontage writes MontagePNG(patches, cols, scale, gap) to path atomically.
func WriteMontage(path string, patches []byte, cols, scale, gap int) error {
	b, err := MontagePNG(patches, cols, scale, gap)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, b, 0o644)
}
