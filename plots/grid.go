package plots

import (
	"errors"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// PanelHeight is the height of one row of small multiples.
const PanelHeight = 3 * vg.Inch

// GridPNG renders small multiples: a title, one legend shared by all panels (the first panel's,
// drawn once under the title), and the panels in rows of cols with aligned axes, as one PNG of the
// house width and PanelHeight per row. Use it for one quantity split by a factor (gradient norms
// per layer, a metric per partition): make every panel with New and the same Add calls, so the
// shared legend is true of each. The panels' own legends are not drawn.
func GridPNG(title string, panels []*plot.Plot, cols int) ([]byte, error) {
	if len(panels) == 0 {
		return nil, errors.New("plots: no panels to draw")
	}
	cols = max(1, min(cols, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	legend := panels[0].Legend
	legend.Left, legend.Top = true, true
	titleStyle := text.Style{Color: color.Black, Font: panels[0].Title.TextStyle.Font, XAlign: draw.XCenter,
		YAlign: draw.YTop, Handler: panels[0].Title.TextStyle.Handler}
	header := titleStyle.Rectangle(title).Size().Y + vg.Points(6)
	if hasLegend(panels[0]) {
		header += legend.Rectangle(draw.Canvas{}).Size().Y + vg.Points(6)
	}
	canvas := vgimg.NewWith(vgimg.UseWH(Width, PanelHeight*vg.Length(rows)+header), vgimg.UseDPI(DPI))
	dc := draw.New(canvas)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc.FillText(titleStyle, vg.Point{X: dc.Center().X, Y: dc.Max.Y - vg.Points(3)}, title)
	if hasLegend(panels[0]) {
		w := legend.Rectangle(dc).Size().X
		legend.Draw(draw.Crop(dc, dc.Center().X-w/2-dc.Min.X, 0, 0, -(titleStyle.Rectangle(title).Size().Y + vg.Points(6))))
	}
	body := draw.Crop(dc, 0, 0, 0, -header)
	grid := make([][]*plot.Plot, rows)
	saved := make([]plot.Legend, len(panels))
	for k, p := range panels {
		saved[k], p.Legend = p.Legend, plot.NewLegend()
		sanitize(p)
	}
	defer func() {
		for k, p := range panels {
			p.Legend = saved[k]
		}
	}()
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			if k := r*cols + c; k < len(panels) {
				grid[r][c] = panels[k]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(8), PadY: vg.Points(8),
		PadTop: vg.Points(2), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(6)}
	cells := plot.Align(grid, tiles, body)
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(cells[r][c])
			}
		}
	}
	return encode(canvas, title)
}

// SaveGrid renders small multiples with GridPNG and writes them to path atomically.
func SaveGrid(title string, panels []*plot.Plot, cols int, path string) error {
	data, err := GridPNG(title, panels, cols)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}
