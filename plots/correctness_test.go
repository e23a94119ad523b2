package plots

import (
	"bytes"
	"image/png"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot"
)

// These tests feed known series and check what the picture will show: the data ranges of the
// axes and the legend entries, not pixels.

func checkRange(t *testing.T, what string, got Range, min, max float64) {
	t.Helper()
	if math.Abs(got.Min-min) > 1e-12 || math.Abs(got.Max-max) > 1e-12 {
		t.Errorf("%s range %v..%v, want %v..%v", what, got.Min, got.Max, min, max)
	}
}

func checkLegend(t *testing.T, p *plot.Plot, want ...string) {
	t.Helper()
	if got := LegendNames(p); !slices.Equal(got, want) {
		t.Errorf("legend %q, want %q", got, want)
	}
}

func TestLinesRangesAndLegend(t *testing.T) {
	p := New("loss", "epoch", "loss")
	x := []float64{1, 2, 3, 4, 5}
	must(t, AddLine(p, Series{Name: "train", X: x, Y: []float64{0.9, 0.6, 0.5, 0.45, 0.4}}, 0, false))
	must(t, AddLine(p, Series{Name: "val", X: x, Y: []float64{0.95, 0.7, math.NaN(), 0.66, 1.2}}, 1, false))
	must(t, AddLine(p, Series{Name: "seed 1", X: x, Y: []float64{1, 1, 1, 1, 1}}, 2, true))
	must(t, AddLine(p, Series{Name: "all NaN", X: x, Y: []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}}, 3, false))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 1, 5)
	checkRange(t, "y", yr, 0.4, 1.2)
	checkLegend(t, p, "train", "val", "seed 1") // a series with no drawable point has no legend entry
}

func TestDashedAndPointsAreNamed(t *testing.T) {
	p := New("grad", "epoch", "norm")
	must(t, AddDashed(p, Series{Name: "fc1 max", X: []float64{1, 2}, Y: []float64{3, 7}}, 0))
	must(t, AddPoints(p, Series{Name: "trials", X: []float64{-1, 4}, Y: []float64{2, 2.5}}, 1))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, -1, 4)
	checkRange(t, "y", yr, 2, 7)
	checkLegend(t, p, "fc1 max", "trials")
}

func TestLogAxisDropsNonPositive(t *testing.T) {
	p := New("lr", "epoch", "learning rate")
	LogY(p)
	must(t, AddLine(p, Series{Name: "lr", X: []float64{1, 2, 3, 4}, Y: []float64{1e-3, 0, 5e-4, 2.5e-4}}, 0, false))
	must(t, AddBand(p, []float64{1, 2, 3}, []float64{-1, 1e-4, 1e-4}, []float64{2e-3, 2e-3, 1e-3}, 0))
	_, yr := Ranges(p)
	checkRange(t, "y", yr, 1e-4, 2e-3)
	if _, err := PNG(p); err != nil { // must not panic on the log axis
		t.Fatal(err)
	}
}

func TestLogXAndEmptyLogAxisRender(t *testing.T) {
	p := New("trials", "learning rate", "val ROC-AUC")
	LogX(p)
	must(t, AddPoints(p, Series{Name: "trial", X: []float64{1e-5, 3e-4, 1e-2, -1}, Y: []float64{0.7, 0.8, 0.75, 0.9}}, 0))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 1e-5, 1e-2)
	checkRange(t, "y", yr, 0.7, 0.8)
	empty := New("nothing", "x", "y")
	LogY(empty)
	if _, err := PNG(empty); err != nil {
		t.Fatal(err)
	}
	constant := New("constant lr", "epoch", "lr")
	LogY(constant)
	must(t, AddLine(constant, Series{X: []float64{1, 2}, Y: []float64{1e-4, 1e-4}}, 0, false))
	if _, err := PNG(constant); err != nil {
		t.Fatal(err)
	}
}

func TestMeanBandCoversMeanPlusMinusStd(t *testing.T) {
	p := New("val ROC-AUC", "epoch", "ROC-AUC")
	x := []float64{1, 2, 3}
	must(t, AddMeanBand(p, "val ROC-AUC", x, []float64{0.6, 0.7, 0.8}, []float64{0.05, 0.1, 0.02}, 0))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 1, 3)
	checkRange(t, "y", yr, 0.55, 0.82)
	checkLegend(t, p, "val ROC-AUC (mean ± std)")
	noStd := New("one seed", "epoch", "ROC-AUC")
	must(t, AddMeanBand(noStd, "val ROC-AUC", x, []float64{0.6, 0.7, 0.8}, nil, 0))
	checkLegend(t, noStd, "val ROC-AUC")
	if err := AddMeanBand(noStd, "bad", x, []float64{1}, nil, 0); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
}

