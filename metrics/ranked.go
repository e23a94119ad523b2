package metrics

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Scored holds one set of predictions prepared for fast repeated evaluation under resampling
// weights (the bootstrap). The samples are sorted once by decreasing probability and stored in
// that order with their label, squared error, calibration bin and tie-group ends; Values then
// makes one sequential pass over them per weight vector — O(n), no sort, no per-rank table — and
// reads only the weights at random. B bootstrap resamples therefore cost O(B·n) after one
// O(n log n) preparation.
type Scored struct {
	n int
	// order[k] is the sample (index into the full set) at position k (decreasing probability,
	// ties by index).
	order []int32
	// Per position: label, squared error (p − y)², probability, calibration bin, whether the
	// position ends a group of tied probabilities, and whether it is predicted positive.
	label    []uint8
	sq, prob []float64
	bin      []uint16
	groupEnd []bool
	// cut is the number of positions predicted positive (probability >= threshold).
	cut  int
	bins int
	// inv[m] = 1/m up to the size of the full set (the largest possible resampled total).
	inv       []float64
	threshold float64
	beta      float64
}

// Values are the metrics of one set of predictions at a decision threshold. ROCAUC and PRAUC are
// NaN when a class is missing (PRAUC when positives are).
type Values struct {
	ROCAUC      float64 `json:"roc_auc"`
	PRAUC       float64 `json:"pr_auc"`
	FBeta       float64 `json:"f_beta"`
	Precision   float64 `json:"precision"`
	Recall      float64 `json:"recall"`
	Specificity float64 `json:"specificity"`
	Accuracy    float64 `json:"accuracy"`
	Brier       float64 `json:"brier"`
	ECE         float64 `json:"ece"`
	Confusion   Confusion
}

// NewScored prepares labels and probabilities (in [0, 1]) for Values at the decision threshold
// (positive when probability >= threshold) with the given F-beta and calibration bins. It fails
// on invalid input, a probability outside [0, 1], beta < 0 or bins < 1.
func NewScored(labels []uint8, probs []float64, threshold, beta float64, bins int) (*Scored, error) {
	return NewScoredSubset(labels, probs, nil, threshold, beta, bins)
}

// NewScoredSubset is NewScored over the samples at idx only (nil: all), for a slice of a larger
// set: Values and ROCAUCWeighted then take the weights of the whole set (w[i] for sample i of
// labels), so one resample of the whole set gives every subset's metrics on the same draws.
func NewScoredSubset(labels []uint8, probs []float64, idx []int, threshold, beta float64, bins int) (*Scored, error) {
	if err := validate(labels, probs); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if idx != nil && len(idx) == 0 {
		return nil, fmt.Errorf("metrics: empty subset")
	}
	for _, i := range idx {
		if i < 0 || i >= len(labels) {
			return nil, fmt.Errorf("metrics: subset index %d outside [0, %d)", i, len(labels))
		}
	}
	for i, p := range probs {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("metrics: probability[%d] = %v is outside [0, 1]", i, p)
		}
	}
	if math.IsNaN(Confusion{}.FBeta(beta)) || bins < 1 || bins > math.MaxUint16 || math.IsNaN(threshold) {
		return nil, fmt.Errorf("metrics: invalid beta %v, bins %d or threshold %v", beta, bins, threshold)
	}
	n := len(probs)
	if idx != nil {
		n = len(idx)
	}
	s := &Scored{n: n, order: make([]int32, n), label: make([]uint8, n), sq: make([]float64, n), prob: make([]float64, n),
		bin: make([]uint16, n), groupEnd: make([]bool, n), bins: bins, threshold: threshold, beta: beta, inv: reciprocalTable(len(labels))}
	for k := range s.order {
		if idx != nil {
			s.order[k] = int32(idx[k])
		} else {
			s.order[k] = int32(k)
		}
	}
	slices.SortFunc(s.order, func(a, b int32) int {
		switch pa, pb := probs[a], probs[b]; {
		case pa > pb:
			return -1
		case pa < pb:
			return 1
		}
		return int(a - b)
	})
	for k, i := range s.order {
		p, y := probs[i], labels[i]
		d := p - float64(y)
		s.label[k], s.sq[k], s.prob[k], s.bin[k] = y, d*d, p, uint16(binOf(p, bins))
		s.groupEnd[k] = k == n-1 || probs[s.order[k+1]] != p
		if p >= threshold {
			s.cut = k + 1
		}
	}
	return s, nil
}

// Len returns the number of samples.
func (s *Scored) Len() int { return s.n }

// Scratch is reusable working memory for Values; one per goroutine.
type Scratch struct {
	binP   []int64
	binSum []float64
}

