package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named line: Y[i] plotted at X[i]. Points where either value is NaN or infinite are
// left out (a gap, not a zero), and so are points with a non-positive value on a log axis.
type Series struct {
	Name string
	X, Y []float64
}

// xys returns the points of s that can be drawn on p's axes.
func (s Series) xys(p *plot.Plot) (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
	}
	pts := make(plotter.XYs, 0, len(s.X))
	for i := range s.X {
		if drawable(&p.X, s.X[i]) && drawable(&p.Y, s.Y[i]) {
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
		}
	}
	return pts, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// AddLine adds s to p as a line in colour i at the given width, with a legend entry when s has a
// name. A series with no drawable point adds nothing (not even a legend entry).
func AddLine(p *plot.Plot, s Series, i int, thin bool) error {
	width := LineWidth
	if thin {
		width = ThinWidth
	}
	l, err := addLine(p, s, i, width)
	if l != nil && thin {
		l.LineStyle.Color = Faded(Color(i), 0.5)
	}
	return err
}

// AddDashed adds s to p as a dashed line in colour i (a second statistic of the same quantity,
// such as the maximum next to the mean), with a legend entry when s has a name.
func AddDashed(p *plot.Plot, s Series, i int) error {
	l, err := addLine(p, s, i, LineWidth)
	if l != nil {
		l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	return err
}

// addLine adds the drawable points of s as a line and returns it (nil when nothing was added).
func addLine(p *plot.Plot, s Series, i int, width vg.Length) (*plotter.Line, error) {
	pts, err := s.xys(p)
	if err != nil || len(pts) == 0 {
		return nil, err
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("series %q: %w", s.Name, err)
	}
	l.LineStyle = LineStyle(i, width)
	p.Add(l)
	if s.Name != "" {
		p.Legend.Add(s.Name, l)
	}
	return l, nil
}

// AddBand adds a shaded band between lo and hi (same X) in a faded colour i, for mean ± std and
// confidence intervals. Points where a bound cannot be drawn (not finite, or not positive on a log
// axis) are left out.
func AddBand(p *plot.Plot, x, lo, hi []float64, i int) error {
	if len(x) != len(lo) || len(x) != len(hi) {
		return fmt.Errorf("band has %d x values, %d lower and %d upper values", len(x), len(lo), len(hi))
	}
	ok := func(j int) bool { return drawable(&p.X, x[j]) && drawable(&p.Y, lo[j]) && drawable(&p.Y, hi[j]) }
	var pts plotter.XYs
	for j := range x {
		if ok(j) {
			pts = append(pts, plotter.XY{X: x[j], Y: lo[j]})
		}
	}
	for j := len(x) - 1; j >= 0; j-- {
		if ok(j) {
			pts = append(pts, plotter.XY{X: x[j], Y: hi[j]})
		}
	}
	if len(pts) < 3 {
		return nil
	}
	poly, err := plotter.NewPolygon(pts)
	if err != nil {
		return err
	}
	poly.Color = Faded(Color(i), 0.25)
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

// AddMeanBand adds the mean of a quantity over repeated runs (seeds) as a line named name in colour
// i and the band mean ± std around it; the legend says "name (mean ± std)". std may be nil (no
// band). mean and std must have the length of x.
func AddMeanBand(p *plot.Plot, name string, x, mean, std []float64, i int) error {
	if len(mean) != len(x) || (std != nil && len(std) != len(x)) {
		return fmt.Errorf("mean band %q has %d x values, %d means and %d stds", name, len(x), len(mean), len(std))
	}
	if std != nil {
		lo, hi := make([]float64, len(x)), make([]float64, len(x))
		for j := range x {
			lo[j], hi[j] = mean[j]-std[j], mean[j]+std[j]
		}
		if err := AddBand(p, x, lo, hi, i); err != nil {
			return err
		}
		name += " (mean ± std)"
	}
	return AddLine(p, Series{Name: name, X: x, Y: mean}, i, false)
}

// AddPoints adds s as a scatter of dots in colour i.
func AddPoints(p *plot.Plot, s Series, i int) error {
	pts, err := s.xys(p)
	if err != nil || len(pts) == 0 {
		return err
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("series %q: %w", s.Name, err)
	}
	sc.GlyphStyle.Color = Color(i)
	sc.GlyphStyle.Radius = 2
	p.Add(sc)
	if s.Name != "" {
		p.Legend.Add(s.Name, sc)
	}
	return nil
}

// AddHLine adds a horizontal reference line at y (a chance level, a baseline, an official count)
// in grey, dashed, across the whole x range, named in the legend when name is not empty. The y
// range grows to include y.
func AddHLine(p *plot.Plot, y float64, name string) {
	if !drawable(&p.Y, y) {
		return
	}
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.LineStyle = LineStyle(0, ThinWidth)
	f.LineStyle.Color = Grey
	f.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(f)
	p.Y.Min, p.Y.Max = math.Min(p.Y.Min, y), math.Max(p.Y.Max, y)
	if name != "" {
		p.Legend.Add(name, f)
	}
}
