package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBestThresholdHandComputed(t *testing.T) {
	tests := []struct {
		name         string
		labels       []uint8
		scores       []float64
		beta         float64
		wantT, wantF float64
	}{
		// F1 per threshold: .8 -> 2/3, .4 -> 1/2, .35 -> 4/5, .1 -> 2/3.
		{"doc example F1", docLabels, docScores, 1, 0.35, 0.8},
		// F2 per threshold: .8 -> 5/9, .4 -> 5/11, .35 -> 10/11, .1 -> 10/12.
		{"doc example F2", docLabels, docScores, 2, 0.35, 10.0 / 11},
		// F1 per threshold: .9 -> 2/3, .8 -> 1/2, .7 -> 2/5, .6 -> 4/6: tie -> the highest, .9.
		{"tie keeps highest", []uint8{1, 0, 0, 1}, []float64{0.9, 0.8, 0.7, 0.6}, 1, 0.9, 2.0 / 3},
		{"no positives", []uint8{0, 0}, []float64{0.2, 0.7}, 2, 0.7, 0},
		{"all same score", []uint8{0, 1, 1}, []float64{0.4, 0.4, 0.4}, 1, 0.4, 0.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			thr, f := BestThreshold(tc.labels, tc.scores, tc.beta)
			if thr != tc.wantT || math.Abs(f-tc.wantF) > 1e-15 {
				t.Errorf("got (%v, %v), want (%v, %v)", thr, f, tc.wantT, tc.wantF)
			}
		})
	}
}

func TestBestThresholdInvalid(t *testing.T) {
	for name, in := range map[string]struct {
		labels []uint8
		scores []float64
		beta   float64
	}{
		"NaN score":     {[]uint8{0, 1}, []float64{math.NaN(), 1}, 1},
		"lengths":       {[]uint8{0, 1}, []float64{1}, 1},
		"negative beta": {[]uint8{0, 1}, []float64{0, 1}, -1},
	} {
		if thr, f := BestThreshold(in.labels, in.scores, in.beta); !math.IsNaN(thr) || !math.IsNaN(f) {
			t.Errorf("%s: got (%v, %v), want (NaN, NaN)", name, thr, f)
		}
	}
}

// TestBestThresholdMatchesBruteForce compares the O(n log n) sweep with evaluating every distinct
// score with ConfusionAt.
func TestBestThresholdMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		n := 1 + rng.IntN(200)
		labels, scores := make([]uint8, n), make([]float64, n)
		for i := range n {
			labels[i] = uint8(rng.IntN(2))
			scores[i] = float64(rng.IntN(20)) / 20
		}
		beta := []float64{0.5, 1, 2}[trial%3]
		wantT, wantF := math.Inf(-1), math.Inf(-1)
		for _, s := range scores {
			f := ConfusionAt(labels, scores, s).FBeta(beta)
			if f > wantF || (f == wantF && s > wantT) {
				wantT, wantF = s, f
			}
		}
		if thr, f := BestThreshold(labels, scores, beta); thr != wantT || f != wantF {
			t.Errorf("trial %d: got (%v, %v), brute force (%v, %v)", trial, thr, f, wantT, wantF)
		}
	}
}

func TestThresholdForRecall(t *testing.T) {
	tests := []struct {
		name      string
		minRecall float64
		wantT     float64
		wantC     Confusion
	}{
		{"full recall", 1, 0.35, Confusion{TP: 2, FP: 1, TN: 1}},
		{"half recall", 0.5, 0.8, Confusion{TP: 1, TN: 2, FN: 1}},
		{"zero recall: highest score", 0, 0.8, Confusion{TP: 1, TN: 2, FN: 1}},
		{"just above half", 0.5000001, 0.35, Confusion{TP: 2, FP: 1, TN: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			thr, c, err := ThresholdForRecall(docLabels, docScores, tc.minRecall)
			if err != nil {
				t.Fatal(err)
			}
			if thr != tc.wantT || c != tc.wantC {
				t.Errorf("got (%v, %+v), want (%v, %+v)", thr, c, tc.wantT, tc.wantC)
			}
		})
	}
}

func TestThresholdForRecallErrors(t *testing.T) {
	for _, r := range []float64{-0.1, 1.5, math.NaN()} {
		_, _, err := ThresholdForRecall(docLabels, docScores, r)
		assertErr(t, "bad recall", err, "outside [0, 1]")
	}
	_, _, err := ThresholdForRecall([]uint8{0, 0}, []float64{1, 2}, 0.5)
	if !errors.Is(err, ErrNoPositives) {
		t.Errorf("no positives: got %v, want ErrNoPositives", err)
	}
	_, _, err = ThresholdForRecall([]uint8{0, 1}, []float64{1, math.NaN()}, 0.5)
	assertErr(t, "NaN score", err, "score[1] is NaN")
}
