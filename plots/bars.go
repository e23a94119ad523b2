package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSeries is one named set of bars, one value per category.
type BarSeries struct {
	Name   string
	Values []float64
	// Labels, when set, are written above each bar (for example the exact count); an empty label
	// writes nothing. Its length must be that of Values.
	Labels []string
}

// AddBars draws grouped vertical bars: one group per category (named on the x axis), one bar per
// series in each group, series j in colour j, each series in the legend. On a linear y axis bars
// start at zero; on a log axis (LogY, called first) they start at the bottom of the axis and
// non-positive values are left out. NaN values are left out. The y range ends above the tallest bar
// (1.15 times it, or 2 times on a log axis) to leave room for the value labels.
func AddBars(p *plot.Plot, categories []string, series []BarSeries) error {
	if len(categories) == 0 || len(series) == 0 {
		return nil
	}
	for _, s := range series {
		if len(s.Values) != len(categories) {
			return fmt.Errorf("bar series %q has %d values for %d categories", s.Name, len(s.Values), len(categories))
		}
		if s.Labels != nil && len(s.Labels) != len(s.Values) {
			return fmt.Errorf("bar series %q has %d labels for %d values", s.Name, len(s.Labels), len(s.Values))
		}
	}
	width := 0.8 / float64(len(series))
	for j, s := range series {
		b := &bars{series: s, color: Color(j), width: width, offset: (float64(j) - float64(len(series)-1)/2) * width,
			log: IsLog(&p.Y)}
		b.label = text.Style{Color: color.Black, Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: draw.YBottom,
			Handler: p.X.Tick.Label.Handler}
		b.label.Font.Size = TickSize * 0.9
		p.Add(b)
		if s.Name != "" {
			p.Legend.Add(s.Name, b)
		}
	}
	top := math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			if drawable(&p.Y, v) {
				top = math.Max(top, v)
			}
		}
	}
	if top > 0 {
		if IsLog(&p.Y) {
			p.Y.Max = math.Max(p.Y.Max, top*2)
		} else {
			p.Y.Max = math.Max(p.Y.Max, top*1.15)
		}
	}
	p.NominalX(categories...)
	p.X.Min, p.X.Max = math.Min(p.X.Min, -0.5), math.Max(p.X.Max, float64(len(categories))-0.5)
	return nil
}

// bars is one series of AddBars: a plot.Plotter, plot.DataRanger and plot.Thumbnailer.
type bars struct {
	series        BarSeries
	color         color.Color
	width, offset float64
	log           bool
	label         text.Style
}

// ok reports whether value i is drawn.
func (b *bars) ok(i int) bool {
	v := b.series.Values[i]
	return finite(v) && (v > 0 || !b.log)
}

// DataRange implements plot.DataRanger: the bars' x extent and the values (and zero on a linear axis).
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.series.Values))-0.5
	ymin, ymax = math.Inf(1), math.Inf(-1)
	if !b.log {
		ymin, ymax = 0, 0
	}
	for i, v := range b.series.Values {
		if b.ok(i) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	if b.log && ymin <= ymax {
		ymin /= 2 // room below the smallest bar so that it is visible
	}
	return xmin, xmax, ymin, ymax
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	base := 0.0
	if b.log {
		base = p.Y.Min
	}
	for i, v := range b.series.Values {
		if !b.ok(i) {
			continue
		}
		x := float64(i) + b.offset
		x0, x1 := trX(x-b.width/2), trX(x+b.width/2)
		y0, y1 := trY(math.Max(base, p.Y.Min)), trY(math.Min(v, p.Y.Max))
		if v < base { // negative bars on a linear axis
			y0, y1 = trY(math.Min(base, p.Y.Max)), trY(math.Max(v, p.Y.Min))
		}
		rect := vg.Rectangle{Min: vg.Point{X: x0, Y: min(y0, y1)}, Max: vg.Point{X: x1, Y: max(y0, y1)}}
		c.SetColor(b.color)
		c.Fill(rect.Path())
		if b.series.Labels != nil && b.series.Labels[i] != "" {
			c.FillText(b.label, vg.Point{X: (x0 + x1) / 2, Y: rect.Max.Y + vg.Points(1)}, b.series.Labels[i])
		}
	}
}

// Thumbnail implements plot.Thumbnailer: a filled square in the series colour.
func (b *bars) Thumbnail(c *draw.Canvas) {
	c.SetColor(b.color)
	c.Fill(c.Rectangle.Path())
}

// CountLabels formats counts for BarSeries.Labels with thousands separators ("262,144").
func CountLabels(values []float64) []string {
	out := make([]string, len(values))
	for i, v := range values {
		if finite(v) {
			out[i] = Thousands(int64(math.Round(v)))
		}
	}
	return out
}

// Thousands formats n with commas between groups of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
