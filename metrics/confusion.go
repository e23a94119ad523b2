package metrics

import "math"

// Confusion holds the four counts of a binary confusion matrix.
type Confusion struct {
	TP, FP, TN, FN int
}

// ConfusionAt counts the confusion matrix obtained by predicting positive every sample whose score
// is >= threshold. When the input is invalid (see CheckInputs) or the threshold is NaN it returns
// the zero Confusion.
func ConfusionAt(labels []uint8, scores []float64, threshold float64) Confusion {
	if validate(labels, scores) != nil || math.IsNaN(threshold) {
		return Confusion{}
	}
	var c Confusion
	for i, y := range labels {
		c.add(y == 1, scores[i] >= threshold)
	}
	return c
}

// add counts one sample with the given truth and prediction.
func (c *Confusion) add(positive, predicted bool) {
	switch {
	case positive && predicted:
		c.TP++
	case positive:
		c.FN++
	case predicted:
		c.FP++
	default:
		c.TN++
	}
}

// Total returns the number of samples counted, TP+FP+TN+FN.
func (c Confusion) Total() int { return c.TP + c.FP + c.TN + c.FN }

// ratio returns num/den, or 0 when den is 0 (scikit-learn's zero_division=0).
func ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}

// Precision returns TP/(TP+FP), or 0 when nothing is predicted positive.
func (c Confusion) Precision() float64 { return ratio(float64(c.TP), float64(c.TP+c.FP)) }

// Recall returns the true positive rate TP/(TP+FN), or 0 when there are no positives.
func (c Confusion) Recall() float64 { return ratio(float64(c.TP), float64(c.TP+c.FN)) }

// Specificity returns the true negative rate TN/(TN+FP), or 0 when there are no negatives.
func (c Confusion) Specificity() float64 { return ratio(float64(c.TN), float64(c.TN+c.FP)) }

// Accuracy returns (TP+TN)/total, or 0 when no sample was counted.
func (c Confusion) Accuracy() float64 { return ratio(float64(c.TP+c.TN), float64(c.Total())) }

// FBeta returns the F-beta score (1+β²)·TP / ((1+β²)·TP + β²·FN + FP), the weighted harmonic mean of
// precision and recall in which recall counts beta times as much as precision (beta=1 is F1, beta=2
// the F2 used for screening, beta=0 is the precision). It is 0 when the denominator is 0, like
// scikit-learn's fbeta_score with zero_division=0. It returns NaN when beta is negative, infinite or
// NaN.
func (c Confusion) FBeta(beta float64) float64 {
	if !(beta >= 0) || math.IsInf(beta, 1) {
		return math.NaN()
	}
	b2 := beta * beta
	tp := float64(c.TP)
	return ratio((1+b2)*tp, (1+b2)*tp+b2*float64(c.FN)+float64(c.FP))
}

// FBeta returns the F-beta score (see Confusion.FBeta) of hard predictions preds (1 = predicted
// positive, 0 = predicted negative) against labels, equal to scikit-learn's
// fbeta_score(labels, preds, beta=beta, zero_division=0). It returns NaN when the lengths differ,
// the input is empty, a label or prediction is not 0 or 1, or beta is invalid.
func FBeta(labels []uint8, preds []uint8, beta float64) float64 {
	if len(labels) != len(preds) || len(labels) == 0 {
		return math.NaN()
	}
	var c Confusion
	for i, y := range labels {
		if y > 1 || preds[i] > 1 {
			return math.NaN()
		}
		c.add(y == 1, preds[i] == 1)
	}
	return c.FBeta(beta)
}
