package train

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pcamflow/pcamflow/plots"
)

// history returns n epochs whose values are known functions of the epoch and a seed offset.
func history(n int, off float64) []Epoch {
	var h []Epoch
	for e := 1; e <= n; e++ {
		f := float64(e)
		h = append(h, Epoch{Epoch: e, TrainLoss: 1/f + off, ValLoss: 1.2/f + off, ValROCAUC: 0.5 + 0.1*f + off,
			ValFBeta: 0.4 + 0.1*f, ValAccuracy: 0.6, LR: 1e-3 / f,
			GradMean: map[string]float64{"conv2": f, "conv10": 2 * f, "out": 0.5},
			GradMax:  map[string]float64{"conv2": 3 * f, "conv10": 4 * f, "out": 1}})
	}
	return h
}

func TestCurvesMeanStdOverSeedsOfDifferentLength(t *testing.T) {
	// Seed "2" stopped early after 2 epochs: epoch 3 has one seed, so its std is 0 and n is 1.
	c := curvesOf([]string{"1", "2"}, [][]Epoch{history(3, 0), history(2, 0.1)})
	if !slices.Equal(c.Epochs, []int{1, 2, 3}) {
		t.Fatalf("epochs %v", c.Epochs)
	}
	tl := c.Curves["train_loss"]
	want := []float64{1.05, 0.55, 1.0 / 3}
	for e, w := range want {
		if math.Abs(float64(tl.Mean[e])-w) > 1e-12 {
			t.Errorf("train_loss mean at epoch %d: %v, want %v", e+1, tl.Mean[e], w)
		}
	}
	if sd := float64(tl.Std[0]); math.Abs(sd-0.1/math.Sqrt2) > 1e-12 {
		t.Errorf("std at epoch 1: %v, want %v", sd, 0.1/math.Sqrt2)
	}
	if !slices.Equal(tl.N, []int{2, 2, 1}) || tl.Std[2] != 0 || !math.IsNaN(float64(tl.Seeds[1][2])) {
		t.Errorf("n %v, std %v, seed 2 epoch 3 %v", tl.N, tl.Std, tl.Seeds[1][2])
	}
	if got := c.layers(); !slices.Equal(got, []string{"conv2", "conv10", "out"}) {
		t.Errorf("layers %v, want natural order", got)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Curves
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(back.Curves["train_loss"].Seeds[1][2])) {
		t.Error("NaN did not survive curves.json (null)")
	}
}

func TestAggregatePicturesShowSeedsAndBands(t *testing.T) {
	c := curvesOf([]string{"1", "2", "3"}, [][]Epoch{history(4, 0), history(4, 0.1), history(4, 0.2)})
	pics, grads, err := c.pictures(2)
	if err != nil {
		t.Fatal(err)
	}
	loss := pics[PlotLoss]
	if got, want := plots.LegendNames(loss), []string{"train, each seed", "train (mean ± std)", "validation, each seed", "validation (mean ± std)"}; !slices.Equal(got, want) {
		t.Errorf("loss legend %q, want %q", got, want)
	}
	x, y := plots.Ranges(loss)
	// Lowest: train loss of seed 1 at epoch 4 (0.25); highest: val loss of seed 3 at epoch 1 (1.4),
	// which is also the top of the band at epoch 1 (mean 1.3 + std 0.1).
	if x.Min != 1 || x.Max != 4 || math.Abs(y.Min-0.25) > 1e-12 || math.Abs(y.Max-1.4) > 1e-12 {
		t.Errorf("loss ranges x %v y %v, want x 1..4, y 0.25..1.4", x, y)
	}
	if got := plots.LegendNames(pics[PlotValMetrics]); !slices.Contains(got, "val F2 (mean ± std)") {
		t.Errorf("metrics legend %q lacks the F2 band", got)
	}
	if _, y := plots.Ranges(pics[PlotLR]); !plots.IsLog(&pics[PlotLR].Y) || math.Abs(y.Min-2.5e-4) > 1e-15 || y.Max != 1e-3 {
		t.Errorf("learning-rate axis: log %v, range %v", plots.IsLog(&pics[PlotLR].Y), y)
	}
	if len(grads) != 3 {
		t.Fatalf("%d gradient panels, want one per layer (3)", len(grads))
	}
	if got := plots.LegendNames(grads[1]); !slices.Equal(got, []string{"mean over batches, each seed", "mean over batches (mean ± std)",
		"max over batches, each seed", "max over batches (mean)"}) {
		t.Errorf("gradient legend %q", got)
	}
	if _, y := plots.Ranges(grads[1]); y.Min != 2 || y.Max != 16 { // conv10: mean 2·epoch, max 4·epoch
		t.Errorf("conv10 panel y range %v, want 2..16", y)
	}
}

func TestSeedPicturesAreWrittenAndDeterministic(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.json")
	data, _ := json.Marshal(history(3, 0))
	if err := os.WriteFile(hist, data, 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(out string) map[string][]byte {
		if err := writeSeedPlots(hist, out, 2); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, name := range PlotFiles {
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got[name] = b
		}
		return got
	}
	a, b := read(filepath.Join(dir, "a")), read(filepath.Join(dir, "b"))
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two drawings of the same history", name)
		}
	}
	if err := writeSeedPlots(filepath.Join(dir, "missing.json"), filepath.Join(dir, "c"), 2); err == nil {
		t.Error("a missing history was accepted")
	}
}
