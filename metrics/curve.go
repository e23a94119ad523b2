package metrics

import (
	"fmt"
	"math"
	"slices"
)

// binaryCurve holds cumulative counts at every distinct score threshold, in decreasing threshold
// order: predicting positive every sample with score >= thresholds[i] gives tps[i] true positives
// and fps[i] false positives. It mirrors scikit-learn's _binary_clf_curve.
type binaryCurve struct {
	thresholds []float64
	tps, fps   []int
	pos, neg   int
}

// newBinaryCurve sorts the samples by decreasing score and accumulates counts at each distinct
// score. The input must have passed CheckInputs.
func newBinaryCurve(labels []uint8, scores []float64) binaryCurve {
	type sample struct {
		score float64
		label uint8
	}
	xs := make([]sample, len(scores))
	for i, s := range scores {
		xs[i] = sample{s, labels[i]}
	}
	slices.SortFunc(xs, func(a, b sample) int { // decreasing; scores are finite (validated)
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	var c binaryCurve
	tp := 0
	for k, x := range xs {
		tp += int(x.label)
		if k+1 < len(xs) && xs[k+1].score == x.score {
			continue
		}
		c.thresholds = append(c.thresholds, x.score)
		c.tps = append(c.tps, tp)
		c.fps = append(c.fps, k+1-tp)
	}
	c.pos = tp
	c.neg = len(labels) - tp
	return c
}

// confusion returns the confusion counts at the i-th distinct threshold of the curve.
func (c binaryCurve) confusion(i int) Confusion {
	return Confusion{
		TP: c.tps[i],
		FP: c.fps[i],
		FN: c.pos - c.tps[i],
		TN: c.neg - c.fps[i],
	}
}

// ROCCurve returns the receiver operating characteristic curve like scikit-learn's
// roc_curve(labels, scores, drop_intermediate=False): one point per distinct score, in decreasing
// threshold order, preceded by the point (0, 0). fpr[i] and tpr[i] are the false and true positive
// rates when predicting positive every sample with score >= thresholds[i]. thresholds[0] is +Inf
// (no sample predicted positive), as in scikit-learn 1.3 and later; scikit-learn 1.2 used
// max(scores)+1 there instead. It fails on invalid input and when only one class is present.
func ROCCurve(labels []uint8, scores []float64) (fpr, tpr, thresholds []float64, err error) {
	if err := checkBothClasses(labels, scores); err != nil {
		return nil, nil, nil, fmt.Errorf("metrics: roc curve: %w", err)
	}
	c := newBinaryCurve(labels, scores)
	n := len(c.thresholds) + 1
	fpr, tpr, thresholds = make([]float64, n), make([]float64, n), make([]float64, n)
	thresholds[0] = math.Inf(1)
	for i := range c.thresholds {
		fpr[i+1] = float64(c.fps[i]) / float64(c.neg)
		tpr[i+1] = float64(c.tps[i]) / float64(c.pos)
		thresholds[i+1] = c.thresholds[i]
	}
	return fpr, tpr, thresholds, nil
}

// PRCurve returns the precision-recall curve like scikit-learn's precision_recall_curve: thresholds
// holds the distinct scores in increasing order; precision[i] and recall[i] are those obtained when
// predicting positive every sample with score >= thresholds[i]; the final elements precision[n] = 1
// and recall[n] = 0 (n = len(thresholds)) close the curve and have no threshold. It fails on invalid
// input and when no label is positive (recall is undefined; scikit-learn warns and returns recall 1).
func PRCurve(labels []uint8, scores []float64) (precision, recall, thresholds []float64, err error) {
	if err := validate(labels, scores); err != nil {
		return nil, nil, nil, fmt.Errorf("metrics: pr curve: %w", err)
	}
	c := newBinaryCurve(labels, scores)
	if c.pos == 0 {
		return nil, nil, nil, fmt.Errorf("metrics: pr curve: %w", ErrNoPositives)
	}
	n := len(c.thresholds)
	precision, recall, thresholds = make([]float64, n+1), make([]float64, n+1), make([]float64, n)
	for i := range c.thresholds {
		j := n - 1 - i // reverse: increasing thresholds
		precision[j] = float64(c.tps[i]) / float64(c.tps[i]+c.fps[i])
		recall[j] = float64(c.tps[i]) / float64(c.pos)
		thresholds[j] = c.thresholds[i]
	}
	precision[n], recall[n] = 1, 0
	return precision, recall, thresholds, nil
}
