package metrics

import "fmt"

// ROCAUC returns the area under the ROC curve, equal to scikit-learn's roc_auc_score: the trapezoid
// rule over the curve's distinct thresholds, so tied scores count one half (the Mann-Whitney U
// statistic divided by positives×negatives). The area is accumulated from integer counts and divided
// once, so it is exact up to the final rounding for fewer than about 9×10^7 samples. It fails when
// the lengths differ, the input is empty, a label is not 0 or 1, a score is NaN or infinite, or only
// one class is present (ErrOneClass).
func ROCAUC(labels []uint8, scores []float64) (float64, error) {
	if err := checkBothClasses(labels, scores); err != nil {
		return 0, fmt.Errorf("metrics: roc auc: %w", err)
	}
	c := newBinaryCurve(labels, scores)
	// Twice the area in units of one (false positive, true positive) cell: each segment adds
	// Δfp × (tp_prev + tp). Every term is an integer, so the float64 sum is exact below 2^53.
	var twice float64
	prevTP, prevFP := 0, 0
	for i := range c.thresholds {
		twice += float64(c.fps[i]-prevFP) * float64(c.tps[i]+prevTP)
		prevTP, prevFP = c.tps[i], c.fps[i]
	}
	return twice / (2 * float64(c.pos) * float64(c.neg)), nil
}

// AveragePrecision returns the average precision, equal to scikit-learn's average_precision_score:
// the sum over distinct thresholds (decreasing) of the recall increase times the precision at that
// threshold, without interpolation. It is 1 when every label is positive. It fails on invalid input
// and when no label is positive (ErrNoPositives).
func AveragePrecision(labels []uint8, scores []float64) (float64, error) {
	if err := validate(labels, scores); err != nil {
		return 0, fmt.Errorf("metrics: average precision: %w", err)
	}
	c := newBinaryCurve(labels, scores)
	if c.pos == 0 {
		return 0, fmt.Errorf("metrics: average precision: %w", ErrNoPositives)
	}
	var sum float64
	prevTP := 0
	for i := range c.thresholds {
		if d := c.tps[i] - prevTP; d > 0 {
			sum += float64(d) * float64(c.tps[i]) / float64(c.tps[i]+c.fps[i])
		}
		prevTP = c.tps[i]
	}
	return sum / float64(c.pos), nil
}
