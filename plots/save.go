package plots

import (
	"bytes"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// PNG renders p at the house size and resolution and returns the encoded image.
func PNG(p *plot.Plot) ([]byte, error) {
	return PNGSize(p, Width, Height)
}

// PNGSize renders p at the given size and returns the encoded image. A log axis without data is
// given the range 1..10 first (gonum cannot draw an empty log axis).
func PNGSize(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	sanitize(p)
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encoding the plot %q: %w", p.Title.Text, err)
	}
	return buf.Bytes(), nil
}

// Save renders p and writes it to path atomically (readers never see a partial PNG).
func Save(p *plot.Plot, path string) error {
	data, err := PNG(p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
