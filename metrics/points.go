package metrics

import (
	"fmt"
	"math"
)

// ThresholdPoint is the confusion matrix obtained by predicting positive every sample whose score
// is >= Threshold.
type ThresholdPoint struct {
	Threshold float64
	Confusion
}

// ThresholdPoints returns one point per distinct score, in decreasing threshold order: the exact
// set of decisions a threshold can make on these scores (any other threshold gives the same
// confusion matrix as the next distinct score at or above it). It fails on invalid input.
func ThresholdPoints(labels []uint8, scores []float64) ([]ThresholdPoint, error) {
	if err := validate(labels, scores); err != nil {
		return nil, fmt.Errorf("metrics: threshold points: %w", err)
	}
	c := newBinaryCurve(labels, scores)
	out := make([]ThresholdPoint, len(c.thresholds))
	for i, t := range c.thresholds {
		out[i] = ThresholdPoint{Threshold: t, Confusion: c.confusion(i)}
	}
	return out, nil
}

// Youden returns Youden's J statistic, recall + specificity − 1 (the vertical distance of the ROC
// point above the chance diagonal).
func (c Confusion) Youden() float64 { return c.Recall() + c.Specificity() - 1 }

// BestYouden returns the decision threshold that maximises Youden's J over the distinct scores, and
// J there; ties go to the highest threshold (fewest predicted positives), like BestThreshold. It
// returns (NaN, NaN) on invalid input.
func BestYouden(labels []uint8, scores []float64) (threshold, j float64) {
	pts, err := ThresholdPoints(labels, scores)
	if err != nil {
		return math.NaN(), math.NaN()
	}
	best, bestJ := 0, math.Inf(-1)
	for i, p := range pts { // decreasing thresholds: strict > keeps the highest on ties
		if v := p.Youden(); v > bestJ {
			best, bestJ = i, v
		}
	}
	return pts[best].Threshold, bestJ
}
