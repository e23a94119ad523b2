package plots

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// Range is the extent of one axis of a plot.
type Range struct{ Min, Max float64 }

// Ranges returns the data ranges of p's axes as the added data set them (before the padding and
// tick rounding of drawing). Tests of pictures check these rather than pixels.
func Ranges(p *plot.Plot) (x, y Range) {
	return Range{p.X.Min, p.X.Max}, Range{p.Y.Min, p.Y.Max}
}

// LegendNames returns the legend entries of p in order, as drawn: it renders the legend on a
// recording canvas and collects its text. Tests of pictures use it to check that every series is
// named.
func LegendNames(p *plot.Plot) []string {
	var rec recorder.Canvas
	c := draw.NewCanvas(&rec, Width, Height)
	p.Legend.Draw(c)
	var names []string
	for _, a := range rec.Actions {
		if fs, ok := a.(*recorder.FillString); ok {
			names = append(names, fs.String)
		}
	}
	return names
}

// Texts returns every string drawn when p is rendered (title, axis labels, tick labels, legend,
// bar labels), in drawing order. Drawing rounds p's axis ranges, so call Ranges before Texts.
func Texts(p *plot.Plot) []string {
	var rec recorder.Canvas
	drawPlot(p, draw.NewCanvas(&rec, Width, Height))
	var out []string
	for _, a := range rec.Actions {
		if fs, ok := a.(*recorder.FillString); ok {
			out = append(out, fs.String)
		}
	}
	return out
}
