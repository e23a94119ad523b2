package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SweepTrial is one trial of a hyperparameter sweep as the sweep plots show it.
type SweepTrial struct {
	// Label names the trial in legends, e.g. "trial 7".
	Label string
	// Params holds the trial's value of each parameter, in the order of SweepPlot.ParamNames; for a
	// categorical parameter it holds the index of the chosen category. NaN leaves the point out.
	Params []float64
	// Objective is the trial's value of the objective metric; NaN means the trial failed (it is
	// left out of every plot).
	Objective float64
	// Pruned says that early stopping stopped the trial (its Objective is its last value).
	Pruned bool
	// Curve is the objective metric after each epoch the trial ran.
	Curve []float64
}

// SweepPlot is everything the sweep plots show.
type SweepPlot struct {
	// Metric is the objective metric's name, e.g. "val_roc_auc".
	Metric string
	// Maximize says that larger objective values are better.
	Maximize bool
	// ParamNames names the parameters, e.g. "optimizer.learning_rate".
	ParamNames []string
	// LogParams says, per parameter, whether its axis is logarithmic (a log_uniform dimension).
	LogParams []bool
	// ChoiceLabels holds, per parameter, nil for a numeric dimension or the category names of a
	// categorical one (SweepTrial.Params then holds the category index).
	ChoiceLabels [][]string
	// Trials are the trials in the order they were proposed.
	Trials []SweepTrial
}

// Colours of the sweep plots: completed trials, pruned trials, the running best.
const (
	sweepDone   = 0
	sweepPruned = 1
	sweepBest   = 5
)

// SweepCurvesTop is the number of best trials whose learning curves SweepCurvesPNG names.
const SweepCurvesTop = 5

// SweepObjectivePNG draws the objective of every trial against its index in the sweep (0 for the
// first, as in the sweep's trial table):
// completed trials as dots, pruned trials as crosses, failed trials left out, and the running best
// of the completed trials (of all trials when none completed) as a step line.
func SweepObjectivePNG(in SweepPlot) ([]byte, error) {
	p, err := sweepObjectivePlot(in)
	if err != nil {
		return nil, err
	}
	return PNG(p)
}

// SweepParamsPNG draws one panel per parameter with the parameter's value on x (a log axis where
// LogParams says so, the category names for a categorical parameter) and the objective on y, as
// small multiples with a shared legend. Without parameters it draws one empty panel.
func SweepParamsPNG(in SweepPlot) ([]byte, error) {
	panels, err := sweepParamPlots(in)
	if err != nil {
		return nil, err
	}
	return GridPNG(fmt.Sprintf("%s against each parameter", metricName(in.Metric)), panels, min(3, len(panels)))
}

// SweepCurvesPNG draws the learning curves (objective per epoch) of the SweepCurvesTop best trials,
// named with their label and final objective, over the curves of the other trials in thin grey.
func SweepCurvesPNG(in SweepPlot) ([]byte, error) {
	p, err := sweepCurvesPlot(in)
	if err != nil {
		return nil, err
	}
	return PNG(p)
}

func metricName(m string) string {
	if m == "" {
		return "objective"
	}
	return m
}

// goal says "higher is better" or "lower is better" for titles.
func goal(maximize bool) string {
	if maximize {
		return "higher is better"
	}
	return "lower is better"
}

// better reports whether a beats b for the sweep's goal.
func (in SweepPlot) better(a, b float64) bool {
	if in.Maximize {
		return a > b
	}
	return a < b
}

// addGlyphs adds the drawable points as a scatter with the given glyph shape in colour i, named in
// the legend; nothing when no point can be drawn.
func addGlyphs(p *plot.Plot, name string, x, y []float64, i int, shape draw.GlyphDrawer) error {
	pts, err := Series{Name: name, X: x, Y: y}.xys(p)
	if err != nil || len(pts) == 0 {
		return err
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("series %q: %w", name, err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(2.5), Shape: shape}
	p.Add(sc)
	if name != "" {
		p.Legend.Add(name, sc)
	}
	return nil
}

// sweepObjectivePlot builds the picture of SweepObjectivePNG.
func sweepObjectivePlot(in SweepPlot) (*plot.Plot, error) {
	m := metricName(in.Metric)
	p := New(fmt.Sprintf("%s per trial (%s)", m, goal(in.Maximize)), "trial", m)
	var doneX, doneY, prunedX, prunedY []float64
	for i, t := range in.Trials {
		if !finite(t.Objective) {
			continue
		}
		if t.Pruned {
			prunedX, prunedY = append(prunedX, float64(i)), append(prunedY, t.Objective)
		} else {
			doneX, doneY = append(doneX, float64(i)), append(doneY, t.Objective)
		}
	}
	if err := addGlyphs(p, "completed", doneX, doneY, sweepDone, draw.CircleGlyph{}); err != nil {
		return nil, err
	}
	if err := addGlyphs(p, "pruned", prunedX, prunedY, sweepPruned, draw.CrossGlyph{}); err != nil {
		return nil, err
	}
	if pts := runningBest(in); len(pts) > 0 {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.LineStyle = LineStyle(sweepBest, LineWidth)
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.Legend.Add("best so far", l)
	}
	if n := len(in.Trials); n > 0 {
		p.X.Min, p.X.Max = math.Min(p.X.Min, 0), math.Max(p.X.Max, float64(n-1))
	}
	p.X.Tick.Marker = integerTicks{}
	return p, nil
}

// runningBest returns the corners of the running-best step line: the best objective of the
// completed trials up to each completed trial (of the pruned ones when none completed: then their
// best is all there is), held to the last trial of the sweep. Failed trials are left out.
func runningBest(in SweepPlot) plotter.XYs {
	anyDone := false
	for _, t := range in.Trials {
		if finite(t.Objective) && !t.Pruned {
			anyDone = true
			break
		}
	}
	var pts plotter.XYs
	best := math.NaN()
	for i, t := range in.Trials {
		if !finite(t.Objective) || (anyDone && t.Pruned) {
			continue
		}
		if math.IsNaN(best) || in.better(t.Objective, best) {
			best = t.Objective
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: best})
	}
	if last := float64(len(in.Trials) - 1); len(pts) > 0 && pts[len(pts)-1].X < last {
		pts = append(pts, plotter.XY{X: last, Y: best})
	}
	return pts
}

