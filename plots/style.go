package plots

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette holds the Okabe-Ito colours, distinguishable under the common forms of colour
// blindness, in the order series receive them.
var Palette = []color.NRGBA{
	{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
	{R: 0xF0, G: 0xE4, B: 0x42, A: 0xFF}, // yellow
	{R: 0x00, G: 0x00, B: 0x00, A: 0xFF}, // black
}

// Grey is the colour of reference lines (chance diagonals, baselines).
var Grey = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xFF}

// Sizes of every picture and its text.
const (
	// Width and Height are the default picture size (at DPI, 1200x800 pixels).
	Width  = 6 * vg.Inch
	Height = 4 * vg.Inch
	// DPI is the resolution of PNG output.
	DPI = 200
	// TitleSize, LabelSize and TickSize are the font sizes of titles, axis labels and legends,
	// and tick labels.
	TitleSize = vg.Length(12)
	LabelSize = vg.Length(10)
	TickSize  = vg.Length(8)
	// LineWidth is the width of data lines; ThinWidth that of secondary lines (single seeds).
	LineWidth = vg.Length(1.5)
	ThinWidth = vg.Length(0.6)
)

// Color returns the palette colour of series i (cycling through the palette).
func Color(i int) color.NRGBA {
	if i < 0 {
		i = -i
	}
	return Palette[i%len(Palette)]
}

// Faded returns c with the given opacity (0..1), for bands and thin lines.
func Faded(c color.NRGBA, opacity float64) color.NRGBA {
	c.A = uint8(opacity*255 + 0.5)
	return c
}

// New returns an empty plot in the house style with a title and axis labels.
func New(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = TitleSize
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = LabelSize
		ax.Tick.Label.Font.Size = TickSize
	}
	p.Legend.TextStyle.Font.Size = LabelSize
	p.Legend.Top = true
	p.Legend.Left = false
	p.BackgroundColor = color.White
	return p
}

// LineStyle returns the style of series i: its palette colour at the given width.
func LineStyle(i int, width vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: Color(i), Width: width}
}
