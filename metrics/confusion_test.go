package metrics

import (
	"math"
	"testing"
)

func TestConfusionAt(t *testing.T) {
	tests := []struct {
		name      string
		labels    []uint8
		scores    []float64
		threshold float64
		want      Confusion
	}{
		{"doc example at 0.35 (>= is positive)", docLabels, docScores, 0.35, Confusion{TP: 2, FP: 1, TN: 1, FN: 0}},
		{"above every score", docLabels, docScores, 0.81, Confusion{TN: 2, FN: 2}},
		{"at the lowest score", docLabels, docScores, 0.1, Confusion{TP: 2, FP: 2}},
		{"lengths differ", []uint8{1}, []float64{0.1, 0.2}, 0.1, Confusion{}},
		{"NaN score", []uint8{1, 0}, []float64{math.NaN(), 0.2}, 0.1, Confusion{}},
		{"NaN threshold", []uint8{1, 0}, []float64{0.3, 0.2}, math.NaN(), Confusion{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ConfusionAt(tc.labels, tc.scores, tc.threshold); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConfusionRates(t *testing.T) {
	tests := []struct {
		name                     string
		c                        Confusion
		prec, rec, spec, acc, f1 float64
		f2                       float64
	}{
		// F2 = 5·2 / (5·2 + 4·0 + 1) = 10/11.
		{"doc example", Confusion{TP: 2, FP: 1, TN: 1, FN: 0}, 2.0 / 3, 1, 0.5, 0.75, 0.8, 10.0 / 11},
		// F2 = 5·3 / (15 + 4·1 + 2) = 15/21.
		{"mixed", Confusion{TP: 3, FP: 2, TN: 4, FN: 1}, 0.6, 0.75, 4.0 / 6, 0.7, 6.0 / 9, 15.0 / 21},
		{"empty: all zero", Confusion{}, 0, 0, 0, 0, 0, 0},
		{"only true negatives", Confusion{TN: 5}, 0, 0, 1, 1, 0, 0},
		{"nothing predicted positive", Confusion{TN: 3, FN: 2}, 0, 0, 1, 0.6, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			got := []float64{c.Precision(), c.Recall(), c.Specificity(), c.Accuracy(), c.FBeta(1), c.FBeta(2)}
			want := []float64{tc.prec, tc.rec, tc.spec, tc.acc, tc.f1, tc.f2}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-15 {
					t.Errorf("precision, recall, specificity, accuracy, F1, F2 = %v, want %v", got, want)
					break
				}
			}
		})
	}
}

func TestFBetaEdgeCases(t *testing.T) {
	c := Confusion{TP: 3, FP: 2, TN: 4, FN: 1}
	if got := c.FBeta(0); got != c.Precision() {
		t.Errorf("F0 = %v, want the precision %v", got, c.Precision())
	}
	for _, beta := range []float64{-1, math.NaN(), math.Inf(1)} {
		if got := c.FBeta(beta); !math.IsNaN(got) {
			t.Errorf("FBeta(%v) = %v, want NaN", beta, got)
		}
	}
}

func TestFBetaOfPredictions(t *testing.T) {
	tests := []struct {
		name          string
		labels, preds []uint8
		beta, want    float64
	}{
		{"F1 mixed", []uint8{1, 1, 0, 0, 1}, []uint8{1, 0, 1, 0, 1}, 1, 2 * 2.0 / (2*2 + 1 + 1)},
		{"F2 mixed", []uint8{1, 1, 0, 0, 1}, []uint8{1, 0, 1, 0, 1}, 2, 5 * 2.0 / (5*2 + 4*1 + 1)},
		{"no positives, none predicted", []uint8{0, 0}, []uint8{0, 0}, 2, 0},
		{"lengths differ", []uint8{0, 1}, []uint8{0}, 1, math.NaN()},
		{"empty", nil, nil, 1, math.NaN()},
		{"prediction not binary", []uint8{0, 1}, []uint8{0, 3}, 1, math.NaN()},
		{"negative beta", []uint8{0, 1}, []uint8{0, 1}, -2, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FBeta(tc.labels, tc.preds, tc.beta)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-15) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
