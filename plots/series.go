package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Series is one named line: Y[i] plotted at X[i]. Points where either value is NaN or infinite are
// left out (a gap, not a zero).
type Series struct {
	Name string
	X, Y []float64
}

// xys returns the finite points of s.
func (s Series) xys() (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
	}
	pts := make(plotter.XYs, 0, len(s.X))
	for i := range s.X {
		if finite(s.X[i]) && finite(s.Y[i]) {
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
		}
	}
	return pts, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// AddLine adds s to p as a line in colour i at the given width, with a legend entry when s has a
// name. A series with no finite point adds nothing.
func AddLine(p *plot.Plot, s Series, i int, thin bool) error {
	pts, err := s.xys()
	if err != nil || len(pts) == 0 {
		return err
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("series %q: %w", s.Name, err)
	}
	l.LineStyle = LineStyle(i, LineWidth)
	if thin {
		l.LineStyle = LineStyle(i, ThinWidth)
		l.LineStyle.Color = Faded(Color(i), 0.5)
	}
	p.Add(l)
	if s.Name != "" {
		p.Legend.Add(s.Name, l)
	}
	return nil
}

// AddBand adds a shaded band between lo and hi (same X) in a faded colour i, for mean ± std and
// confidence intervals.
func AddBand(p *plot.Plot, x, lo, hi []float64, i int) error {
	if len(x) != len(lo) || len(x) != len(hi) {
		return fmt.Errorf("band has %d x values, %d lower and %d upper values", len(x), len(lo), len(hi))
	}
	var pts plotter.XYs
	for j := range x {
		if finite(x[j]) && finite(lo[j]) && finite(hi[j]) {
			pts = append(pts, plotter.XY{X: x[j], Y: lo[j]})
		}
	}
	for j := len(x) - 1; j >= 0; j-- {
		if finite(x[j]) && finite(lo[j]) && finite(hi[j]) {
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

// AddPoints adds s as a scatter of dots in colour i.
func AddPoints(p *plot.Plot, s Series, i int) error {
	pts, err := s.xys()
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
