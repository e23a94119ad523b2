package metrics

import "math"

// LogLossEpsilon is the clipping bound of LogLoss: probabilities are clipped to
// [LogLossEpsilon, 1-LogLossEpsilon] so that a confident mistake costs about 34.5 nats, not +Inf.
const LogLossEpsilon = 1e-15

// LogLoss returns the mean binary cross-entropy −mean(y·ln p + (1−y)·ln(1−p)) of the predicted
// positive-class probabilities probs, clipped like scikit-learn's log_loss(labels, probs, eps=1e-15)
// (scikit-learn 1.2 and earlier default). It returns NaN when the lengths differ, the input is
// empty, a label is not 0 or 1, or a probability is NaN or outside [0, 1].
func LogLoss(labels []uint8, probs []float64) float64 {
	if len(labels) != len(probs) || len(labels) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, y := range labels {
		p := probs[i]
		if y > 1 || !(p >= 0 && p <= 1) {
			return math.NaN()
		}
		p = min(max(p, LogLossEpsilon), 1-LogLossEpsilon)
		if y == 1 {
			sum -= math.Log(p)
		} else {
			sum -= math.Log(1 - p)
		}
	}
	return sum / float64(len(labels))
}
