package metrics

import (
	"math"
	"slices"
	"testing"
)

func TestCalibrationAndECE(t *testing.T) {
	labels := []uint8{0, 1, 1, 1}
	probs := []float64{0.05, 0.15, 0.95, 1.0}
	got := Calibration(labels, probs, 4)
	want := []CalibrationBin{
		{Lo: 0, Hi: 0.25, Count: 2, MeanProb: 0.1, FracPos: 0.5},
		{Lo: 0.25, Hi: 0.5},
		{Lo: 0.5, Hi: 0.75},
		{Lo: 0.75, Hi: 1, Count: 2, MeanProb: 0.975, FracPos: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d bins, want %d", len(got), len(want))
	}
	for k := range want {
		g, w := got[k], want[k]
		if g.Lo != w.Lo || g.Hi != w.Hi || g.Count != w.Count ||
			math.Abs(g.MeanProb-w.MeanProb) > 1e-15 || g.FracPos != w.FracPos {
			t.Errorf("bin %d: got %+v, want %+v", k, g, w)
		}
	}
	// ECE = (2·|0.5−0.1| + 2·|1−0.975|) / 4.
	if e := ECE(got); math.Abs(e-0.2125) > 1e-15 {
		t.Errorf("ECE = %v, want 0.2125", e)
	}
	// Right-closed bins: an edge value belongs to the lower bin, 0 to the first.
	edges := Calibration([]uint8{0, 1, 1, 0}, []float64{0, 0.3, 0.5, 0.50001}, 10)
	if c := []int{edges[0].Count, edges[2].Count, edges[4].Count, edges[5].Count}; !slices.Equal(c, []int{1, 1, 1, 1}) {
		t.Errorf("counts of bins 0, 2, 4, 5 = %v, want [1 1 1 1]", c)
	}
	if e := ECE(Calibration([]uint8{1, 0}, []float64{1, 0}, 10)); e != 0 {
		t.Errorf("perfect calibration: ECE = %v, want 0", e)
	}
}

func TestCalibrationInvalid(t *testing.T) {
	tests := []struct {
		name   string
		labels []uint8
		probs  []float64
		bins   int
	}{
		{"zero bins", []uint8{1}, []float64{0.5}, 0},
		{"lengths differ", []uint8{1, 0}, []float64{0.5}, 10},
		{"empty", nil, nil, 10},
		{"probability below 0", []uint8{1}, []float64{-0.1}, 10},
		{"NaN probability", []uint8{1}, []float64{math.NaN()}, 10},
		{"label not binary", []uint8{7}, []float64{0.5}, 10},
	}
	for _, tc := range tests {
		if got := Calibration(tc.labels, tc.probs, tc.bins); got != nil {
			t.Errorf("%s: got %v, want nil", tc.name, got)
		}
	}
	if e := ECE(nil); !math.IsNaN(e) {
		t.Errorf("ECE(nil) = %v, want NaN", e)
	}
}
