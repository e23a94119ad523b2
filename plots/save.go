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

// PNGSize renders p at the given size and returns the encoded image. The legend is drawn outside
// the data, to the right of it, so it never hides a line. A log axis without data is given the
// range 1..10 first (gonum cannot draw an empty log axis).
func PNGSize(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	drawPlot(p, draw.New(c))
	return encode(c, p.Title.Text)
}

// encode writes the canvas as PNG.
func encode(c *vgimg.Canvas, what string) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encoding the plot %q: %w", what, err)
	}
	return buf.Bytes(), nil
}

// legendGap separates the data area from a legend drawn beside it.
const legendGap = 8

// drawPlot draws p on c: the title centred over the whole picture, and the legend (if any) in a
// column at the right of the data area.
func drawPlot(p *plot.Plot, c draw.Canvas) {
	sanitize(p)
	if title := p.Title.Text; title != "" {
		descent := p.Title.TextStyle.FontExtents().Descent
		c.FillText(p.Title.TextStyle, vg.Point{X: c.Center().X, Y: c.Max.Y + descent}, title)
		c.Max.Y -= p.Title.TextStyle.Rectangle(title).Size().Y + p.Title.Padding
		p.Title.Text = ""
		defer func() { p.Title.Text = title }()
	}
	legend := p.Legend
	if !hasLegend(p) {
		p.Draw(c)
		return
	}
	legend.Left, legend.Top = true, true
	width := legend.Rectangle(c).Size().X + vg.Points(legendGap)
	p.Legend = plot.NewLegend()
	p.Draw(draw.Crop(c, 0, -width, 0, 0))
	p.Legend = legend
	legend.Draw(draw.Crop(c, c.Size().X-width+vg.Points(legendGap), 0, 0, 0))
}

// hasLegend reports whether p has at least one legend entry.
func hasLegend(p *plot.Plot) bool {
	return len(LegendNames(p)) > 0
}

// Save renders p and writes it to path atomically (readers never see a partial PNG).
func Save(p *plot.Plot, path string) error {
	data, err := PNG(p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
