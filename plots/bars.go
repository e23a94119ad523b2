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
// series in each group, series j in colour j, each series in the legend. A value that cannot be
// drawn still gets its label, written at the base of the bar. On a linear y axis bars
// start at zero; on a log axis (LogY, called first) they start at the bottom of the axis and
// non-positive values are left out. NaN values are left out. The y range ends above the tallest bar
// (1.15 times it, or 2 times on a log axis; 1.3 and 4 times for horizontal bars, whose labels follow
// the bar) to leave room for the value labels.
func AddBars(p *plot.Plot, categories []string, series []BarSeries) error {
	return addBars(p, categories, series, false)
}

// AddHBars is AddBars with horizontal bars: categories on the y axis, the first at the top, and
// values along the x axis (LogX makes it a log axis). Use it when category names are long.
func AddHBars(p *plot.Plot, categories []string, series []BarSeries) error {
	return addBars(p, categories, series, true)
}

func addBars(p *plot.Plot, categories []string, series []BarSeries, horizontal bool) error {
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
	valueAxis, catAxis := &p.Y, &p.X
	if horizontal {
		valueAxis, catAxis = &p.X, &p.Y
	}
	width := 0.8 / float64(len(series))
	for j, s := range series {
		b := &bars{series: s, color: Color(j), width: width, offset: (float64(j) - float64(len(series)-1)/2) * width,
			log: IsLog(valueAxis), horizontal: horizontal}
		if horizontal { // the first category at the top, the first series at the top of its group
			b.offset = -b.offset
		}
		b.label = text.Style{Color: color.Black, Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: draw.YBottom,
			Handler: p.X.Tick.Label.Handler}
		if horizontal {
			b.label.XAlign, b.label.YAlign = draw.XLeft, draw.YCenter
		}
		b.label.Font.Size = TickSize * 0.9
		p.Add(b)
		if s.Name != "" {
			p.Legend.Add(s.Name, b)
		}
	}
	top := math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			if drawable(valueAxis, v) {
				top = math.Max(top, v)
			}
		}
	}
	if top > 0 {
		valueAxis.Max = math.Max(valueAxis.Max, top*headroom(horizontal, IsLog(valueAxis)))
	}
	if horizontal {
		reversed := make([]string, len(categories))
		for i, c := range categories {
			reversed[len(categories)-1-i] = c
		}
		p.NominalY(reversed...)
	} else {
		p.NominalX(categories...)
	}
	catAxis.Min, catAxis.Max = math.Min(catAxis.Min, -0.5), math.Max(catAxis.Max, float64(len(categories))-0.5)
	return nil
}

// headroom is how far the value axis reaches beyond the longest bar, as a factor.
func headroom(horizontal, log bool) float64 {
	switch {
	case horizontal && log:
		return 4
	case horizontal:
		return 1.3
	case log:
		return 2
	}
	return 1.15
}

// bars is one series of AddBars: a plot.Plotter, plot.DataRanger and plot.Thumbnailer.
type bars struct {
	series        BarSeries
	color         color.Color
	width, offset float64
	log           bool
	horizontal    bool
	label         text.Style
}

// at returns the position of category i on the category axis (horizontal bars run top-down).
func (b *bars) at(i int) float64 {
	if b.horizontal {
		return float64(len(b.series.Values)-1-i) + b.offset
	}
	return float64(i) + b.offset
}

// ok reports whether value i is drawn.
func (b *bars) ok(i int) bool {
	v := b.series.Values[i]
	return finite(v) && (v > 0 || !b.log)
}

// DataRange implements plot.DataRanger: the bars' x extent and the values (and zero on a linear axis).
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	cmin, cmax := -0.5, float64(len(b.series.Values))-0.5
	vmin, vmax := math.Inf(1), math.Inf(-1)
	if !b.log {
		vmin, vmax = 0, 0
	}
	for i, v := range b.series.Values {
		if b.ok(i) {
			vmin, vmax = math.Min(vmin, v), math.Max(vmax, v)
		}
	}
	if b.log && vmin <= vmax {
		vmin /= 2 // room below the smallest bar so that it is visible
	}
	if b.horizontal {
		return vmin, vmax, cmin, cmax
	}
	return cmin, cmax, vmin, vmax
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	trC, trV, vax := trX, trY, &p.Y
	if b.horizontal {
		trC, trV, vax = trY, trX, &p.X
	}
	base := 0.0
	if b.log {
		base = vax.Min
	}
	for i, v := range b.series.Values {
		if !b.ok(i) {
			v = base // not drawn, but its label (say "not checked") is written at the base
		}
		at := b.at(i)
		c0, c1 := trC(at-b.width/2), trC(at+b.width/2)
		v0, v1 := trV(math.Max(base, vax.Min)), trV(math.Min(v, vax.Max))
		if v < base { // negative bars on a linear axis
			v0, v1 = trV(math.Min(base, vax.Max)), trV(math.Max(v, vax.Min))
		}
		rect := vg.Rectangle{Min: vg.Point{X: c0, Y: min(v0, v1)}, Max: vg.Point{X: c1, Y: max(v0, v1)}}
		label := vg.Point{X: (c0 + c1) / 2, Y: rect.Max.Y + vg.Points(1)}
		if b.horizontal {
			rect = vg.Rectangle{Min: vg.Point{X: min(v0, v1), Y: c0}, Max: vg.Point{X: max(v0, v1), Y: c1}}
			label = vg.Point{X: rect.Max.X + vg.Points(2), Y: (c0 + c1) / 2}
		}
		if b.ok(i) {
			c.SetColor(b.color)
			c.Fill(rect.Path())
		}
		if b.series.Labels != nil && b.series.Labels[i] != "" {
			c.FillText(b.label, label, b.series.Labels[i])
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
