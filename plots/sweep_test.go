package plots

import (
	"bytes"
	"image/png"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// sampleSweep is a small sweep: a log learning rate, a categorical width, one failed and two
// pruned trials.
func sampleSweep() SweepPlot {
	nan := math.NaN()
	return SweepPlot{
		Metric: "val_roc_auc", Maximize: true,
		ParamNames:   []string{"optimizer.learning_rate", "model.hidden_units"},
		LogParams:    []bool{true, false},
		ChoiceLabels: [][]string{nil, {"[64]", "[128]", "[256, 64]"}},
		Trials: []SweepTrial{
			{Label: "trial 1", Params: []float64{1e-4, 0}, Objective: 0.70, Curve: []float64{0.6, 0.65, 0.70}},
			{Label: "trial 2", Params: []float64{1e-3, 2}, Objective: 0.80, Curve: []float64{0.7, 0.78, 0.80}},
			{Label: "trial 3", Params: []float64{1e-2, 1}, Objective: nan},
			{Label: "trial 4", Params: []float64{3e-5, 1}, Objective: 0.55, Pruned: true, Curve: []float64{0.55}},
			{Label: "trial 5", Params: []float64{2e-3, 2}, Objective: 0.78, Curve: []float64{0.72, 0.75, 0.78}},
			{Label: "trial 6", Params: []float64{5e-3, 0}, Objective: 0.90, Pruned: true, Curve: []float64{0.9}},
			{Label: "trial 7", Params: []float64{4e-4, 0}, Objective: 0.60, Curve: []float64{0.5, 0.58, 0.6}},
			{Label: "trial 8", Params: []float64{6e-4, 1}, Objective: 0.75, Curve: []float64{0.7, 0.72, 0.75}},
		},
	}
}

func TestSweepObjectiveMarksPrunedAndRunningBest(t *testing.T) {
	in := sampleSweep()
	p, err := sweepObjectivePlot(in)
	must(t, err)
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 0, 7)
	checkRange(t, "y", yr, 0.55, 0.90) // the failed trial is left out, pruned ones are drawn
	checkLegend(t, p, "completed", "pruned", "best so far")
	// The running best follows the completed trials only (a pruned trial's 0.9 is a low-budget value).
	want := plotter.XYs{{X: 0, Y: 0.7}, {X: 1, Y: 0.8}, {X: 4, Y: 0.8}, {X: 6, Y: 0.8}, {X: 7, Y: 0.8}}
	if got := runningBest(in); !slices.Equal(got, want) {
		t.Errorf("running best %v, want %v", got, want)
	}
	in.Maximize = false
	p, err = sweepObjectivePlot(in)
	must(t, err)
	want = plotter.XYs{{X: 0, Y: 0.7}, {X: 1, Y: 0.7}, {X: 4, Y: 0.7}, {X: 6, Y: 0.6}, {X: 7, Y: 0.6}}
	if got := runningBest(in); !slices.Equal(got, want) {
		t.Errorf("running best (minimize) %v, want %v", got, want)
	}
	if texts := Texts(p); !slices.Contains(texts, "val_roc_auc per trial (lower is better)") {
		t.Errorf("title missing from %q", texts)
	}
}

func TestSweepObjectiveBestHoldsToTheLastTrial(t *testing.T) {
	in := SweepPlot{Metric: "loss", Trials: []SweepTrial{{Objective: 2}, {Objective: 1}, {Objective: math.NaN()}}}
	p, err := sweepObjectivePlot(in)
	must(t, err)
	want := plotter.XYs{{X: 0, Y: 2}, {X: 1, Y: 1}, {X: 2, Y: 1}}
	if got := runningBest(in); !slices.Equal(got, want) {
		t.Errorf("running best %v, want %v", got, want)
	}
	checkLegend(t, p, "completed", "best so far")
}

func TestSweepParamsPanelsLogAndCategories(t *testing.T) {
	in := sampleSweep()
	panels, err := sweepParamPlots(in)
	must(t, err)
	if len(panels) != 2 {
		t.Fatalf("%d panels, want 2", len(panels))
	}
	lr, width := panels[0], panels[1]
	if !IsLog(&lr.X) || IsLog(&width.X) {
		t.Errorf("log x: learning rate %v, width %v; want true, false", IsLog(&lr.X), IsLog(&width.X))
	}
	xr, yr := Ranges(lr)
	checkRange(t, "learning rate x", xr, 3e-5, 5e-3)
	checkRange(t, "learning rate y", yr, 0.55, 0.90)
	xr, _ = Ranges(width)
	checkRange(t, "width x", xr, -0.5, 2.5)
	texts := Texts(width)
	for _, want := range []string{"[64]", "[128]", "[256, 64]", "model.hidden_units"} {
		if !slices.Contains(texts, want) {
			t.Errorf("width panel lacks %q (got %q)", want, texts)
		}
	}
	checkLegend(t, lr, "completed", "pruned")
}

