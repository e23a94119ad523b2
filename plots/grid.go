package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// PanelHeight is the height of one row of small multiples.
const PanelHeight = 3 * vg.Inch

// GridPNG renders small multiples: the panels in rows of cols, with aligned axes, as one PNG of the
// house width and PanelHeight per row. Use it for one quantity split by a factor (gradient norms
// per layer, a metric per partition), each panel made with New and the Add functions.
func GridPNG(panels []*plot.Plot, cols int) ([]byte, error) {
	if len(panels) == 0 {
		return nil, errors.New("plots: no panels to draw")
	}
	cols = max(1, min(cols, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			if k := r*cols + c; k < len(panels) {
				grid[r][c] = panels[k]
				sanitize(panels[k])
			}
		}
	}
	h := PanelHeight * vg.Length(rows)
	canvas := vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(DPI))
	dc := draw.New(canvas)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(6),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	cells := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(cells[r][c])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encoding small multiples: %w", err)
	}
	return buf.Bytes(), nil
}

// SaveGrid renders small multiples with GridPNG and writes them to path atomically.
func SaveGrid(panels []*plot.Plot, cols int, path string) error {
	data, err := GridPNG(panels, cols)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