func TestBarsRangesLegendAndLabels(t *testing.T) {
	p := New("split sizes", "split", "patches")
	cats := []string{"train", "valid", "test"}
	this := []float64{4096, 1024, 1024}
	official := []float64{262144, 32768, 32768}
	must(t, AddBars(p, cats, []BarSeries{
		{Name: "this dataset", Values: this, Labels: CountLabels(this)},
		{Name: "official", Values: official, Labels: CountLabels(official)},
	}))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, -0.5, 2.5)
	checkRange(t, "y", yr, 0, 262144*1.15) // headroom for the value labels
	checkLegend(t, p, "this dataset", "official")
	texts := Texts(p)
	for _, want := range []string{"train", "valid", "test", "262,144", "4,096", "split sizes", "this dataset"} {
		if !slices.Contains(texts, want) {
			t.Errorf("drawn text lacks %q (got %q)", want, texts)
		}
	}
	if err := AddBars(p, cats, []BarSeries{{Name: "short", Values: []float64{1}}}); err == nil {
		t.Fatal("a series with the wrong number of values was accepted")
	}
}

func TestLogBarsStartBelowTheSmallest(t *testing.T) {
	p := New("sizes", "split", "patches")
	LogY(p)
	must(t, AddBars(p, []string{"a", "b", "c"}, []BarSeries{{Name: "n", Values: []float64{100, 0, 10000}}}))
	_, yr := Ranges(p)
	checkRange(t, "y", yr, 50, 20000)
	if _, err := PNG(p); err != nil {
		t.Fatal(err)
	}
}

func TestHorizontalBarsPutCategoriesOnY(t *testing.T) {
	p := New("findings", "patches", "")
	classes := []string{"exact_duplicates", "cross_split_duplicates", "blank"}
	must(t, AddHBars(p, classes, []BarSeries{{Values: []float64{12, 3, 0}, Labels: []string{"12", "3", "0"}}}))
	xr, yr := Ranges(p)
	checkRange(t, "x", xr, 0, 12*1.3)
	checkRange(t, "y", yr, -0.5, 2.5)
	if got := LegendNames(p); len(got) != 0 {
		t.Errorf("an unnamed series has legend %q", got)
	}
	texts := Texts(p)
	for _, want := range classes {
		if !slices.Contains(texts, want) {
			t.Errorf("category %q not drawn (got %q)", want, texts)
		}
	}
}

func TestHLineJoinsRangeAndLegend(t *testing.T) {
	p := New("roc", "fpr", "tpr")
	must(t, AddLine(p, Series{Name: "model", X: []float64{0, 1}, Y: []float64{0.5, 0.9}}, 0, false))
	AddHLine(p, 0.2, "chance")
	_, yr := Ranges(p)
	checkRange(t, "y", yr, 0.2, 0.9)
	checkLegend(t, p, "model", "chance")
}

func TestLogTicksLabelShortRanges(t *testing.T) {
	labels := func(min, max float64) []string {
		var out []string
		for _, tk := range (logTicks{}).Ticks(min, max) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	if got := labels(2.5e-5, 1e-4); len(got) < 2 {
		t.Errorf("labels for 2.5e-5..1e-4: %q, want at least two", got)
	}
	if got := labels(1e3, 1e6); !slices.Contains(got, "100,000") {
		t.Errorf("labels for 1e3..1e6: %q, want 100,000", got)
	}
	if got := labels(1e-6, 1e-1); !slices.Contains(got, "0.001") || slices.Contains(got, "0.002") {
		t.Errorf("labels for 1e-6..0.1: %q, want decades only", got)
	}
}

func TestGridPNGSizeAndDeterminism(t *testing.T) {
	panel := func(name string) *plot.Plot {
		p := New(name, "epoch", "norm")
		must(t, AddLine(p, Series{Name: "mean", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1}}, 0, false))
		return p
	}
	draw := func() []byte {
		b, err := GridPNG("gradient norms", []*plot.Plot{panel("fc1"), panel("fc2"), panel("out")}, 2)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := draw()
	if !bytes.Equal(a, draw()) {
		t.Fatal("two renderings of the same grid differ")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 1200 || h < 1200 || h > 1300 {
		t.Fatalf("grid %dx%d, want 1200 wide and 2 rows of 600 plus a header", w, h)
	}
	if _, err := GridPNG("none", nil, 2); err == nil {
		t.Fatal("an empty grid was accepted")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 262144: "262,144", -1234567: "-1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