// reciprocals caches 1/m for m = 0..n (1/0 taken as 0) by n: Values multiplies by them instead of
// dividing once per tie group, and reads them in increasing m (cache-friendly).
var reciprocals sync.Map

func reciprocalTable(n int) []float64 {
	if t, ok := reciprocals.Load(n); ok {
		return t.([]float64)
	}
	t := make([]float64, n+1)
	for m := 1; m <= n; m++ {
		t[m] = 1 / float64(m)
	}
	reciprocals.Store(n, t)
	return t
}

// Values computes every metric with sample i counted w[i] times (a bootstrap resample), or once
// each when w is nil. With w nil the results equal ROCAUC, AveragePrecision, ConfusionAt and its
// rates, the mean squared error of the probabilities (Brier score) and ECE(Calibration(...)) to
// within rounding (1e-12). scratch may be nil. The loop is one sequential pass without
// data-dependent branches except at tie-group ends.
func (s *Scored) Values(w []int32, scratch *Scratch) Values {
	if scratch == nil {
		scratch = &Scratch{}
	}
	binP, binSum := grow(&scratch.binP, s.bins), growF(&scratch.binSum, s.bins)
	var (
		brier        float64
		tp, fp       int64 // cumulative from the highest probability
		posG, negG   int64 // the current tie group
		aucS         int64 // Σ over groups of pos_g·(2·fp_through_g − neg_g)
		apSum        float64
		cutTP, cutFP int64
	)
	inv := s.inv
	for k := range s.n {
		c := int64(1)
		if w != nil {
			c = int64(w[s.order[k]])
		}
		cy := c * int64(s.label[k])
		brier += float64(c) * s.sq[k]
		b := s.bin[k]
		binP[b] += cy
		binSum[b] += float64(c) * s.prob[k]
		posG += cy
		negG += c - cy
		if s.groupEnd[k] {
			tp += posG
			fp += negG
			aucS += posG * (2*fp - negG)
			if m := tp + fp; m < int64(len(inv)) {
				apSum += float64(posG*tp) * inv[m]
			} else { // weights that total more than the full set
				apSum += float64(posG*tp) / float64(m)
			}
			posG, negG = 0, 0
		}
		if k+1 == s.cut {
			cutTP, cutFP = tp, fp
		}
	}
	posTotal, negTotal := tp, fp
	total := tp + fp
	c := Confusion{TP: int(cutTP), FP: int(cutFP), FN: int(posTotal - cutTP), TN: int(negTotal - cutFP)}
	v := Values{Confusion: c, FBeta: c.FBeta(s.beta), Precision: c.Precision(), Recall: c.Recall(),
		Specificity: c.Specificity(), Accuracy: c.Accuracy(), ROCAUC: math.NaN(), PRAUC: math.NaN(), ECE: math.NaN(), Brier: math.NaN()}
	if total > 0 {
		v.Brier = brier / float64(total)
		var e float64
		for b := range binP {
			e += math.Abs(float64(binP[b]) - binSum[b]) // 0 for an empty bin
		}
		// Σ_b n_b·|frac_b − mean_b| / N = Σ_b |positives_b − Σp_b| / N.
		v.ECE = e / float64(total)
	}
	if posTotal > 0 && negTotal > 0 {
		// Twice the Mann-Whitney count: each positive scores 2 per lower negative and 1 per tied one:
		// Σ_g pos_g·(2·(N − fp_through_g) + neg_g) = 2·P·N − aucS. Exact in integers.
		v.ROCAUC = float64(2*posTotal*negTotal-aucS) / (2 * float64(posTotal) * float64(negTotal))
	}
	if posTotal > 0 {
		v.PRAUC = apSum / float64(posTotal)
	}
	return v
}

// ROCAUCWeighted returns only the ROC-AUC under weights w (nil: each sample once), NaN when a class
// is missing.
func (s *Scored) ROCAUCWeighted(w []int32, scratch *Scratch) float64 {
	var tp, fp, posG, negG, aucS int64
	for k := range s.n {
		c := int64(1)
		if w != nil {
			c = int64(w[s.order[k]])
		}
		if s.label[k] == 1 {
			posG += c
		} else {
			negG += c
		}
		if s.groupEnd[k] {
			tp += posG
			fp += negG
			aucS += posG * (2*fp - negG)
			posG, negG = 0, 0
		}
	}
	if tp == 0 || fp == 0 {
		return math.NaN()
	}
	return float64(2*tp*fp-aucS) / (2 * float64(tp) * float64(fp))
}

// grow returns (*buf)[:n] zeroed, reallocating when too small.
func grow(buf *[]int64, n int) []int64 {
	if cap(*buf) < n {
		*buf = make([]int64, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

func growF(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}
