package metrics

import (
	"fmt"
	"math"
)

// BestThreshold returns the decision threshold that maximises F-beta and the F-beta reached there.
// The candidates are the distinct scores (predicting positive every sample with score >= the
// candidate), so the returned threshold is always one of the scores. When several candidates reach
// the same maximal F-beta, the highest of them is returned: it predicts the fewest positives. When no
// label is positive every candidate scores 0 and the highest score is returned with F-beta 0. The
// search sorts once and sweeps the candidates: O(n log n). It returns (NaN, NaN) on invalid input
// (see CheckInputs) or an invalid beta (negative, infinite or NaN).
func BestThreshold(labels []uint8, scores []float64, beta float64) (threshold, fbeta float64) {
	if validate(labels, scores) != nil || math.IsNaN(Confusion{}.FBeta(beta)) {
		return math.NaN(), math.NaN()
	}
	c := newBinaryCurve(labels, scores)
	best, bestF := 0, math.Inf(-1)
	for i := range c.thresholds { // decreasing thresholds: strict > keeps the highest on ties
		if f := c.confusion(i).FBeta(beta); f > bestF {
			best, bestF = i, f
		}
	}
	return c.thresholds[best], bestF
}

// ThresholdForRecall returns the highest decision threshold whose recall is at least minRecall, and
// the confusion counts at it. The candidates are the distinct scores (predicting positive every
// sample with score >= the candidate); the lowest score always reaches recall 1, so a threshold
// exists for every minRecall in [0, 1]. It fails on invalid input (see CheckInputs), when no label
// is positive (ErrNoPositives) and when minRecall is outside [0, 1].
func ThresholdForRecall(labels []uint8, scores []float64, minRecall float64) (threshold float64, c Confusion, err error) {
	if err := validate(labels, scores); err != nil {
		return 0, Confusion{}, fmt.Errorf("metrics: threshold for recall: %w", err)
	}
	if !(minRecall >= 0 && minRecall <= 1) {
		return 0, Confusion{}, fmt.Errorf("metrics: threshold for recall: minimum recall %v is outside [0, 1]", minRecall)
	}
	curve := newBinaryCurve(labels, scores)
	if curve.pos == 0 {
		return 0, Confusion{}, fmt.Errorf("metrics: threshold for recall: %w", ErrNoPositives)
	}
	for i := range curve.thresholds {
		if cf := curve.confusion(i); cf.Recall() >= minRecall {
			return curve.thresholds[i], cf, nil
		}
	}
	// Unreachable: the last candidate predicts every sample positive, recall 1.
	last := len(curve.thresholds) - 1
	return curve.thresholds[last], curve.confusion(last), nil
}