func TestSweepParamsSkipsBadCategoryIndexAndMissingValues(t *testing.T) {
	in := SweepPlot{ParamNames: []string{"batch_size", "extra"}, ChoiceLabels: [][]string{{"64", "128"}, nil},
		Trials: []SweepTrial{
			{Params: []float64{1, 5}, Objective: 0.5},
			{Params: []float64{7, math.NaN()}, Objective: 0.9}, // index 7 does not exist
			{Params: []float64{0}, Objective: 0.7},             // no value for "extra"
		}}
	panels, err := sweepParamPlots(in)
	must(t, err)
	_, yr := Ranges(panels[0])
	checkRange(t, "batch_size y", yr, 0.5, 0.7)
	xr, yr := Ranges(panels[1])
	checkRange(t, "extra x", xr, 5, 5)
	checkRange(t, "extra y", yr, 0.5, 0.5)
}

func TestSweepCurvesNameTheFiveBest(t *testing.T) {
	in := sampleSweep()
	p, err := sweepCurvesPlot(in)
	must(t, err)
	checkLegend(t, p, "trial 6 (0.9, pruned)", "trial 2 (0.8)", "trial 5 (0.78)", "trial 8 (0.75)", "trial 1 (0.7)")
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 1, 3)
	checkRange(t, "y", yr, 0.5, 0.9) // trial 7's curve is drawn in grey
	in.Maximize = false
	p, err = sweepCurvesPlot(in)
	must(t, err)
	checkLegend(t, p, "trial 4 (0.55, pruned)", "trial 7 (0.6)", "trial 1 (0.7)", "trial 8 (0.75)", "trial 5 (0.78)")
	// Without labels a trial is named by its index, 0 for the first, as in the sweep's table.
	unlabelled := SweepPlot{Maximize: true, Trials: []SweepTrial{{Objective: 1, Curve: []float64{1}}, {Objective: 2, Curve: []float64{2}}}}
	p, err = sweepCurvesPlot(unlabelled)
	must(t, err)
	checkLegend(t, p, "trial 1 (2)", "trial 0 (1)")
}

func TestSweepPlotsDegenerateInputs(t *testing.T) {
	nan := math.NaN()
	cases := map[string]SweepPlot{
		"empty":      {},
		"all failed": {Metric: "m", ParamNames: []string{"a"}, LogParams: []bool{true}, Trials: []SweepTrial{{Params: []float64{1}, Objective: nan}, {Objective: nan}}},
		"one trial":  {Metric: "m", Maximize: true, ParamNames: []string{"a"}, LogParams: []bool{true}, Trials: []SweepTrial{{Params: []float64{0.1}, Objective: 0.5, Curve: []float64{0.5}}}},
		"NaN curve and params": {Metric: "m", ParamNames: []string{"a", "b"}, LogParams: []bool{true}, ChoiceLabels: [][]string{nil, {}},
			Trials: []SweepTrial{{Params: []float64{nan, -1}, Objective: 1, Curve: []float64{nan, nan}}, {Params: []float64{-3}, Objective: math.Inf(1), Pruned: true}}},
		"only pruned": {Metric: "m", Trials: []SweepTrial{{Objective: 0.3, Pruned: true}, {Objective: 0.2, Pruned: true}}},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			for what, draw := range map[string]func(SweepPlot) ([]byte, error){
				"objective": SweepObjectivePNG, "params": SweepParamsPNG, "curves": SweepCurvesPNG,
			} {
				b, err := draw(in)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
		})
	}
}

func TestSweepPNGsAreDeterministic(t *testing.T) {
	for what, draw := range map[string]func(SweepPlot) ([]byte, error){
		"objective": SweepObjectivePNG, "params": SweepParamsPNG, "curves": SweepCurvesPNG,
	} {
		a, err := draw(sampleSweep())
		must(t, err)
		b, err := draw(sampleSweep())
		must(t, err)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings of the same sweep differ", what)
		}
		other := sampleSweep()
		other.Trials[0].Objective = 0.71
		c, err := draw(other)
		must(t, err)
		if bytes.Equal(a, c) {
			t.Errorf("%s: a different objective draws the same picture", what)
		}
	}
}