// sweepParamPlots builds the panels of SweepParamsPNG.
func sweepParamPlots(in SweepPlot) ([]*plot.Plot, error) {
	m := metricName(in.Metric)
	if len(in.ParamNames) == 0 {
		return []*plot.Plot{New("no parameters", "", m)}, nil
	}
	panels := make([]*plot.Plot, 0, len(in.ParamNames))
	for d, name := range in.ParamNames {
		p := New(name, name, m)
		var labels []string
		if d < len(in.ChoiceLabels) {
			labels = in.ChoiceLabels[d]
		}
		if labels == nil && d < len(in.LogParams) && in.LogParams[d] {
			LogX(p)
		}
		var doneX, doneY, prunedX, prunedY []float64
		for _, t := range in.Trials {
			if !finite(t.Objective) {
				continue
			}
			x := math.NaN()
			if d < len(t.Params) {
				x = t.Params[d]
			}
			if labels != nil && (x < 0 || x > float64(len(labels)-1) || x != math.Trunc(x)) {
				continue // not a category index
			}
			if t.Pruned {
				prunedX, prunedY = append(prunedX, x), append(prunedY, t.Objective)
			} else {
				doneX, doneY = append(doneX, x), append(doneY, t.Objective)
			}
		}
		if err := addGlyphs(p, "completed", doneX, doneY, sweepDone, draw.CircleGlyph{}); err != nil {
			return nil, err
		}
		if err := addGlyphs(p, "pruned", prunedX, prunedY, sweepPruned, draw.CrossGlyph{}); err != nil {
			return nil, err
		}
		if len(labels) > 0 {
			p.NominalX(labels...)
			p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
		}
		panels = append(panels, p)
	}
	return panels, nil
}

// sweepCurvesPlot builds the picture of SweepCurvesPNG.
func sweepCurvesPlot(in SweepPlot) (*plot.Plot, error) {
	m := metricName(in.Metric)
	p := New(fmt.Sprintf("%s per epoch, %d best trials (%s)", m, SweepCurvesTop, goal(in.Maximize)), "epoch", m)
	var ranked []int
	for i, t := range in.Trials {
		if finite(t.Objective) {
			ranked = append(ranked, i)
		}
	}
	sort.SliceStable(ranked, func(a, b int) bool {
		return in.better(in.Trials[ranked[a]].Objective, in.Trials[ranked[b]].Objective)
	})
	top := ranked[:min(SweepCurvesTop, len(ranked))]
	// The other trials first, thin and grey, so the best trials are drawn over them.
	for _, i := range ranked[len(top):] {
		l, err := addLine(p, curveSeries("", in.Trials[i].Curve), 0, ThinWidth)
		if err != nil {
			return nil, err
		}
		if l != nil {
			l.LineStyle.Color = Faded(Grey, 0.5)
		}
	}
	for rank, i := range top {
		t := in.Trials[i]
		label := t.Label
		if label == "" {
			label = "trial " + strconv.Itoa(i)
		}
		label += " (" + strconv.FormatFloat(t.Objective, 'g', 4, 64)
		if t.Pruned {
			label += ", pruned"
		}
		label += ")"
		var err error
		if t.Pruned {
			err = AddDashed(p, curveSeries(label, t.Curve), rank)
		} else {
			err = AddLine(p, curveSeries(label, t.Curve), rank, false)
		}
		if err != nil {
			return nil, err
		}
		// Dots at the epochs, so a curve of one epoch (a trial pruned at the first rung) shows.
		c := curveSeries("", t.Curve)
		if err := addGlyphs(p, "", c.X, c.Y, rank, draw.CircleGlyph{}); err != nil {
			return nil, err
		}
	}
	p.X.Tick.Marker = integerTicks{}
	return p, nil
}

// curveSeries places a per-epoch curve at epochs 1, 2, ...
func curveSeries(name string, curve []float64) Series {
	x := make([]float64, len(curve))
	for e := range x {
		x[e] = float64(e + 1)
	}
	return Series{Name: name, X: x, Y: curve}
}

// integerTicks labels an axis of counts (trials, epochs) at whole numbers only.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Label != "" && t.Value != math.Trunc(t.Value) {
			continue
		}
		out = append(out, t)
	}
	if countLabels(out) == 0 && finite(min) && finite(max) {
		for v := math.Ceil(min); v <= max && len(out) < 100; v++ {
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
		}
	}
	return out
}
